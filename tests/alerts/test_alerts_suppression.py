"""Suppression across consecutive runs: new → suppressed → resolved (once) → silence.

Each run opens the warehouse afresh, as each nightly run does: the state lives in
`quality.alerts`, nowhere else.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
from alerts_support import (
    COMMUNE,
    COMMUNE_MAIL,
    FALLBACK,
    HEALTH_MAIL,
    SmtpServer,
    add_check,
    add_quarantine,
)

from expectations.alerts import AlertSummary, send_digests
from orchestration.settings import Settings

DAY1 = datetime(2026, 3, 2, 6, 0)
ALERT = "[CĐS Điện Biên] Cảnh báo chất lượng dữ liệu"
FIXED = "[CĐS Điện Biên] Dữ liệu đã được khắc phục"
SUMMARY = "[CĐS Điện Biên] Tổng hợp kiểm tra chất lượng dữ liệu"


def _night(
    warehouse: Path,
    smtp: SmtpServer,
    run_id: str,
    now: datetime,
    *,
    dossiers_fail: bool | None,
    documents_fail: bool | None = None,
    severity: str = "warning",
    window: timedelta | None = None,
    passing: tuple[str, ...] = (),
) -> tuple[AlertSummary, list]:
    """One run: plant its checks (None: the dataset was not checked), send, return the mail."""
    before = len(smtp.handler.received)
    conn = duckdb.connect(str(warehouse))
    try:
        if dossiers_fail is not None:
            add_check(
                conn, run_id, "dvc_dossiers", "date_order", passed=not dossiers_fail,
                severity=severity, failed_rows=2 if dossiers_fail else 0,
                failed_keys=["HS-001", "HS-002"] if dossiers_fail else None,
            )  # fmt: skip
        for name in passing:  # other checks of the dossiers that ran and passed
            add_check(conn, run_id, "dvc_dossiers", name, passed=True)
        if documents_fail is not None:
            # A rejected document of the commune stays in quarantine until a valid version
            # lands; the suite's `quarantined_records` check fails while it is open.
            open_record = conn.execute(
                "SELECT count(*) FROM quality.quarantine WHERE record_key = '77'"
            ).fetchone()[0]
            if documents_fail and not open_record:
                payload = {"id": 77, "ma_don_vi": COMMUNE}
                add_quarantine(conn, run_id, "qlvb_van_ban", "77", "enum: chieu='X'", payload)
            add_check(
                conn, run_id, "qlvb_van_ban", "qlvb_van_ban.quarantined_records",
                passed=not documents_fail, failed_rows=1 if documents_fail else 0,
                failed_keys=["77"] if documents_fail else None,
            )  # fmt: skip
        settings = Settings(alert_smtp_url=smtp.url, alert_fallback_to=FALLBACK)
        summary = send_digests(conn, settings, run_id, now=now, window=window)
    finally:
        conn.close()
    assert summary.error is None
    return summary, smtp.handler.received[before:]


def _subjects(mails: list) -> dict[str, str]:
    return {m.rcpt_tos[0]: m.message["Subject"] for m in mails}


def _plain(mail) -> str:  # noqa: ANN001 - alerts_support.Received
    return mail.message.get_body(("plain",)).get_content()


def test_new_then_suppressed_then_resolved_once(warehouse: Path, smtp_server: SmtpServer) -> None:
    # Night 1: two problems, both new.
    summary, mails = _night(
        warehouse, smtp_server, "run-1", DAY1, dossiers_fail=True, documents_fail=True
    )
    assert _subjects(mails) == {
        HEALTH_MAIL: f"{ALERT} — Sở Y tế — 1 vấn đề",
        COMMUNE_MAIL: f"{ALERT} — UBND xã Mường Phăng — 1 vấn đề",
        FALLBACK: f"{SUMMARY} — lần chạy ngày 02/03/2026",
    }
    assert "[Mới]" in _plain(mails[0]) or "[Mới]" in _plain(mails[1])

    # Night 2: the same problems persist — nobody is told again.
    summary, mails = _night(
        warehouse, smtp_server, "run-2", DAY1 + timedelta(days=1),
        dossiers_fail=True, documents_fail=True,
    )  # fmt: skip
    assert mails == []
    assert summary.problems == 2 and summary.suppressed == 2 and summary.digests == []

    # Night 3: both pass — each owner hears once that it is fixed; the fallback gets the summary.
    summary, mails = _night(
        warehouse, smtp_server, "run-3", DAY1 + timedelta(days=2),
        dossiers_fail=False, documents_fail=False,
    )  # fmt: skip
    assert _subjects(mails) == {
        HEALTH_MAIL: f"{FIXED} — Sở Y tế — 1 vấn đề",
        COMMUNE_MAIL: f"{FIXED} — UBND xã Mường Phăng — 1 vấn đề",
        FALLBACK: f"{SUMMARY} — lần chạy ngày 04/03/2026",
    }
    health = _plain(next(m for m in mails if m.rcpt_tos == [HEALTH_MAIL]))
    assert "ĐÃ ĐƯỢC KHẮC PHỤC" in health
    assert "phát hiện từ 02/03/2026" in health and "đã được khắc phục" in health
    assert "VẤN ĐỀ CẦN KHẮC PHỤC" not in health

    # Night 4: still clean — the resolution is not announced again.
    summary, mails = _night(
        warehouse, smtp_server, "run-4", DAY1 + timedelta(days=3),
        dossiers_fail=False, documents_fail=False,
    )  # fmt: skip
    assert mails == [] and summary.digests == []

    # The log tells the whole story in its problem_keys.
    conn = duckdb.connect(str(warehouse))
    rows = conn.execute(
        "SELECT run_id, problem_keys FROM quality.alerts WHERE recipient = ? ORDER BY created_at",
        [HEALTH_MAIL],
    ).fetchall()
    conn.close()
    assert [(run, [e["state"] for e in json.loads(keys)]) for run, keys in rows] == [
        ("run-1", ["new"]),
        ("run-3", ["resolved"]),
    ]


def test_reminder_after_the_window_and_at_once_when_worse(
    warehouse: Path, smtp_server: SmtpServer
) -> None:
    day = lambda n: DAY1 + timedelta(days=n)  # noqa: E731
    _, mails = _night(warehouse, smtp_server, "r0", day(0), dossiers_fail=True)
    assert len(smtp_server.handler.to(HEALTH_MAIL)) == 1
    _, mails = _night(warehouse, smtp_server, "r3", day(3), dossiers_fail=True)
    assert mails == []
    # Seven days after it was told: a reminder that says since when it has been open.
    _, mails = _night(warehouse, smtp_server, "r7", day(7), dossiers_fail=True)
    (health,) = [m for m in mails if m.rcpt_tos == [HEALTH_MAIL]]
    assert "[Nhắc lại — chưa khắc phục từ 02/03/2026]" in _plain(health)
    assert health.message["Subject"].endswith("Sở Y tế — 1 vấn đề")
    # The window restarts from the reminder.
    _, mails = _night(warehouse, smtp_server, "r8", day(8), dossiers_fail=True)
    assert mails == []
    # Worse (warning → blocking) is news at once.
    _, mails = _night(warehouse, smtp_server, "r9", day(9), dossiers_fail=True, severity="blocking")
    (health,) = [m for m in mails if m.rcpt_tos == [HEALTH_MAIL]]
    assert "Nhắc lại, mức độ tăng lên nghiêm trọng" in _plain(health)
    assert "Nghiêm trọng" in _plain(health)


def test_window_is_configurable(warehouse: Path, smtp_server: SmtpServer) -> None:
    one_day = timedelta(days=1)
    _night(warehouse, smtp_server, "a", DAY1, dossiers_fail=True, window=one_day)
    _, mails = _night(
        warehouse, smtp_server, "b", DAY1 + one_day, dossiers_fail=True, window=one_day
    )
    (health,) = [m for m in mails if m.rcpt_tos == [HEALTH_MAIL]]
    assert "Nhắc lại" in _plain(health)


def test_unchecked_dataset_is_not_declared_resolved(
    warehouse: Path, smtp_server: SmtpServer
) -> None:
    _night(warehouse, smtp_server, "n1", DAY1, dossiers_fail=True)
    # The portal could not be read: no check of the dossiers ran, so nothing is "fixed".
    _, mails = _night(warehouse, smtp_server, "n2", DAY1 + timedelta(days=1), dossiers_fail=None)
    assert mails == []
    # Other checks of the dossiers ran, not this one: still nothing to announce.
    _, mails = _night(
        warehouse, smtp_server, "n2b", DAY1 + timedelta(days=1, hours=1), dossiers_fail=None,
        passing=("dvc_dossiers.key_present",),
    )  # fmt: skip
    assert mails == []
    _, mails = _night(warehouse, smtp_server, "n3", DAY1 + timedelta(days=2), dossiers_fail=False)
    assert _subjects(mails)[HEALTH_MAIL].startswith(FIXED)


def test_a_problem_that_returns_is_new_again(warehouse: Path, smtp_server: SmtpServer) -> None:
    _night(warehouse, smtp_server, "m1", DAY1, dossiers_fail=True)
    _night(warehouse, smtp_server, "m2", DAY1 + timedelta(days=1), dossiers_fail=False)
    _, mails = _night(warehouse, smtp_server, "m3", DAY1 + timedelta(days=2), dossiers_fail=True)
    (health,) = [m for m in mails if m.rcpt_tos == [HEALTH_MAIL]]
    assert "[Mới]" in _plain(health)
