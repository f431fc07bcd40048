-- Every loaded version of every dossier, renamed (a view: cheap, read by key or watermark).
select
    cast(ma_ho_so as varchar) as dossier_id,
    cast(ma_thu_tuc as varchar) as procedure_code,
    cast(ma_co_quan as varchar) as agency_code,
    cast(ma_dvhc as varchar) as admin_unit_code,
    cast(kenh_nop as varchar) as channel,
    cast(ngay_tiep_nhan as timestamp) as received_at,
    cast(han_xu_ly as timestamp) as due_at,
    cast(ngay_hoan_thanh as timestamp) as finished_at,
    cast(ngay_tra_ket_qua as timestamp) as result_returned_at,
    cast(trang_thai as varchar) as status,
    cast(thanh_toan_truc_tuyen as boolean) as paid_online,
    cast(so_hoa_ho_so as boolean) as inputs_digitised,
    cast(so_hoa_ket_qua as boolean) as result_digitised,
    cast(applicant_key as varchar) as applicant_key,
    cast(updated_at as timestamp) as updated_at,
    cast(_loaded_at as timestamp) as loaded_at
from {{ source('dvc', 'dvc_dossiers') }}
