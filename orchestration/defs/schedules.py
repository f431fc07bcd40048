"""Jobs, the nightly schedule and the sensor that reacts to new telecom feed files."""

import hashlib
from pathlib import Path

import dagster as dg

from orchestration.settings import Settings

NIGHTLY_JOB = "nightly"
TELECOM_JOB = "telecom_ingest"

# DuckDB has one writer: the steps of a run execute one after the other in one process.
nightly_job = dg.define_asset_job(
    NIGHTLY_JOB,
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    description="Ingest every source, check it, build the marts, publish and alert.",
)

telecom_job = dg.define_asset_job(
    TELECOM_JOB,
    selection=dg.AssetSelection.groups("telecom"),
    executor_def=dg.in_process_executor,
    description="Ingest the carriers' feed files that are new or changed.",
)


def reload_job(source: str, assets: list[dg.AssetsDefinition]) -> dg.JobDefinition:
    """A job that re-reads one source from its beginning, ignoring its watermarks."""
    ops = {a.node_def.name: {"config": {"full_reload": True}} for a in assets}
    return dg.define_asset_job(
        f"reload_{source}",
        selection=dg.AssetSelection.assets(*assets),
        executor_def=dg.in_process_executor,
        config={"ops": ops},
        description=f"Re-read the whole of source {source!r} from its beginning (idempotent: "
        "records already landed are not landed twice).",
        tags={"cds/full_reload": "true", "cds/source": source},
    )


nightly_schedule = dg.ScheduleDefinition(
    name="nightly_at_one",
    job=nightly_job,
    cron_schedule="0 1 * * *",
    execution_timezone="Asia/Ho_Chi_Minh",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="The nightly pipeline at 01:00 Vietnam time.",
)


def feed_folder_fingerprint(folder: Path) -> str:
    """Changes whenever a file is added, removed, rewritten or touched in the folder."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


@dg.sensor(
    name="new_telecom_files",
    job=telecom_job,
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts the telecom ingestion when a feed file lands or changes.",
)
def new_telecom_files(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    folder = Settings.load().telecom_dir
    if not folder or not Path(folder).is_dir():
        return dg.SkipReason("CDS_TELECOM_DIR is not set or is not a folder")
    fingerprint = feed_folder_fingerprint(Path(folder))
    if fingerprint == context.cursor:
        return dg.SkipReason("no new or changed feed file")
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key=fingerprint)], cursor=fingerprint)
