-- Three-level meetings per chairing agency and month (CQ-04); hybrid (KET_HOP) counts as
-- online.
select
    chair_agency_code as agency_code,
    {{ month_of('meeting_date') }} as month_start,
    {{ count_if("is_three_level") }} as three_level_meetings,
    {{ count_if("is_three_level and form in ('TRUC_TUYEN', 'KET_HOP')") }}
        as three_level_meetings_online
from {{ ref('stg_qlvb__meetings') }}
where meeting_date is not null
group by chair_agency_code, {{ month_of('meeting_date') }}
