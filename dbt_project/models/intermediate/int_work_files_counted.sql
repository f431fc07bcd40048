-- Work files per agency and month opened (CQ-03): those not secret, and of them the ones
-- processed on the network.
select
    agency_code,
    {{ month_of('opened_on') }} as month_start,
    {{ count_if("not coalesce(is_secret, false)") }} as work_files_not_secret,
    {{ count_if("not coalesce(is_secret, false) and is_processed_online") }}
        as work_files_not_secret_online
from {{ ref('stg_qlvb__work_files') }}
where opened_on is not null
group by agency_code, {{ month_of('opened_on') }}
