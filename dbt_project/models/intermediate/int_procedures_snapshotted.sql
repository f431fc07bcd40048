-- The procedure catalogue as a state (CQ-05): for each cutoff date, the catalogue as last
-- loaded before that day (loaded_at < cutoff), and the first load for cutoffs before it.
-- Cutoffs are the day after each period of the portal's data and the day after the last day
-- in force of each agency that ceased (an agency is judged on the part of a period it was in
-- force). Counts per procedure level and, for TINH procedures, handling agency.
with versions as (
    select * from {{ ref('base_dvc__procedure_versions') }}
),

first_load as (
    select load_id
    from versions
    order by loaded_at asc, load_id asc
    limit 1
),

cutoffs as (
    select distinct next_period_start as cutoff_on
    from {{ ref('int_periods_enumerated') }}
    where source = 'dvc'
    union
    select distinct {{ add_days('valid_to', 1) }}
    from {{ ref('stg_reference__agencies') }}
    where valid_to is not null
),

candidates as (
    select
        cutoffs.cutoff_on,
        versions.procedure_code,
        versions.level,
        versions.agency_code,
        versions.is_eligible_fully_online,
        versions.online_level,
        versions.is_in_force,
        row_number() over (
            partition by cutoffs.cutoff_on, versions.procedure_code
            order by versions.updated_at desc, versions.loaded_at desc
        ) as version_rank
    from cutoffs
    inner join versions
        on versions.loaded_at < cast(cutoffs.cutoff_on as timestamp)
        or versions.load_id in (select first_load.load_id from first_load)
)

select
    cutoff_on,
    level as procedure_level,
    case when level = 'TINH' then agency_code end as agency_code,
    {{ count_if("is_in_force and is_eligible_fully_online and online_level = 'TOAN_TRINH'") }}
        as procedures_fully_online,
    {{ count_if("is_in_force and is_eligible_fully_online") }} as procedures_eligible
from candidates
where version_rank = 1
group by cutoff_on, level, case when level = 'TINH' then agency_code end
