-- Old commune → new commune lineage of the reorganisation, from the most recently loaded
-- sap_xep_dvhc.csv.
with source as (
    {{ rows_of_latest_file(source('reference', 'ref_sap_xep_dvhc')) }}
),

renamed as (
    select
        cast(ma_dvhc_cu as varchar) as old_code,
        cast(ma_dvhc_moi as varchar) as new_code,
        cast(ngay_hieu_luc as date) as effective_on,
        cast(ty_le_dan_so as double precision) as population_share,
        row_number() over (
            partition by ma_dvhc_cu, ma_dvhc_moi order by _loaded_at desc
        ) as row_rank
    from source
)

select old_code, new_code, effective_on, population_share
from renamed
where row_rank = 1
