"""What follows every nightly run, whoever started it (`cds run`, `cds demo`, the daemon):
alert the owners of bad data, alert the fallback mailbox of a failed run, and after a
successful one publish the warehouse for readers (DuckDB: a read-only snapshot; PostgreSQL:
the analysts' read-only role and its grants)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from orchestration import summary
from orchestration.settings import Settings
from warehouse.connection import is_postgres, open_writer


class FinishedRun(Protocol):
    run_id: str
    success: bool
    failures: list[str]


@dataclass
class AfterRun:
    published: Path | None = None
    blocking_failures: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def outbox_folder(settings: Settings) -> Path:
    base = Path("warehouse") if is_postgres(settings.warehouse) else Path(settings.warehouse).parent
    return base / "outbox"


def after_run(settings: Settings, run: FinishedRun, *, show_results: bool = False) -> AfterRun:
    from expectations.alerts.dispatch import send_digests, send_run_failure
    from warehouse.publish import publish_snapshot

    done = AfterRun()
    outbox = outbox_folder(settings)
    conn = open_writer(settings.warehouse)
    try:
        done.lines.append(summary.checks_summary(conn, run.run_id))
        done.blocking_failures = summary.blocking_failures(conn, run.run_id)
        alerts = send_digests(conn, settings, run.run_id, outbox=outbox)
        done.lines += alerts.lines()
        if run.failures:
            failure = send_run_failure(settings, conn, run.run_id, run.failures, outbox=outbox)
            done.lines += failure.lines()
        if run.success and show_results and summary.has_marts(conn):
            year = summary.latest_full_year(conn)
            if year is not None:
                done.lines.append(summary.top_of_rankings(conn, year))
            done.lines.append(summary.province_against_targets(conn))
        if run.success and not done.blocking_failures:
            if is_postgres(settings.warehouse):
                # PostgreSQL serves readers itself: analysts read through a read-only role.
                from warehouse.postgres import ANALYST_ROLE, grant_analyst_role

                schemas = grant_analyst_role(conn)
                done.lines.append(
                    f"Analysts read the warehouse through the read-only role {ANALYST_ROLE} "
                    f"(SELECT on {', '.join(schemas) or 'no schema yet'}; "
                    f"GRANT {ANALYST_ROLE} TO <login role>)"
                )
            else:
                done.published = publish_snapshot(Path(settings.warehouse), conn=conn)
                done.lines.append(
                    f"Published the warehouse for readers: {done.published} "
                    '(cds query "SQL", cds report)'
                )
    finally:
        conn.close()
    return done
