"""Sensors that finish a nightly run started by the Dagster daemon (the schedule, the UI) the
way `cds run` finishes its own: alerts, the run-failure alert, and publishing."""

from dataclasses import dataclass, field

import dagster as dg

from orchestration.after_run import after_run
from orchestration.defs.schedules import nightly_job
from orchestration.settings import Settings


@dataclass
class _FinishedRun:
    run_id: str
    success: bool
    failures: list[str] = field(default_factory=list)


@dg.run_status_sensor(
    name="after_nightly_success",
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[nightly_job],
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="After a successful nightly run: quality digests, then publish the warehouse.",
)
def after_nightly_success(context: dg.RunStatusSensorContext) -> None:
    done = after_run(Settings.load(), _FinishedRun(context.dagster_run.run_id, True))
    context.log.info(done.text)


@dg.run_failure_sensor(
    name="alert_on_nightly_failure",
    monitored_jobs=[nightly_job],
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="A failed nightly run (a source unreachable, a crashed step) alerts the "
    "fallback mailbox; the previous published warehouse stays in place.",
)
def alert_on_nightly_failure(context: dg.RunFailureSensorContext) -> None:
    failures = [
        f"{event.step_key}: {event.event_specific_data.error.message.strip()}"
        for event in context.get_step_failure_events()
        if event.event_specific_data and event.event_specific_data.error
    ] or [context.failure_event.message or "the run failed"]
    done = after_run(Settings.load(), _FinishedRun(context.dagster_run.run_id, False, failures))
    context.log.info(done.text)
