"""The alert log (`quality.alerts`): every alert sent or attempted, and what it told whom.

This module is the only writer of `quality.alerts`. Each row is one delivery attempt of one
message on one channel; `problem_keys` is a JSON list of the problems the message carried,
each `{"key": ..., "state": "new" | "reminder" | "resolved", "severity": ...}`. The
suppression state of the alerts (what a recipient already knows) is derived from the
delivered rows, so it survives restarts and needs no table of its own.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from warehouse.schema import QUALITY_TABLES

ALERTS = QUALITY_TABLES["alerts"]
STATES = ("new", "reminder", "resolved")


@dataclass(frozen=True)
class AlertAttempt:
    """One message on one channel, delivered or not."""

    run_id: str
    recipient: str | None
    channel: str
    subject: str
    body: str
    delivered: bool
    error: str | None = None
    # Each {"key": problem key, "state": new|reminder|resolved, "severity": ...}.
    problem_keys: list[dict[str, Any]] = field(default_factory=list)
    created_at: datetime = field(default_factory=datetime.now)
    alert_id: str = field(default_factory=lambda: uuid.uuid4().hex)


def record_attempt(conn: Any, attempt: AlertAttempt) -> str:
    """Append one attempt to `quality.alerts`; return its alert id."""
    conn.execute(
        f"INSERT INTO {ALERTS.qualified} ({', '.join(ALERTS.column_names)}) "
        f"VALUES ({', '.join('?' for _ in ALERTS.columns)})",
        [
            attempt.alert_id,
            attempt.created_at,
            attempt.recipient,
            attempt.channel,
            attempt.subject,
            attempt.body,
            attempt.delivered,
            attempt.error,
            attempt.run_id,
            json.dumps(attempt.problem_keys, ensure_ascii=False),
        ],
    ).fetchall()
    return attempt.alert_id


@dataclass
class ProblemHistory:
    """What one recipient was told about one problem, from the delivered alerts."""

    recipient: str | None
    key: str
    state: str  # the last state told: new, reminder or resolved
    severity: str | None
    opened_at: datetime  # when the current episode was first announced ("new")
    notified_at: datetime  # the last "new" or "reminder"
    told_at: datetime  # the last message that carried it at all

    @property
    def is_open(self) -> bool:
        return self.state != "resolved"


def _entries(raw: str | None) -> list[dict[str, Any]]:
    if not raw:
        return []
    try:
        value = json.loads(raw)
    except ValueError:
        return []
    if not isinstance(value, list):
        return []
    entries = []
    for item in value:
        if isinstance(item, str):  # a bare key: announced as new
            entries.append({"key": item, "state": "new"})
        elif isinstance(item, dict) and isinstance(item.get("key"), str):
            entries.append(item)
    return entries


def problem_history(conn: Any) -> dict[tuple[str | None, str], ProblemHistory]:
    """(recipient, problem key) → what the recipient was last told, over delivered alerts.

    Only delivered messages count: a problem whose message failed on every channel is still
    news for the next run. The same message sent on several channels counts once.
    """
    rows = conn.execute(
        f"SELECT created_at, recipient, problem_keys FROM {ALERTS.qualified} "
        "WHERE delivered AND problem_keys IS NOT NULL ORDER BY created_at, alert_id"
    ).fetchall()
    history: dict[tuple[str | None, str], ProblemHistory] = {}
    for created_at, recipient, raw in rows:
        for entry in _entries(raw):
            key, state = entry["key"], entry.get("state", "new")
            if state not in STATES:
                continue
            severity = entry.get("severity")
            known = history.get((recipient, key))
            if known is None or state == "new" or (state == "reminder" and not known.is_open):
                # A new episode (the same message on another channel replays identically).
                history[(recipient, key)] = ProblemHistory(
                    recipient, key, state, severity, created_at, created_at, created_at
                )
            elif state == "resolved":
                known.state, known.told_at = "resolved", created_at
            else:
                known.state, known.notified_at, known.told_at = state, created_at, created_at
                known.severity = severity or known.severity
    return history


def alerts_of_run(conn: Any, run_id: str) -> list[tuple[str | None, str, str, bool, str | None]]:
    """(recipient, channel, subject, delivered, error) of one run's attempts, oldest first."""
    return conn.execute(
        f"SELECT recipient, channel, subject, delivered, error FROM {ALERTS.qualified} "
        "WHERE run_id = ? ORDER BY created_at, alert_id",
        [run_id],
    ).fetchall()
