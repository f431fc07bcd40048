-- Numerator and denominator of every flow indicator of the agencies (CQ-01..04, CQ-06..10)
-- per agency code and month: the formulas of indicators.csv in one place. CQ-05 is a state
-- and lives in int_procedures_snapshotted.
with dossiers as (
    select * from {{ ref('int_dossiers_counted') }}
),

documents as (
    select * from {{ ref('int_documents_counted') }}
),

work_files as (
    select * from {{ ref('int_work_files_counted') }}
),

meetings as (
    select * from {{ ref('int_meetings_counted') }}
),

ratings as (
    select * from {{ ref('int_ratings_counted') }}
),

stacked as (
    select 'CQ-01' as indicator_code, 'qlvb' as source, agency_code, month_start,
        ordinary_electronic_documents as numerator, ordinary_documents as denominator
    from documents
    union all
    select 'CQ-02', 'qlvb', agency_code, month_start,
        outgoing_electronic_signed_documents, outgoing_electronic_documents
    from documents
    union all
    select 'CQ-03', 'qlvb', agency_code, month_start,
        work_files_not_secret_online, work_files_not_secret
    from work_files
    union all
    select 'CQ-04', 'qlvb', agency_code, month_start,
        three_level_meetings_online, three_level_meetings
    from meetings
    union all
    select 'CQ-06', 'dvc', agency_code, month_start, received_online, received
    from dossiers
    union all
    select 'CQ-07', 'dvc', agency_code, month_start, finished_on_time, finished
    from dossiers
    union all
    select 'CQ-08', 'dvc', agency_code, month_start,
        received_with_fee_paid_online, received_with_fee
    from dossiers
    union all
    select 'CQ-09', 'dvc', agency_code, month_start, finished_result_digitised, finished
    from dossiers
    union all
    select 'CQ-10', 'dvc', agency_code, month_start, ratings_satisfied, ratings
    from ratings
)

select
    indicator_code,
    source,
    agency_code,
    month_start,
    cast(sum(numerator) as {{ type_double() }}) as numerator,
    cast(sum(denominator) as {{ type_double() }}) as denominator
from stacked
group by indicator_code, source, agency_code, month_start
