-- Satisfaction ratings per agency and month of the rating (CQ-10); the agency is the one
-- that handled the rated dossier (a rating of an unknown dossier counts nowhere).
select
    dossiers.agency_code,
    {{ month_of('ratings.rated_at') }} as month_start,
    count(*) as ratings,
    {{ count_if("ratings.satisfaction in ('RAT_HAI_LONG', 'HAI_LONG')") }} as ratings_satisfied
from {{ ref('stg_dvc__ratings') }} as ratings
inner join {{ ref('stg_dvc__dossiers') }} as dossiers
    on ratings.dossier_id = dossiers.dossier_id
where ratings.rated_at is not null
group by dossiers.agency_code, {{ month_of('ratings.rated_at') }}
