-- Each village of the period's figures and each reported month, the carriers combined
-- (telecom-feeds.md): covered by fiber / 4G / 5G when at least one carrier says so; fiber
-- households summed over carriers and capped at the village's households; smartphone users
-- summed and capped at its population aged 15+. A village no carrier reports that month
-- counts as not covered. Village figures are those of the month's year, or of the latest
-- earlier year with figures (the earliest year when none is earlier).
with coverage as (
    select * from {{ ref('stg_telecom__coverage') }}
),

villages as (
    select * from {{ ref('stg_reference__villages') }}
),

reported_months as (
    select distinct report_month as month_start
    from coverage
),

figure_years as (
    select distinct year
    from villages
),

month_figures as (
    select
        reported_months.month_start,
        coalesce(
            max(
                case
                    when figure_years.year <= {{ year_number('reported_months.month_start') }}
                        then figure_years.year
                end
            ),
            min(figure_years.year)
        ) as figures_year
    from reported_months
    cross join figure_years
    group by reported_months.month_start
),

carriers_combined as (
    select
        report_month as month_start,
        village_code,
        count(*) as carriers_reporting,
        bool_or(has_fiber) as has_fiber,
        sum(fiber_households) as fiber_households,
        bool_or(has_4g) as has_4g,
        bool_or(has_5g) as has_5g,
        sum(smartphone_subscribers) as smartphone_subscribers
    from coverage
    group by report_month, village_code
)

select
    villages.village_code,
    month_figures.month_start,
    month_figures.figures_year,
    villages.commune_code,
    coalesce(villages.households, 0) as households,
    coalesce(villages.population_15plus, 0) as population_15plus,
    cast(coalesce(carriers_combined.carriers_reporting, 0) as integer) as carriers_reporting,
    coalesce(carriers_combined.has_fiber, false) as has_fiber,
    cast(
        least(coalesce(carriers_combined.fiber_households, 0), coalesce(villages.households, 0))
        as bigint
    ) as fiber_households,
    coalesce(carriers_combined.has_4g, false) as has_4g,
    coalesce(carriers_combined.has_5g, false) as has_5g,
    cast(
        least(
            coalesce(carriers_combined.smartphone_subscribers, 0),
            coalesce(villages.population_15plus, 0)
        ) as bigint
    ) as smartphone_users
from month_figures
inner join villages on month_figures.figures_year = villages.year
left join carriers_combined
    on month_figures.month_start = carriers_combined.month_start
    and villages.village_code = carriers_combined.village_code
