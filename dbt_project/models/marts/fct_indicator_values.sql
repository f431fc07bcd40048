-- Every computed indicator value: indicator x unit x period (month, quarter, year), with its
-- numerator and denominator, the target of the unit's level and the period's year, and
-- whether it is met. value is a percentage, null when the denominator is 0 ("not
-- applicable"); meets_target is null without a target or a value; `>` is strict.
with computed as (
    select
        indicator_code, unit_type, unit_code, unit_level, period_grain, period_start,
        period_end, numerator, denominator, basis
    from {{ ref('int_agency_indicators_rolled_up') }}
    union all
    select
        indicator_code, unit_type, unit_code, unit_level, period_grain, period_start,
        period_end, numerator, denominator, basis
    from {{ ref('int_territories_rolled_up') }}
),

valued as (
    select
        computed.*,
        {{ percent('computed.numerator', 'computed.denominator') }} as value
    from computed
)

select
    valued.indicator_code,
    valued.unit_type,
    valued.unit_code,
    valued.unit_level,
    valued.period_grain,
    valued.period_start,
    valued.period_end,
    valued.numerator,
    valued.denominator,
    valued.value,
    targets.target,
    targets.target_op,
    case
        when valued.value is null or targets.target is null then null
        when targets.target_op = '>' then valued.value > targets.target
        when targets.target_op = '>=' then valued.value >= targets.target
        when targets.target_op = '<' then valued.value < targets.target
        when targets.target_op = '<=' then valued.value <= targets.target
    end as meets_target,
    targets.target - valued.value as gap_pp,
    valued.basis
from valued
left join {{ ref('int_targets_by_year') }} as targets
    on valued.indicator_code = targets.indicator_code
    and valued.unit_level = targets.level
    and {{ year_number('valued.period_start') }} = targets.year
