-- The target of each indicator for each level (TINH, HUYEN, XA) and calendar year of the
-- data: a year is judged against the first target year (nam_muc_tieu) not before it, i.e.
-- up to 2025 against the 2025 targets and 2026-2030 against the 2030 ones; when an
-- indicator has no target for that target year it has none (no fallback to another year).
-- A target for the unit's own level wins over one for ALL levels.
with targets as (
    select
        ma_chi_tieu as indicator_code,
        cap as target_level,
        nam_muc_tieu as target_year,
        toan_tu as target_op,
        cast(gia_tri as {{ type_double() }}) as target
    from {{ ref('targets') }}
),

target_years as (
    select distinct target_year from targets
),

years as (
    select distinct year from {{ ref('int_periods_enumerated') }}
),

year_milestones as (
    select years.year, min(target_years.target_year) as target_year
    from years
    inner join target_years on target_years.target_year >= years.year
    group by years.year
),

levels as (
    select distinct level from {{ ref('ranking_groups') }}
    union
    select 'TINH'
    union
    select 'HUYEN'
    union
    select 'XA'
),

candidates as (
    select
        targets.indicator_code,
        levels.level,
        year_milestones.year,
        targets.target_year,
        targets.target_op,
        targets.target,
        row_number() over (
            partition by targets.indicator_code, levels.level, year_milestones.year
            order by case when targets.target_level = levels.level then 0 else 1 end
        ) as preference
    from year_milestones
    inner join targets on year_milestones.target_year = targets.target_year
    inner join levels
        on targets.target_level = levels.level
        or targets.target_level = 'ALL'
)

select indicator_code, level, year, target_year, target_op, target
from candidates
where preference = 1
