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
with versions as (
    select versions.*
    from {{ ref('base_qlvb__document_versions') }} as versions
    {% if is_incremental() %}
    where versions.document_id in (
        select touched.document_id
        from {{ ref('base_qlvb__document_versions') }} as touched
        where touched.loaded_at >= {{ watermark('loaded_at') }}
    )
    {% endif %}
),

ranked as (
    select
        versions.*,
        row_number() over (
            partition by versions.document_id
            order by versions.updated_at desc, versions.loaded_at desc
        ) as version_rank
    from versions
)

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
