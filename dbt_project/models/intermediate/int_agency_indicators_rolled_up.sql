-- Agency indicators (nguon dvc / qlvb) per unit and period, numerator and denominator summed
-- from monthly counts (never averaged percentages):
-- * per agency of co_quan.csv, for the indicators whose `ap_dung` names its ranking group,
--   on the part of each period it was in force (facts of months outside its validity are
--   left out: a district committee's 2025 is January-June);
-- * per province (unit_type admin_unit) for the indicators whose `ap_dung` names TINH: the
--   total of all agencies.
-- CQ-05 is a state: the catalogue at the period's end (or the agency's last day in force).
-- Periods without any fact get 0 / 0 (a null value downstream: "not applicable").
-- Agencies and the province take one path: the province is a unit valid forever whose facts
-- are the sum of every agency's, and whose catalogue state counts every procedure level.
with indicators as (
    select
        ma_chi_tieu as indicator_code,
        nguon as source,
        ';' || replace(ap_dung, ' ', '') || ';' as applies_to
    from {{ ref('indicators') }}
    where nguon in ('dvc', 'qlvb')
),

periods as (
    select source, period_grain, period_start, period_end, next_period_start
    from {{ ref('int_periods_enumerated') }}
),

facts as (
    select * from {{ ref('int_indicator_facts_stacked') }}
),

snapshots as (
    select * from {{ ref('int_procedures_snapshotted') }}
),

provinces as (
    select admin_unit_code
    from {{ ref('stg_reference__admin_units') }}
    where level = 'TINH'
),

units as (
    select
        'agency' as unit_type,
        agencies.agency_code as unit_code,
        groups.level as unit_level,
        agencies.ranking_group as applies_as,
        coalesce(agencies.valid_from, cast('1900-01-01' as date)) as valid_from,
        coalesce(agencies.valid_to, cast('9999-12-31' as date)) as valid_to
    from {{ ref('stg_reference__agencies') }} as agencies
    inner join {{ ref('ranking_groups') }} as groups
        on agencies.ranking_group = groups.ranking_group
    union all
    select
        'admin_unit',
        admin_unit_code,
        'TINH',
        'TINH',
        cast('1900-01-01' as date),
        cast('9999-12-31' as date)
    from provinces
),

unit_facts as (
    select 'agency' as unit_type, agency_code as unit_code, indicator_code, month_start,
        numerator, denominator
    from facts
    union all
    select 'admin_unit', provinces.admin_unit_code, facts.indicator_code, facts.month_start,
        sum(facts.numerator), sum(facts.denominator)
    from facts
    cross join provinces
    group by provinces.admin_unit_code, facts.indicator_code, facts.month_start
),

unit_periods as (
    select
        indicators.indicator_code,
        units.unit_type,
        units.unit_code,
        units.unit_level,
        units.valid_from,
        units.valid_to,
        periods.period_grain,
        periods.period_start,
        periods.period_end,
        case
            when units.valid_to < periods.period_end then {{ add_days('units.valid_to', 1) }}
            else periods.next_period_start
        end as state_cutoff_on
    from units
    inner join indicators
        on indicators.applies_to like '%;' || units.applies_as || ';%'
    inner join periods
        on indicators.source = periods.source
        and periods.period_start <= units.valid_to
        and periods.period_end >= units.valid_from
),

-- What each unit-period counts: the monthly facts of a flow, the catalogue state of CQ-05.
counted as (
    select unit_periods.*, unit_facts.numerator, unit_facts.denominator
    from unit_periods
    left join unit_facts
        on unit_periods.indicator_code = unit_facts.indicator_code
        and unit_periods.unit_type = unit_facts.unit_type
        and unit_periods.unit_code = unit_facts.unit_code
        and unit_facts.month_start >= unit_periods.period_start
        and unit_facts.month_start <= unit_periods.period_end
        and unit_facts.month_start >= {{ month_of('unit_periods.valid_from') }}
        and unit_facts.month_start <= unit_periods.valid_to
    where unit_periods.indicator_code <> 'CQ-05'
    union all
    select
        unit_periods.*,
        snapshots.procedures_fully_online,
        snapshots.procedures_eligible
    from unit_periods
    left join snapshots
        on unit_periods.state_cutoff_on = snapshots.cutoff_on
        and (
            unit_periods.unit_type = 'admin_unit'
            or (
                unit_periods.unit_level = snapshots.procedure_level
                and (
                    unit_periods.unit_level <> 'TINH'
                    or unit_periods.unit_code = snapshots.agency_code
                )
            )
        )
    where unit_periods.indicator_code = 'CQ-05'
)

select
    indicator_code,
    unit_type,
    unit_code,
    unit_level,
    period_grain,
    period_start,
    period_end,
    cast(coalesce(sum(numerator), 0) as {{ type_double() }}) as numerator,
    cast(coalesce(sum(denominator), 0) as {{ type_double() }}) as denominator,
    'actual' as basis
from counted
-- by the seven columns of the unit-period listed first
group by 1, 2, 3, 4, 5, 6, 7
