"""Raw assets: one per source entity, grouped per source, landing through `warehouse/`."""

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from orchestration.ingest import (
    PORTAL_DATASETS,
    QLVB_DATASETS,
    REFERENCE_FILES,
    TELECOM_DATASET,
    PortalOptions,
    ingest_portal,
    ingest_qlvb,
    ingest_reference,
    ingest_telecom,
)
from orchestration.resources import PipelineResource
from sources.dvc_portal import PortalError
from sources.qlvb import QlvbError
from warehouse.landing import LandingStats

# Sources fail transiently (maintenance windows, dropped connections): after the connector's
# own retries, the step is retried a few times with growing delays before the run gives up.
# Other errors (a bug, a bad setting) fail at once.
STEP_RETRIES = 3
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    PortalError,
    QlvbError,
    ConnectionError,
    TimeoutError,
)


@contextmanager
def retry_transient(context: dg.AssetExecutionContext) -> Iterator[None]:
    try:
        yield
    except TRANSIENT_ERRORS as exc:
        wait = min(10 * 2**context.retry_number, 300)
        context.log.warning(f"transient source error, step retried in {wait} s: {exc}")
        raise dg.RetryRequested(max_retries=STEP_RETRIES, seconds_to_wait=wait) from exc


class IngestConfig(dg.Config):
    full_reload: bool = False


def _metadata(stats: LandingStats) -> dict[str, dg.MetadataValue]:
    return {
        "rows_read": dg.MetadataValue.int(stats.rows_read),
        "rows_landed": dg.MetadataValue.int(stats.rows_landed),
        "rows_quarantined": dg.MetadataValue.int(stats.rows_quarantined),
        "watermark_before": dg.MetadataValue.text(stats.watermark_before or ""),
        "watermark_after": dg.MetadataValue.text(stats.watermark_after or ""),
        "rejections": dg.MetadataValue.json(stats.reasons),
    }


@dg.multi_asset(
    specs=[
        dg.AssetSpec(["raw", ds], group_name="reference", description=f"Reference file {f}.")
        for ds, f in REFERENCE_FILES.items()
    ],
)
def reference_files(context: dg.AssetExecutionContext, pipeline: PipelineResource):
    """The reference CSVs of CDS_REFERENCE_DIR, each row versioned by its file's SHA-256."""
    with retry_transient(context), pipeline.lander(context.run_id) as lander:
        results = ingest_reference(pipeline.settings(), lander)
    for dataset, stats in results.items():
        yield dg.MaterializeResult(asset_key=["raw", dataset], metadata=_metadata(stats))


# Row rules check codes against the reference data valid at each record's date: every source
# lands after the reference files of the same run.
REFERENCE_KEYS = [dg.AssetKey(["raw", dataset]) for dataset in REFERENCE_FILES]


def _portal_asset(dataset: str) -> dg.AssetsDefinition:
    @dg.asset(
        key=["raw", dataset],
        group_name="dvc_portal",
        deps=REFERENCE_KEYS,
        description=f"Portal listing `{dataset}` (raw, every version), read incrementally.",
    )
    def _asset(
        context: dg.AssetExecutionContext, config: IngestConfig, pipeline: PipelineResource
    ) -> dg.MaterializeResult:
        with retry_transient(context), pipeline.lander(context.run_id) as lander:
            stats = ingest_portal(
                pipeline.settings(), lander, dataset, PortalOptions(full_reload=config.full_reload)
            )
        return dg.MaterializeResult(metadata=_metadata(stats))

    return _asset


def _qlvb_asset(dataset: str) -> dg.AssetsDefinition:
    @dg.asset(
        key=["raw", dataset],
        group_name="qlvb",
        deps=REFERENCE_KEYS,
        description=f"Document-system table `{dataset.removeprefix('qlvb_')}` (raw, every "
        "version), read by keyset from the last committed key.",
    )
    def _asset(
        context: dg.AssetExecutionContext, config: IngestConfig, pipeline: PipelineResource
    ) -> dg.MaterializeResult:
        with retry_transient(context), pipeline.lander(context.run_id) as lander:
            stats = ingest_qlvb(
                pipeline.settings(), lander, dataset, full_reload=config.full_reload
            )
        return dg.MaterializeResult(metadata=_metadata(stats))

    return _asset


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["raw", TELECOM_DATASET],
            group_name="telecom",
            deps=REFERENCE_KEYS,
            description="Carriers' monthly coverage rows of every feed file version read.",
        ),
        dg.AssetSpec(
            ["raw", "telecom_files"],
            group_name="telecom",
            description="Registry of every file seen in CDS_TELECOM_DIR: name, carrier, "
            "period, size, modification time, SHA-256, status and error.",
        ),
    ],
)
def telecom_feeds(
    context: dg.AssetExecutionContext, config: IngestConfig, pipeline: PipelineResource
):
    """Every feed file version not read before, each with its registry entry."""
    with retry_transient(context), pipeline.lander(context.run_id) as lander:
        stats = ingest_telecom(pipeline.settings(), lander, reread=config.full_reload)
    yield dg.MaterializeResult(asset_key=["raw", TELECOM_DATASET], metadata=_metadata(stats))
    yield dg.MaterializeResult(asset_key=["raw", "telecom_files"])


PORTAL_ASSETS = [_portal_asset(ds) for ds in PORTAL_DATASETS]
QLVB_ASSETS = [_qlvb_asset(ds) for ds in QLVB_DATASETS]

# Assets that can re-read their source whole (the reference files are always read whole).
RELOADABLE: dict[str, list[dg.AssetsDefinition]] = {
    "dvc": PORTAL_ASSETS,
    "qlvb": QLVB_ASSETS,
    "telecom": [telecom_feeds],
}

RAW_ASSETS: list[dg.AssetsDefinition] = [
    reference_files,
    *PORTAL_ASSETS,
    *QLVB_ASSETS,
    telecom_feeds,
]
