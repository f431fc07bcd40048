-- Latest version of each meeting that is not deleted.
with source as (
    select * from {{ source('qlvb', 'qlvb_cuoc_hop') }}
),

renamed as (
    select
        cast(id as bigint) as meeting_id,
        cast(ma_don_vi_chu_tri as varchar) as chair_agency_code,
        cast(ba_cap as boolean) as is_three_level,
        cast(hinh_thuc as varchar) as form,
        cast(ngay_hop as date) as meeting_date,
        coalesce(cast(da_xoa as boolean), false) as is_deleted,
        cast(ngay_cap_nhat as timestamp) as updated_at,
        cast(_loaded_at as timestamp) as loaded_at
    from source
),

{{ ranked_versions('renamed', 'meeting_id') }}

select meeting_id, chair_agency_code, is_three_level, form, meeting_date, updated_at
from ranked
where version_rank = 1 and not is_deleted
