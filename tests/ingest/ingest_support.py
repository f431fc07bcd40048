"""Helpers of the ingestion tests: sources, warehouses, expectations read from the sources.

The tests drive `orchestration.ingest` (the functions the Dagster assets call) into a real
DuckDB warehouse and compare what landed with what the simulator wrote: the portal's store,
the document database and the feed files, plus the manifest of planted anomalies.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb
import requests
import sqlalchemy as sa

import sources.dvc_portal
import sources.qlvb
from orchestration.ingest import (
    PORTAL_DATASETS,
    QLVB_DATASETS,
    PortalOptions,
    ingest_portal,
    ingest_qlvb,
    ingest_reference,
    ingest_telecom,
)
from orchestration.settings import Settings
from sources.batch import Batch
from sources.dvc_portal import PortalClient
from sources.dvc_portal.records import DOSSIER_SPEC, PROCEDURE_SPEC, RATING_SPEC, RecordSpec
from sources.pii import pseudonymise
from sources.qlvb import QlvbReader
from sources.qlvb.schema import TABLES as QLVB_COLUMNS
from sources.simulator.generate import DemoSources
from sources.simulator.manifest import Manifest
from sources.simulator.portal_data import iter_payloads
from sources.simulator.qlvb import create_qlvb_engine, define_tables
from warehouse.connection import open_writer
from warehouse.landing import Lander
from warehouse.schema import QUALITY_TABLES, RAW_TABLES

SEED = 2158
SCALE = 0.005
# Four months: long enough for every planted anomaly of the portal (>= 75 days) and for the
# six telecom faults to sit in files of their own.
START, END = date(2025, 1, 1), date(2025, 4, 30)
CLIENT_ID, CLIENT_SECRET = "cds", "cds-secret"
PII_KEY = "ingest-tests-pii-key"
VN = timezone(timedelta(hours=7))
PG_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"

SPECS: dict[str, RecordSpec] = {
    "dvc_procedures": PROCEDURE_SPEC,
    "dvc_dossiers": DOSSIER_SPEC,
    "dvc_ratings": RATING_SPEC,
}
STORE_TABLE = {"dvc_procedures": "procedures", "dvc_dossiers": "dossiers", "dvc_ratings": "ratings"}
# Planted anomalies that break a row rule of the contracts (an enum, a type, a village not in
# thon_ban.csv, a negative count): always quarantined. The other planted records (unknown
# codes, dates in the wrong order) are plausible rows that the quality gate may land (for the
# table checks) or quarantine (row rules at landing): either, but never lost nor both.
REJECTED_KINDS = {
    "dvc": {"enum", "wrong_type"},
    "qlvb": {"enum"},
    "telecom": {"unknown_village", "negative_count"},
}
ROW_KINDS = {"unknown_code", "date_order"}
# Load metadata and run bookkeeping: differ between runs by design.
VOLATILE = frozenset({"_load_id", "_loaded_at", "registered_at", "run_id", "first_seen"})


# -- sources and settings ---------------------------------------------------------------------
@dataclass(frozen=True)
class Generated:
    """The sources generated once for the folder (never modified by a test)."""

    demo: DemoSources
    manifest: Manifest

    def planted(self, dataset: str, kinds: set[str] | None = None) -> set[str]:
        """Record keys of the anomalies planted in `dataset` (of `kinds` when given)."""
        return {
            str(a.record_key)
            for a in self.manifest.anomalies
            if a.dataset == dataset and (kinds is None or a.kind in kinds)
        }

    def rejected(self, dataset: str) -> set[str]:
        """Keys of the planted records that must be quarantined."""
        return must_reject(self.manifest, dataset)

    def questionable(self, dataset: str) -> set[str]:
        """Keys of the planted records that may be landed or quarantined."""
        return self.planted(dataset, ROW_KINDS)


def must_reject(manifest: Manifest, dataset: str) -> set[str]:
    kinds = REJECTED_KINDS[dataset.split("_", 1)[0]]
    return {
        str(a.record_key) for a in manifest.anomalies if a.dataset == dataset and a.kind in kinds
    }


def questionable(manifest: Manifest, dataset: str) -> set[str]:
    return {
        str(a.record_key)
        for a in manifest.anomalies
        if a.dataset == dataset and a.kind in ROW_KINDS
    }


def settings_for(
    demo: DemoSources,
    *,
    portal_url: str | None = None,
    qlvb_url: str | None = None,
    telecom_dir: Path | None = None,
) -> Settings:
    return Settings(
        warehouse=":unused:",  # the tests hand a Lander to the ingest functions
        dvc_base_url=portal_url or "http://127.0.0.1:9",
        dvc_client_id=CLIENT_ID,
        dvc_client_secret=CLIENT_SECRET,
        qlvb_url=qlvb_url or demo.qlvb_url,
        telecom_dir=str(telecom_dir or demo.telecom_dir),
        reference_dir=str(demo.reference_dir),
        pii_key=PII_KEY,
    )


def copy_sqlite(source: Path, target: Path) -> Path:
    """A consistent copy of a SQLite database (WAL included), through the backup API."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    return target


# -- warehouse --------------------------------------------------------------------------------
@contextlib.contextmanager
def warehouse(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    conn = open_writer(str(path))
    try:
        yield conn
    finally:
        conn.close()


def raw_rows(conn: Any, dataset: str, where: str = "") -> list[dict[str, Any]]:
    """The rows of a raw table as dicts, without load metadata."""
    table = RAW_TABLES[dataset]
    cols = [c for c in table.column_names if c not in VOLATILE]
    quoted = ", ".join(f'"{c}"' for c in cols)
    result = conn.execute(f"SELECT {quoted} FROM {table.qualified} {where}").fetchall()
    return [dict(zip(cols, r, strict=True)) for r in result]


def quarantined(conn: Any, dataset: str) -> list[tuple[str | None, str, str]]:
    """(record_key, reason, payload) of the quarantine entries of a dataset."""
    return conn.execute(
        "SELECT record_key, reason, payload FROM quality.quarantine WHERE dataset = ? ORDER BY ALL",
        [dataset],
    ).fetchall()


def run_log(conn: Any, source: str) -> list[dict[str, Any]]:
    cursor = conn.execute(
        "SELECT * FROM ops.run_log WHERE source = ? ORDER BY started_at", [source]
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def snapshot(conn: Any) -> dict[str, list[tuple]]:
    """Everything the ingestion owns, without what differs between runs by design.

    Raw tables (the feed registry included), the quarantine and the watermarks. Rows are
    kept as sorted lists, so a row landed twice shows.
    """
    tables = [*RAW_TABLES.values(), QUALITY_TABLES["quarantine"]]
    out: dict[str, list[tuple]] = {}
    for table in tables:
        cols = ", ".join(f'"{c}"' for c in table.column_names if c not in VOLATILE)
        out[table.qualified] = conn.execute(
            f"SELECT {cols} FROM {table.qualified} ORDER BY ALL"
        ).fetchall()
    out["ops.watermarks"] = conn.execute(
        "SELECT source, watermark FROM ops.watermarks ORDER BY ALL"
    ).fetchall()
    return out


def counts(snap: dict[str, list[tuple]]) -> dict[str, int]:
    return {name: len(rows) for name, rows in snap.items()}


def ingest_all(
    settings: Settings, lander: Lander, *, page_size: int = 1000, reload: bool = False
) -> None:
    """Every source, in the order of the nightly job (reference before the feeds)."""
    ingest_reference(settings, lander)
    ingest_telecom(settings, lander, reread=reload)
    for dataset in PORTAL_DATASETS:
        ingest_portal(settings, lander, dataset, PortalOptions(page_size, full_reload=reload))
    for dataset in QLVB_DATASETS:
        ingest_qlvb(settings, lander, dataset, full_reload=reload)


def small_chunk_reader(
    chunk_size: int,
    after_chunk: Callable[[str, int], None] | None = None,
    **defaults: Any,
) -> type[QlvbReader]:
    """`QlvbReader` with small chunks (several per table) and no backoff waits.

    `after_chunk(table, n)` runs when the consumer asks for the chunk after the n-th: between
    two queries of the read, whatever the landing does with the chunks.
    """

    class SmallChunks(QlvbReader):
        def __init__(self, url: str, **kwargs: Any) -> None:
            kwargs.setdefault("chunk_size", chunk_size)
            kwargs.setdefault("backoff_base", 0.0)
            for name, value in defaults.items():
                kwargs.setdefault(name, value)
            super().__init__(url, **kwargs)

        def read(self, table: str, watermark: str | None, **kwargs: Any) -> Iterator[Batch]:
            batches = super().read(table, watermark, **kwargs)
            if after_chunk is None:
                return batches
            return self._hooked(table, batches)

        def _hooked(self, table: str, batches: Iterator[Batch]) -> Iterator[Batch]:
            for n, batch in enumerate(batches, start=1):
                yield batch
                after_chunk(table, n)  # type: ignore[misc]

    return SmallChunks


def use_reader(monkeypatch: Any, reader: type[QlvbReader]) -> None:
    """Make `ingest_qlvb` build `reader` (it imports `sources.qlvb.QlvbReader` per call)."""
    monkeypatch.setattr(sources.qlvb, "QlvbReader", reader)


class Exchanges(list):
    """(method, path, status or the exception's name) of every request a client made."""


def use_portal_client(
    monkeypatch: Any,
    *,
    pause: float = 0.0,
    on_page: Callable[[int], None] | None = None,
    **overrides: Any,
) -> Exchanges:
    """Make `ingest_portal` build a client with `overrides` that records its exchanges.

    `ingest_portal` builds its own `PortalClient` with production timeouts and backoff; the
    tests shorten them (a hanging response must time out in a fraction of a second). `pause`
    is how long the consumer takes with each page (tokens age between pages), and
    `on_page(n)` runs after the n-th page was received — both on the source side, so they
    do not depend on how the landing groups pages into transactions.
    """
    exchanges = Exchanges()
    pages = [0]

    class Recording(requests.Session):
        def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            path = requests.utils.urlparse(url).path
            listing = method == "GET" and path.rsplit("/", 1)[-1] in STORE_TABLE.values()
            try:
                response = super().request(method, url, *args, **kwargs)
            except requests.RequestException as exc:
                exchanges.append((method, path, type(exc).__name__))
                raise
            exchanges.append((method, path, response.status_code))
            if listing and response.status_code == 200 and on_page is not None:
                pages[0] += 1
                on_page(pages[0])
            return response

    class Client(PortalClient):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.update(overrides)
            kwargs.setdefault("session", Recording())
            super().__init__(*args, **kwargs)

        def _listing(self, *args: Any, **kwargs: Any) -> Iterator[Batch]:
            for batch in super()._listing(*args, **kwargs):
                yield batch
                time.sleep(pause)  # the consumer takes its time before the next page

    monkeypatch.setattr(sources.dvc_portal, "PortalClient", Client)
    return exchanges


# -- what the portal serves -----------------------------------------------------------------
def local(text: str | None) -> datetime | None:
    """An ISO timestamp of the wire as naive Vietnam local time."""
    if text is None:
        return None
    moment = datetime.fromisoformat(text)
    return moment.astimezone(VN).replace(tzinfo=None) if moment.tzinfo else moment


def portal_row(dataset: str, item: dict[str, Any]) -> dict[str, Any]:
    """The raw row a valid portal item must land as (`_extra` not compared)."""
    spec = SPECS[dataset]
    row: dict[str, Any] = {}
    for f in spec.fields:
        value = item.get(f.name)
        row[f.name] = local(value) if f.kind == "ts" else value
    if dataset == "dvc_dossiers":
        ident = (item.get("nguoi_nop") or {}).get("so_dinh_danh")
        row["applicant_key"] = pseudonymise(PII_KEY.encode(), ident) if ident else None
    return row


def store_items(store: Path, dataset: str) -> list[dict[str, Any]]:
    return list(iter_payloads(store, STORE_TABLE[dataset]))


def expected_portal(store: Path, dataset: str, rejected: set[str]) -> dict[str, dict[str, Any]]:
    """Each valid record of the store at its latest version, as a row (first of two twins)."""
    key = SPECS[dataset].key
    latest: dict[str, dict[str, Any]] = {}
    for item in store_items(store, dataset):
        k = item[key]
        if k in rejected:
            continue
        row = portal_row(dataset, item)
        if k not in latest or row["updated_at"] > latest[k]["updated_at"]:
            latest[k] = row
    return latest


def landed_latest(conn: Any, dataset: str) -> dict[str, dict[str, Any]]:
    """The latest landed version of each key, without `_extra`."""
    key = SPECS[dataset].key
    out: dict[str, dict[str, Any]] = {}
    for row in raw_rows(conn, dataset):
        row.pop("_extra")
        if row[key] not in out or row["updated_at"] > out[row[key]]["updated_at"]:
            out[row[key]] = row
    return out


def versions(conn: Any, dataset: str) -> list[tuple[Any, Any]]:
    key, version = RAW_TABLES[dataset].key
    return conn.execute(f'SELECT "{key}", "{version}" FROM raw.{dataset}').fetchall()


def committed_pages(conn: Any, store: Path, dataset: str, page: int, most: int) -> int:
    """How many whole pages from the start of the listing are landed (a prefix of the store
    in serving order, with the watermark of its last page); fails if it is anything else."""
    key = SPECS[dataset].key
    landed = {r[key] for r in raw_rows(conn, dataset)}
    held = {k for k, _, _ in quarantined(conn, dataset)}
    served = store_items(store, dataset)
    watermark = Lander(conn, "check").watermark(dataset)
    for m in range(most + 1):
        prefix = served[: m * page]
        if {i[key] for i in prefix} - held == landed:
            newest = max((local(i["updated_at"]) for i in prefix), default=None)
            assert watermark == (newest.isoformat() if newest else None)
            return m
    raise AssertionError(f"{dataset}: the landed rows are not a prefix of whole pages")


# -- what the document database holds -------------------------------------------------------
def qlvb_contents(url: str, table: str) -> dict[int, dict[str, Any]]:
    """The rows of a QLVB table (contract columns, typed by the simulator's schema)."""
    t = define_tables(sa.MetaData())[table]
    names = [c.name for c in QLVB_COLUMNS[table]]
    engine = create_qlvb_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.select(*(t.c[n] for n in names))).mappings().all()
    finally:
        engine.dispose()
    return {r["id"]: {n: r[n] for n in names} for r in rows}


def qlvb_latest(conn: Any, dataset: str) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for row in raw_rows(conn, dataset):
        if row["id"] not in out or row["ngay_cap_nhat"] > out[row["id"]]["ngay_cap_nhat"]:
            out[row["id"]] = row
    return out


def assert_qlvb_landed(conn: Any, url: str, manifest: Manifest) -> None:
    """Every row of the database landed at its current version, each version once, or (a
    planted one) quarantined: the rows breaking a row rule always, nothing else lost."""
    for table in QLVB_COLUMNS:
        dataset = f"qlvb_{table}"
        held = {k for k, _, _ in quarantined(conn, dataset)}
        must, may = must_reject(manifest, dataset), questionable(manifest, dataset)
        assert must <= held <= must | may, f"{dataset}: quarantine differs from the plants"
        source = qlvb_contents(url, table)
        expected = {i: row for i, row in source.items() if str(i) not in held}
        assert qlvb_latest(conn, dataset) == expected, f"{dataset}: raw differs from the database"
        pairs = versions(conn, dataset)
        assert len(pairs) == len(set(pairs)), f"{dataset}: a version landed twice"
