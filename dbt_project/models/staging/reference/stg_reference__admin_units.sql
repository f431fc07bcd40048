-- Administrative units from the most recently loaded don_vi_hanh_chinh.csv.
with source as (
    {{ rows_of_latest_file(source('reference', 'ref_don_vi_hanh_chinh')) }}
),

renamed as (
    select
        cast(ma_dvhc as varchar) as admin_unit_code,
        cast(ten as varchar) as name,
        cast(cap as varchar) as level,
        cast(loai as varchar) as kind,
        nullif(cast(ma_dvhc_cha as varchar), '') as parent_code,
        cast(hieu_luc_tu as date) as valid_from,
        cast(hieu_luc_den as date) as valid_to,
        row_number() over (partition by ma_dvhc order by _loaded_at desc) as row_rank
    from source
)

select admin_unit_code, name, level, kind, parent_code, valid_from, valid_to
from renamed
where row_rank = 1
