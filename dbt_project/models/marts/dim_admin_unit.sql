-- Administrative units, before and after the reorganisation of 1 July 2025
-- (don_vi_hanh_chinh.csv as last loaded).
select
    admin_unit_code,
    name,
    level,
    kind,
    parent_code,
    valid_from,
    valid_to
from {{ ref('stg_reference__admin_units') }}
