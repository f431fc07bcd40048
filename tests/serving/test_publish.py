"""The read-only snapshot: atomic pointer, pruning, WAL folding, failed publish."""

from __future__ import annotations

import stat
from pathlib import Path

import duckdb
import pytest

from warehouse.connection import WarehouseError
from warehouse.publish import (
    POINTER,
    NoSnapshotError,
    current_snapshot,
    publish_snapshot,
    published_dir,
)


def _count(path: Path, sql: str) -> int:
    conn = duckdb.connect(str(path), read_only=True)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


def _make_warehouse(path: Path, rows: int = 3) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = duckdb.connect(str(path))
    conn.execute("CREATE SCHEMA IF NOT EXISTS marts")
    conn.execute("CREATE OR REPLACE TABLE marts.t AS SELECT range AS i FROM range(?)", [rows])
    conn.close()


def test_no_snapshot_yet_names_the_commands_to_run(tmp_path: Path) -> None:
    with pytest.raises(NoSnapshotError, match="cds demo` or `cds run"):
        current_snapshot(tmp_path / "cds.duckdb")


def test_publish_points_at_a_complete_read_only_copy(tmp_path: Path) -> None:
    warehouse = tmp_path / "cds.duckdb"
    _make_warehouse(warehouse, rows=5)
    snapshot = publish_snapshot(warehouse)

    assert snapshot.parent == published_dir(warehouse) == tmp_path / "published"
    assert snapshot.name.startswith("cds-") and snapshot.suffix == ".duckdb"
    assert current_snapshot(warehouse) == snapshot
    assert (snapshot.parent / POINTER).read_text().strip() == snapshot.name
    assert not snapshot.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert _count(snapshot, "SELECT count(*) FROM marts.t") == 5
    # Only the snapshot and the pointer: no temporary file or WAL is left behind.
    assert sorted(p.name for p in snapshot.parent.iterdir()) == sorted([snapshot.name, POINTER])


def test_republishing_swaps_the_pointer_and_keeps_two(tmp_path: Path) -> None:
    warehouse = tmp_path / "cds.duckdb"
    published = []
    for rows in (1, 2, 3, 4):
        _make_warehouse(warehouse, rows=rows)
        published.append(publish_snapshot(warehouse))

    assert current_snapshot(warehouse) == published[-1]
    assert _count(current_snapshot(warehouse), "SELECT count(*) FROM marts.t") == 4
    left = sorted(p.name for p in published_dir(warehouse).glob("cds-*.duckdb"))
    assert left == sorted(p.name for p in published[-2:])


def test_a_reader_keeps_its_snapshot_while_newer_ones_are_published(tmp_path: Path) -> None:
    warehouse = tmp_path / "cds.duckdb"
    _make_warehouse(warehouse, rows=7)
    reader = duckdb.connect(str(publish_snapshot(warehouse)), read_only=True)
    try:
        for rows in (8, 9, 10):  # the reader's file is pruned from the folder meanwhile
            _make_warehouse(warehouse, rows=rows)
            publish_snapshot(warehouse)
        assert reader.execute("SELECT count(*) FROM marts.t").fetchone()[0] == 7
    finally:
        reader.close()


def test_uncheckpointed_writes_are_folded_into_the_snapshot(tmp_path: Path) -> None:
    warehouse = tmp_path / "cds.duckdb"
    _make_warehouse(warehouse, rows=2)
    writer = duckdb.connect(str(warehouse))
    try:
        # Keep the new rows in the write-ahead log only, as a writer that has not closed yet.
        writer.execute("SET checkpoint_threshold = '1GB'")
        writer.execute("INSERT INTO marts.t SELECT range + 100 FROM range(3)")
        assert Path(f"{warehouse}.wal").exists()
        from_wal = publish_snapshot(warehouse)
        writer.execute("INSERT INTO marts.t VALUES (1000)")
        checkpointed = publish_snapshot(warehouse, conn=writer)
    finally:
        writer.close()
    assert _count(from_wal, "SELECT count(*) FROM marts.t") == 5
    assert _count(checkpointed, "SELECT count(*) FROM marts.t") == 6


def test_a_failed_publish_leaves_the_previous_snapshot_current(tmp_path: Path) -> None:
    warehouse = tmp_path / "cds.duckdb"
    _make_warehouse(warehouse, rows=3)
    first = publish_snapshot(warehouse)
    warehouse.write_bytes(b"not a duckdb file, e.g. a run that crashed mid-write")
    Path(f"{warehouse}.wal").unlink(missing_ok=True)

    with pytest.raises(WarehouseError, match="cannot publish"):
        publish_snapshot(warehouse)
    assert current_snapshot(warehouse) == first
    assert sorted(p.name for p in published_dir(warehouse).iterdir()) == sorted(
        [first.name, POINTER]
    )
    with pytest.raises(WarehouseError, match="does not exist"):
        publish_snapshot(tmp_path / "missing.duckdb")
