-- Singular test: for every agency and year with at least one applicable indicator, the
-- effective weights of agency_index_breakdown sum to 100 (the renormalisation of
-- indicators.md).
select
    breakdown.year,
    breakdown.agency_code,
    sum(breakdown.effective_weight) as total_effective_weight
from {{ ref('agency_index_breakdown') }} as breakdown
group by breakdown.year, breakdown.agency_code
having
    sum(case when breakdown.is_applicable then 1 else 0 end) > 0
    and abs(sum(breakdown.effective_weight) - 100) > 0.000001
