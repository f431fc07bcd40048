-- Agencies whose data for a year failed a blocking check. The quality step (the only writer,
-- warehouse/quality.py) replaces a dataset's rows with each run's outcome, so the table holds
-- the current blocks only and every row counts. A null year or agency_code stands for every
-- year or every agency (a failure not attributable to one agency leaves the dataset suspect).
select distinct
    cast(run_id as varchar) as run_id,
    cast(dataset as varchar) as dataset,
    cast(check_name as varchar) as check_name,
    cast(year as integer) as year,
    cast(agency_code as varchar) as agency_code
from {{ source('quality', 'blocked_agencies') }}
