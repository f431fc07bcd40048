-- Agency indicators (nguon dvc / qlvb) per unit and period, numerator and denominator summed
-- from monthly counts (never averaged percentages):
-- * per agency of co_quan.csv, for the indicators whose `ap_dung` names its ranking group,
--   on the part of each period it was in force (facts of months outside its validity are
--   left out: a district committee's 2025 is January-June);
-- * per province (unit_type admin_unit) for the indicators whose `ap_dung` names TINH: the
--   total of all agencies.
-- CQ-05 is a state: the catalogue at the period's end (or the agency's last day in force).
-- Periods without any fact get 0 / 0 (a null value downstream: "not applicable").
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

agencies as (
    select
        agencies.agency_code,
        agencies.ranking_group,
        groups.level,
        coalesce(agencies.valid_from, cast('1900-01-01' as date)) as valid_from,
        coalesce(agencies.valid_to, cast('9999-12-31' as date)) as valid_to
    from {{ ref('stg_reference__agencies') }} as agencies
    inner join {{ ref('ranking_groups') }} as groups
        on agencies.ranking_group = groups.ranking_group
),

agency_periods as (
    select
        indicators.indicator_code,
        agencies.agency_code,
        agencies.level,
        agencies.valid_from,
        agencies.valid_to,
        periods.period_grain,
        periods.period_start,
        periods.period_end,
        case
            when agencies.valid_to < periods.period_end then {{ add_days('agencies.valid_to', 1) }}
            else periods.next_period_start
        end as state_cutoff_on
    from agencies
    inner join indicators
        on indicators.applies_to like '%;' || agencies.ranking_group || ';%'
    inner join periods
        on indicators.source = periods.source
        and periods.period_start <= agencies.valid_to
        and periods.period_end >= agencies.valid_from
),

agency_flows as (
    select
        agency_periods.indicator_code,
        agency_periods.agency_code,
        agency_periods.level,
        agency_periods.period_grain,
        agency_periods.period_start,
        agency_periods.period_end,
        coalesce(sum(facts.numerator), 0) as numerator,
        coalesce(sum(facts.denominator), 0) as denominator
    from agency_periods
    left join facts
        on agency_periods.indicator_code = facts.indicator_code
        and agency_periods.agency_code = facts.agency_code
        and facts.month_start >= agency_periods.period_start
        and facts.month_start <= agency_periods.period_end
        and facts.month_start >= {{ month_of('agency_periods.valid_from') }}
        and facts.month_start <= agency_periods.valid_to
    where agency_periods.indicator_code <> 'CQ-05'
    group by
        agency_periods.indicator_code,
        agency_periods.agency_code,
        agency_periods.level,
        agency_periods.period_grain,
        agency_periods.period_start,
        agency_periods.period_end
),

agency_states as (
    select
        agency_periods.indicator_code,
        agency_periods.agency_code,
        agency_periods.level,
        agency_periods.period_grain,
        agency_periods.period_start,
        agency_periods.period_end,
        coalesce(sum(snapshots.procedures_fully_online), 0) as numerator,
        coalesce(sum(snapshots.procedures_eligible), 0) as denominator
    from agency_periods
    left join snapshots
        on agency_periods.state_cutoff_on = snapshots.cutoff_on
        and agency_periods.level = snapshots.procedure_level
        and (agency_periods.level <> 'TINH' or agency_periods.agency_code = snapshots.agency_code)
    where agency_periods.indicator_code = 'CQ-05'
    group by
        agency_periods.indicator_code,
        agency_periods.agency_code,
        agency_periods.level,
        agency_periods.period_grain,
        agency_periods.period_start,
        agency_periods.period_end
),

province_periods as (
    select
        indicators.indicator_code,
        provinces.admin_unit_code,
        periods.period_grain,
        periods.period_start,
        periods.period_end,
        periods.next_period_start
    from indicators
    inner join periods on indicators.source = periods.source
    cross join (
        select admin_unit_code
        from {{ ref('stg_reference__admin_units') }}
        where level = 'TINH'
    ) as provinces
    where indicators.applies_to like '%;TINH;%'
),

province_flows as (
    select
        province_periods.indicator_code,
        province_periods.admin_unit_code,
        province_periods.period_grain,
        province_periods.period_start,
        province_periods.period_end,
        coalesce(sum(facts.numerator), 0) as numerator,
        coalesce(sum(facts.denominator), 0) as denominator
    from province_periods
    left join facts
        on province_periods.indicator_code = facts.indicator_code
        and facts.month_start >= province_periods.period_start
        and facts.month_start <= province_periods.period_end
    where province_periods.indicator_code <> 'CQ-05'
    group by
        province_periods.indicator_code,
        province_periods.admin_unit_code,
        province_periods.period_grain,
        province_periods.period_start,
        province_periods.period_end
),

province_states as (
    select
        province_periods.indicator_code,
        province_periods.admin_unit_code,
        province_periods.period_grain,
        province_periods.period_start,
        province_periods.period_end,
        coalesce(sum(snapshots.procedures_fully_online), 0) as numerator,
        coalesce(sum(snapshots.procedures_eligible), 0) as denominator
    from province_periods
    left join snapshots on province_periods.next_period_start = snapshots.cutoff_on
    where province_periods.indicator_code = 'CQ-05'
    group by
        province_periods.indicator_code,
        province_periods.admin_unit_code,
        province_periods.period_grain,
        province_periods.period_start,
        province_periods.period_end
),

unioned as (
    select indicator_code, 'agency' as unit_type, agency_code as unit_code, level as unit_level,
        period_grain, period_start, period_end, numerator, denominator
    from agency_flows
    union all
    select indicator_code, 'agency', agency_code, level,
        period_grain, period_start, period_end, numerator, denominator
    from agency_states
    union all
    select indicator_code, 'admin_unit', admin_unit_code, 'TINH',
        period_grain, period_start, period_end, numerator, denominator
    from province_flows
    union all
    select indicator_code, 'admin_unit', admin_unit_code, 'TINH',
        period_grain, period_start, period_end, numerator, denominator
    from province_states
)

select
    indicator_code,
    unit_type,
    unit_code,
    unit_level,
    period_grain,
    period_start,
    period_end,
    cast(numerator as {{ type_double() }}) as numerator,
    cast(denominator as {{ type_double() }}) as denominator,
    'actual' as basis
from unioned
