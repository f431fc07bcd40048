{#- Rows of the most recently loaded version of a reference file: the file_sha256 with the
    greatest _loaded_at (reference files are replaced whole, never patched). -#}
{% macro rows_of_latest_file(relation) -%}
    select *
    from {{ relation }}
    where file_sha256 = (
        select latest.file_sha256
        from {{ relation }} as latest
        order by latest._loaded_at desc, latest.file_sha256 desc
        limit 1
    )
{%- endmacro %}

{#- Watermark of an incremental model: the newest `column` it has seen (1900 when empty). -#}
{% macro watermark(column) -%}
    {#- Qualified, so a table built before the column existed fails clearly instead of the
        name binding to the outer query. -#}
    (select coalesce(max(seen.{{ column }}), cast('1900-01-01' as timestamp))
     from {{ this }} as seen)
{%- endmacro %}


{#- The versions of the records an incremental staging model must re-derive: every version of
    each record touched since the model's watermark (all records on a full build), ranked newest
    first, so `version_rank = 1` is a record's latest version and a late older version never
    overrides a newer one. -#}
{% macro ranked_versions(relation, key) -%}
versions as (
    select versions.*
    from {{ relation }} as versions
    {% if is_incremental() %}
    where versions.{{ key }} in (
        select touched.{{ key }}
        from {{ relation }} as touched
        where touched.loaded_at >= {{ watermark('loaded_at') }}
    )
    {% endif %}
),

ranked as (
    select
        versions.*,
        row_number() over (
            partition by versions.{{ key }}
            order by versions.updated_at desc, versions.loaded_at desc
        ) as version_rank
    from versions
)
{%- endmacro %}
