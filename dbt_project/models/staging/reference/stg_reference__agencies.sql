-- Agencies ranked by the digital-government index, from the most recently loaded co_quan.csv.
with source as (
    {{ rows_of_latest_file(source('reference', 'ref_co_quan')) }}
),

renamed as (
    select
        cast(ma_co_quan as varchar) as agency_code,
        cast(ten as varchar) as name,
        cast(nhom as varchar) as ranking_group,
        cast(ma_dvhc as varchar) as admin_unit_code,
        cast(hieu_luc_tu as date) as valid_from,
        cast(hieu_luc_den as date) as valid_to,
        cast(email_dau_moi as varchar) as contact_email,
        row_number() over (partition by ma_co_quan order by _loaded_at desc) as row_rank
    from source
)

select agency_code, name, ranking_group, admin_unit_code, valid_from, valid_to, contact_email
from renamed
where row_rank = 1
