-- Agencies ranked by the digital-government index (co_quan.csv as last loaded).
select
    agencies.agency_code,
    agencies.name,
    agencies.ranking_group,
    groups.name_vi as ranking_group_name_vi,
    agencies.admin_unit_code,
    agencies.valid_from,
    agencies.valid_to,
    agencies.contact_email
from {{ ref('stg_reference__agencies') }} as agencies
left join {{ ref('ranking_groups') }} as groups
    on agencies.ranking_group = groups.ranking_group
