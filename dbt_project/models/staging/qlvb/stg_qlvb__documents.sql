{{
    config(
        materialized='incremental',
        unique_key='document_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="delete from {{ this }} where is_deleted",
    )
}}
-- Latest version of each document that is not deleted. Incremental like
-- stg_dvc__dossiers: the batch holds the latest version of every document touched since the
-- watermark, deleted ones included so that delete+insert removes them from the table; the
-- post-hook then drops those tombstones (is_deleted is therefore always false here).
with {{ ranked_versions(ref('base_qlvb__document_versions'), 'document_id') }}

select
    document_id,
    document_number,
    agency_code,
    direction,
    form,
    is_digitally_signed,
    secrecy,
    document_date,
    is_deleted,
    updated_at,
    loaded_at
from ranked
where
    version_rank = 1
    {% if not is_incremental() %}
        -- a full build writes no tombstone at all
        and not is_deleted
    {% endif %}
