-- Coverage reported by each carrier for each village and month, from the current version of
-- the carrier's file for that month only: among the loaded files of a (carrier, month) the
-- one with the newest modification time wins (a re-sent correction supersedes the earlier
-- file, which stays in raw as history). A village repeated within a file keeps its last row.
with current_files as (
    select carrier, report_period, file_sha256
    from (
        select
            files.carrier,
            files.report_period,
            files.file_sha256,
            row_number() over (
                partition by files.carrier, files.report_period
                order by files.modified_at desc, files.registered_at desc, files.file_name desc
            ) as file_rank
        from {{ ref('stg_telecom__files') }} as files
        where files.status = 'loaded'
    ) as ranked_files
    where file_rank = 1
),

rows_of_current_files as (
    select
        cast(coverage.nha_mang as varchar) as carrier,
        cast(coverage.ky_bao_cao as varchar) as report_period,
        cast(coverage.ky_bao_cao || '-01' as date) as report_month,
        cast(coverage.ma_thon as varchar) as village_code,
        coalesce(cast(coverage.co_cap_quang as boolean), false) as has_fiber,
        coalesce(cast(coverage.so_ho_cap_quang as bigint), 0) as fiber_households,
        coalesce(cast(coverage.phu_song_4g as boolean), false) as has_4g,
        coalesce(cast(coverage.phu_song_5g as boolean), false) as has_5g,
        coalesce(cast(coverage.so_thue_bao as bigint), 0) as subscribers,
        coalesce(cast(coverage.so_thue_bao_smartphone as bigint), 0) as smartphone_subscribers,
        cast(coverage.file_name as varchar) as file_name,
        cast(coverage.file_sha256 as varchar) as file_sha256,
        cast(coverage.row_number as integer) as file_row_number
    from {{ source('telecom', 'telecom_coverage') }} as coverage
    inner join current_files
        on coverage.file_sha256 = current_files.file_sha256
        and coverage.nha_mang = current_files.carrier
        and coverage.ky_bao_cao = current_files.report_period
),

ranked as (
    select
        rows_of_current_files.*,
        row_number() over (
            partition by
                rows_of_current_files.carrier,
                rows_of_current_files.report_month,
                rows_of_current_files.village_code
            order by rows_of_current_files.file_row_number desc
        ) as row_rank
    from rows_of_current_files
)

select
    carrier,
    report_period,
    report_month,
    village_code,
    has_fiber,
    fiber_households,
    has_4g,
    has_5g,
    subscribers,
    smartphone_subscribers,
    file_name,
    file_sha256,
    file_row_number
from ranked
where row_rank = 1
