"""Helpers of the alert tests: a small warehouse, a real SMTP server and a real HTTP receiver.

The warehouse has the exact tables of `warehouse/schema.py`, a few agencies in
`raw.ref_co_quan` and a few dossiers, so owners are found the way a real run finds them.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import duckdb
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from warehouse.schema import create_all_ddl

HEALTH = "000.00.05.H23"
SCIENCE = "000.00.01.H23"
COMMUNE = "11.600.XA"
BUILDING = "000.00.09.H23"  # no data-quality contact: its problems go to the fallback
HEALTH_MAIL = "cds.so-y-te@dienbien.gov.vn"
SCIENCE_MAIL = "cds.so-khoa-hoc-va-cong-nghe@dienbien.gov.vn"
COMMUNE_MAIL = "cds.xa-muong-phang@dienbien.gov.vn"
FALLBACK = "cds-ky-thuat@dienbien.gov.vn"

# Personal data a careless source might leave in a quarantined payload.
PII = {"ho_ten": "Lò Thị Mai", "so_dinh_danh": "011190004321", "so_dien_thoai": "0912345678"}


def new_warehouse(path: Path) -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect(str(path))
    for statement in create_all_ddl():
        conn.execute(statement)
    return conn


def seed_reference(conn: duckdb.DuckDBPyConnection) -> None:
    """Agencies (with an older file where the health department had another contact)."""
    rows = [
        (HEALTH, "Sở Y tế", "SO_NGANH", "cu.so-y-te@old.dienbien.gov.vn", "f0", "2025-01-01"),
        (HEALTH, "Sở Y tế", "SO_NGANH", HEALTH_MAIL, "f1", "2026-01-01"),
        (SCIENCE, "Sở Khoa học và Công nghệ", "SO_NGANH", SCIENCE_MAIL, "f1", "2026-01-01"),
        (COMMUNE, "UBND xã Mường Phăng", "UBND_XA", COMMUNE_MAIL, "f1", "2026-01-01"),
        (BUILDING, "Sở Xây dựng", "SO_NGANH", None, "f1", "2026-01-01"),
    ]
    for code, name, group, mail, sha, loaded in rows:
        conn.execute(
            "INSERT INTO raw.ref_co_quan VALUES (?, ?, ?, '11', DATE '2023-01-01', NULL, ?, ?, "
            "'load', CAST(? AS TIMESTAMP))",
            [code, name, group, mail, sha, loaded],
        )
    # Dossiers HS-001..HS-004 (health) and HS-006 (science) finished before they were received.
    for n in range(1, 9):
        agency = HEALTH if n <= 5 else SCIENCE
        finished = "2026-02-27 10:00:00" if n in (1, 2, 3, 4, 6) else "2026-03-01 10:00:00"
        conn.execute(
            "INSERT INTO raw.dvc_dossiers (ma_ho_so, ma_co_quan, ngay_tiep_nhan, ngay_hoan_thanh, "
            "updated_at, _load_id, _loaded_at) VALUES (?, ?, TIMESTAMP '2026-02-28 08:00:00', "
            "CAST(? AS TIMESTAMP), TIMESTAMP '2026-03-01 08:00:00', 'load', "
            "TIMESTAMP '2026-03-01 09:00:00')",
            [f"HS-{n:03d}", agency, finished],
        )


def add_check(
    conn: duckdb.DuckDBPyConnection,
    run_id: str,
    dataset: str,
    check_name: str,
    *,
    passed: bool,
    severity: str = "warning",
    failed_rows: int | None = 0,
    failed_keys: Any = None,
    observed: str | None = None,
    expected: str | None = None,
    checked_at: datetime | None = None,
) -> None:
    keys = (
        failed_keys
        if failed_keys is None or isinstance(failed_keys, str)
        else json.dumps(failed_keys)
    )
    conn.execute(
        "INSERT INTO quality.check_results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            run_id,
            checked_at or datetime(2026, 3, 2, 2, 0),
            dataset,
            check_name,
            severity,
            passed,
            observed,
            expected,
            failed_rows,
            keys,
        ],
    )


def add_quarantine(
    conn: duckdb.DuckDBPyConnection,
    run_id: str,
    dataset: str,
    record_key: str | None,
    reason: str,
    payload: dict[str, Any],
) -> None:
    conn.execute(
        "INSERT INTO quality.quarantine VALUES (?, ?, ?, ?, ?, TIMESTAMP '2026-03-02 01:00:00', "
        "md5(?))",
        [dataset, record_key, reason, json.dumps(payload, ensure_ascii=False), run_id, record_key],
    )


# -- a real SMTP server -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=policy.default)  # type: ignore[return-value]


@dataclass
class Collector:
    """An aiosmtpd handler that keeps what it receives (or refuses every recipient)."""

    refuse: str | None = None
    received: list[Received] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001, N802
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, N802
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
        )
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.rcpt_tos]


@dataclass
class SmtpServer:
    handler: Collector
    port: int

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


def start_smtp(handler: Collector, **kwargs: Any) -> tuple[Controller, int]:
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return controller, port


def serve_smtp(handler: Collector, **kwargs: Any) -> Iterator[SmtpServer]:
    """Runs a real SMTP server on loopback for the duration of a fixture."""
    controller, port = start_smtp(handler, **kwargs)
    try:
        yield SmtpServer(handler, port)
    finally:
        controller.stop()


def reject_all(server, session, envelope, mechanism, auth_data) -> AuthResult:  # noqa: ANN001
    return AuthResult(success=False, handled=False)


# -- a real HTTP receiver ---------------------------------------------------------------------


@dataclass
class Receiver:
    url: str
    bodies: list[tuple[str | None, bytes]]
    statuses: list[int]  # answers to give, in order; the last one repeats

    def json(self) -> list[dict[str, Any]]:
        return [json.loads(body.decode("utf-8")) for _, body in self.bodies]
