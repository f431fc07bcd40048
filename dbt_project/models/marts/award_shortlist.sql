-- Proposals for the chair's certificate of merit (plan section IV.3, indicators.md): per
-- award round, the agencies with the highest index across all groups, up to the round's
-- number of awards (award_rounds seed). A round for each calendar year with an index (the
-- year whose data does not reach 31 December yet is provisional, "tạm tính") and a round for
-- each phase once the phase's last year has data; a phase index is the mean of the agency's
-- yearly indices over the years of the phase in which it was ranked. Left out: agencies
-- "không đủ dữ liệu" and agencies whose data failed a blocking quality check for that year
-- (for a phase: for any year of the phase). Ties at equal index are broken by agency code.
with agency_index as (
    select * from {{ ref('agency_index') }}
),

agencies as (
    select agency_code, name, ranking_group, ranking_group_name_vi
    from {{ ref('dim_agency') }}
),

blocked as (
    select year, agency_code from {{ ref('stg_quality__blocked_agencies') }}
),

annual_rule as (
    select max(max_awards) as max_awards
    from {{ ref('award_rounds') }}
    where round_type = 'annual'
),

phases as (
    select award_round, first_year, last_year, max_awards
    from {{ ref('award_rounds') }}
    where round_type = 'phase'
),

-- The index uses the portal and the document system: a year is complete when both reach
-- its last day.
data_end as (
    select min(last_date) as last_date
    from (
        select source, max(source_last_date) as last_date
        from {{ ref('int_periods_enumerated') }}
        where source in ('dvc', 'qlvb')
        group by source
    ) as extents
),

years as (
    select
        years.year,
        data_end.last_date,
        coalesce(
            data_end.last_date < cast(cast(years.year as varchar) || '-12-31' as date), true
        ) as is_provisional
    from (select distinct year from agency_index) as years
    cross join data_end
),

targets_met as (
    select
        year,
        agency_code,
        {{ count_if('meets_target') }} as indicators_met,
        {{ count_if('target is not null and is_applicable') }} as indicators_with_target
    from {{ ref('agency_index_breakdown') }}
    group by year, agency_code
),

eligible as (
    select agency_index.*
    from agency_index
    where
        agency_index.status = 'ranked'
        and not exists (
            select 1
            from blocked
            where
                (blocked.year = agency_index.year or blocked.year is null)
                and (blocked.agency_code = agency_index.agency_code or blocked.agency_code is null)
        )
),

annual as (
    select
        cast(eligible.year as varchar) as award_round,
        eligible.year,
        eligible.agency_code,
        eligible.index_score,
        eligible.rank,
        eligible.ranked_in_group,
        row_number() over (
            partition by eligible.year
            order by eligible.index_score desc, eligible.agency_code
        ) as position
    from eligible
),

annual_rows as (
    select
        annual.award_round,
        cast(annual.position as integer) as position,
        annual.agency_code,
        annual.index_score,
        years.is_provisional,
        'Chỉ số ' || {{ vi_number_2('annual.index_score') }}
        || ' — hạng ' || cast(annual.rank as varchar) || '/' || cast(annual.ranked_in_group as varchar)
        || ' nhóm ' || coalesce(agencies.ranking_group_name_vi, agencies.ranking_group)
        || ' năm ' || cast(annual.year as varchar)
        || '; thứ ' || cast(annual.position as varchar) || ' toàn tỉnh'
        || '; đạt mục tiêu ' || cast(coalesce(targets_met.indicators_met, 0) as varchar)
        || '/' || cast(coalesce(targets_met.indicators_with_target, 0) as varchar)
        || ' chỉ tiêu có mục tiêu'
        || case
            when years.is_provisional
                then '; tạm tính (số liệu đến ' || coalesce({{ vi_date('years.last_date') }}, '?')
                || ')'
            else ''
        end as reason
    from annual
    inner join agencies on annual.agency_code = agencies.agency_code
    inner join years on annual.year = years.year
    left join targets_met
        on annual.year = targets_met.year
        and annual.agency_code = targets_met.agency_code
    where annual.position <= (select max_awards from annual_rule)
),

phases_with_data as (
    select phases.*, last_years.is_provisional
    from phases
    inner join years as last_years on phases.last_year = last_years.year
),

phase_years as (
    select
        phases_with_data.award_round,
        phases_with_data.first_year,
        phases_with_data.last_year,
        phases_with_data.max_awards,
        phases_with_data.is_provisional,
        agency_index.agency_code,
        agency_index.year,
        agency_index.index_score
    from phases_with_data
    inner join agency_index
        on agency_index.year >= phases_with_data.first_year
        and agency_index.year <= phases_with_data.last_year
    where
        agency_index.status = 'ranked'
        and not exists (
            select 1
            from blocked
            where
                (
                    blocked.year is null
                    or (
                        blocked.year >= phases_with_data.first_year
                        and blocked.year <= phases_with_data.last_year
                    )
                )
                and (blocked.agency_code = agency_index.agency_code or blocked.agency_code is null)
        )
),

phase_index as (
    select
        award_round,
        first_year,
        last_year,
        max_awards,
        is_provisional,
        agency_code,
        {{ round_to('avg(index_score)', 2) }} as index_score,
        count(*) as years_ranked,
        string_agg(
            cast(year as varchar) || ': ' || {{ vi_number_2('index_score') }}, '; ' order by year
        ) as yearly_indices
    from phase_years
    group by award_round, first_year, last_year, max_awards, is_provisional, agency_code
),

phase_ranked as (
    select
        phase_index.*,
        row_number() over (
            partition by phase_index.award_round
            order by phase_index.index_score desc, phase_index.agency_code
        ) as position
    from phase_index
),

phase_rows as (
    select
        phase_ranked.award_round,
        cast(phase_ranked.position as integer) as position,
        phase_ranked.agency_code,
        phase_ranked.index_score,
        phase_ranked.is_provisional,
        'Chỉ số bình quân ' || {{ vi_number_2('phase_ranked.index_score') }}
        || ' giai đoạn ' || cast(phase_ranked.first_year as varchar)
        || '–' || cast(phase_ranked.last_year as varchar)
        || ' (' || cast(phase_ranked.years_ranked as varchar) || ' năm được xếp hạng: '
        || phase_ranked.yearly_indices || ')'
        || ' — nhóm ' || coalesce(agencies.ranking_group_name_vi, agencies.ranking_group)
        || '; thứ ' || cast(phase_ranked.position as varchar) || ' toàn tỉnh'
        || case when phase_ranked.is_provisional then '; tạm tính' else '' end as reason
    from phase_ranked
    inner join agencies on phase_ranked.agency_code = agencies.agency_code
    where phase_ranked.position <= phase_ranked.max_awards
),

unioned as (
    select * from annual_rows
    union all
    select * from phase_rows
)

select
    unioned.award_round,
    unioned.position,
    unioned.agency_code,
    agencies.name as agency_name,
    agencies.ranking_group,
    cast(unioned.index_score as {{ type_double() }}) as index_score,
    unioned.is_provisional,
    unioned.reason
from unioned
inner join agencies on unioned.agency_code = agencies.agency_code
