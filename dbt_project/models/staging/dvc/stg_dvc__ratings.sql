-- Latest version of each satisfaction rating.
with source as (
    select * from {{ source('dvc', 'dvc_ratings') }}
),

renamed as (
    select
        cast(ma_danh_gia as varchar) as rating_id,
        cast(ma_ho_so as varchar) as dossier_id,
        cast(muc_do as varchar) as satisfaction,
        cast(ngay_danh_gia as timestamp) as rated_at,
        cast(updated_at as timestamp) as updated_at,
        cast(_loaded_at as timestamp) as loaded_at
    from source
),

{{ ranked_versions('renamed', 'rating_id') }}

select rating_id, dossier_id, satisfaction, rated_at, updated_at, loaded_at
from ranked
where version_rank = 1
