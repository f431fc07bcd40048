-- Dossier counts per handling agency and calendar month: flows by month received (CQ-06,
-- CQ-08) and by month finished (CQ-07, CQ-09). Agency codes are kept as the portal sends
-- them (province totals count every dossier, also of agencies not in co_quan.csv).
-- A full table on purpose: aggregating the (incremental) staging table of 1.6 M dossiers
-- takes about a second, less than tracking which months a night's changes touched, and a
-- change of a procedure's co_phi (CQ-08) then reaches every month without special care.
{% set finished_statuses = "('DA_HOAN_THANH', 'DA_TRA_KET_QUA', 'TU_CHOI')" %}

with dossiers as (
    select
        dossiers.agency_code,
        dossiers.channel,
        dossiers.received_at,
        dossiers.due_at,
        dossiers.finished_at,
        dossiers.status,
        dossiers.paid_online,
        dossiers.result_digitised,
        coalesce(procedures.charges_fee, false) as charges_fee
    from {{ ref('stg_dvc__dossiers') }} as dossiers
    left join {{ ref('stg_dvc__procedures') }} as procedures
        on dossiers.procedure_code = procedures.procedure_code
),

received as (
    select
        agency_code,
        {{ month_of('received_at') }} as month_start,
        count(*) as received,
        {{ count_if("channel = 'TRUC_TUYEN'") }} as received_online,
        {{ count_if("charges_fee") }} as received_with_fee,
        {{ count_if("charges_fee and paid_online") }} as received_with_fee_paid_online,
        cast(0 as bigint) as finished,
        cast(0 as bigint) as finished_on_time,
        cast(0 as bigint) as finished_result_digitised
    from dossiers
    where received_at is not null
    group by agency_code, {{ month_of('received_at') }}
),

finished as (
    select
        agency_code,
        {{ month_of('finished_at') }} as month_start,
        cast(0 as bigint) as received,
        cast(0 as bigint) as received_online,
        cast(0 as bigint) as received_with_fee,
        cast(0 as bigint) as received_with_fee_paid_online,
        count(*) as finished,
        {{ count_if("due_at is null or finished_at <= due_at") }} as finished_on_time,
        {{ count_if("result_digitised") }} as finished_result_digitised
    from dossiers
    where
        finished_at is not null
        and status in {{ finished_statuses }}
    group by agency_code, {{ month_of('finished_at') }}
),

flows as (
    select * from received
    union all
    select * from finished
)

select
    agency_code,
    month_start,
    cast(sum(received) as bigint) as received,
    cast(sum(received_online) as bigint) as received_online,
    cast(sum(received_with_fee) as bigint) as received_with_fee,
    cast(sum(received_with_fee_paid_online) as bigint) as received_with_fee_paid_online,
    cast(sum(finished) as bigint) as finished,
    cast(sum(finished_on_time) as bigint) as finished_on_time,
    cast(sum(finished_result_digitised) as bigint) as finished_result_digitised
from flows
group by agency_code, month_start
