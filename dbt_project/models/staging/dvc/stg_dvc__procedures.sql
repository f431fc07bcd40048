-- The procedure catalogue as last loaded: latest version of each procedure.
with ranked as (
    select
        versions.*,
        row_number() over (
            partition by versions.procedure_code
            order by versions.updated_at desc, versions.loaded_at desc
        ) as version_rank
    from {{ ref('base_dvc__procedure_versions') }} as versions
)

select
    procedure_code,
    procedure_name,
    field,
    agency_code,
    level,
    is_eligible_fully_online,
    online_level,
    charges_fee,
    is_in_force,
    updated_at,
    loaded_at
from ranked
where version_rank = 1
