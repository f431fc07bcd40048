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
with versions as (
    select versions.*
    from {{ ref('base_dvc__dossier_versions') }} as versions
    {% if is_incremental() %}
    where versions.dossier_id in (
        select touched.dossier_id
        from {{ ref('base_dvc__dossier_versions') }} as touched
        where touched.loaded_at >= {{ watermark('loaded_at') }}
    )
    {% endif %}
),

ranked as (
    select
        versions.*,
        row_number() over (
            partition by versions.dossier_id
            order by versions.updated_at desc, versions.loaded_at desc
        ) as version_rank
    from versions
)

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
