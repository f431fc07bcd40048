"""Re-running and crashing: every source together, compared with one uninterrupted run.

Running every ingest twice adds nothing (rows, quarantine, registry, watermarks). A crash —
the connector failing after a few batches, or the process killed inside a batch's
transaction — followed by a re-run gives exactly the raw content of an uninterrupted run.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ingest_support import (
    VOLATILE,
    committed_pages,
    counts,
    ingest_all,
    raw_rows,
    run_log,
    settings_for,
    small_chunk_reader,
    snapshot,
    use_reader,
    warehouse,
)

from orchestration.ingest import PORTAL_DATASETS, QLVB_DATASETS
from orchestration.settings import Settings
from sources.dvc_portal import PortalClient
from sources.qlvb import QlvbReader
from sources.simulator.portal_server import PortalServer
from warehouse.landing import Lander
from warehouse.schema import RAW_TABLES

HERE = Path(__file__).resolve().parent
# A few feed files are enough here (every kind of outcome: loaded, rejected rows, failed,
# not a feed); the feeds have a module of their own.
FEEDS = (
    "ghi_chu.txt",
    "mbf_2025-03.jsonl",
    "vnp_2025-04.xlsx",
    "vtl_2025-01.csv",
    "vtl_2025-02.csv",
)


class CrashError(ConnectionResetError):
    """The connector dies between two batches."""


@pytest.fixture(scope="module")
def env(generated, tmp_path_factory) -> Iterator[tuple[Settings, Path]]:
    """Settings of every source (the portal served for the whole module) and a scratch dir."""
    root = tmp_path_factory.mktemp("rerun")
    feeds = root / "telecom"
    feeds.mkdir()
    for name in FEEDS:
        shutil.copy2(generated.demo.telecom_dir / name, feeds / name)
    with PortalServer(generated.demo.portal_store) as server:
        yield settings_for(generated.demo, portal_url=server.base_url, telecom_dir=feeds), root


@pytest.fixture(scope="module")
def uninterrupted(env) -> dict[str, list[tuple]]:
    """What one clean run of every ingest leaves in a fresh warehouse (kept as
    `uninterrupted.duckdb` in the module's folder)."""
    settings, root = env
    with warehouse(root / "uninterrupted.duckdb") as conn:
        ingest_all(settings, Lander(conn, "clean"))
        return snapshot(conn)


def test_the_uninterrupted_run_landed_every_source(uninterrupted) -> None:
    sizes = counts(uninterrupted)
    for dataset in (*PORTAL_DATASETS, *QLVB_DATASETS, "telecom_coverage", "ref_thon_ban"):
        assert sizes[f"raw.{dataset}"] > 0, dataset
    assert sizes["raw.telecom_files"] == len(FEEDS)
    assert sizes["quality.quarantine"] > 0
    assert {source for source, _ in uninterrupted["ops.watermarks"]} >= {
        *PORTAL_DATASETS[1:],
        *QLVB_DATASETS,
    }


def test_every_ingest_run_twice_adds_nothing(env, uninterrupted, tmp_path: Path) -> None:
    settings, root = env
    path = shutil.copy(root / "uninterrupted.duckdb", tmp_path / "w.duckdb")
    with warehouse(Path(path)) as conn:
        ingest_all(settings, Lander(conn, "second"))
        assert snapshot(conn) == uninterrupted
        second = conn.execute(
            "SELECT source, rows_landed, status FROM ops.run_log WHERE run_id = 'second'"
        ).fetchall()
        assert len(second) == 4 + 1 + 3 + 4  # every dataset was read again
        assert all(landed == 0 and status == "succeeded" for _, landed, status in second)
        # A full re-load of every source (the re-load job) lands nothing new either; the
        # feed registry records a new registration of each file version it read again,
        # which `stg_telecom__files` reduces to the latest.
        ingest_all(settings, Lander(conn, "reload"), reload=True)
        after = snapshot(conn)
        registry = "raw.telecom_files"
        assert {k: v for k, v in after.items() if k != registry} == {
            k: v for k, v in uninterrupted.items() if k != registry
        }
        assert set(after[registry]) == set(uninterrupted[registry])
        assert len(after[registry]) == 2 * len(uninterrupted[registry])


def registered(conn: Any) -> list[str]:
    rows = conn.execute("SELECT file_name FROM raw.telecom_files ORDER BY 1").fetchall()
    return [name for (name,) in rows]


def rows_per_file(where: Any) -> dict[str, int]:
    """Feed rows landed per file, in a warehouse or in a snapshot of one."""
    if isinstance(where, dict):
        columns = [c for c in RAW_TABLES["telecom_coverage"].column_names if c not in VOLATILE]
        names = [row[columns.index("file_name")] for row in where["raw.telecom_coverage"]]
        return dict(Counter(names))
    query = "SELECT file_name, count(*) FROM raw.telecom_coverage GROUP BY 1"
    return dict(where.execute(query).fetchall())


def landed_or_held(conn: Any, dataset: str) -> int:
    held = conn.execute(
        "SELECT count(*) FROM quality.quarantine WHERE dataset = ?", [dataset]
    ).fetchall()[0][0]
    return len(raw_rows(conn, dataset)) + held


def _raising_after(batches: Any, k: int) -> Iterator[Any]:
    for n, batch in enumerate(batches):
        if n == k:
            raise CrashError(f"connection reset after {k} batches")
        yield batch


def _crash_feeds(monkeypatch: Any) -> None:
    """The drop folder goes away while the 3rd feed file is read."""
    import sources.telecom

    read_feed = sources.telecom.read_feed
    read: list[str] = []

    def crashing_read(feed: Any) -> Any:
        read.append(feed.name)
        if len(read) == 3:
            raise CrashError(f"lost the drop folder while reading {feed.name}")
        return read_feed(feed)

    monkeypatch.setattr(sources.telecom, "read_feed", crashing_read)


def _crash_dossiers(monkeypatch: Any) -> None:
    """The portal connection resets after two pages of dossiers."""
    read_dossiers = PortalClient.read_dossiers
    monkeypatch.setattr(
        PortalClient,
        "read_dossiers",
        lambda self, *args: _raising_after(read_dossiers(self, *args), 2),
    )


def _crash_documents(monkeypatch: Any) -> None:
    """The database connection resets (for good) after two chunks of documents."""
    read_table = QlvbReader.read

    def crashing(self: QlvbReader, table: str, *args: Any, **kwargs: Any) -> Any:
        batches = read_table(self, table, *args, **kwargs)
        return _raising_after(batches, 2) if table == "van_ban" else batches

    monkeypatch.setattr(QlvbReader, "read", crashing)


def test_connector_crashes_then_rerun_equals_uninterrupted(
    generated, env, uninterrupted, tmp_path: Path
) -> None:
    """Three nights that each die in a connector (feeds, portal, document system), every
    one going further than the last; then a night that completes. What committed before each
    crash is whole batches (none, one or two: the landing may group batches into one
    transaction), and the end result is the uninterrupted run's."""
    settings, _ = env

    def feeds_partial(conn: Any) -> None:  # files land one by one, in name order, each whole
        files = registered(conn)
        assert files in [list(FEEDS[:k]) for k in range(4)]  # read 3rd: FEEDS[3]
        landed = rows_per_file(conn)
        assert set(landed) <= set(files)
        for name, rows in landed.items():
            assert rows == rows_per_file(uninterrupted)[name]

    def dossiers_partial(conn: Any) -> None:
        committed_pages(conn, generated.demo.portal_store, "dvc_dossiers", page=100, most=2)

    def documents_partial(conn: Any) -> None:
        assert landed_or_held(conn, "qlvb_van_ban") in (0, 500, 1000)

    nights = [
        (_crash_feeds, "telecom_coverage", feeds_partial),
        (_crash_dossiers, "dvc_dossiers", dossiers_partial),
        (_crash_documents, "qlvb_van_ban", documents_partial),
    ]
    with warehouse(tmp_path / "w.duckdb") as conn:
        for n, (crash, dataset, check_partial) in enumerate(nights):
            with pytest.MonkeyPatch.context() as monkeypatch:
                use_reader(monkeypatch, small_chunk_reader(500))
                crash(monkeypatch)
                with pytest.raises(CrashError):
                    ingest_all(settings, Lander(conn, f"crashed-{n}"), page_size=100)
            log = run_log(conn, dataset)[-1]
            assert log["status"] == "failed" and "CrashError" in log["error"]
            check_partial(conn)
        ingest_all(settings, Lander(conn, "rerun"))
        assert snapshot(conn) == uninterrupted
        for _, dataset, _ in nights:
            assert run_log(conn, dataset)[-1]["status"] == "succeeded"


def test_killed_mid_batch_then_rerun_equals_uninterrupted(
    generated, env, uninterrupted, tmp_path: Path
) -> None:
    """SIGKILL inside a batch's transaction at two points of the nightly sequence (a feed
    file with its registry entry; dossiers with their watermark), each time in a new process
    that continues where the last one died; then a run that completes."""
    settings, _ = env
    path = tmp_path / "w.duckdb"
    config = {
        "root": str(generated.demo.root),
        "portal_url": settings.dvc_base_url,
        "telecom_dir": settings.telecom_dir,
        "warehouse": str(path),
        "page_size": 200,
        "chunk_size": 500,
    }
    # (dataset, n): killed while landing the n-th batch of the dataset in that process. Each
    # process re-runs the whole sequence, so it gets past the point where the last one died.
    kills = {
        # The 3rd feed file landed (vnp): its rows and its registry entry are lost.
        ("telecom_coverage", 3): lambda conn: registered(conn) == list(FEEDS[:2]),
        # The first page(s) of dossiers: nothing of them, no watermark; the feeds and the
        # procedures are all in.
        ("dvc_dossiers", 1): lambda conn: (
            registered(conn) == sorted(FEEDS)
            and len(raw_rows(conn, "dvc_procedures")) == len(uninterrupted["raw.dvc_procedures"])
            and not raw_rows(conn, "dvc_dossiers")
            and Lander(conn, "check").watermark("dvc_dossiers") is None
        ),
    }
    for n, ((dataset, kill_at), where_it_died) in enumerate(kills.items()):
        argument = json.dumps(
            {**config, "kill_in": dataset, "kill_at": kill_at, "run_id": f"killed-{n}"}
        )
        child = subprocess.run(
            [sys.executable, str(HERE / "crash_child.py"), argument],
            cwd=HERE,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]
        with warehouse(path) as conn:  # opens cleanly: the open transaction is gone
            assert where_it_died(conn), f"killed in {dataset} batch {kill_at}"
    with warehouse(path) as conn:
        ingest_all(settings, Lander(conn, "final"))
        assert snapshot(conn) == uninterrupted
