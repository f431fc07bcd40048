"""The reference codes a record may use, as of the latest loaded reference files.

Row-level rules check codes against these sets before a batch lands: agency codes and
administrative-unit codes must be in force on the record's date, village codes must be in
the village list of the report's year. Each code's validity is one interval (the earliest
`hieu_luc_tu` to the latest `hieu_luc_den` of its rows), the same simplification the SQL
checks make, so a batch and the warehouse are judged alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

OPEN_END = date(9999, 12, 31)

# The rows of the most recently loaded version of a reference file (files are replaced whole).
LATEST_FILE_SQL = (
    "SELECT * FROM raw.{table} WHERE file_sha256 = (SELECT file_sha256 FROM raw.{table} "
    "ORDER BY _loaded_at DESC, file_sha256 DESC LIMIT 1)"
)


@dataclass(frozen=True)
class ReferenceSets:
    """Codes and their validity: `agencies` and `admin_units` map a code to (from, to)."""

    agencies: dict[str, tuple[date, date]] = field(default_factory=dict)
    admin_units: dict[str, tuple[date, date]] = field(default_factory=dict)
    villages: dict[int, frozenset[str]] = field(default_factory=dict)

    def has(self, name: str) -> bool:
        return bool(getattr(self, name))

    def villages_of_year(self, year: int) -> frozenset[str]:
        """The village list of `year`, else of the latest earlier year, else of the first."""
        if not self.villages:
            return frozenset()
        earlier = [y for y in self.villages if y <= year]
        return self.villages[max(earlier) if earlier else min(self.villages)]

    def describe(self, name: str, code: Any) -> str:
        """Where a code stands, for a rejection message."""
        table: dict[str, tuple[date, date]] = getattr(self, name)
        interval = table.get(code) if isinstance(code, str) else None
        if interval is None:
            return "unknown"
        start, end = interval
        until = "" if end == OPEN_END else f" to {end.isoformat()}"
        return f"in force from {start.isoformat()}{until}"


_EPOCH = date(1970, 1, 1).toordinal()


def day_numbers(days: pd.Series) -> np.ndarray:
    """Proleptic ordinals of the days (dates or timestamps), NaN where missing (vectorised)."""
    stamps = pd.to_datetime(days, errors="coerce")
    missing = stamps.isna().to_numpy()
    numbers = stamps.to_numpy(dtype="datetime64[s]").astype("datetime64[D]").astype("int64")
    out = numbers.astype("float64") + _EPOCH
    out[missing] = np.nan
    return out


def in_force(table: dict[str, tuple[date, date]], codes: pd.Series, days: pd.Series) -> pd.Series:
    """Per row: True when the code is in force on the day, False when not, None when either
    is missing (nothing to judge). Vectorised: batches hold up to 100,000 rows."""
    index = pd.Index(list(table), dtype="object")
    bounds = np.array([[s.toordinal(), e.toordinal()] for s, e in table.values()], dtype="float64")
    bounds = np.vstack([bounds.reshape(-1, 2), [np.nan, np.nan]])  # row -1: unknown code
    position = index.get_indexer(codes.astype("object"))  # hash lookups, -1 when unknown
    starts, ends = bounds[position, 0], bounds[position, 1]
    is_code = codes.notna().to_numpy()
    day = day_numbers(days)
    judged = is_code & ~np.isnan(day)
    with np.errstate(invalid="ignore"):
        inside = (starts <= day) & (day <= ends)  # NaN bounds (unknown code) compare False
    values = np.where(judged, inside, None)
    return pd.Series(values, index=codes.index, dtype="object")


def _intervals(conn: Any, table: str, code: str) -> dict[str, tuple[date, date]]:
    sql = (
        f"SELECT {code}, min(hieu_luc_tu), max(coalesce(hieu_luc_den, DATE '9999-12-31')) "
        f"FROM ({LATEST_FILE_SQL.format(table=table)}) AS f WHERE {code} IS NOT NULL GROUP BY 1"
    )
    return {
        c: (start or date(1900, 1, 1), end or OPEN_END)
        for c, start, end in conn.execute(sql).fetchall()
    }


def load_reference_sets(conn: Any) -> ReferenceSets:
    """The latest raw.ref_* files as code sets (empty sets when a file was never loaded)."""
    villages: dict[int, set[str]] = {}
    sql = (
        f"SELECT DISTINCT nam, ma_thon FROM ({LATEST_FILE_SQL.format(table='ref_thon_ban')}) AS f "
        "WHERE nam IS NOT NULL AND ma_thon IS NOT NULL"
    )
    for year, village in conn.execute(sql).fetchall():
        villages.setdefault(int(year), set()).add(village)
    return ReferenceSets(
        agencies=_intervals(conn, "ref_co_quan", "ma_co_quan"),
        admin_units=_intervals(conn, "ref_don_vi_hanh_chinh", "ma_dvhc"),
        villages={y: frozenset(v) for y, v in villages.items()},
    )
