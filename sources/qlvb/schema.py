"""The four QLVB tables as the contract names them, and the validation of one row.

Only the columns listed here are ever selected: `van_ban.trich_yeu` (free text that may name
people) is not one of them, so it never leaves the source database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sources.timeutil import parse_date, parse_timestamp

KEY_TS = "ngay_cap_nhat"
KEY_ID = "id"


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "id" | "str" | "bool" | "date" | "ts" | "enum"
    values: tuple[str, ...] = ()


def _c(name: str, kind: str, *values: str) -> Column:
    return Column(name, kind, values)


TABLES: dict[str, tuple[Column, ...]] = {
    "don_vi": (
        _c("id", "id"),
        _c("ma_don_vi", "str"),
        _c("ten_don_vi", "str"),
        _c("cap", "enum", "TINH", "HUYEN", "XA"),
        _c("da_xoa", "bool"),
        _c("ngay_cap_nhat", "ts"),
    ),
    "van_ban": (
        _c("id", "id"),
        _c("so_ky_hieu", "str"),
        _c("ma_don_vi", "str"),
        _c("chieu", "enum", "DI", "DEN"),
        _c("hinh_thuc", "enum", "DIEN_TU", "GIAY"),
        _c("ky_so", "bool"),
        _c("do_mat", "enum", "THUONG", "MAT", "TOI_MAT", "TUYET_MAT"),
        _c("ngay_van_ban", "date"),
        _c("da_xoa", "bool"),
        _c("ngay_cap_nhat", "ts"),
    ),
    "ho_so_cong_viec": (
        _c("id", "id"),
        _c("ma_don_vi", "str"),
        _c("ngay_mo", "date"),
        _c("ngay_dong", "date"),
        _c("xu_ly_tren_mang", "bool"),
        _c("bi_mat", "bool"),
        _c("da_xoa", "bool"),
        _c("ngay_cap_nhat", "ts"),
    ),
    "cuoc_hop": (
        _c("id", "id"),
        _c("ma_don_vi_chu_tri", "str"),
        _c("ba_cap", "bool"),
        _c("hinh_thuc", "enum", "TRUC_TUYEN", "TRUC_TIEP", "KET_HOP"),
        _c("ngay_hop", "date"),
        _c("da_xoa", "bool"),
        _c("ngay_cap_nhat", "ts"),
    ),
}


def dataset_of(table: str) -> str:
    return f"qlvb_{table}"


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _convert(column: Column, value: Any) -> tuple[Any, str | None]:
    """(converted value, problem or None)."""
    name, kind = column.name, column.kind
    if kind == "enum":
        if value not in column.values:
            return None, f"enum: {name}={_shown(value)} not in {list(column.values)}"
        return value, None
    if value is None:
        return None, None  # the contract names no other NOT NULL column
    if kind == "id":
        if isinstance(value, int) and not isinstance(value, bool):
            return value, None
        return None, f"wrong_type: {name}={_shown(value)} is not an integer"
    if kind == "str":
        if isinstance(value, str):
            return value, None
        return None, f"wrong_type: {name}={_shown(value)} is not text"
    if kind == "bool":
        # SQLite stores booleans as 0/1; PostgreSQL returns bool.
        if isinstance(value, bool):
            return value, None
        if isinstance(value, int) and value in (0, 1):
            return bool(value), None
        return None, f"wrong_type: {name}={_shown(value)} is not a boolean"
    try:
        converted = parse_timestamp(value) if kind == "ts" else parse_date(value)
    except (TypeError, ValueError):
        return None, f"unparseable_date: {name}={_shown(value)}"
    return converted, None


def validate(table: str, raw: dict[str, Any]) -> tuple[dict[str, Any] | None, list[str]]:
    """The row of one raw record, or None and the problems that reject it."""
    problems: list[str] = []
    for name in (KEY_ID, KEY_TS):
        if raw.get(name) is None:
            problems.append(f"missing_key: {name}=None")
    if problems:
        return None, problems
    row: dict[str, Any] = {}
    for column in TABLES[table]:
        value, problem = _convert(column, raw.get(column.name))
        if problem:
            problems.append(problem)
        row[column.name] = value
    return (None, problems) if problems else (row, [])


def json_safe(raw: dict[str, Any]) -> dict[str, Any]:
    """A raw record as JSON values (for a quarantine payload)."""
    safe: dict[str, Any] = {}
    for k, v in raw.items():
        if isinstance(v, datetime | date):
            safe[k] = v.isoformat()
        elif isinstance(v, bytes | bytearray | memoryview):
            safe[k] = bytes(v).hex()
        elif v is None or isinstance(v, bool | int | float | str):
            safe[k] = v
        else:
            safe[k] = str(v)
    return safe
