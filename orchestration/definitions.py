"""Everything Dagster shows: `dagster dev -m orchestration.definitions`."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.after_runs import after_nightly_success, alert_on_nightly_failure
from orchestration.defs.ingestion import RAW_ASSETS, RELOADABLE
from orchestration.defs.quality import QUALITY_CHECKS, STAGING_CHECKS
from orchestration.defs.schedules import (
    new_telecom_files,
    nightly_job,
    nightly_schedule,
    reload_job,
    telecom_job,
)
from orchestration.defs.transform import cds_dbt_models, dbt_resource
from orchestration.resources import PipelineResource

defs = dg.Definitions(
    assets=[*RAW_ASSETS, cds_dbt_models],
    asset_checks=[*QUALITY_CHECKS, *STAGING_CHECKS],
    jobs=[
        nightly_job,
        telecom_job,
        *(reload_job(source, keys) for source, keys in RELOADABLE.items()),
    ],
    schedules=[nightly_schedule],
    sensors=[new_telecom_files, after_nightly_success, alert_on_nightly_failure],
    resources={"pipeline": PipelineResource(), "dbt": dbt_resource()},
)
