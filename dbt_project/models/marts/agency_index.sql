-- The digital-government index per agency and year (indicators.md): the sum of the
-- contributions of agency_index_breakdown rounded to 2 decimals, and the rank within the
-- ranking group (equal indices share a rank: 1, 2, 2, 4). An agency for which more than half
-- of the total weight is not applicable is `insufficient_data` ("không đủ dữ liệu"): no
-- index, no rank.
with totals as (
    select
        year,
        agency_code,
        ranking_group,
        sum(weight) as total_weight,
        sum(case when is_applicable then weight else 0 end) as applicable_weight,
        sum(contribution) as raw_index
    from {{ ref('agency_index_breakdown') }}
    group by year, agency_code, ranking_group
),

statused as (
    select
        totals.*,
        case
            when total_weight - applicable_weight > total_weight / 2.0 then 'insufficient_data'
            else 'ranked'
        end as status
    from totals
),

ranked as (
    select
        year,
        agency_code,
        {{ round_to('raw_index', 2) }} as index_score
    from statused
    where status = 'ranked'
),

ranks as (
    select
        ranked.*,
        rank() over (
            partition by ranked.year, statused.ranking_group
            order by ranked.index_score desc
        ) as group_rank,
        count(*) over (partition by ranked.year, statused.ranking_group) as ranked_in_group
    from ranked
    inner join statused
        on ranked.year = statused.year
        and ranked.agency_code = statused.agency_code
)

select
    statused.year,
    statused.agency_code,
    statused.ranking_group,
    cast(ranks.index_score as {{ type_double() }}) as index_score,
    cast(ranks.group_rank as integer) as rank,
    statused.status,
    cast(statused.applicable_weight as integer) as applicable_weight,
    cast(ranks.ranked_in_group as integer) as ranked_in_group
from statused
left join ranks
    on statused.year = ranks.year
    and statused.agency_code = ranks.agency_code
