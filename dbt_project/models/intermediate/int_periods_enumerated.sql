-- Calendar periods of each integrated source: every month from the first month with data
-- to the latest one, and the quarters and years those months touch. Indicator values are
-- computed on these periods (indicators.md, "Periods"); `is_complete` tells whether the
-- source's data reaches the period's last day (the current year is provisional otherwise).
with dossier_dates as (
    select
        min(received_at) as first_received_at,
        max(received_at) as last_received_at,
        min(finished_at) as first_finished_at,
        max(finished_at) as last_finished_at
    from {{ ref('stg_dvc__dossiers') }}
),

rating_dates as (
    select min(rated_at) as first_rated_at, max(rated_at) as last_rated_at
    from {{ ref('stg_dvc__ratings') }}
),

document_dates as (
    select min(document_date) as first_on, max(document_date) as last_on
    from {{ ref('stg_qlvb__documents') }}
),

work_file_dates as (
    select min(opened_on) as first_on, max(opened_on) as last_on
    from {{ ref('stg_qlvb__work_files') }}
),

meeting_dates as (
    select min(meeting_date) as first_on, max(meeting_date) as last_on
    from {{ ref('stg_qlvb__meetings') }}
),

telecom_months as (
    select min(report_month) as first_month, max(report_month) as last_month
    from {{ ref('stg_telecom__coverage') }}
),

-- least/greatest skip nulls in both DuckDB and PostgreSQL: a source without a stream
-- (e.g. no rating yet) still has an extent.
extents as (
    select
        'dvc' as source,
        cast(least(first_received_at, first_finished_at, first_rated_at) as date) as first_on,
        cast(greatest(last_received_at, last_finished_at, last_rated_at) as date) as last_on
    from dossier_dates
    cross join rating_dates
    union all
    select
        'qlvb' as source,
        least(document_dates.first_on, work_file_dates.first_on, meeting_dates.first_on),
        greatest(document_dates.last_on, work_file_dates.last_on, meeting_dates.last_on)
    from document_dates
    cross join work_file_dates
    cross join meeting_dates
    union all
    select
        'telecom' as source,
        first_month,
        {{ add_days(add_months('last_month', 1), -1) }}
    from telecom_months
),

source_extents as (
    select
        source,
        {{ month_of('first_on') }} as first_month,
        {{ month_of('last_on') }} as last_month,
        last_on as last_date
    from extents
    where first_on is not null
),

digits as (
    select 0 as d union all select 1 union all select 2 union all select 3 union all select 4
    union all select 5 union all select 6 union all select 7 union all select 8
    union all select 9
),

month_offsets as (
    select hundreds.d * 100 + tens.d * 10 + ones.d as n
    from digits as hundreds
    cross join digits as tens
    cross join digits as ones
),

months as (
    select
        source_extents.source,
        {{ add_months('source_extents.first_month', 'month_offsets.n') }} as month_start
    from source_extents
    cross join month_offsets
    where
        {{ add_months('source_extents.first_month', 'month_offsets.n') }}
        <= source_extents.last_month
),

periods as (
    select distinct source, 'month' as period_grain, month_start as period_start, 1 as n_months
    from months
    union all
    select distinct source, 'quarter', {{ quarter_of('month_start') }}, 3
    from months
    union all
    select distinct source, 'year', {{ year_of('month_start') }}, 12
    from months
)

select
    periods.source,
    periods.period_grain,
    periods.period_start,
    {{ add_days(add_months('periods.period_start', 'periods.n_months'), -1) }} as period_end,
    {{ add_months('periods.period_start', 'periods.n_months') }} as next_period_start,
    {{ year_number('periods.period_start') }} as year,
    source_extents.first_month as source_first_month,
    source_extents.last_month as source_last_month,
    source_extents.last_date as source_last_date,
    {{ add_days(add_months('periods.period_start', 'periods.n_months'), -1) }}
    <= source_extents.last_date as is_complete
from periods
inner join source_extents on periods.source = source_extents.source
