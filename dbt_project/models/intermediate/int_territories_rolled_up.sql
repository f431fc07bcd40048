-- Telecom indicators (HT-01..05) per territorial unit and period: the province, each
-- district (while in force, i.e. up to June 2025), each commune in force (old communes up to
-- June 2025, new ones from July 2025), and each new commune before it existed, re-expressed
-- through the lineage (basis = 'reexpressed_new_communes'; see int_communes_mapped).
-- A month is a reported month; a quarter or year takes its last reported month within the
-- unit's validity (`value_month`), preferring actual values over re-expressed ones.
with communes as (
    select * from {{ ref('int_communes_counted') }}
),

mapped as (
    select * from {{ ref('int_communes_mapped') }}
),

units as (
    select
        admin_unit_code,
        level,
        parent_code,
        coalesce(valid_from, cast('1900-01-01' as date)) as valid_from,
        coalesce(valid_to, cast('9999-12-31' as date)) as valid_to
    from {{ ref('stg_reference__admin_units') }}
),

new_communes as (
    select distinct new_code as admin_unit_code
    from {{ ref('stg_reference__lineage') }}
),

province_months as (
    select
        'TINH' as unit_level,
        provinces.admin_unit_code as unit_code,
        communes.month_start,
        'actual' as basis,
        sum(communes.villages) as villages,
        sum(communes.villages_with_fiber) as villages_with_fiber,
        sum(communes.villages_with_4g) as villages_with_4g,
        sum(communes.villages_with_5g) as villages_with_5g,
        sum(communes.households) as households,
        sum(communes.fiber_households) as fiber_households,
        sum(communes.population_15plus) as population_15plus,
        sum(communes.smartphone_users) as smartphone_users
    from communes
    cross join (select admin_unit_code from units where level = 'TINH') as provinces
    group by provinces.admin_unit_code, communes.month_start
),

district_months as (
    select
        'HUYEN' as unit_level,
        districts.admin_unit_code as unit_code,
        communes.month_start,
        'actual' as basis,
        sum(communes.villages) as villages,
        sum(communes.villages_with_fiber) as villages_with_fiber,
        sum(communes.villages_with_4g) as villages_with_4g,
        sum(communes.villages_with_5g) as villages_with_5g,
        sum(communes.households) as households,
        sum(communes.fiber_households) as fiber_households,
        sum(communes.population_15plus) as population_15plus,
        sum(communes.smartphone_users) as smartphone_users
    from communes
    inner join units as commune_units on communes.commune_code = commune_units.admin_unit_code
    inner join units as districts
        on commune_units.parent_code = districts.admin_unit_code
        and districts.level = 'HUYEN'
    where
        communes.month_start >= {{ month_of('districts.valid_from') }}
        and communes.month_start <= districts.valid_to
    group by districts.admin_unit_code, communes.month_start
),

commune_months as (
    -- communes as the figures code them (old communes, and any commune the lineage does not
    -- create), while in force
    select
        'XA' as unit_level,
        communes.commune_code as unit_code,
        communes.month_start,
        'actual' as basis,
        communes.villages,
        communes.villages_with_fiber,
        communes.villages_with_4g,
        communes.villages_with_5g,
        communes.households,
        communes.fiber_households,
        communes.population_15plus,
        communes.smartphone_users
    from communes
    inner join units on communes.commune_code = units.admin_unit_code
    where
        units.level = 'XA'
        and communes.commune_code not in (select admin_unit_code from new_communes)
        and communes.month_start >= {{ month_of('units.valid_from') }}
        and communes.month_start <= units.valid_to
),

new_commune_months as (
    select
        'XA' as unit_level,
        mapped.new_commune_code as unit_code,
        mapped.month_start,
        case
            when mapped.month_start < {{ month_of('units.valid_from') }}
                then 'reexpressed_new_communes'
            else 'actual'
        end as basis,
        mapped.villages,
        mapped.villages_with_fiber,
        mapped.villages_with_4g,
        mapped.villages_with_5g,
        mapped.households,
        mapped.fiber_households,
        mapped.population_15plus,
        mapped.smartphone_users
    from mapped
    inner join units on mapped.new_commune_code = units.admin_unit_code
    where
        mapped.new_commune_code in (select admin_unit_code from new_communes)
        and mapped.month_start <= units.valid_to
),

unit_months as (
    select * from province_months
    union all
    select * from district_months
    union all
    select * from commune_months
    union all
    select * from new_commune_months
),

unit_periods as (
    select unit_months.*, 'month' as period_grain, month_start as period_start, 1 as n_months
    from unit_months
    union all
    select unit_months.*, 'quarter', {{ quarter_of('month_start') }}, 3
    from unit_months
    union all
    select unit_months.*, 'year', {{ year_of('month_start') }}, 12
    from unit_months
),

picked as (
    select
        unit_periods.*,
        row_number() over (
            partition by unit_level, unit_code, period_grain, period_start
            order by case when basis = 'actual' then 0 else 1 end, month_start desc
        ) as month_rank
    from unit_periods
),

unit_values as (
    select
        unit_level,
        unit_code,
        period_grain,
        period_start,
        {{ add_days(add_months('period_start', 'n_months'), -1) }} as period_end,
        month_start as value_month,
        basis,
        villages,
        villages_with_fiber,
        villages_with_4g,
        villages_with_5g,
        households,
        fiber_households,
        population_15plus,
        smartphone_users
    from picked
    where month_rank = 1
),

stacked as (
    select 'HT-01' as indicator_code, unit_values.*,
        villages_with_fiber as numerator, villages as denominator
    from unit_values
    union all
    select 'HT-02', unit_values.*, fiber_households, households
    from unit_values
    union all
    select 'HT-03', unit_values.*, villages_with_4g, villages
    from unit_values
    union all
    select 'HT-04', unit_values.*, villages_with_5g, villages
    from unit_values
    union all
    select 'HT-05', unit_values.*, smartphone_users, population_15plus
    from unit_values
)

select
    stacked.indicator_code,
    'admin_unit' as unit_type,
    stacked.unit_code,
    stacked.unit_level,
    stacked.period_grain,
    stacked.period_start,
    stacked.period_end,
    cast(stacked.numerator as {{ type_double() }}) as numerator,
    cast(stacked.denominator as {{ type_double() }}) as denominator,
    stacked.basis,
    stacked.value_month
from stacked
inner join {{ ref('indicators') }} as indicators
    on stacked.indicator_code = indicators.ma_chi_tieu
    and indicators.nguon = 'telecom'
    and ';' || replace(indicators.ap_dung, ' ', '') || ';' like '%;' || stacked.unit_level || ';%'
