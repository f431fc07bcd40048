"""One function per source that reads it with its connector and lands it in the warehouse.

Plain functions (no Dagster): the Dagster assets call them, and so can a test or a script.
Each records one `ops.run_log` row per dataset, also when the read fails.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from orchestration.settings import SOURCE_REQUIREMENTS, Settings
from sources.batch import Batch, Rejected
from warehouse.landing import Lander, LandingStats
from warehouse.runlog import record_run
from warehouse.schema import RAW_TABLES

if TYPE_CHECKING:
    from expectations.reference import ReferenceSets
    from sources.telecom import FeedFile

REFERENCE_FILES = {
    "ref_don_vi_hanh_chinh": "don_vi_hanh_chinh.csv",
    "ref_sap_xep_dvhc": "sap_xep_dvhc.csv",
    "ref_co_quan": "co_quan.csv",
    "ref_thon_ban": "thon_ban.csv",
}
PORTAL_DATASETS = ("dvc_procedures", "dvc_dossiers", "dvc_ratings")
QLVB_DATASETS = ("qlvb_don_vi", "qlvb_van_ban", "qlvb_ho_so_cong_viec", "qlvb_cuoc_hop")
TELECOM_DATASET = "telecom_coverage"
SOURCE_DATASETS: dict[str, tuple[str, ...]] = {
    "reference": tuple(REFERENCE_FILES),
    "dvc": PORTAL_DATASETS,
    "qlvb": QLVB_DATASETS,
    "telecom": (TELECOM_DATASET,),
}


@contextmanager
def logged(lander: Lander, dataset: str) -> Iterator[Callable[[LandingStats], None]]:
    """Record the read of `dataset` in the run log, as failed if the body raises."""
    started = datetime.now()
    outcome: list[LandingStats] = []
    try:
        yield outcome.append
    except BaseException as exc:
        record_run(
            lander.conn,
            run_id=lander.run_id,
            source=dataset,
            started_at=started,
            stats=outcome[0] if outcome else None,
            status="failed",
            error=f"{type(exc).__name__}: {exc}",
        )
        raise
    record_run(
        lander.conn,
        run_id=lander.run_id,
        source=dataset,
        started_at=started,
        stats=outcome[0] if outcome else None,
        status="succeeded",
    )


def ingest_reference(settings: Settings, lander: Lander) -> dict[str, LandingStats]:
    """Land the four reference CSVs, each row versioned by its file's SHA-256 (which the
    connector stamps on every row)."""
    from expectations import ReferenceSets, validate_batch
    from sources.reference import read_reference

    settings.require(*SOURCE_REQUIREMENTS["reference"])
    batches = read_reference(Path(settings.reference_dir or ""))
    results: dict[str, LandingStats] = {}
    for dataset in REFERENCE_FILES:
        with logged(lander, dataset) as done:
            # Rules within each row only: the reference data is what others are checked against.
            batch = validate_batch(batches[dataset], ReferenceSets())
            stats = lander.land([batch], dataset=dataset)
            done(stats)
            results[dataset] = stats
    return results


@dataclass(frozen=True)
class PortalOptions:
    page_size: int = 1000
    full_reload: bool = False


def ingest_portal(
    settings: Settings, lander: Lander, dataset: str, options: PortalOptions = PortalOptions()
) -> LandingStats:
    """Land one portal listing from the last committed watermark (procedures: whole)."""
    from expectations import load_reference_sets, validate_batches
    from sources.dvc_portal import PortalClient

    settings.require(*SOURCE_REQUIREMENTS["dvc"])
    client = PortalClient(
        settings.dvc_base_url or "",
        settings.dvc_client_id or "",
        settings.dvc_client_secret or "",
        page_size=options.page_size,
    )
    with logged(lander, dataset) as done:
        since = None if options.full_reload else lander.watermark(dataset)
        if dataset == "dvc_procedures":
            batches = client.read_procedures()
        elif dataset == "dvc_dossiers":
            batches = client.read_dossiers(since, (settings.pii_key or "").encode())
        else:
            batches = client.read_ratings(since)
        gated = validate_batches(batches, load_reference_sets(lander.conn))
        stats = lander.land(gated, dataset=dataset)
        done(stats)
    return stats


def ingest_qlvb(
    settings: Settings, lander: Lander, dataset: str, *, full_reload: bool = False
) -> LandingStats:
    """Land one table of the document system from the last committed key."""
    from expectations import load_reference_sets, validate_batches
    from sources.qlvb import QlvbReader

    settings.require(*SOURCE_REQUIREMENTS["qlvb"])
    reader = QlvbReader(settings.qlvb_url or "")
    table = dataset.removeprefix("qlvb_")
    with logged(lander, dataset) as done:
        watermark = None if full_reload else lander.watermark(dataset)
        gated = validate_batches(reader.read(table, watermark), load_reference_sets(lander.conn))
        stats = lander.land(gated, dataset=dataset)
        done(stats)
    return stats


# Row rules cost about the same for 1 row as for 50,000 (Great Expectations' overhead per
# call): the rows of consecutive feed files are validated together, then landed file by file.
TELECOM_VALIDATION_ROWS = 50_000


@dataclass
class _FeedRead:
    feed: FeedFile
    status: str
    error: str | None
    batch: Batch


def _validate_together(reads: list[_FeedRead], refs: ReferenceSets) -> None:
    """Apply the row rules to the rows of several files at once, each file keeping its own."""
    from expectations import validate_batch

    checked = validate_batch(
        Batch(TELECOM_DATASET, [row for r in reads for row in r.batch.rows]), refs
    )
    rows: dict[str, list[dict]] = defaultdict(list)
    rejected: dict[str, list[Rejected]] = defaultdict(list)
    for row in checked.rows:
        rows[row["file_name"]].append(row)
    for reject in checked.rejected:
        rejected[reject.payload.get("file_name")].append(reject)
    for read in reads:
        name = read.feed.name
        read.batch = Batch(TELECOM_DATASET, rows[name], read.batch.rejected + rejected[name])


def ingest_telecom(settings: Settings, lander: Lander, *, reread: bool = False) -> LandingStats:
    """Read every feed file version not read before; record every file in the registry.

    A file that cannot be read is recorded with its reason and does not stop the others.
    Each file's rows and its registry entry commit together. `reread` reads every file
    again (landing stays idempotent: rows already landed are not landed twice).
    """
    from expectations import load_reference_sets
    from sources.telecom import FeedFileError, read_feed, scan_folder

    settings.require(*SOURCE_REQUIREMENTS["telecom"])
    with logged(lander, TELECOM_DATASET) as done:
        refs = load_reference_sets(lander.conn)
        seen = {
            (name, sha)
            for name, sha in lander.conn.execute(
                "SELECT file_name, sha256 FROM raw.telecom_files"
            ).fetchall()
        }
        total = LandingStats(TELECOM_DATASET)
        pending: list[_FeedRead] = []
        for feed in scan_folder(Path(settings.telecom_dir or "")):
            if (feed.name, feed.sha256) in seen and not reread:
                continue
            read = _FeedRead(
                feed,
                "not_a_feed" if feed.problem else "loaded",
                feed.problem,
                Batch(TELECOM_DATASET),
            )
            if not feed.problem:
                try:
                    read.batch = read_feed(feed)
                except FeedFileError as exc:
                    read.status, read.error = "failed", str(exc)
            pending.append(read)
            if sum(len(r.batch.rows) for r in pending) >= TELECOM_VALIDATION_ROWS:
                total.add(_land_feeds(lander, pending, refs))
                pending = []
        total.add(_land_feeds(lander, pending, refs))
        done(total)
    return total


def _land_feeds(lander: Lander, reads: list[_FeedRead], refs: ReferenceSets) -> LandingStats:
    """Validate the files' rows together, then land each file with its registry entry."""
    registry = RAW_TABLES["telecom_files"]
    total = LandingStats(TELECOM_DATASET)
    if not reads:
        return total
    _validate_together(reads, refs)
    for read in reads:
        feed = read.feed
        entry = [
            feed.name,
            feed.carrier,
            feed.period,
            feed.size,
            feed.mtime,
            feed.sha256,
            read.status,
            read.error,
            len(read.batch.rows),
            len(read.batch.rejected),
            datetime.now(),
            lander.run_id,
        ]
        placeholders = ", ".join("?" for _ in entry)
        total.add(
            lander.land_batch(
                RAW_TABLES[TELECOM_DATASET],
                read.batch,
                extra_sql=[(f"INSERT INTO {registry.qualified} VALUES ({placeholders})", entry)],
            )
        )
    return total
