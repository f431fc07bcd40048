-- Every loaded version of every document, renamed (a view: cheap, read by key or watermark).
select
    cast(id as bigint) as document_id,
    cast(so_ky_hieu as varchar) as document_number,
    cast(ma_don_vi as varchar) as agency_code,
    cast(chieu as varchar) as direction,
    cast(hinh_thuc as varchar) as form,
    cast(ky_so as boolean) as is_digitally_signed,
    cast(do_mat as varchar) as secrecy,
    cast(ngay_van_ban as date) as document_date,
    coalesce(cast(da_xoa as boolean), false) as is_deleted,
    cast(ngay_cap_nhat as timestamp) as updated_at,
    cast(_loaded_at as timestamp) as loaded_at
from {{ source('qlvb', 'qlvb_van_ban') }}
