"""Landing is atomic per batch, idempotent by key and version, and loses nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from sources.batch import Batch, Rejected
from warehouse.connection import open_writer
from warehouse.landing import Lander
from warehouse.schema import RAW_TABLES

T0 = datetime(2025, 3, 1, 8, 0)


def _rating(i: int, version: int = 0) -> dict:
    return {
        "ma_danh_gia": f"DG{i:05d}",
        "ma_ho_so": f"HS{i:05d}",
        "muc_do": "HAI_LONG",
        "ngay_danh_gia": T0,
        "updated_at": T0 + timedelta(minutes=i, seconds=version),
        "_extra": None,
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


def _content(conn) -> list[tuple]:
    return conn.execute(
        "SELECT ma_danh_gia, updated_at, muc_do FROM raw.dvc_ratings ORDER BY 1, 2"
    ).fetchall()


@pytest.fixture
def lander(tmp_path):
    conn = open_writer(str(tmp_path / "w.duckdb"))
    yield Lander(conn, "run-1")
    conn.close()


def test_rerun_adds_nothing(lander):
    source = FakeSource([_rating(i) for i in range(50)])
    first = lander.land(source.read(lander.watermark("dvc_ratings")), dataset="dvc_ratings")
    again = lander.land(source.read(lander.watermark("dvc_ratings")), dataset="dvc_ratings")
    full = lander.land(source.read(None), dataset="dvc_ratings")
    assert (first.rows_landed, again.rows_landed, full.rows_landed) == (50, 0, 0)
    assert len(_content(lander.conn)) == 50


@pytest.mark.parametrize("crash_after", [0, 1, 3, 7])
def test_crash_then_rerun_equals_uninterrupted(tmp_path, crash_after):
    records = [_rating(i) for i in range(50)] + [_rating(3, version=9), _rating(40, version=9)]
    reference = open_writer(str(tmp_path / "ref.duckdb"))
    Lander(reference, "r").land(FakeSource(records).read(None), dataset="dvc_ratings")

    conn = open_writer(str(tmp_path / "crash.duckdb"))
    lander = Lander(conn, "crashing")
    with pytest.raises(ConnectionError):
        lander.land(FakeSource(records, crash_after=crash_after).read(None), dataset="dvc_ratings")
    Lander(conn, "rerun").land(
        FakeSource(records).read(lander.watermark("dvc_ratings")), dataset="dvc_ratings"
    )
    assert _content(conn) == _content(reference)
    assert len(_content(conn)) == 52  # every version of every record, once


def test_failure_inside_a_batch_rolls_back_rows_and_watermark(lander):
    table_batch = Batch("dvc_ratings", [_rating(1)], [Rejected("x", "enum: muc_do", {})], "W1")
    with pytest.raises(Exception, match="no_such_table"):
        lander.land_batch(
            RAW_TABLES["dvc_ratings"],
            table_batch,
            extra_sql=[("INSERT INTO no_such_table VALUES (1)", [])],
        )
    assert _content(lander.conn) == []
    assert lander.watermark("dvc_ratings") is None
    assert lander.conn.execute("SELECT count(*) FROM quality.quarantine").fetchone() == (0,)


def test_rejected_and_duplicates_go_to_quarantine_once(lander):
    clash = {**_rating(2), "muc_do": "BINH_THUONG"}  # same key and version, other content
    batch = Batch(
        "dvc_ratings",
        [_rating(1), _rating(2), clash, _rating(1)],
        [Rejected("DG9", "enum: muc_do='TUYET_VOI' not in the contract", {"ma_danh_gia": "DG9"})],
        None,
    )
    stats = lander.land([batch], dataset="dvc_ratings")
    lander.land([batch], dataset="dvc_ratings")
    assert stats.rows_landed == 2
    assert stats.reasons == {"enum": 1, "duplicate": 1}
    rows = lander.conn.execute(
        "SELECT dataset, record_key, split_part(reason, ':', 1) FROM quality.quarantine ORDER BY 2"
    ).fetchall()
    assert rows == [
        ("dvc_ratings", "DG00002|2025-03-01 08:02:00", "duplicate"),
        ("dvc_ratings", "DG9", "enum"),
    ]


def test_batch_of_another_dataset_is_refused(lander):
    with pytest.raises(ValueError, match="dvc_dossiers"):
        lander.land([Batch("dvc_dossiers", [], [], None)], dataset="dvc_ratings")
