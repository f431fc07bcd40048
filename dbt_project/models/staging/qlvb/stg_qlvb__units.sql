-- Latest version of each organisational unit of the document system that is not deleted.
with source as (
    select * from {{ source('qlvb', 'qlvb_don_vi') }}
),

renamed as (
    select
        cast(id as bigint) as unit_id,
        cast(ma_don_vi as varchar) as agency_code,
        cast(ten_don_vi as varchar) as unit_name,
        cast(cap as varchar) as level,
        coalesce(cast(da_xoa as boolean), false) as is_deleted,
        cast(ngay_cap_nhat as timestamp) as updated_at,
        cast(_loaded_at as timestamp) as loaded_at
    from source
),

{{ ranked_versions('renamed', 'unit_id') }}

select unit_id, agency_code, unit_name, level, updated_at
from ranked
where version_rank = 1 and not is_deleted
