-- Why each agency has its index (indicators.md, "The digital-government index"): for each
-- year, agency in force that year and weighted indicator applying to its group, the year's
-- numerator, denominator, value and target; the score (100 x min(value / target, 1) with a
-- target, the value itself without one); the catalogue weight; the effective weight after
-- leaving out the indicators not applicable to the agency (zero denominator, or no data
-- that year) and scaling the others up to sum to 100; and the contribution to the index.
-- Values are those of the part of the year the agency was in force.
with weights as (
    select
        indicator_code,
        weight,
        ';' || replace(applies_to, ' ', '') || ';' as applies_to
    from {{ ref('dim_indicator') }}
    where weight > 0
),

year_values as (
    select
        unit_code as agency_code,
        indicator_code,
        {{ year_number('period_start') }} as year,
        numerator,
        denominator,
        value,
        target,
        target_op,
        meets_target
    from {{ ref('fct_indicator_values') }}
    where unit_type = 'agency' and period_grain = 'year'
),

agency_years as (
    select distinct agency_code, year
    from year_values
),

pairs as (
    select
        agency_years.year,
        agency_years.agency_code,
        agencies.ranking_group,
        weights.indicator_code,
        weights.weight
    from agency_years
    inner join {{ ref('dim_agency') }} as agencies
        on agency_years.agency_code = agencies.agency_code
    inner join weights
        on weights.applies_to like '%;' || agencies.ranking_group || ';%'
),

scored as (
    select
        pairs.year,
        pairs.agency_code,
        pairs.ranking_group,
        pairs.indicator_code,
        year_values.numerator,
        year_values.denominator,
        year_values.value,
        year_values.target,
        year_values.target_op,
        year_values.meets_target,
        year_values.value is not null as is_applicable,
        case
            when year_values.value is null then null
            when year_values.target is null then year_values.value
            when year_values.target <= 0 then 100.0
            else 100.0 * least(year_values.value / year_values.target, 1.0)
        end as score,
        pairs.weight
    from pairs
    left join year_values
        on pairs.agency_code = year_values.agency_code
        and pairs.indicator_code = year_values.indicator_code
        and pairs.year = year_values.year
),

weighted as (
    select
        scored.*,
        sum(case when scored.is_applicable then scored.weight else 0 end)
            over (partition by scored.year, scored.agency_code) as applicable_weight
    from scored
)

select
    year,
    agency_code,
    ranking_group,
    indicator_code,
    numerator,
    denominator,
    value,
    target,
    target_op,
    meets_target,
    cast(score as {{ type_double() }}) as score,
    weight,
    cast(
        case
            when is_applicable then 100.0 * weight / applicable_weight
            else 0
        end as {{ type_double() }}
    ) as effective_weight,
    cast(
        case
            when is_applicable then score * weight / applicable_weight
        end as {{ type_double() }}
    ) as contribution,
    is_applicable
from weighted
