-- Latest version of each work file that is not deleted.
with source as (
    select * from {{ source('qlvb', 'qlvb_ho_so_cong_viec') }}
),

renamed as (
    select
        cast(id as bigint) as work_file_id,
        cast(ma_don_vi as varchar) as agency_code,
        cast(ngay_mo as date) as opened_on,
        cast(ngay_dong as date) as closed_on,
        cast(xu_ly_tren_mang as boolean) as is_processed_online,
        cast(bi_mat as boolean) as is_secret,
        coalesce(cast(da_xoa as boolean), false) as is_deleted,
        cast(ngay_cap_nhat as timestamp) as updated_at,
        cast(_loaded_at as timestamp) as loaded_at
    from source
),

{{ ranked_versions('renamed', 'work_file_id') }}

select
    work_file_id,
    agency_code,
    opened_on,
    closed_on,
    is_processed_online,
    is_secret,
    updated_at
from ranked
where version_rank = 1 and not is_deleted
