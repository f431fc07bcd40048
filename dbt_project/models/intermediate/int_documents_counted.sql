-- Issued documents (with so_ky_hieu; drafts count nowhere) per agency and month of the
-- document date, for CQ-01 (ordinary documents exchanged electronically) and CQ-02
-- (outgoing electronic documents digitally signed). A full table: aggregating the
-- incremental staging table of 6 M documents takes about 1.5 s.
select
    agency_code,
    {{ month_of('document_date') }} as month_start,
    {{ count_if("secrecy = 'THUONG'") }} as ordinary_documents,
    {{ count_if("secrecy = 'THUONG' and form = 'DIEN_TU'") }} as ordinary_electronic_documents,
    {{ count_if("direction = 'DI' and form = 'DIEN_TU'") }} as outgoing_electronic_documents,
    {{ count_if("direction = 'DI' and form = 'DIEN_TU' and is_digitally_signed") }}
        as outgoing_electronic_signed_documents
from {{ ref('stg_qlvb__documents') }}
where
    document_number is not null
    and document_date is not null
group by agency_code, {{ month_of('document_date') }}
