"""The QLVB reader on the simulator's database: SQLite (a temporary file) and PostgreSQL."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from sources.qlvb import QlvbError, QlvbReader
from sources.qlvb.reader import make_engine, parse_watermark
from sources.qlvb.schema import TABLES
from sources.simulator.manifest import Manifest
from sources.simulator.qlvb import define_tables, keep_updating, write_qlvb

SEED = 2158  # the seed of the conftest world

START, END = date(2024, 1, 1), date(2024, 2, 29)


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@contextlib.contextmanager
def empty_database(kind: str, folder: Path, make_pg_schema) -> Iterator[str]:
    """The URL of an empty database of one kind (a PostgreSQL schema of its own)."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'qlvb.sqlite'}"
    else:
        with make_pg_schema() as (url, _schema):
            yield url


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path, make_pg_schema) -> Iterator[str]:
    with empty_database(request.param, tmp_path, make_pg_schema) as url:
        yield url


@pytest.fixture(scope="module", params=BACKENDS)
def qlvb(
    request: pytest.FixtureRequest, world, tmp_path_factory: pytest.TempPathFactory, make_pg_schema
) -> Iterator[tuple[str, Manifest]]:
    """A generated database shared by the tests that only read it."""
    folder = tmp_path_factory.mktemp("qlvb")
    with empty_database(request.param, folder, make_pg_schema) as url:
        manifest = Manifest()
        write_qlvb(world, url, seed=SEED, scale=0.002, start=START, end=END, manifest=manifest)
        yield url, manifest


@pytest.fixture
def fresh_qlvb(backend: str, world) -> tuple[str, Manifest]:
    """A generated database of the test's own, free to change."""
    manifest = Manifest()
    write_qlvb(world, backend, seed=SEED, scale=0.002, start=START, end=END, manifest=manifest)
    return backend, manifest


def contents(url: str, table: str) -> dict[int, dict[str, Any]]:
    """The table as the database holds it (typed by the simulator's own schema)."""
    t = define_tables(sa.MetaData())[table]
    names = [c.name for c in TABLES[table]]
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.select(*(t.c[n] for n in names))).mappings().all()
    finally:
        engine.dispose()
    return {r["id"]: {n: r[n] for n in names} for r in rows}


def read_all(reader: QlvbReader, table: str, watermark: str | None = None) -> list:
    return list(reader.read(table, watermark))


def key_of(row: dict) -> tuple[datetime, int]:
    return row["ngay_cap_nhat"], row["id"]


@pytest.fixture
def statements() -> list[str]:
    """Every SQL statement any engine sends during the test."""
    seen: list[str] = []

    def record(conn, cursor, statement, *args) -> None:  # noqa: ANN001
        seen.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)


def test_full_read_equals_the_database(qlvb, statements: list[str]) -> None:
    url, manifest = qlvb
    reader = QlvbReader(url, chunk_size=100)
    for table in TABLES:
        expected = contents(url, table)
        batches = read_all(reader, table)
        rows = [r for b in batches for r in b.rows]
        rejected = [r for b in batches for r in b.rejected]
        dataset = f"qlvb_{table}"
        assert {b.dataset for b in batches} == {dataset}
        planted_enum = {
            a.record_key for a in manifest.anomalies if a.dataset == dataset and a.kind == "enum"
        }
        assert {r.record_key for r in rejected} == planted_enum
        assert all(r.reason.startswith("enum: ") for r in rejected)
        assert len(rows) == len({r["id"] for r in rows})  # each row once
        assert {r["id"]: r for r in rows} == {
            i: v for i, v in expected.items() if str(i) not in planted_enum
        }
        assert all(list(r) == [c.name for c in TABLES[table]] for r in rows)
        # Ordered by key, one batch per chunk, each watermark the chunk's last key.
        keys = [key_of(r) for r in rows]
        assert keys == sorted(keys)
        assert [len(b.rows) + len(b.rejected) for b in batches][:-1] == [100] * (len(batches) - 1)
        marks = [parse_watermark(b.watermark) for b in batches]
        assert marks == sorted(marks) and marks[-1] == max(key_of(v) for v in expected.values())
        for r in rejected:
            assert "trich_yeu" not in r.payload
    assert len(statements) > 4 and not any("trich_yeu" in s for s in statements)
    assert not any(
        s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")) for s in statements
    )


def test_incremental_read_returns_only_newer_rows(qlvb) -> None:
    url, _ = qlvb
    reader = QlvbReader(url, chunk_size=50)
    batches = read_all(reader, "van_ban")
    middle = batches[len(batches) // 2].watermark
    after = parse_watermark(middle)
    later = [r for b in read_all(reader, "van_ban", middle) for r in (*b.rows, *b.rejected)]
    expected = {i for i, v in contents(url, "van_ban").items() if key_of(v) > after}
    got = {r["id"] if isinstance(r, dict) else int(r.record_key) for r in later}
    assert got == expected and 0 < len(got) < len(contents(url, "van_ban"))
    # Reading from the last watermark gives nothing: nothing changed.
    assert read_all(reader, "van_ban", batches[-1].watermark) == []


def test_rows_sharing_a_timestamp_are_split_across_runs_without_loss(backend: str) -> None:
    metadata = sa.MetaData()
    don_vi = define_tables(metadata)["don_vi"]
    engine = make_engine(backend)
    engine = sa.create_engine(engine.url)  # a writable engine for the setup
    same = datetime(2024, 5, 1, 8, 0, 0)
    with engine.begin() as conn:
        metadata.drop_all(conn)
        metadata.create_all(conn, tables=[don_vi])
        conn.execute(
            don_vi.insert(),
            [
                {
                    "id": i,
                    "ma_don_vi": f"U{i}",
                    "ten_don_vi": "x",
                    "cap": "XA",
                    "da_xoa": False,
                    "ngay_cap_nhat": same if i <= 5 else same + timedelta(microseconds=i),
                }
                for i in range(1, 9)
            ],
        )
    engine.dispose()
    reader = QlvbReader(backend, chunk_size=3)
    first = next(iter(reader.read("don_vi", None)))
    assert [r["id"] for r in first.rows] == [1, 2, 3]
    assert json.loads(first.watermark) == {"ngay_cap_nhat": "2024-05-01T08:00:00", "id": 3}
    rest = [r["id"] for b in reader.read("don_vi", first.watermark) for r in b.rows]
    assert rest == [4, 5, 6, 7, 8]


def kill(url: str, conn: sa.Connection) -> None:
    """End a reader's connection behind its back, as a network cut or the DBA would."""
    if conn.dialect.name == "postgresql":
        # The real thing: the server ends the session, asked from another connection.
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        conn.rollback()
        admin = sa.create_engine(sa.make_url(url).set(query={}))
        with admin.begin() as other:
            other.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        admin.dispose()
    else:
        conn.connection.dbapi_connection.close()  # the database handle is gone


class Recording(QlvbReader):
    """A reader that remembers its connections (and can kill each new one at birth)."""

    def __init__(self, *args: Any, doomed: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connections: list[sa.Connection] = []
        self.doomed = doomed

    def connect(self, engine: sa.Engine) -> sa.Connection:
        conn = engine.connect()
        self.connections.append(conn)
        if self.doomed and len(self.connections) > 1:
            kill(self.url, conn)
        return conn


def test_dropped_connection_mid_read_resumes_from_the_last_key(qlvb) -> None:
    url, _ = qlvb
    waits: list[float] = []
    reader = Recording(url, chunk_size=100, sleep=waits.append)
    rows = []
    for n, batch in enumerate(reader.read("van_ban", None), start=1):
        rows.extend(batch.rows)
        if n == 2:
            kill(url, reader.connections[-1])  # while the consumer lands chunk 2
    expected = contents(url, "van_ban")
    assert len(reader.connections) == 2 and len(waits) == 1
    assert len(rows) == len({r["id"] for r in rows})
    assert {r["id"] for r in rows} == {
        i for i, v in expected.items() if v["chieu"] in ("DI", "DEN")
    }


def test_connection_that_keeps_dropping_gives_up_naming_table_and_key(qlvb) -> None:
    url, _ = qlvb
    waits: list[float] = []
    reader = Recording(url, chunk_size=100, max_reconnects=3, sleep=waits.append, doomed=True)
    batches = reader.read("van_ban", None)
    first = next(batches)
    kill(url, reader.connections[-1])
    with pytest.raises(QlvbError, match=r"qlvb van_ban: connection lost 4 times") as err:
        next(batches)
    assert len(waits) == 3 and waits == sorted(waits)
    last = parse_watermark(first.watermark)
    assert str(last[1]) in str(err.value) and "ngay_cap_nhat" in str(err.value)


def test_rows_updated_during_the_read_are_not_lost(fresh_qlvb) -> None:
    url, _ = fresh_qlvb
    stop = threading.Event()
    failures: list[BaseException] = []

    def live() -> None:
        try:
            keep_updating(url, seed=7, stop=stop, interval_s=0.005)
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            failures.append(exc)

    updater = threading.Thread(target=live)
    updater.start()
    seen: dict[int, dict] = {}
    watermark = None
    try:
        time.sleep(0.05)
        for batch in QlvbReader(url, chunk_size=10).read("ho_so_cong_viec", None):
            for row in batch.rows:
                if row["id"] not in seen or key_of(row) > key_of(seen[row["id"]]):
                    seen[row["id"]] = row
            watermark = batch.watermark or watermark
            time.sleep(0.01)  # the updater moves rows meanwhile
    finally:
        stop.set()
        updater.join()
    assert not failures, f"the simulator's keep_updating failed: {failures[0]!r}"
    # The next run picks up what changed after the last committed watermark.
    for batch in QlvbReader(url, chunk_size=10).read("ho_so_cong_viec", watermark):
        for row in batch.rows:
            seen[row["id"]] = row
    final = contents(url, "ho_so_cong_viec")
    assert seen == final  # every row, at its latest version
    assert any(v["ngay_cap_nhat"].date() > END for v in final.values())  # it did update
    assert any(v["da_xoa"] for v in final.values())  # and deleted some: carried as rows


def test_deleted_rows_are_carried_with_da_xoa(fresh_qlvb) -> None:
    url, _ = fresh_qlvb
    reader = QlvbReader(url)
    (batch,) = read_all(reader, "cuoc_hop")
    t = define_tables(sa.MetaData())["cuoc_hop"]
    victim = next(r["id"] for r in batch.rows if not r["da_xoa"])
    engine = sa.create_engine(make_engine(url).url)
    with engine.begin() as conn:
        conn.execute(
            t.update()
            .where(t.c.id == victim)
            .values(da_xoa=True, ngay_cap_nhat=datetime(2030, 1, 1))
        )
    engine.dispose()
    (later,) = read_all(reader, "cuoc_hop", batch.watermark)
    assert [(r["id"], r["da_xoa"]) for r in later.rows] == [(victim, True)]


def test_reader_connections_are_read_only(qlvb) -> None:
    url, _ = qlvb
    engine = make_engine(url)
    try:
        with (
            engine.connect() as conn,
            pytest.raises(sa.exc.DBAPIError, match="(?i)read.only|readonly"),
        ):
            conn.execute(sa.text("UPDATE don_vi SET ten_don_vi = 'x'"))
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_schema_argument_and_bare_url_on_postgres(pg_schema_url, world) -> None:
    url, schema = pg_schema_url
    end = date(2024, 1, 15)
    write_qlvb(world, url, seed=SEED, scale=0.002, start=START, end=end, manifest=Manifest())
    # A bare `postgresql://` URL (SQLAlchemy 2.1 would want psycopg 3) and no search_path.
    bare = "postgresql://postgres@127.0.0.1:5432/test"
    rows = [r for b in QlvbReader(bare, schema=schema).read("don_vi", None) for r in b.rows]
    assert len(rows) == len(world.agencies)


def test_invalid_rows_on_a_loosely_typed_sqlite_table(tmp_path: Path) -> None:
    """SQLite stores whatever it is given: each kind of bad value rejects its row only."""
    url = f"sqlite:///{tmp_path / 'loose.sqlite'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE ho_so_cong_viec (id BIGINT, ma_don_vi TEXT, ngay_mo DATE, ngay_dong DATE,"
            " xu_ly_tren_mang BOOLEAN, bi_mat BOOLEAN, da_xoa BOOLEAN, ngay_cap_nhat DATETIME)"
        )
        conn.exec_driver_sql(
            "INSERT INTO ho_so_cong_viec VALUES "
            "(1, 'A', '2024-01-02', NULL, 1, 0, 0, '2024-01-02 08:00:00.000000'),"
            "(2, 'A', '02/01/2024', NULL, 1, 0, 0, '2024-01-02 09:00:00.000000'),"
            "(3, 'A', '2024-01-02', NULL, 'yes', 0, 0, '2024-01-02 10:00:00.000000'),"
            "(4, 'A', '2024-01-02', NULL, 1, 0, 1, NULL),"
            "(NULL, 'A', '2024-01-02', NULL, 1, 0, 0, '2024-01-02 11:00:00.000000'),"
            "(6, 'A', '2024-01-02', '2024-01-05', 0, 0, 1, '2024-01-02 12:00:00.000000')"
        )
    engine.dispose()
    batches = list(QlvbReader(url).read("ho_so_cong_viec", None))
    rows = [r for b in batches for r in b.rows]
    reasons = {r.record_key: r.reason for b in batches for r in b.rejected}
    assert [(r["id"], r["da_xoa"], r["ngay_dong"]) for r in rows] == [
        (1, False, None),
        (6, True, date(2024, 1, 5)),
    ]
    assert reasons == {
        "2": "unparseable_date: ngay_mo='02/01/2024'",
        "3": "wrong_type: xu_ly_tren_mang='yes' is not a boolean",
        "4": "missing_key: ngay_cap_nhat=None",
        None: "missing_key: id=None",
    }
    assert batches[0].watermark == json.dumps({"ngay_cap_nhat": "2024-01-02T12:00:00", "id": 6})
    assert batches[-1].watermark is None  # the sweep of keyless rows moves no watermark
    # An incremental read does not sweep again.
    assert list(QlvbReader(url).read("ho_so_cong_viec", batches[0].watermark)) == []


def test_missing_table_or_column_is_a_clear_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'other.sqlite'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE don_vi (id INTEGER, ma_don_vi TEXT, ngay_cap_nhat TEXT)")
    engine.dispose()
    with pytest.raises(
        QlvbError, match=r"don_vi: column\(s\) missing.*'ten_don_vi', 'cap', 'da_xoa'"
    ):
        list(QlvbReader(url).read("don_vi", None))
    with pytest.raises(QlvbError, match="table 'van_ban' not found"):
        list(QlvbReader(url).read("van_ban", None))


def test_lookback_re_reads_a_margin_before_the_watermark(qlvb) -> None:
    url, _ = qlvb
    batches = read_all(QlvbReader(url, chunk_size=40), "van_ban")
    mark = batches[len(batches) // 2].watermark
    ts, _ = parse_watermark(mark)
    plain = {r["id"] for b in QlvbReader(url).read("van_ban", mark) for r in b.rows}
    wide = {
        r["id"] for b in QlvbReader(url, lookback_s=86_400).read("van_ban", mark) for r in b.rows
    }
    margin = {
        i
        for i, v in contents(url, "van_ban").items()
        if ts - timedelta(days=1) <= v["ngay_cap_nhat"] and v["chieu"] in ("DI", "DEN")
    }
    assert plain < wide and wide == margin
