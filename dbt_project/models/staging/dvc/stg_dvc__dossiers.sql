{{
    config(
        materialized='incremental',
        unique_key='dossier_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}
-- Latest version of each dossier. Incremental: a run re-derives only the dossiers with a
-- version landed since the newest one it has seen (all their versions are compared, so a
-- late older version never overrides a newer one); --full-refresh rebuilds everything.
with {{ ranked_versions(ref('base_dvc__dossier_versions'), 'dossier_id') }}

select
    dossier_id,
    procedure_code,
    agency_code,
    admin_unit_code,
    channel,
    received_at,
    due_at,
    finished_at,
    result_returned_at,
    status,
    paid_online,
    inputs_digitised,
    result_digitised,
    applicant_key,
    updated_at,
    loaded_at
from ranked
where version_rank = 1
