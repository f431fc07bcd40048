-- Territorial counts per new commune (after the reorganisation of 1 July 2025) and reported
-- month, whatever codes the village figures of that month carry. Figures are coded as on
-- 1 January of their year: figures of a year that starts before the reorganisation carry
-- old codes, whose counts go to the new commune(s) through sap_xep_dvhc.csv (whole when the
-- old commune moved whole, shared by ty_le_dan_so when it was split); later figures already
-- carry new codes and pass through, as do old codes the lineage does not list. This gives
-- the new communes a series across the change (indicators.md).
with communes as (
    select * from {{ ref('int_communes_counted') }}
),

lineage as (
    select old_code, new_code, effective_on, population_share
    from {{ ref('stg_reference__lineage') }}
),

reorganisation as (
    select min(effective_on) as reorganised_on
    from lineage
),

coded as (
    select
        communes.*,
        coalesce(
            cast(cast(communes.figures_year as varchar) || '-01-01' as date)
            < reorganisation.reorganised_on,
            false
        ) as has_old_code
    from communes
    cross join reorganisation
),

shares as (
    select
        coded.commune_code,
        coded.month_start,
        coalesce(lineage.new_code, coded.commune_code) as new_commune_code,
        coalesce(lineage.population_share, 1) as population_share
    from coded
    left join lineage
        on coded.has_old_code
        and coded.commune_code = lineage.old_code
)

select
    shares.new_commune_code,
    communes.month_start,
    sum(communes.villages * shares.population_share) as villages,
    sum(communes.villages_with_fiber * shares.population_share) as villages_with_fiber,
    sum(communes.villages_with_4g * shares.population_share) as villages_with_4g,
    sum(communes.villages_with_5g * shares.population_share) as villages_with_5g,
    sum(communes.households * shares.population_share) as households,
    sum(communes.fiber_households * shares.population_share) as fiber_households,
    sum(communes.population_15plus * shares.population_share) as population_15plus,
    sum(communes.smartphone_users * shares.population_share) as smartphone_users
from communes
inner join shares
    on communes.commune_code = shares.commune_code
    and communes.month_start = shares.month_start
group by shares.new_commune_code, communes.month_start
