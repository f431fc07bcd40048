{#- Generic test: the listed columns together identify a row (composite key).
    Usage: data_tests: [{unique_combination: {arguments: {combination: [a, b]}}}] -#}
{% test unique_combination(model, combination) %}
select
    {{ combination | join(', ') }},
    count(*) as n_rows
from {{ model }}
group by {{ combination | join(', ') }}
having count(*) > 1
{% endtest %}

{#- Generic test: a boolean SQL expression holds on every row (rows where it is not true fail). -#}
{% test expression_is_true(model, expression, column_name=none) %}
select *
from {{ model }}
where not coalesce(({{ expression }}), false)
{% endtest %}
