-- The registry of files seen in the carriers' landing folder, one row per file version
-- (name and content hash), the latest registration of it.
with source as (
    select * from {{ source('telecom', 'telecom_files') }}
),

renamed as (
    select
        cast(file_name as varchar) as file_name,
        cast(nha_mang as varchar) as carrier,
        cast(ky_bao_cao as varchar) as report_period,
        cast(size_bytes as bigint) as size_bytes,
        cast(modified_at as timestamp) as modified_at,
        cast(sha256 as varchar) as file_sha256,
        cast(status as varchar) as status,
        cast(error as varchar) as error,
        cast(registered_at as timestamp) as registered_at
    from source
),

ranked as (
    select
        renamed.*,
        row_number() over (
            partition by renamed.file_name, renamed.file_sha256
            order by renamed.registered_at desc
        ) as registration_rank
    from renamed
)

select
    file_name,
    carrier,
    report_period,
    case
        when report_period is not null and length(report_period) = 7
            then cast(report_period || '-01' as date)
    end as report_month,
    size_bytes,
    modified_at,
    file_sha256,
    status,
    error,
    registered_at
from ranked
where registration_rank = 1
