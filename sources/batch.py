"""What every connector yields: valid rows, rejected records and the watermark to commit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

# (label, done, total or None) — long steps report through this so the CLI can show progress.
Progress = Callable[[str, int, "int | None"], None]


def no_progress(label: str, done: int, total: int | None) -> None:
    """A `Progress` that reports nothing."""


@dataclass
class Rejected:
    """A record that cannot be used: it goes to `quality.quarantine`, never silently dropped."""

    record_key: str | None
    reason: str
    payload: dict


@dataclass
class Batch:
    """One unit of landing: committed atomically together with its watermark.

    The consumer commits a batch before it asks the connector for the next one, so the
    watermark of the last batch yielded is the last committed watermark.
    """

    dataset: str
    rows: list[dict] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    watermark: str | None = None
