"""One night with problems: who gets which digest, what it says, and what it never says."""

from __future__ import annotations

import json
import re
from datetime import datetime
from email import message_from_bytes, policy
from pathlib import Path

import duckdb
from alerts_support import (
    BUILDING,
    COMMUNE,
    COMMUNE_MAIL,
    FALLBACK,
    HEALTH,
    HEALTH_MAIL,
    PII,
    SCIENCE,
    SCIENCE_MAIL,
    Receiver,
    SmtpServer,
    add_check,
    add_quarantine,
)

from expectations.alerts import send_digests
from orchestration.settings import Settings

RUN = "run-2026-03-02"
NOW = datetime(2026, 3, 2, 6, 0)
DATE_ORDER = "dvc_dossiers.date_order_finished_after_received"
INVALID_SHARE = "dvc_dossiers.invalid_share_within_threshold"
ALERT = "[CĐS Điện Biên] Cảnh báo chất lượng dữ liệu"
SUBJECTS = {
    HEALTH_MAIL: f"{ALERT} — Sở Y tế — 1 vấn đề",
    SCIENCE_MAIL: f"{ALERT} — Sở Khoa học và Công nghệ — 2 vấn đề",
    COMMUNE_MAIL: f"{ALERT} — UBND xã Mường Phăng — 1 vấn đề",
    FALLBACK: f"{ALERT} — Tổng hợp kỹ thuật — 2 vấn đề",
}


def plant_night(conn: duckdb.DuckDBPyConnection, run_id: str = RUN) -> None:
    """The checks of one night as the suites write them, each owned by someone different."""
    # A row rule: the suite's own SQL finds 4 bad dossiers of health and 1 of science.
    add_check(
        conn, run_id, "dvc_dossiers", DATE_ORDER, passed=False, failed_rows=5,
        failed_keys=["HS-001", "HS-002", "HS-003", "HS-004", "HS-006"],
        observed="5 of 8 records break it (0 quarantined at landing, 5 in the warehouse)",
        expected="no record breaks the rule",
    )  # fmt: skip
    # A blocking share of invalid records, which blocks the science department.
    add_check(
        conn, run_id, "dvc_dossiers", INVALID_SHARE, passed=False, severity="blocking",
        failed_rows=40, failed_keys=[f"{SCIENCE}|2026"], observed="7.5%", expected="<= 5%",
    )  # fmt: skip
    conn.execute(
        "INSERT INTO quality.blocked_agencies VALUES (?, 'dvc_dossiers', ?, 2026, ?)",
        [run_id, INVALID_SHARE, SCIENCE],
    )
    add_check(conn, run_id, "dvc_dossiers", "dvc_dossiers.key_present", passed=True)
    # Documents of a commune rejected at landing, their payload carrying personal data.
    for key in ("9001", "9002", "9003"):
        payload = {"id": int(key), "ma_don_vi": COMMUNE, "hinh_thuc": "FAX", **PII}
        reason = "qlvb_van_ban.enum_hinh_thuc: hinh_thuc='FAX' not in ['DIEN_TU', 'GIAY']"
        add_quarantine(conn, run_id, "qlvb_van_ban", key, reason, payload)
    for name in ("qlvb_van_ban.enum_hinh_thuc", "qlvb_van_ban.quarantined_records"):
        add_check(
            conn, run_id, "qlvb_van_ban", name, passed=False, failed_rows=3,
            failed_keys=["9001", "9002", "9003"], observed="3 records in quarantine",
        )  # fmt: skip
    # Nobody owns the carriers' feeds; the building department has no contact.
    add_check(
        conn, run_id, "telecom_coverage", "telecom_coverage.every_village_reported_monthly",
        passed=False, failed_rows=2, failed_keys=["T-0101|2026-02", "T-0102|2026-02"],
    )  # fmt: skip
    add_check(
        conn, run_id, "dvc_dossiers", "dvc_dossiers.volume_per_agency_weekly", passed=False,
        failed_rows=1, failed_keys=[f"{BUILDING}|2026-02-23"], observed="3 vs 40 expected",
        expected="no collapse",
    )  # fmt: skip


def _settings(**overrides: str) -> Settings:
    return Settings(
        alert_from="cds-alerts@dienbien.gov.vn", alert_fallback_to=FALLBACK, **overrides
    )


def _decoded_subject(raw: str) -> str:
    """An RFC 2047 header decoded the way a mail client does (the modern email policy)."""
    unfolded = re.sub(r"\r?\n(?=[ \t])", "", raw)
    return str(policy.default.header_factory("Subject", unfolded))


def _parts(data: bytes) -> dict[str, str]:
    message = message_from_bytes(data, policy=policy.default)
    assert message.get_content_type() == "multipart/alternative"
    return {part.get_content_type(): part.get_content() for part in message.iter_parts()}


def test_one_digest_per_recipient_routed_to_owners(
    warehouse: Path, smtp_server: SmtpServer, webhook: Receiver
) -> None:
    conn = duckdb.connect(str(warehouse))
    plant_night(conn)
    settings = _settings(alert_smtp_url=smtp_server.url, alert_webhook_url=webhook.url)

    summary = send_digests(conn, settings, RUN, now=NOW)

    assert summary.error is None
    received = smtp_server.handler.received
    assert sorted(r for m in received for r in m.rcpt_tos) == sorted(SUBJECTS)
    assert all(len(m.rcpt_tos) == 1 for m in received)
    for mail in received:
        (recipient,) = mail.rcpt_tos
        message = mail.message
        assert mail.mail_from == "cds-alerts@dienbien.gov.vn"
        # The subject travels RFC 2047-encoded and decodes to the exact Vietnamese text.
        raw_subject = message_from_bytes(mail.data, policy=policy.compat32)["Subject"]
        assert raw_subject.isascii()
        assert _decoded_subject(raw_subject) == SUBJECTS[recipient]
        assert message["Subject"] == SUBJECTS[recipient]
        parts = _parts(mail.data)
        assert set(parts) == {"text/plain", "text/html"}
        assert "PHẦN KỸ THUẬT" in parts["text/plain"] and RUN in parts["text/plain"]
        assert '<html lang="vi">' in parts["text/html"]

    health = _parts(smtp_server.handler.to(HEALTH_MAIL)[0].data)["text/plain"]
    assert "Kính gửi: Đầu mối dữ liệu của Sở Y tế" in health
    assert "Ngày tháng không hợp lý" in health
    assert "Hồ sơ thủ tục hành chính (Cổng dịch vụ công) — Sở Y tế" in health
    assert "Số bản ghi không đạt: 4" in health  # its own share of the 5, counted per agency
    assert "Ví dụ mã bản ghi: HS-001, HS-002, HS-003" in health  # three examples, sorted
    assert "CQ-06 Tỷ lệ hồ sơ thủ tục hành chính được tiếp nhận trực tuyến" in health
    assert "CQ-10" in health and "xếp hạng các cơ quan" in health
    assert "Việc cần làm: Đối chiếu và sửa lại ngày tiếp nhận" in health
    assert f"check={DATE_ORDER}" in health and "observed=5 of 8 records" in health
    assert "HS-006" not in health  # the science department's records stay in its own digest

    science = _parts(smtp_server.handler.to(SCIENCE_MAIL)[0].data)["text/plain"]
    first, second = science.split("\n2. ")[0], science.split("\n2. ")[1]
    assert "Tỷ lệ bản ghi không hợp lệ vượt ngưỡng" in first  # blocking comes first
    assert "Số bản ghi không đạt: 40" in first and "Mức độ: Nghiêm trọng" in first
    assert "Ngày tháng không hợp lý" in second and "Ví dụ mã bản ghi: HS-006" in second
    assert "Số bản ghi không đạt: 1" in second

    commune = _parts(smtp_server.handler.to(COMMUNE_MAIL)[0].data)["text/plain"]
    assert "Văn bản đi, đến (Hệ thống quản lý văn bản) — UBND xã Mường Phăng" in commune
    assert "Giá trị không thuộc danh mục cho phép" in commune
    assert "Ví dụ mã bản ghi: 9001, 9002, 9003" in commune
    assert "Số bản ghi không đạt: 3" in commune
    # The same records are not told twice (by their rule and as "quarantined records").
    assert "quarantined_records" not in commune and "Bản ghi bị loại khi nạp" not in commune
    assert "CQ-01" in commune and "CQ-02" in commune

    fallback = _parts(smtp_server.handler.to(FALLBACK)[0].data)["text/plain"]
    assert "Báo cáo hạ tầng và phủ sóng của nhà mạng" in fallback
    assert "HT-01" in fallback and "T-0101|2026-02" in fallback
    assert "Thiếu dữ liệu báo cáo" in fallback
    assert "Sở Xây dựng (cơ quan chưa có đầu mối nhận cảnh báo)" in fallback
    assert "Số lượng bản ghi cập nhật tăng hoặc giảm bất thường" in fallback
    assert "TỔNG HỢP LẦN CHẠY" in fallback
    assert f"Sở Y tế <{HEALTH_MAIL}>: 1 mới" in fallback
    assert "3 bản ghi bị cách ly" in fallback

    # Every attempt is in quality.alerts, with the problems each message carried.
    rows = conn.execute(
        "SELECT recipient, channel, delivered, error, problem_keys, subject, run_id "
        "FROM quality.alerts ORDER BY recipient, channel"
    ).fetchall()
    assert {(r[0], r[1]) for r in rows} == {
        (recipient, channel) for recipient in SUBJECTS for channel in ("email", "webhook")
    }
    assert all(r[2] and r[3] is None and r[6] == RUN for r in rows)
    keys = {r[0]: json.loads(r[4]) for r in rows if r[1] == "email"}
    assert keys[HEALTH_MAIL] == [
        {"key": f"dvc_dossiers|{DATE_ORDER}|{HEALTH}", "state": "new", "severity": "warning"}
    ]
    assert [e["severity"] for e in keys[SCIENCE_MAIL]] == ["blocking", "warning"]
    assert {r[0]: r[5] for r in rows} == SUBJECTS

    # The webhook got the same digests as UTF-8 JSON.
    assert len(webhook.bodies) == 4
    assert all(ct == "application/json" for ct, _ in webhook.bodies)
    posted = {d["recipient"]: d for d in webhook.json()}
    assert set(posted) == set(SUBJECTS)
    assert posted[HEALTH_MAIL]["subject"] == SUBJECTS[HEALTH_MAIL]
    (item,) = posted[HEALTH_MAIL]["items"]
    assert item["example_keys"] == ["HS-001", "HS-002", "HS-003"]
    assert item["failed_rows"] == 4 and item["state"] == "new"
    assert item["affected_indicators"] == ["CQ-06", "CQ-07", "CQ-08", "CQ-09", "CQ-10"]
    assert item["affects_ranking"] is True

    # No personal data anywhere: raw messages, decoded parts, the log, the webhook.
    texts = [m.data.decode("ascii", errors="replace") for m in received]
    texts += [part for m in received for part in _parts(m.data).values()]
    texts += [json.dumps(r, default=str, ensure_ascii=False) for r in rows]
    texts += conn.execute("SELECT body FROM quality.alerts").fetchall()[0]
    texts += [body.decode("utf-8") for _, body in webhook.bodies]
    texts += [json.dumps(d, ensure_ascii=False) for d in webhook.json()]
    for secret in PII.values():
        assert all(secret not in t for t in texts), secret
    assert all("FAX" not in t for t in texts)  # nor a rejected record's values
    conn.close()


def test_outbox_when_no_smtp_server(warehouse: Path, tmp_path: Path) -> None:
    conn = duckdb.connect(str(warehouse))
    plant_night(conn)
    outbox = tmp_path / "outbox"

    summary = send_digests(conn, _settings(), RUN, now=NOW, outbox=outbox)

    files = sorted(outbox.glob("*.eml"))
    assert len(files) == 4 and sorted(summary.outbox_files) == files
    messages = [message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]
    assert {m["To"]: m["Subject"] for m in messages} == SUBJECTS
    for f in files:
        assert set(_parts(f.read_bytes())) == {"text/plain", "text/html"}
        assert all(v not in f.read_bytes().decode("ascii", "replace") for v in PII.values())
    rows = conn.execute("SELECT DISTINCT channel, delivered FROM quality.alerts").fetchall()
    assert rows == [("outbox", True)]
    assert not list(outbox.glob("*.tmp"))
    conn.close()


def test_clean_night_sends_nothing(warehouse: Path, smtp_server: SmtpServer) -> None:
    conn = duckdb.connect(str(warehouse))
    add_check(conn, RUN, "dvc_dossiers", "date_order", passed=True)
    summary = send_digests(conn, _settings(alert_smtp_url=smtp_server.url), RUN, now=NOW)
    assert summary.digests == [] and summary.error is None
    assert smtp_server.handler.received == []
    assert conn.execute("SELECT count(*) FROM quality.alerts").fetchone() == (0,)
    conn.close()


def test_contacts_passed_in_override_the_reference(
    warehouse: Path, smtp_server: SmtpServer
) -> None:
    conn = duckdb.connect(str(warehouse))
    plant_night(conn)
    settings = _settings(alert_smtp_url=smtp_server.url)
    mailbox = "cds.so-xay-dung@dienbien.gov.vn"
    send_digests(conn, settings, RUN, now=NOW, contacts={BUILDING: mailbox})
    building = smtp_server.handler.to(mailbox)
    assert len(building) == 1
    assert building[0].message["Subject"] == (
        "[CĐS Điện Biên] Cảnh báo chất lượng dữ liệu — Sở Xây dựng — 1 vấn đề"
    )
    fallback = _parts(smtp_server.handler.to(FALLBACK)[0].data)["text/plain"]
    assert "Sở Xây dựng (cơ quan chưa có đầu mối" not in fallback
    conn.close()
