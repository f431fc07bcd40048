"""Generate every demo source in one folder, deterministically from one seed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sources.batch import Progress, no_progress
from sources.simulator.manifest import Manifest
from sources.simulator.portal_data import write_portal_store
from sources.simulator.qlvb import write_qlvb
from sources.simulator.reference import write_reference
from sources.simulator.telecom import write_telecom_feeds
from sources.simulator.world import build_world

DEFAULT_SEED = 2158
DEFAULT_START = date(2023, 1, 1)


@dataclass(frozen=True)
class DemoSources:
    """Where the generated sources are, as the pipeline's settings would name them."""

    root: Path
    qlvb_url: str

    @property
    def reference_dir(self) -> Path:
        return self.root / "reference"

    @property
    def telecom_dir(self) -> Path:
        return self.root / "telecom"

    @property
    def portal_store(self) -> Path:
        return self.root / "portal.sqlite"

    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.json"

    @classmethod
    def at(cls, root: Path, qlvb_url: str | None = None) -> DemoSources:
        return cls(root, qlvb_url or f"sqlite:///{(root / 'qlvb.sqlite').resolve()}")


@dataclass
class GenerationSummary:
    sources: DemoSources
    counts: dict[str, int] = field(default_factory=dict)
    anomalies: int = 0


def generate(
    sources: DemoSources,
    *,
    seed: int = DEFAULT_SEED,
    scale: float = 1.0,
    start: date = DEFAULT_START,
    end: date | None = None,
    plant_anomalies: bool = True,
    progress: Progress = no_progress,
) -> GenerationSummary:
    """Write reference data, the document database, the feeds and the portal's store."""
    end = end or date.today()
    if end < start:
        raise ValueError(f"the end date {end} is before the start date {start}")
    if scale <= 0:
        raise ValueError(f"scale must be positive, not {scale}")
    sources.root.mkdir(parents=True, exist_ok=True)
    sources.telecom_dir.mkdir(exist_ok=True)
    sources.reference_dir.mkdir(exist_ok=True)
    world = build_world(seed)
    manifest = Manifest()
    summary = GenerationSummary(sources)
    for name, rows in write_reference(world, sources.reference_dir).items():
        summary.counts[f"reference/{name}"] = rows
    summary.counts["telecom files"] = write_telecom_feeds(
        world,
        sources.telecom_dir,
        seed=seed,
        start=start,
        end=end,
        manifest=manifest,
        plant_faults=plant_anomalies,
        progress=progress,
    )
    qlvb_counts = write_qlvb(
        world,
        sources.qlvb_url,
        seed=seed,
        scale=scale,
        start=start,
        end=end,
        manifest=manifest,
        plant_anomalies=plant_anomalies,
        progress=progress,
    )
    summary.counts.update({f"qlvb/{k}": v for k, v in qlvb_counts.items()})
    portal_counts = write_portal_store(
        world,
        sources.portal_store,
        seed=seed,
        scale=scale,
        start=start,
        end=end,
        manifest=manifest,
        plant_anomalies=plant_anomalies,
        progress=progress,
    )
    summary.counts.update({f"portal/{k}": v for k, v in portal_counts.items()})
    manifest.write(sources.manifest_path)
    summary.anomalies = len(manifest.anomalies)
    return summary
