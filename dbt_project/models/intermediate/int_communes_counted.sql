-- Territorial counts per commune and reported month, the commune as the village figures code
-- it (old codes for figures up to 2025, new codes from 2026): the numerators and
-- denominators of HT-01..HT-05.
select
    commune_code,
    month_start,
    min(figures_year) as figures_year,
    cast(count(*) as {{ type_double() }}) as villages,
    cast({{ count_if('has_fiber') }} as {{ type_double() }}) as villages_with_fiber,
    cast({{ count_if('has_4g') }} as {{ type_double() }}) as villages_with_4g,
    cast({{ count_if('has_5g') }} as {{ type_double() }}) as villages_with_5g,
    cast(sum(households) as {{ type_double() }}) as households,
    cast(sum(fiber_households) as {{ type_double() }}) as fiber_households,
    cast(sum(population_15plus) as {{ type_double() }}) as population_15plus,
    cast(sum(smartphone_users) as {{ type_double() }}) as smartphone_users
from {{ ref('int_villages_combined') }}
group by commune_code, month_start
