"""Run a job of the definitions in this process and summarise what it did."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import dagster as dg

from orchestration.settings import Settings
from warehouse.connection import open_writer
from warehouse.runlog import run_summary


@dataclass
class RunOutcome:
    run_id: str
    success: bool
    sources: list[tuple[str, int, int, int, str]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def _instance() -> dg.DagsterInstance:
    # With DAGSTER_HOME set the run shows up in the UI's history; otherwise nothing is kept.
    return (
        dg.DagsterInstance.get()
        if os.environ.get("DAGSTER_HOME")
        else dg.DagsterInstance.ephemeral()
    )


def run_job(job_name: str = "nightly") -> RunOutcome:
    from orchestration.definitions import defs

    job = defs.resolve_job_def(job_name)
    with _instance() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
        failures = [
            f"{event.step_key}: {event.event_specific_data.error.message.strip()}"
            for event in result.all_events
            if event.is_step_failure and event.event_specific_data.error
        ]
    conn = open_writer(Settings.load().warehouse)
    try:
        sources = run_summary(conn, result.run_id)
    finally:
        conn.close()
    return RunOutcome(result.run_id, result.success, sources, failures)
