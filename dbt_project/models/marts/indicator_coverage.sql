-- Every catalogue indicator and whether the pipeline computes it: `computed` when its source
-- is integrated (dvc, qlvb, telecom), `no_source` for the agencies' self-reports (bao_cao),
-- which are listed, never dropped. latest_period: first day of the latest month with a value.
with latest as (
    select indicator_code, max(period_start) as latest_period
    from {{ ref('fct_indicator_values') }}
    where period_grain = 'month' and value is not null
    group by indicator_code
)

select
    indicators.indicator_code,
    indicators.source,
    case
        when indicators.source in ('dvc', 'qlvb', 'telecom') then 'computed'
        else 'no_source'
    end as status,
    latest.latest_period,
    indicators.name_vi
from {{ ref('dim_indicator') }} as indicators
left join latest on indicators.indicator_code = latest.indicator_code
