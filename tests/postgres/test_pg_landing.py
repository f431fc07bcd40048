"""Landing is atomic per batch, idempotent by key and version, and loses nothing after a
crash: every case runs on both backends, a DuckDB file and a PostgreSQL database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest
from pg_support import query

from sources.batch import Batch, Rejected
from warehouse.connection import dbt_environment, open_writer
from warehouse.landing import Lander
from warehouse.schema import RAW_TABLES

T0 = datetime(2025, 3, 1, 8, 0)


def _rating(i: int, version: int = 0) -> dict:
    return {
        "ma_danh_gia": f"DG{i:05d}",
        "ma_ho_so": f"HS{i:05d}",
        "muc_do": "HAI_LONG" if i % 3 else "RAT_HAI_LONG",
        "ngay_danh_gia": T0 + timedelta(days=i),
        "updated_at": T0 + timedelta(minutes=i, seconds=version, microseconds=7 * i),
        "_extra": None if i % 2 else '{"ghi_chu": "a, \\"b\\"\\nc"}',
    }


class FakeSource:
    """A connector over a fixed, ordered record list, read in pages from a watermark."""

    def __init__(self, records: list[dict], page: int = 7, crash_after: int | None = None):
        self.records = sorted(records, key=lambda r: (r["updated_at"], r["ma_danh_gia"]))
        self.page = page
        self.crash_after = crash_after

    def read(self, since: str | None) -> Iterator[Batch]:
        start = datetime.fromisoformat(since) if since else datetime.min
        todo = [r for r in self.records if r["updated_at"] >= start]
        for n, i in enumerate(range(0, len(todo), self.page)):
            if self.crash_after is not None and n == self.crash_after:
                raise ConnectionError("connection reset by peer")
            page = todo[i : i + self.page]
            yield Batch("dvc_ratings", list(page), [], page[-1]["updated_at"].isoformat())


def _content(conn) -> list[tuple]:  # noqa: ANN001 - either backend's connection
    return conn.execute(
        "SELECT ma_danh_gia, ma_ho_so, muc_do, ngay_danh_gia, updated_at, _extra "
        "FROM raw.dvc_ratings ORDER BY 1, 5"
    ).fetchall()


@pytest.fixture
def lander(warehouse_target: str) -> Iterator[Lander]:
    conn = open_writer(warehouse_target)
    yield Lander(conn, "run-1")
    conn.close()


def test_rerun_adds_nothing_and_values_round_trip(lander: Lander) -> None:
    records = [_rating(i) for i in range(50)]
    source = FakeSource(records)
    first = lander.land(source.read(lander.watermark("dvc_ratings")), dataset="dvc_ratings")
    again = lander.land(source.read(lander.watermark("dvc_ratings")), dataset="dvc_ratings")
    full = lander.land(source.read(None), dataset="dvc_ratings")
    assert (first.rows_landed, again.rows_landed, full.rows_landed) == (50, 0, 0)
    expected = sorted(
        (r["ma_danh_gia"], r["ma_ho_so"], r["muc_do"], r["ngay_danh_gia"], r["updated_at"],
         r["_extra"])
        for r in records
    )  # fmt: skip
    assert _content(lander.conn) == expected
    assert lander.watermark("dvc_ratings") == max(r["updated_at"] for r in records).isoformat()


@pytest.mark.parametrize("crash_after", [0, 1, 3, 7])
def test_crash_then_rerun_equals_uninterrupted(warehouse_target: str, crash_after: int) -> None:
    records = [_rating(i) for i in range(50)] + [_rating(3, version=9), _rating(40, version=9)]
    conn = open_writer(warehouse_target)
    try:
        lander = Lander(conn, "crashing")
        with pytest.raises(ConnectionError):
            lander.land(
                FakeSource(records, crash_after=crash_after).read(None), dataset="dvc_ratings"
            )
        landed_before = len(_content(conn))
        assert landed_before == min(crash_after * 7, 52)  # whole batches only
        Lander(conn, "rerun").land(
            FakeSource(records).read(lander.watermark("dvc_ratings")), dataset="dvc_ratings"
        )
        content = _content(conn)
    finally:
        conn.close()
    assert len(content) == 52  # every version of every record, once
    assert len({(r[0], r[4]) for r in content}) == 52
    assert content == sorted(
        (r["ma_danh_gia"], r["ma_ho_so"], r["muc_do"], r["ngay_danh_gia"], r["updated_at"],
         r["_extra"])
        for r in records
    )  # fmt: skip


def test_failure_inside_a_batch_rolls_back_rows_and_watermark(lander: Lander) -> None:
    table_batch = Batch("dvc_ratings", [_rating(1)], [Rejected("x", "enum: muc_do", {})], "W1")
    with pytest.raises(Exception, match="no_such_table"):
        lander.land_batch(
            RAW_TABLES["dvc_ratings"],
            table_batch,
            extra_sql=[("INSERT INTO no_such_table VALUES (?)", [1])],
        )
    assert _content(lander.conn) == []
    assert lander.watermark("dvc_ratings") is None
    assert lander.conn.execute("SELECT count(*) FROM quality.quarantine").fetchone() == (0,)
    # The connection is usable after the rollback.
    assert lander.land([Batch("dvc_ratings", [_rating(1)], [], "W2")], dataset="dvc_ratings")


def test_rejected_and_duplicates_go_to_quarantine_once(lander: Lander) -> None:
    clash = {**_rating(2), "muc_do": "BINH_THUONG"}  # same key and version, other content
    batch = Batch(
        "dvc_ratings",
        [_rating(1), _rating(2), clash, _rating(1)],
        [Rejected("DG9", "enum: muc_do='TUYET_VOI' 100% not in the contract?", {"x": "é"})],
        None,
    )
    stats = lander.land([batch], dataset="dvc_ratings")
    lander.land([batch], dataset="dvc_ratings")
    assert stats.rows_landed == 2
    assert stats.reasons == {"enum": 1, "duplicate": 1}
    rows = lander.conn.execute(
        "SELECT dataset, record_key, split_part(reason, ':', 1), payload FROM quality.quarantine "
        "ORDER BY 2"
    ).fetchall()
    assert [r[:3] for r in rows] == [
        ("dvc_ratings", "DG00002|2025-03-01 08:02:00.000014", "duplicate"),
        ("dvc_ratings", "DG9", "enum"),
    ]
    assert rows[1][3] == '{"x": "é"}'


def test_batch_of_another_dataset_is_refused(lander: Lander) -> None:
    with pytest.raises(ValueError, match="dvc_dossiers"):
        lander.land([Batch("dvc_dossiers", [], [], None)], dataset="dvc_ratings")


def test_reference_rows_with_every_type(lander: Lander) -> None:
    """DATE, DOUBLE, INTEGER and null key parts land and deduplicate on both backends."""
    rows = [
        {"ma_dvhc_cu": "A", "ma_dvhc_moi": "B", "ngay_hieu_luc": date(2025, 7, 1),
         "ty_le_dan_so": 0.1 + 0.2, "file_sha256": "f1"},
        {"ma_dvhc_cu": "A", "ma_dvhc_moi": None, "ngay_hieu_luc": None,
         "ty_le_dan_so": None, "file_sha256": "f1"},
        {"ma_dvhc_cu": "", "ma_dvhc_moi": "C", "ngay_hieu_luc": date(2025, 7, 1),
         "ty_le_dan_so": 1e-12, "file_sha256": "f1"},
    ]  # fmt: skip
    batch = Batch("ref_sap_xep_dvhc", rows, [], None)
    first = lander.land([batch], dataset="ref_sap_xep_dvhc")
    again = lander.land([batch], dataset="ref_sap_xep_dvhc")
    assert (first.rows_landed, again.rows_landed) == (3, 0)
    landed = lander.conn.execute(
        "SELECT ma_dvhc_cu, ma_dvhc_moi, ngay_hieu_luc, ty_le_dan_so FROM raw.ref_sap_xep_dvhc "
        "ORDER BY 1, 2 NULLS FIRST"
    ).fetchall()
    assert landed == [
        ("", "C", date(2025, 7, 1), 1e-12),
        ("A", None, None, None),
        ("A", "B", date(2025, 7, 1), 0.1 + 0.2),
    ]


@pytest.mark.postgres
def test_postgres_types_and_key_indexes(pg_url: str) -> None:
    open_writer(pg_url).close()
    open_writer(pg_url).close()  # idempotent
    types = dict(
        query(
            pg_url,
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'raw' AND table_name = 'ref_sap_xep_dvhc'",
        )
    )
    assert types["ty_le_dan_so"] == "double precision"
    assert types["ngay_hieu_luc"] == "date"
    assert types["_loaded_at"] == "timestamp without time zone"
    indexes = {
        name
        for (name,) in query(pg_url, "SELECT indexname FROM pg_indexes WHERE schemaname = 'raw'")
    }
    assert {"dvc_dossiers_key", "qlvb_van_ban_key", "telecom_coverage_key"} <= indexes


@pytest.mark.postgres
def test_dbt_planner_options_stay_with_dbt(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """dbt's step leaves its PGOPTIONS in the process: the writer's own plans are unaffected,
    and applying the dbt environment again does not repeat them."""
    env = dbt_environment(pg_url)
    assert env["PGOPTIONS"].count("enable_nestloop=off") == 1
    monkeypatch.setenv("PGOPTIONS", env["PGOPTIONS"])
    assert dbt_environment(pg_url)["PGOPTIONS"] == env["PGOPTIONS"]
    conn = open_writer(pg_url)
    try:
        assert conn.execute("SHOW enable_nestloop").fetchall() == [("on",)]
    finally:
        conn.close()
