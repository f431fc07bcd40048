{#- Small SQL helpers that differ between DuckDB and PostgreSQL (the two targets). -#}

{#- 8-byte float: `float` is 4 bytes in DuckDB, so name the type in full. -#}
{% macro type_double() -%}double precision{%- endmacro %}

{#- First day of the month of a date or timestamp, as DATE. -#}
{% macro month_of(expr) -%}
    cast(date_trunc('month', {{ expr }}) as date)
{%- endmacro %}

{#- First day of the quarter / year of a date, as DATE. -#}
{% macro quarter_of(expr) -%}
    cast(date_trunc('quarter', {{ expr }}) as date)
{%- endmacro %}

{% macro year_of(expr) -%}
    cast(date_trunc('year', {{ expr }}) as date)
{%- endmacro %}

{#- Calendar year number of a date as INTEGER (extract gives numeric in PostgreSQL). -#}
{% macro year_number(expr) -%}
    cast(extract(year from {{ expr }}) as integer)
{%- endmacro %}

{#- A date plus n months, as DATE (n may be a column). -#}
{% macro add_months(date_expr, n_expr) -%}
    cast({{ dbt.dateadd('month', n_expr, date_expr) }} as date)
{%- endmacro %}

{#- A date plus n days, as DATE. -#}
{% macro add_days(date_expr, n_expr) -%}
    cast({{ dbt.dateadd('day', n_expr, date_expr) }} as date)
{%- endmacro %}

{#- Round a float to `digits` decimals; PostgreSQL only rounds numeric. -#}
{% macro round_to(expr, digits) -%}
    {{ return(adapter.dispatch('round_to', 'cds')(expr, digits)) }}
{%- endmacro %}

{% macro default__round_to(expr, digits) -%}
    round({{ expr }}, {{ digits }})
{%- endmacro %}

{% macro postgres__round_to(expr, digits) -%}
    cast(round(cast({{ expr }} as numeric), {{ digits }}) as double precision)
{%- endmacro %}

{#- A number with two decimals and a decimal comma, as Vietnamese text writes it: 92,35. -#}
{% macro vi_number_2(expr) -%}
    replace(cast(cast({{ expr }} as decimal(12, 2)) as varchar), '.', ',')
{%- endmacro %}

{#- Percentage value of a numerator and denominator; null when the denominator is 0
    ("not applicable", indicators.md). Multiplying first keeps exact values exact. -#}
{% macro percent(numerator, denominator) -%}
    case
        when {{ denominator }} is null or {{ denominator }} = 0 then null
        else 100.0 * cast({{ numerator }} as double precision)
            / cast({{ denominator }} as double precision)
    end
{%- endmacro %}

{#- Count of rows matching a condition, as BIGINT (DuckDB sums to HUGEINT otherwise). -#}
{% macro count_if(condition) -%}
    cast(sum(case when {{ condition }} then 1 else 0 end) as bigint)
{%- endmacro %}

{#- A date as dd/mm/yyyy text. -#}
{% macro vi_date(expr) -%}
    lpad(cast(cast(extract(day from {{ expr }}) as integer) as varchar), 2, '0')
    || '/' || lpad(cast(cast(extract(month from {{ expr }}) as integer) as varchar), 2, '0')
    || '/' || cast(cast(extract(year from {{ expr }}) as integer) as varchar)
{%- endmacro %}
