"""Thresholds and ages the quality checks compare with (one place, overridable per run).

`QualitySettings.load()` reads optional environment variables so that an operator can tune a
gate without touching code:

- `CDS_QUALITY_INVALID_SHARE`: `0.05` (the default for every dataset) or a list such as
  `default=0.05,dvc_dossiers=0.02,telecom_coverage=0.1` (per dataset, in configuration).
- `CDS_QUALITY_FRESHNESS_DAYS`: e.g. `dvc_dossiers=3,qlvb_van_ban=10` (overrides the ages below).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

# Newest record no older than this many days, per dataset (None/absent: not checked). The
# ages leave room for weekends and public holidays (offices close for about a week at Tết);
# telecom is measured from the first day of the month after the newest report period.
DEFAULT_FRESHNESS_DAYS: dict[str, float] = {
    "dvc_dossiers": 4,
    "dvc_ratings": 10,
    "qlvb_van_ban": 12,
    "qlvb_ho_so_cong_viec": 15,
    "qlvb_cuoc_hop": 45,
    "telecom_coverage": 45,
}


def _parse_pairs(text: str) -> dict[str, float]:
    pairs: dict[str, float] = {}
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        name, sep, value = part.partition("=")
        if not sep:
            name, value = "default", name
        pairs[name.strip()] = float(value)
    return pairs


@dataclass(frozen=True)
class QualitySettings:
    """What the checks accept. `now` is the moment freshness is measured at (default: now)."""

    invalid_share: float = 0.05
    invalid_share_per_dataset: Mapping[str, float] = field(default_factory=dict)
    # An agency's (or a year's) share is judged only over at least this many records, so that
    # one bad record among three does not block an agency.
    min_records: int = 50
    freshness_days: Mapping[str, float] = field(
        default_factory=lambda: dict(DEFAULT_FRESHNESS_DAYS)
    )
    now: datetime | None = None
    # Volume: weeks of history that form the baseline, the least expected count worth judging,
    # the observed/expected ratio under which a week is a drop, and how improbable (Poisson
    # lower tail) the drop must be.
    volume_baseline_weeks: int = 8
    volume_min_baseline_days: int = 28
    volume_min_expected: float = 10.0
    volume_max_ratio: float = 0.3
    volume_alpha: float = 1e-4
    # Completeness: an agency must be in force this many days of a year (within the data's
    # range) before its absence from a dataset that year is reported.
    presence_min_days: int = 90
    presence_min_expected: float = 10.0  # P(no record | Poisson(10)) < 5e-5
    sample_size: int = 10

    def threshold(self, dataset: str) -> float:
        return float(self.invalid_share_per_dataset.get(dataset, self.invalid_share))

    def max_age_days(self, dataset: str) -> float | None:
        value = self.freshness_days.get(dataset)
        return None if value is None else float(value)

    def at(self) -> datetime:
        return self.now or datetime.now()

    def with_now(self, now: datetime) -> QualitySettings:
        return replace(self, now=now)

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None) -> QualitySettings:
        env = os.environ if env is None else env
        settings = cls()
        shares = _parse_pairs(env.get("CDS_QUALITY_INVALID_SHARE", ""))
        if shares:
            default = shares.pop("default", settings.invalid_share)
            settings = replace(settings, invalid_share=default, invalid_share_per_dataset=shares)
        ages = _parse_pairs(env.get("CDS_QUALITY_FRESHNESS_DAYS", ""))
        if ages:
            ages.pop("default", None)
            settings = replace(settings, freshness_days={**settings.freshness_days, **ages})
        return settings
