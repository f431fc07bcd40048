"""The read-only snapshot that analysts and the officials' report read.

DuckDB allows one writer and, while it writes, no reader in another process. So after each
successful run the warehouse file is copied to `published/cds-<timestamp>.duckdb` beside it
and a pointer file, `published/CURRENT`, is swapped to name the new copy with `os.replace`
(atomic on POSIX). A reader resolves the pointer once and opens that complete, immutable
file: it never waits for the writer and never sees a half-built state. A failed run does not
publish, so the previous snapshot stays current.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import time
from datetime import datetime
from pathlib import Path

import duckdb

from warehouse.connection import WarehouseError

PUBLISHED_DIR = "published"
POINTER = "CURRENT"
PREFIX = "cds-"
SUFFIX = ".duckdb"
KEEP = 2


class NoSnapshotError(WarehouseError):
    """Nothing has been published yet (or the pointer names a file that is gone)."""


def published_dir(warehouse_path: Path) -> Path:
    """Where the snapshots of a warehouse file live: `published/` beside it."""
    return Path(warehouse_path).parent / PUBLISHED_DIR


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable: a crash right after publishing keeps the new pointer.
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _new_name(folder: Path) -> str:
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S%f")
    name, n = f"{PREFIX}{stamp}{SUFFIX}", 1
    while (folder / name).exists():  # two publishes within the same microsecond
        name, n = f"{PREFIX}{stamp}-{n}{SUFFIX}", n + 1
    return name


def _copy_consistent(source: Path, target: Path) -> None:
    """Copy the warehouse file and fold any write-ahead log into the copy.

    A writer that closed cleanly leaves no `.wal`; one that crashed or is still open may. The
    copy of the log is replayed into the copy of the file by a checkpoint, so the snapshot is
    one self-contained file that a read-only connection can open.
    """
    shutil.copyfile(source, target)
    wal = source.with_name(source.name + ".wal")
    target_wal = target.with_name(target.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, target_wal)
    conn = duckdb.connect(str(target))
    try:
        conn.execute("CHECKPOINT")
        conn.execute("SELECT count(*) FROM information_schema.tables").fetchone()
    finally:
        conn.close()
    target_wal.unlink(missing_ok=True)
    with open(target, "rb+") as handle:
        os.fsync(handle.fileno())


def publish_snapshot(
    warehouse_path: Path, conn: duckdb.DuckDBPyConnection | None = None, keep: int = KEEP
) -> Path:
    """Publish the warehouse as a read-only snapshot and make it the current one.

    Call it after a successful run, with the writer connection closed — or pass that open
    connection as `conn`: it is checkpointed first, and nothing may write through it while
    the file is copied. Returns the snapshot's path. Keeps the `keep` newest snapshots and
    never deletes the one the pointer names.
    """
    source = Path(warehouse_path)
    if not source.is_file():
        raise WarehouseError(f"cannot publish: the warehouse {source} does not exist")
    if conn is not None:
        conn.execute("CHECKPOINT")
    folder = published_dir(source)
    folder.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(folder)
    name = _new_name(folder)
    building = folder / f".{name}.building"
    try:
        _copy_consistent(source, building)
        # Read-only on disk too, so no other client writes to a published copy by mistake.
        building.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        os.replace(building, folder / name)
        pointer_tmp = folder / f".{POINTER}.{os.getpid()}.tmp"
        with open(pointer_tmp, "w", encoding="utf-8") as handle:
            handle.write(name + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(pointer_tmp, folder / POINTER)
        _fsync_dir(folder)
    except (OSError, duckdb.Error) as exc:
        for leftover in (building, building.with_name(building.name + ".wal")):
            with contextlib.suppress(OSError):
                leftover.unlink(missing_ok=True)
        raise WarehouseError(f"cannot publish the warehouse {source}: {exc}") from exc
    _prune(folder, current=name, keep=keep)
    return folder / name


def _remove_stale_temporaries(folder: Path, age_s: float = 3600.0) -> None:
    """Drop what a publish killed mid-way left behind (hidden files, never read)."""
    cutoff = time.time() - age_s
    for leftover in folder.glob(".*"):
        with contextlib.suppress(OSError):
            if leftover.is_file() and leftover.stat().st_mtime < cutoff:
                leftover.unlink()


def _prune(folder: Path, current: str, keep: int) -> None:
    snapshots = sorted(p.name for p in folder.glob(f"{PREFIX}*{SUFFIX}"))
    keep_names = set(snapshots[-max(keep, 1) :]) | {current}
    for name in snapshots:
        if name not in keep_names:
            # A reader that already opened an old snapshot keeps reading it: on POSIX the
            # file lives on until its last handle closes.
            with contextlib.suppress(OSError):
                (folder / name).unlink()


def current_snapshot(warehouse_path: Path) -> Path:
    """The snapshot readers should open now; `NoSnapshotError` when there is none."""
    folder = published_dir(Path(warehouse_path))
    try:
        name = (folder / POINTER).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise NoSnapshotError(
            f"no published warehouse yet in {folder}: run `cds demo` or `cds run` first"
        ) from None
    path = folder / name
    if not name or "/" in name or not path.is_file():
        raise NoSnapshotError(
            f"the published pointer {folder / POINTER} names a missing snapshot {name!r}: "
            "run `cds demo` or `cds run` again"
        )
    return path
