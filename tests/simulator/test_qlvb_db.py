"""The simulated document-management database, checked on real SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    create_engine,
    inspect,
    or_,
    select,
)

from sources.simulator.manifest import Manifest
from sources.simulator.qlvb import (
    create_qlvb_engine,
    keep_updating,
    table_digest,
    vn_now,
    write_qlvb,
)
from sources.simulator.world import build_world

SEED = 2158
START, END = date(2025, 1, 1), date(2025, 6, 30)  # three levels, Tết, a department merger
SCALE = 0.02
PG_URL = "postgresql://postgres@127.0.0.1:5432/test"

# The contract (qlvb-database.md), written out here so that the test checks the code.
CONTRACT = {
    "don_vi": {
        "id": Integer,
        "ma_don_vi": String,
        "ten_don_vi": String,
        "cap": String,
        "da_xoa": Boolean,
        "ngay_cap_nhat": DateTime,
    },
    "van_ban": {
        "id": BigInteger,
        "so_ky_hieu": String,
        "ma_don_vi": String,
        "chieu": String,
        "hinh_thuc": String,
        "ky_so": Boolean,
        "do_mat": String,
        "ngay_van_ban": Date,
        "trich_yeu": Text,
        "da_xoa": Boolean,
        "ngay_cap_nhat": DateTime,
    },
    "ho_so_cong_viec": {
        "id": BigInteger,
        "ma_don_vi": String,
        "ngay_mo": Date,
        "ngay_dong": Date,
        "xu_ly_tren_mang": Boolean,
        "bi_mat": Boolean,
        "da_xoa": Boolean,
        "ngay_cap_nhat": DateTime,
    },
    "cuoc_hop": {
        "id": BigInteger,
        "ma_don_vi_chu_tri": String,
        "ba_cap": Boolean,
        "hinh_thuc": String,
        "ngay_hop": Date,
        "da_xoa": Boolean,
        "ngay_cap_nhat": DateTime,
    },
}


def _is_type(reflected: object, expected: type) -> bool:
    # The generic types nest (BigInteger is an Integer, Text a String): compare exactly.
    if expected is Integer:
        return isinstance(reflected, Integer) and not isinstance(reflected, BigInteger)
    if expected is String:
        return isinstance(reflected, String) and not isinstance(reflected, Text)
    return isinstance(reflected, expected)


def _generate(url: str, seed: int = SEED, *, small: bool = False) -> tuple[dict, Manifest]:
    manifest = Manifest()
    scale, start = (0.005, date(2025, 5, 1)) if small else (SCALE, START)
    counts = write_qlvb(
        build_world(SEED), url, seed=seed, scale=scale, start=start, end=END, manifest=manifest
    )
    return counts, manifest


def _reflect(engine: Engine, name: str) -> Table:
    # Reflected, not imported from the code under test: the stored types drive the reading.
    return Table(name, MetaData(), autoload_with=engine)


def _rows(url: str, name: str) -> list:
    engine = create_qlvb_engine(url)
    try:
        table = _reflect(engine, name)
        with engine.connect() as conn:
            return conn.execute(select(table).order_by(table.c.id)).all()
    finally:
        engine.dispose()


def _planted(manifest: Manifest, dataset: str, kind: str) -> set[int]:
    return {
        int(a.record_key)
        for a in manifest.anomalies
        if a.source == "qlvb" and a.dataset == dataset and a.kind == kind
    }


def _check_database(url: str, counts: dict[str, int], manifest: Manifest) -> None:
    engine = create_qlvb_engine(url)
    try:
        inspector = inspect(engine)
        assert set(CONTRACT) <= set(inspector.get_table_names())
        for table, columns in CONTRACT.items():
            reflected = {c["name"]: c["type"] for c in inspector.get_columns(table)}
            assert list(reflected) == list(columns), table
            for name, expected in columns.items():
                assert _is_type(reflected[name], expected), (table, name, reflected[name])
            indexed = [ix["column_names"] for ix in inspector.get_indexes(table)]
            assert ["ngay_cap_nhat", "id"] in indexed, table
    finally:
        engine.dispose()

    units = _rows(url, "don_vi")
    documents = _rows(url, "van_ban")
    files = _rows(url, "ho_so_cong_viec")
    meetings = _rows(url, "cuoc_hop")
    for name, rows in (
        ("don_vi", units),
        ("van_ban", documents),
        ("ho_so_cong_viec", files),
        ("cuoc_hop", meetings),
    ):
        assert counts[name] == len(rows)
        assert [r.id for r in rows] == list(range(1, len(rows) + 1)), name

    world = build_world(SEED)
    assert {u.ma_don_vi for u in units} == {a.code for a in world.agencies}
    assert {u.cap for u in units} == {"TINH", "HUYEN", "XA"}
    codes = {u.ma_don_vi for u in units}
    group_of = {a.code: a.group for a in world.agencies}

    # Volumes at scale 0.02 over half a year: ~15,000 documents, ~1,500 files, dozens of meetings.
    assert 10_000 < len(documents) < 20_000
    assert 0.07 < len(files) / len(documents) < 0.13
    assert len(meetings) >= 36

    # Enums and codes are valid except for the planted anomalies, which the manifest lists.
    assert {r.id for r in documents if r.ma_don_vi not in codes} == _planted(
        manifest, "qlvb_van_ban", "unknown_code"
    )
    assert {r.id for r in documents if r.chieu not in ("DI", "DEN")} == _planted(
        manifest, "qlvb_van_ban", "enum"
    )
    assert {r.id for r in files if r.ngay_dong is not None and r.ngay_dong < r.ngay_mo} == (
        _planted(manifest, "qlvb_ho_so_cong_viec", "date_order")
    )
    meeting_forms = ("TRUC_TUYEN", "TRUC_TIEP", "KET_HOP")
    assert {r.id for r in meetings if r.hinh_thuc not in meeting_forms} == (
        _planted(manifest, "qlvb_cuoc_hop", "enum")
    )
    for dataset, kind in (
        ("qlvb_van_ban", "unknown_code"),
        ("qlvb_van_ban", "enum"),
        ("qlvb_ho_so_cong_viec", "date_order"),
        ("qlvb_cuoc_hop", "enum"),
    ):
        assert 1 <= len(_planted(manifest, dataset, kind)) <= 3, (dataset, kind)
    assert {r.hinh_thuc for r in documents} == {"DIEN_TU", "GIAY"}
    assert {r.do_mat for r in documents} == {"THUONG", "MAT", "TOI_MAT", "TUYET_MAT"}
    assert {r.ma_don_vi for r in files} <= codes
    assert {r.ma_don_vi_chu_tri for r in meetings} <= codes

    # Timestamps: naive, inside the range, never before the row's own date.
    for rows, day_of in (
        (documents, lambda r: r.ngay_van_ban),
        (files, lambda r: r.ngay_mo),
        (meetings, lambda r: r.ngay_hop),
    ):
        for r in rows:
            assert isinstance(r.ngay_cap_nhat, datetime) and r.ngay_cap_nhat.tzinfo is None
            assert START <= day_of(r) <= END
            assert r.ngay_cap_nhat.date() >= day_of(r)
            assert r.ngay_cap_nhat <= datetime(END.year, END.month, END.day, 23, 59, 59)

    # Shares, roughly as specified.
    issued = [r for r in documents if r.so_ky_hieu is not None]
    ordinary = [r for r in issued if r.do_mat == "THUONG"]
    electronic = sum(r.hinh_thuc == "DIEN_TU" for r in ordinary) / len(ordinary)
    assert 0.93 < electronic < 0.995
    secret = sum(r.do_mat != "THUONG" for r in documents) / len(documents)
    assert 0.005 < secret < 0.016
    secret_paper = [r.hinh_thuc == "GIAY" for r in documents if r.do_mat != "THUONG"]
    assert sum(secret_paper) / len(secret_paper) > 0.7
    outgoing = sum(r.chieu == "DI" for r in documents) / len(documents)
    assert 0.36 < outgoing < 0.44
    drafts = sum(r.so_ky_hieu is None for r in documents) / len(documents)
    assert 0.01 < drafts < 0.03
    assert all(r.chieu in ("DI", "XX") for r in documents if r.so_ky_hieu is None)
    signed = [r.ky_so for r in issued if r.chieu == "DI" and r.hinh_thuc == "DIEN_TU"]
    assert 0.85 < sum(signed) / len(signed) < 0.99
    assert sum(r.ky_so for r in documents if r.hinh_thuc == "GIAY") == 0
    assert any(("ông " in r.trich_yeu or "bà " in r.trich_yeu) for r in documents)
    assert any("/QĐ-" in (r.so_ky_hieu or "") for r in documents)

    by_level: dict[str, list[bool]] = {"SO_NGANH": [], "UBND_HUYEN": [], "UBND_XA": []}
    for r in files:
        if not r.bi_mat:
            by_level[group_of[r.ma_don_vi]].append(r.xu_ly_tren_mang)
    online = {g: sum(v) / len(v) for g, v in by_level.items()}
    assert online["SO_NGANH"] > online["UBND_HUYEN"] > online["UBND_XA"], online
    assert 0.8 < online["SO_NGANH"] < 0.98 and 0.45 < online["UBND_XA"] < 0.75, online
    assert sum(r.bi_mat for r in files) / len(files) < 0.03
    assert any(r.ngay_dong is None for r in files)
    assert any(r.ngay_dong is not None for r in files)

    three_level = [r for r in meetings if r.ba_cap]
    assert 0 < len(three_level) < len(meetings) / 3
    assert {r.hinh_thuc for r in meetings} >= {"TRUC_TUYEN", "TRUC_TIEP"}
    assert {group_of[r.ma_don_vi_chu_tri] for r in three_level} == {"SO_NGANH"}

    # Soft deletes: present, rare, stamped after creation.
    deleted = [r for r in documents if r.da_xoa]
    assert 0 < len(deleted) < 0.01 * len(documents)
    assert all(r.ngay_cap_nhat.date() >= r.ngay_van_ban for r in deleted)
    assert any(r.da_xoa for r in files)
    planted_ids = _planted(manifest, "qlvb_van_ban", "unknown_code") | _planted(
        manifest, "qlvb_van_ban", "enum"
    )
    assert not any(r.da_xoa for r in documents if r.id in planted_ids)


def test_sqlite_database_follows_the_contract(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'qlvb.sqlite'}"
    counts, manifest = _generate(url)
    _check_database(url, counts, manifest)
    # Left in WAL mode so that a reader never waits for the live writer.
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()


def test_write_replaces_existing_tables_and_reports_progress(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'qlvb.sqlite'}"
    _generate(url, small=True)
    calls: list[tuple[str, int, int | None]] = []
    manifest = Manifest()
    counts = write_qlvb(
        build_world(SEED),
        url,
        seed=SEED,
        scale=0.005,
        start=date(2025, 3, 1),
        end=date(2025, 3, 31),
        manifest=manifest,
        plant_anomalies=False,
        progress=lambda label, done, total: calls.append((label, done, total)),
    )
    assert manifest.anomalies == []
    assert len(_rows(url, "van_ban")) == counts["van_ban"]
    documents = [c for c in calls if c[0] == "qlvb van_ban"]
    assert documents and documents[-1][1] == documents[-1][2] == counts["van_ban"]


@pytest.fixture
def pg_url_in_schema(make_pg_schema) -> Iterator[str]:
    with make_pg_schema() as (url, _schema):
        yield url


@pytest.mark.postgres
def test_postgresql_database_follows_the_contract(pg_url_in_schema: str) -> None:
    counts, manifest = _generate(pg_url_in_schema)
    _check_database(pg_url_in_schema, counts, manifest)
    # The tables went into the throwaway schema, not into public.
    engine = create_qlvb_engine(PG_URL)
    try:
        assert "van_ban" not in inspect(engine).get_table_names(schema="public")
    finally:
        engine.dispose()


def test_same_seed_same_contents_other_seed_differs(tmp_path: Path) -> None:
    urls = [f"sqlite:///{tmp_path / f'qlvb{i}.sqlite'}" for i in range(3)]
    _, first = _generate(urls[0], small=True)
    _, second = _generate(urls[1], small=True)
    _, other = _generate(urls[2], seed=SEED + 1, small=True)
    assert table_digest(urls[0]) == table_digest(urls[1])
    assert first.anomalies == second.anomalies
    digest, other_digest = table_digest(urls[0]), table_digest(urls[2])
    assert digest["don_vi"] == other_digest["don_vi"]  # the same world's units
    for table in ("van_ban", "ho_so_cong_viec", "cuoc_hop"):
        assert digest[table] != other_digest[table], table


def test_keep_updating_while_a_reader_pages(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'qlvb.sqlite'}"
    _, manifest = _generate(url, small=True)
    initial = _rows(url, "van_ban")
    before = max(r.ngay_cap_nhat for r in initial)
    deleted_before = sum(r.da_xoa for r in initial)
    started = vn_now() - timedelta(seconds=1)
    stop = threading.Event()
    result: dict[str, int] = {}
    writer = threading.Thread(
        target=lambda: result.update(n=keep_updating(url, seed=SEED, stop=stop, interval_s=0.02))
    )
    writer.start()
    reader = create_qlvb_engine(url)
    table = _reflect(reader, "van_ban")
    ts, row_id = table.c.ngay_cap_nhat, table.c.id
    pages, slowest = 0, 0.0
    try:
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            # Page through the documents by (ngay_cap_nhat, id), as the connector does.
            last = (datetime(2000, 1, 1), 0)
            while time.monotonic() < deadline:
                t0 = time.monotonic()
                with reader.connect() as conn:
                    page = conn.execute(
                        select(row_id, ts)
                        .where(or_(ts > last[0], and_(ts == last[0], row_id > last[1])))
                        .order_by(ts, row_id)
                        .limit(500)
                    ).all()
                slowest = max(slowest, time.monotonic() - t0)
                pages += 1
                if not page:
                    break
                last = (page[-1].ngay_cap_nhat, page[-1].id)
                assert isinstance(last[0], datetime)
    finally:
        stop.set()
        writer.join(timeout=10)
        reader.dispose()
    assert not writer.is_alive()
    assert result["n"] > 0
    assert pages > 10
    assert slowest < 0.5, f"a page waited {slowest:.2f}s for the writer"
    documents = _rows(url, "van_ban")
    latest = max(r.ngay_cap_nhat for r in documents)
    assert latest > before and latest >= started
    assert sum(r.ngay_cap_nhat >= started for r in documents) > 0
    assert sum(r.da_xoa for r in documents) > deleted_before  # some rows were soft-deleted
    # The live mode only changes valid values: the planted anomalies survive it.
    unknown = _planted(manifest, "qlvb_van_ban", "unknown_code")
    codes = {u.ma_don_vi for u in _rows(url, "don_vi")}
    assert {r.id for r in documents if r.ma_don_vi not in codes} == unknown
    meetings = _rows(url, "cuoc_hop")
    zoom = _planted(manifest, "qlvb_cuoc_hop", "enum")
    assert {r.id for r in meetings if r.hinh_thuc == "ZOOM"} == zoom
    assert not any(r.da_xoa for r in documents if r.id in unknown)
    assert not any(r.da_xoa for r in meetings if r.id in zoom)
    files = _rows(url, "ho_so_cong_viec")
    assert {r.id for r in files if r.ngay_dong is not None and r.ngay_dong < r.ngay_mo} == (
        _planted(manifest, "qlvb_ho_so_cong_viec", "date_order")
    )
