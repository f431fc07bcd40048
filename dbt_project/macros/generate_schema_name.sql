{#- Use a model's custom schema as named (`marts`, not `main_marts`): the warehouse contract
    (pipeline-interface.md) promises analysts the schema `marts`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
