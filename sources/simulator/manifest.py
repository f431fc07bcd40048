"""The list of anomalies planted in the demo data, which the quality checks must find."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

KINDS = frozenset(
    {
        "date_order",
        "unknown_code",
        "enum",
        "duplicate",
        "negative_count",
        "unknown_village",
        "volume_collapse",
        "missing_carrier_month",
        "truncated_file",
        "legacy_encoding",
        "stray_file",
        "late_correction",
        "wrong_type",
        "empty_file",
    }
)


@dataclass(frozen=True)
class Anomaly:
    source: str
    dataset: str
    kind: str
    record_key: str | None
    detail: str


@dataclass
class Manifest:
    anomalies: list[Anomaly] = field(default_factory=list)

    def add(
        self, source: str, dataset: str, kind: str, record_key: str | None, detail: str
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown anomaly kind {kind!r}; known: {sorted(KINDS)}")
        self.anomalies.append(Anomaly(source, dataset, kind, record_key, detail))

    def write(self, path: Path) -> None:
        entries = [asdict(a) for a in self.anomalies]
        path.write_text(json.dumps({"anomalies": entries}, ensure_ascii=False, indent=2) + "\n")

    @classmethod
    def read(cls, path: Path) -> Manifest:
        entries = json.loads(path.read_text())["anomalies"]
        return cls([Anomaly(**e) for e in entries])
