-- Village figures per year from the most recently loaded thon_ban.csv. `commune_code` is the
-- commune code in force on 1 January of `year` (old codes through 2025, new ones from 2026).
with source as (
    {{ rows_of_latest_file(source('reference', 'ref_thon_ban')) }}
),

renamed as (
    select
        cast(ma_thon as varchar) as village_code,
        cast(ten as varchar) as name,
        cast(ma_dvhc as varchar) as commune_code,
        cast(nam as integer) as year,
        cast(so_ho as bigint) as households,
        cast(dan_so as bigint) as population,
        cast(dan_so_tu_15 as bigint) as population_15plus,
        row_number() over (partition by ma_thon, nam order by _loaded_at desc) as row_rank
    from source
)

select village_code, name, commune_code, year, households, population, population_15plus
from renamed
where row_rank = 1
