"""Run a job of the definitions in this process, quietly, and summarise what it did.

The terminal shows one line per step as it starts and ends; Dagster's events and dbt's
output go to a log file whose path is printed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import dagster as dg

from orchestration.settings import Settings
from warehouse.connection import is_postgres, open_writer
from warehouse.runlog import run_summary


@dataclass
class RunOutcome:
    run_id: str
    success: bool
    log_path: Path
    sources: list[tuple[str, int, int, int, str]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


class _StepLines(logging.Handler):
    """Writes a line to the terminal when a step starts, succeeds or fails."""

    def __init__(self, terminal: TextIO) -> None:
        super().__init__(logging.DEBUG)
        self.terminal = terminal
        self.started: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "dagster_meta", {}).get("dagster_event")
        if event is None or not event.step_key:
            return
        step, kind = event.step_key, event.event_type_value
        if kind == "STEP_START":
            self.started[step] = time.monotonic()
            self.terminal.write(f"  ▸ {step} ...\n")
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE"):
            took = time.monotonic() - self.started.get(step, time.monotonic())
            state = "done" if kind == "STEP_SUCCESS" else "FAILED"
            self.terminal.write(f"  ▸ {step} {state} in {took:.1f} s\n")
        self.terminal.flush()


def _logger_def(name: str, handler: logging.Handler) -> dg.LoggerDefinition:
    def build(_context: dg.InitLoggerContext) -> logging.Logger:
        logger = logging.getLogger(f"cds.run.{name}")
        logger.setLevel(logging.DEBUG)
        logger.handlers = [handler]
        logger.propagate = False
        return logger

    return dg.LoggerDefinition(build, description=f"cds {name}")


def _instance() -> dg.DagsterInstance:
    # With DAGSTER_HOME set the run shows up in the UI's history; otherwise nothing is kept.
    if os.environ.get("DAGSTER_HOME"):
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()


def log_folder(settings: Settings) -> Path:
    if is_postgres(settings.warehouse):
        return Path("warehouse") / "logs"
    return Path(settings.warehouse).parent / "logs"


def run_job(job_name: str = "nightly", terminal: TextIO = sys.stderr) -> RunOutcome:
    settings = Settings.load()
    if is_postgres(settings.warehouse):
        # A server that refuses connections fails the run here, in one line, before any
        # source is read (WarehouseError), rather than in every step.
        open_writer(settings.warehouse).close()
    from orchestration.definitions import defs

    folder = log_folder(settings)
    folder.mkdir(parents=True, exist_ok=True)
    log_path = folder / f"{job_name}-{time.strftime('%Y%m%dT%H%M%S')}.log"
    job = defs.resolve_job_def(job_name)
    with open(log_path, "w") as log, contextlib.redirect_stdout(log), _instance() as instance:
        file_handler = logging.StreamHandler(log)
        file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        quiet_job = job.with_logger_defs(
            {
                "steps": _logger_def("steps", _StepLines(terminal)),
                "file": _logger_def("file", file_handler),
            }
        )
        # Loggers only replace Dagster's console logger when the run config names them.
        result = quiet_job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config={"loggers": {"steps": {}, "file": {}}},
        )
        failures = [
            f"{event.step_key}: {event.event_specific_data.error.message.strip()}"
            for event in result.all_events
            if event.is_step_failure and event.event_specific_data.error
        ]
    conn = open_writer(settings.warehouse)
    try:
        sources = run_summary(conn, result.run_id)
    finally:
        conn.close()
    return RunOutcome(result.run_id, result.success, log_path, sources, failures)
