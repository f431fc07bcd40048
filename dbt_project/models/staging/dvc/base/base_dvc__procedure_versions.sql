-- Every loaded version of the procedure catalogue, renamed. The catalogue is a state
-- (CQ-05 takes it as loaded at each period's end), so history is kept here.
select
    cast(ma_thu_tuc as varchar) as procedure_code,
    cast(ten_thu_tuc as varchar) as procedure_name,
    cast(linh_vuc as varchar) as field,
    cast(ma_co_quan as varchar) as agency_code,
    cast(cap_thuc_hien as varchar) as level,
    cast(du_dieu_kien_toan_trinh as boolean) as is_eligible_fully_online,
    cast(muc_do as varchar) as online_level,
    cast(co_phi as boolean) as charges_fee,
    cast(hieu_luc as boolean) as is_in_force,
    cast(updated_at as timestamp) as updated_at,
    cast(_load_id as varchar) as load_id,
    cast(_loaded_at as timestamp) as loaded_at
from {{ source('dvc', 'dvc_procedures') }}
