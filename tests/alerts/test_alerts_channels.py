"""Channels that are down, refuse or need a login: recorded as failed, never raised."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from alerts_support import (
    FALLBACK,
    HEALTH_MAIL,
    Receiver,
    SmtpServer,
    add_check,
    free_port,
)

from expectations.alerts import RetryPolicy, parse_smtp_url, send_digests, send_run_failure
from expectations.alerts.channels import ChannelError, redact
from orchestration.settings import Settings

NOW = datetime(2026, 3, 2, 6, 0)
FAST = RetryPolicy(attempts=3, backoff_s=0.05, timeout_s=2.0)


def _plant(conn: duckdb.DuckDBPyConnection, run_id: str) -> None:
    add_check(
        conn, run_id, "dvc_dossiers", "date_order", passed=False, failed_rows=1,
        failed_keys=["HS-001"],
    )  # fmt: skip
    add_check(
        conn, run_id, "telecom_coverage", "freshness", passed=False, failed_rows=1,
        observed="newest file 2025-12", expected="within 45 days",
    )  # fmt: skip


def _alerts(conn: duckdb.DuckDBPyConnection) -> list[tuple]:
    return conn.execute(
        "SELECT run_id, recipient, channel, delivered, error, subject, body, problem_keys "
        "FROM quality.alerts ORDER BY created_at, recipient, channel"
    ).fetchall()


def test_refusing_server_is_recorded_and_the_problem_stays_news(
    warehouse: Path, refusing_smtp_server: SmtpServer, smtp_server: SmtpServer
) -> None:
    conn = duckdb.connect(str(warehouse))
    _plant(conn, "r1")
    settings = Settings(alert_smtp_url=refusing_smtp_server.url, alert_fallback_to=FALLBACK)

    started = time.monotonic()
    summary = send_digests(conn, settings, "r1", now=NOW)  # default retry policy
    assert time.monotonic() - started < 5  # a 5xx refusal is final: no retries, no waiting

    assert summary.error is None and summary.failed == 2 and summary.delivered == 0
    rows = _alerts(conn)
    assert {(r[1], r[2], r[3]) for r in rows} == {
        (HEALTH_MAIL, "email", False),
        (FALLBACK, "email", False),
    }
    assert all("550" in r[4] and "Relaying denied" in r[4] for r in rows)
    assert all(d.deliveries[0].attempts == 1 for d in summary.digests)
    assert refusing_smtp_server.handler.received == []

    # The next night the server works: what was never delivered is still new.
    _plant(conn, "r2")
    settings = Settings(alert_smtp_url=smtp_server.url, alert_fallback_to=FALLBACK)
    send_digests(conn, settings, "r2", now=NOW + timedelta(days=1))
    (health,) = smtp_server.handler.to(HEALTH_MAIL)
    assert "[Mới]" in health.message.get_body(("plain",)).get_content()
    conn.close()


def test_server_down_is_retried_then_recorded_without_the_password(warehouse: Path) -> None:
    conn = duckdb.connect(str(warehouse))
    _plant(conn, "d1")
    port = free_port()  # nothing listens there
    settings = Settings(
        alert_smtp_url=f"smtp://alerts:S3cr%40t-pw@127.0.0.1:{port}",
        alert_fallback_to=FALLBACK,
    )
    started = time.monotonic()
    summary = send_digests(conn, settings, "d1", now=NOW, retry=FAST)
    assert time.monotonic() - started < 5

    assert summary.error is None and summary.failed == 2
    assert all(d.deliveries[0].attempts == 3 for d in summary.digests)
    rows = _alerts(conn)
    assert len(rows) == 2 and not any(r[3] for r in rows)
    assert all("ConnectionRefusedError" in r[4] for r in rows)
    text = repr(rows) + repr(summary) + "\n".join(summary.lines())
    assert "S3cr" not in text and "S3cr@t-pw" not in text
    conn.close()


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_rejected_login_is_recorded_without_the_password(
    warehouse: Path, auth_smtp_server: SmtpServer
) -> None:
    conn = duckdb.connect(str(warehouse))
    _plant(conn, "a1")
    settings = Settings(
        alert_smtp_url=f"smtp://alerts:hunter2-secret@127.0.0.1:{auth_smtp_server.port}",
        alert_fallback_to=FALLBACK,
    )
    summary = send_digests(conn, settings, "a1", now=NOW, retry=FAST)
    assert summary.failed == 2
    rows = _alerts(conn)
    assert all("535" in r[4] for r in rows), rows
    assert "hunter2" not in repr(rows) and "hunter2" not in repr(summary)
    assert auth_smtp_server.handler.received == []
    conn.close()


def test_webhook_receives_json_and_is_retried(
    warehouse: Path, smtp_server: SmtpServer, webhook: Receiver
) -> None:
    conn = duckdb.connect(str(warehouse))
    _plant(conn, "w1")
    webhook.statuses[:] = [503, 200]  # one hiccup, then fine
    settings = Settings(
        alert_smtp_url=smtp_server.url,
        alert_webhook_url=webhook.url,
        alert_fallback_to=FALLBACK,
    )
    summary = send_digests(conn, settings, "w1", now=NOW, retry=FAST)

    assert summary.failed == 0
    posted = webhook.json()
    assert len(posted) == 3  # one failed POST, then the two digests
    digests = {d["recipient"]: d for d in posted[1:]}
    assert set(digests) == {HEALTH_MAIL, FALLBACK}
    health = digests[HEALTH_MAIL]
    assert health["type"] == "cds.alert_digest" and health["run_id"] == "w1"
    assert health["subject"] == "[CĐS Điện Biên] Cảnh báo chất lượng dữ liệu — Sở Y tế — 1 vấn đề"
    assert health["items"][0]["key"] == "dvc_dossiers|date_order|000.00.05.H23"
    assert health["items"][0]["what"].startswith("Ngày tháng không hợp lý")
    fallback = digests[FALLBACK]
    assert fallback["overview"]["recipients"][0]["recipient"] == HEALTH_MAIL
    assert fallback["items"][0]["check_name"] == "freshness"
    hooks = [r for r in _alerts(conn) if r[2] == "webhook"]
    assert len(hooks) == 2 and all(r[3] for r in hooks)
    conn.close()


def test_webhook_down_is_recorded_and_email_still_goes(
    warehouse: Path, smtp_server: SmtpServer, webhook: Receiver
) -> None:
    conn = duckdb.connect(str(warehouse))
    _plant(conn, "w2")
    webhook.statuses[:] = [500]
    settings = Settings(
        alert_smtp_url=smtp_server.url, alert_webhook_url=webhook.url, alert_fallback_to=FALLBACK
    )
    summary = send_digests(conn, settings, "w2", now=NOW, retry=FAST)
    assert summary.delivered == 2  # each digest reached its mailbox
    hooks = [r for r in _alerts(conn) if r[2] == "webhook"]
    assert len(hooks) == 2
    assert all(not r[3] and r[4] == "HTTP 500 Internal Server Error" for r in hooks)
    assert len(webhook.bodies) == 2 * FAST.attempts
    conn.close()


def test_no_fallback_mailbox_is_recorded_not_raised(
    warehouse: Path, smtp_server: SmtpServer
) -> None:
    conn = duckdb.connect(str(warehouse))
    _plant(conn, "f1")
    summary = send_digests(conn, Settings(alert_smtp_url=smtp_server.url), "f1", now=NOW)
    assert [m.rcpt_tos for m in smtp_server.handler.received] == [[HEALTH_MAIL]]
    rows = _alerts(conn)
    unsent = [r for r in rows if r[1] is None]
    assert len(unsent) == 1 and unsent[0][4] == "no recipient: CDS_ALERT_FALLBACK_TO is not set"
    assert summary.failed == 1
    conn.close()


def test_run_failure_alerts_the_fallback_every_time(
    warehouse: Path, smtp_server: SmtpServer
) -> None:
    conn = duckdb.connect(str(warehouse))
    settings = Settings(
        alert_smtp_url=smtp_server.url, alert_fallback_to=FALLBACK, pii_key="pii-key-do-not-leak"
    )
    failures = [
        "ingest_dvc_dossiers: source unreachable after 3 retries: "
        "ConnectionError('http://127.0.0.1:9/api')",
        "build_marts: crashed with key pii-key-do-not-leak in the environment",
    ]
    for night in range(2):
        summary = send_run_failure(
            settings, conn, f"x{night}", failures, now=NOW + timedelta(days=night)
        )
        assert summary.error is None and summary.delivered == 1
    mails = smtp_server.handler.to(FALLBACK)
    assert len(mails) == 2
    message = mails[0].message
    assert message["Subject"] == "[CĐS Điện Biên] Lỗi lần chạy dữ liệu hằng đêm — 2 lỗi"
    body = message.get_body(("plain",)).get_content()
    assert "Bước bị lỗi: ingest_dvc_dossiers" in body and "Bước bị lỗi: build_marts" in body
    assert "source unreachable after 3 retries" in body
    assert "pii-key-do-not-leak" not in body
    assert message.get_body(("html",)) is not None
    rows = _alerts(conn)
    assert [(r[0], r[1], r[3]) for r in rows] == [("x0", FALLBACK, True), ("x1", FALLBACK, True)]
    conn.close()


def test_run_failure_without_a_warehouse(tmp_path: Path) -> None:
    summary = send_run_failure(
        Settings(alert_fallback_to=FALLBACK), None, "z", ["open_warehouse: file is locked"],
        now=NOW, outbox=tmp_path,
    )  # fmt: skip
    (path,) = summary.outbox_files
    assert path.suffix == ".eml" and "run_failure" in path.name


def test_smtp_urls() -> None:
    plain = parse_smtp_url("smtp://127.0.0.1:2525")
    assert (plain.host, plain.port, plain.ssl, plain.username) == ("127.0.0.1", 2525, False, None)
    secure = parse_smtp_url("smtps://c%C4%91s%40tinh:p%40ss%3Aw@mail.dienbien.gov.vn")
    assert (secure.host, secure.port, secure.ssl) == ("mail.dienbien.gov.vn", 465, True)
    assert (secure.username, secure.password) == ("cđs@tinh", "p@ss:w")
    assert "p@ss" not in repr(secure)
    assert parse_smtp_url("smtp://relay:587?starttls=1").starttls
    with pytest.raises(ChannelError):
        parse_smtp_url("http://mail:25")
    assert (
        redact("login to smtps://u:pw@h failed (pw)", ["pw"])
        == "login to smtps://***@h failed (***)"
    )


def test_malformed_smtp_url_is_recorded(warehouse: Path, tmp_path: Path) -> None:
    conn = duckdb.connect(str(warehouse))
    _plant(conn, "m1")
    settings = Settings(alert_smtp_url="mail.dienbien.gov.vn:25", alert_fallback_to=FALLBACK)
    summary = send_digests(conn, settings, "m1", now=NOW, outbox=tmp_path)
    assert summary.error is None and summary.failed == 2
    assert all("CDS_ALERT_SMTP_URL" in r[4] for r in _alerts(conn))
    conn.close()
