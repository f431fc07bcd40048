"""The carriers' drop folder: which files are there, and which of them are feeds.

A feed is named `<carrier>_<YYYY-MM>.<ext>` with the carrier's own extension (`vtl` →
`.csv`, `vnp` → `.xlsx`, `mbf` → `.jsonl`) and a real month. Anything else in the folder is
listed with a `problem` ("not_a_feed: ...") so that the caller reports it instead of
reading it. The version of a file is its SHA-256: a carrier's re-send of a month has the
same name, a newer modification time and (usually) other bytes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sources.timeutil import VIETNAM

EXTENSIONS = {"vtl": "csv", "vnp": "xlsx", "mbf": "jsonl"}
_FEED_NAME = re.compile(r"^(?P<carrier>[a-z]+)_(?P<year>\d{4})-(?P<month>\d{2})\.(?P<ext>[a-z]+)$")


@dataclass(frozen=True)
class FeedFile:
    """One file of the drop folder at the time of the scan."""

    path: Path
    name: str
    carrier: str | None  # vtl | vnp | mbf, None when not a feed
    period: str | None  # 'YYYY-MM', None when not a feed
    size: int
    mtime: datetime  # naive Vietnam local time
    sha256: str
    problem: str | None = None  # "not_a_feed: ..." when the file must not be read

    @property
    def is_feed(self) -> bool:
        return self.problem is None


def classify(name: str) -> tuple[str | None, str | None, str | None]:
    """(carrier, period, problem) of a file name."""
    match = _FEED_NAME.match(name)
    if match is None:
        return (
            None,
            None,
            (
                f"not_a_feed: {name!r} is not named <carrier>_<YYYY-MM>.<ext> "
                f"(carriers: {', '.join(f'{c}.{e}' for c, e in EXTENSIONS.items())})"
            ),
        )
    carrier, ext = match["carrier"], match["ext"]
    if carrier not in EXTENSIONS:
        return None, None, f"not_a_feed: {name!r}: unknown carrier {carrier!r}"
    if ext != EXTENSIONS[carrier]:
        return (
            None,
            None,
            (f"not_a_feed: {name!r}: carrier {carrier} sends .{EXTENSIONS[carrier]}, not .{ext}"),
        )
    if not 1 <= int(match["month"]) <= 12:
        return None, None, f"not_a_feed: {name!r}: {match['month']!r} is not a month"
    return carrier, f"{match['year']}-{match['month']}", None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def scan_folder(folder: Path) -> list[FeedFile]:
    """Every regular file directly in `folder` (sorted by name), feed or not."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"telecom feed folder {str(folder)!r} does not exist")
    files = []
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        try:
            if not path.is_file():
                continue  # sub-folders are not part of the drop
            stat = path.stat()
            digest = sha256_of(path)
        except FileNotFoundError:
            continue  # removed while scanning: it will not be read
        carrier, period, problem = classify(path.name)
        mtime = datetime.fromtimestamp(stat.st_mtime, tz=VIETNAM).replace(tzinfo=None)
        files.append(
            FeedFile(path, path.name, carrier, period, stat.st_size, mtime, digest, problem)
        )
    return files


def newest_per_carrier_month(files: Iterable[FeedFile]) -> dict[tuple[str, str], FeedFile]:
    """The file that wins for each (carrier, period): the newest modification time.

    Files that are not feeds are ignored. Ties (same mtime) go to the larger SHA-256 so
    that the choice does not depend on the order of `files`.
    """
    winners: dict[tuple[str, str], FeedFile] = {}
    for f in files:
        if f.problem is not None or f.carrier is None or f.period is None:
            continue
        key = (f.carrier, f.period)
        best = winners.get(key)
        if best is None or (f.mtime, f.sha256) > (best.mtime, best.sha256):
            winners[key] = f
    return winners
