"""Document system → warehouse through `ingest_qlvb`, on SQLite and on PostgreSQL.

Bad input of the ingestion issue: a connection dropped mid-read (the SQLite connection closed
under the reader; on PostgreSQL the backend terminated from another session), rows updated
while the pipeline reads (the simulator's live mode), deleted rows (`da_xoa`). Afterwards
every row of the database is landed at its current version, each version once, and the
planted invalid rows are in quarantine.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from ingest_support import (
    END,
    SCALE,
    SEED,
    START,
    assert_qlvb_landed,
    copy_sqlite,
    must_reject,
    qlvb_contents,
    questionable,
    raw_rows,
    run_log,
    settings_for,
    small_chunk_reader,
    use_reader,
    versions,
)

from orchestration.ingest import QLVB_DATASETS, ingest_qlvb
from sources.simulator.manifest import Manifest
from sources.simulator.qlvb import (
    create_qlvb_engine,
    define_tables,
    keep_updating,
    vn_now,
    write_qlvb,
)
from sources.simulator.world import build_world
from warehouse.landing import Lander

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


class Database:
    """A document database of the test's own: its URL, its planted rejections, and a way to
    drop the reader's connection from outside."""

    def __init__(self, url: str, manifest: Manifest, app: str | None) -> None:
        self.url = url
        self.manifest = manifest
        self.app = app  # PostgreSQL application_name of the reader's sessions
        self.opened: list[Any] = []  # the reader's connections, newest last

    def drop_reader_connection(self) -> None:
        if self.app is None:
            # SQLite: close the DBAPI connection under the reader's feet.
            self.opened[-1].connection.dbapi_connection.close()
            return
        admin = sa.create_engine(self.url.split("?")[0])
        try:
            with admin.begin() as conn:
                killed = conn.execute(
                    sa.text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE application_name = :app AND pid <> pg_backend_pid()"
                    ),
                    {"app": self.app},
                ).scalar()
        finally:
            admin.dispose()
        assert killed, "no reader session to terminate"


@pytest.fixture(params=BACKENDS)
def db(request, generated, tmp_path: Path, make_pg_schema) -> Iterator[Database]:
    if request.param == "sqlite":
        path = copy_sqlite(
            Path(generated.demo.qlvb_url.removeprefix("sqlite:///")), tmp_path / "q.db"
        )
        yield Database(f"sqlite:///{path}", generated.manifest, None)
        return
    app = f"cds_ingest_{uuid.uuid4().hex[:8]}"
    with make_pg_schema(app) as (url, _schema):
        manifest = Manifest()
        write_qlvb(
            build_world(SEED), url, seed=SEED, scale=SCALE, start=START, end=END, manifest=manifest
        )
        yield Database(url, manifest, app)


def tracking_reader(db: Database, chunk_size: int, after_chunk: Any = None) -> type:
    """A reader with small chunks that remembers its connections in `db.opened`."""

    class Tracking(small_chunk_reader(chunk_size, after_chunk)):
        def connect(self, engine: sa.Engine) -> sa.Connection:
            conn = super().connect(engine)
            db.opened.append(conn)
            return conn

    return Tracking


def ingest_tables(settings: Any, lander: Lander) -> None:
    for dataset in QLVB_DATASETS:
        ingest_qlvb(settings, lander, dataset)


def test_clean_ingest_equals_the_database(generated, wh, db: Database) -> None:
    settings = settings_for(generated.demo, qlvb_url=db.url)
    ingest_tables(settings, Lander(wh, "run-clean"))
    assert_qlvb_landed(wh, db.url, db.manifest)
    for dataset in QLVB_DATASETS:
        (log,) = run_log(wh, dataset)
        assert log["status"] == "succeeded"
        assert log["rows_landed"] == len(raw_rows(wh, dataset)) > 0


def test_dropped_connection_mid_read_resumes_from_the_last_key(
    generated, wh, db: Database, monkeypatch, caplog
) -> None:
    dropped: list[int] = []

    def drop(table: str, n: int) -> None:  # between the 2nd and the 3rd query of documents
        if table == "van_ban" and n == 2:
            db.drop_reader_connection()
            dropped.append(n)

    use_reader(monkeypatch, tracking_reader(db, chunk_size=300, after_chunk=drop))
    settings = settings_for(generated.demo, qlvb_url=db.url)
    with caplog.at_level(logging.WARNING, logger="sources.qlvb.reader"):
        ingest_tables(settings, Lander(wh, "run-drop"))
    assert dropped, "the connection was dropped mid-read"
    assert "connection lost" in caplog.text
    assert_qlvb_landed(wh, db.url, db.manifest)
    assert all(log["status"] == "succeeded" for ds in QLVB_DATASETS for log in run_log(wh, ds))


@contextlib.contextmanager
def live_system(url: str) -> Iterator[list[int]]:
    """The simulator's live mode in a thread; yields [updates made] once stopped."""
    stop = threading.Event()
    made: list[int] = []
    thread = threading.Thread(
        target=lambda: made.append(
            keep_updating(url, seed=SEED, stop=stop, interval_s=0.01, batch=10)
        ),
        daemon=True,
    )
    thread.start()
    try:
        yield made
    finally:
        stop.set()
        thread.join(timeout=30)


def test_rows_updated_during_the_read_are_landed_at_their_latest_version(
    generated, wh, db: Database, monkeypatch
) -> None:
    # A slow read: the live system changes rows between the chunks.
    use_reader(monkeypatch, small_chunk_reader(200, lambda table, n: time.sleep(0.05)))
    settings = settings_for(generated.demo, qlvb_url=db.url)
    started = vn_now()
    with live_system(db.url) as made:
        ingest_tables(settings, Lander(wh, "run-live"))
        # Rows changed after the read began were read by it (they sort after the old keys).
        during = len(raw_rows(wh, "qlvb_van_ban", f"WHERE ngay_cap_nhat >= '{started}'"))
    assert made and made[0] > 0 and during > 0
    ingest_tables(settings, Lander(wh, "run-next"))  # the next night catches up
    assert_qlvb_landed(wh, db.url, db.manifest)
    pairs = versions(wh, "qlvb_van_ban")
    assert len({i for i, _ in pairs}) < len(pairs), "rows changed during the read came again"


def test_deleted_rows_are_carried_with_da_xoa(generated, wh, db: Database) -> None:
    settings = settings_for(generated.demo, qlvb_url=db.url)
    ingest_tables(settings, Lander(wh, "run-1"))
    bad = {int(k) for k in must_reject(db.manifest, "qlvb_van_ban")}
    bad |= {int(k) for k in questionable(db.manifest, "qlvb_van_ban")}
    before = qlvb_contents(db.url, "van_ban")
    doomed = [i for i, r in sorted(before.items()) if not r["da_xoa"] and i not in bad][10:15]
    tables = define_tables(sa.MetaData())
    engine = create_qlvb_engine(db.url)
    try:
        with engine.begin() as conn:
            t = tables["van_ban"]
            conn.execute(
                t.update().where(t.c.id.in_(doomed)).values(da_xoa=True, ngay_cap_nhat=vn_now())
            )
    finally:
        engine.dispose()
    ingest_tables(settings, Lander(wh, "run-2"))
    assert_qlvb_landed(wh, db.url, db.manifest)
    for row_id in doomed:
        history = sorted(
            (r["ngay_cap_nhat"], r["da_xoa"])
            for r in raw_rows(wh, "qlvb_van_ban", f"WHERE id = {row_id}")
        )
        assert [deleted for _, deleted in history] == [False, True]
    # Rows deleted before the first read are landed too, marked, not dropped.
    deleted_at_start = {i for i, r in before.items() if r["da_xoa"]}
    assert deleted_at_start
    landed = {r["id"]: r["da_xoa"] for r in raw_rows(wh, "qlvb_van_ban", "WHERE da_xoa")}
    assert deleted_at_start | set(doomed) == set(landed)
