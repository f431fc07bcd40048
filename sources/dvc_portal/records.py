"""The portal's records as the contract defines them, and their row-level validation.

One `Field` per documented field; validating an item gives either a row (the raw dataset's
columns, timestamps as naive local `datetime`, unknown fields kept as `_extra`) or the list
of problems that make it a `Rejected` record. Personal data is removed *before* this
module sees a dossier (`sources.pii`), so a problem message never quotes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

import orjson

from sources.timeutil import parse_timestamp

PROCEDURES = "dvc_procedures"
DOSSIERS = "dvc_dossiers"
RATINGS = "dvc_ratings"


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # "str" | "bool" | "ts" | "enum"
    nullable: bool = False
    values: tuple[str, ...] = ()


def _text(name: str, nullable: bool = False) -> Field:
    return Field(name, "str", nullable)


def _flag(name: str) -> Field:
    return Field(name, "bool")


def _ts(name: str, nullable: bool = False) -> Field:
    return Field(name, "ts", nullable)


def _enum(name: str, *values: str) -> Field:
    return Field(name, "enum", values=values)


@dataclass(frozen=True)
class RecordSpec:
    dataset: str
    key: str
    fields: tuple[Field, ...]
    # Fields the connector itself adds to the row (not on the wire).
    derived: tuple[str, ...] = ()
    # Cross-field nullability that the contract states in words.
    null_allowed: Callable[[str, dict[str, Any]], bool] | None = None

    @property
    def columns(self) -> list[str]:
        names = [f.name for f in self.fields]
        # Derived columns sit just before `updated_at`, as in the raw table.
        return [*names[:-1], *self.derived, names[-1], "_extra"]

    @cached_property
    def known(self) -> frozenset[str]:
        # Asked for every field of every record: computed once per spec.
        return frozenset(f.name for f in self.fields) | frozenset(self.derived)


def _procedure_agency_may_be_null(name: str, item: dict[str, Any]) -> bool:
    # "null for HUYEN and XA procedures, which every district or commune committee handles"
    return name == "ma_co_quan" and item.get("cap_thuc_hien") in ("HUYEN", "XA")


PROCEDURE_SPEC = RecordSpec(
    PROCEDURES,
    "ma_thu_tuc",
    (
        _text("ma_thu_tuc"),
        _text("ten_thu_tuc"),
        _text("linh_vuc"),
        _text("ma_co_quan"),
        _enum("cap_thuc_hien", "TINH", "HUYEN", "XA"),
        _flag("du_dieu_kien_toan_trinh"),
        _enum("muc_do", "TOAN_TRINH", "MOT_PHAN", "KHONG"),
        _flag("co_phi"),
        _flag("hieu_luc"),
        _ts("updated_at"),
    ),
    null_allowed=_procedure_agency_may_be_null,
)

DOSSIER_SPEC = RecordSpec(
    DOSSIERS,
    "ma_ho_so",
    (
        _text("ma_ho_so"),
        _text("ma_thu_tuc"),
        _text("ma_co_quan"),
        _text("ma_dvhc"),
        _enum("kenh_nop", "TRUC_TUYEN", "TRUC_TIEP", "BUU_CHINH"),
        _ts("ngay_tiep_nhan"),
        _ts("han_xu_ly", nullable=True),
        _ts("ngay_hoan_thanh", nullable=True),
        _ts("ngay_tra_ket_qua", nullable=True),
        _enum(
            "trang_thai",
            "MOI_TIEP_NHAN",
            "DANG_XU_LY",
            "CHO_BO_SUNG",
            "DA_HOAN_THANH",
            "DA_TRA_KET_QUA",
            "TU_CHOI",
            "DA_RUT",
        ),
        _flag("thanh_toan_truc_tuyen"),
        _flag("so_hoa_ho_so"),
        _flag("so_hoa_ket_qua"),
        _ts("updated_at"),
    ),
    derived=("applicant_key",),
)

RATING_SPEC = RecordSpec(
    RATINGS,
    "ma_danh_gia",
    (
        _text("ma_danh_gia"),
        _text("ma_ho_so"),
        _enum("muc_do", "RAT_HAI_LONG", "HAI_LONG", "BINH_THUONG", "KHONG_HAI_LONG"),
        _ts("ngay_danh_gia"),
        _ts("updated_at"),
    ),
)


def shown(value: Any) -> str:
    """A value as it appears in a reason: `repr`, cut short (reasons are not payloads)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def record_key(spec: RecordSpec, item: dict[str, Any]) -> str | None:
    value = item.get(spec.key)
    if value is None or isinstance(value, dict | list) or value == "":
        return None
    return str(value)


def _check(field: Field, value: Any) -> tuple[Any, str | None]:
    """(converted value, problem or None) for a non-null value."""
    if field.kind == "bool":
        if isinstance(value, bool):
            return value, None
        return None, f"wrong_type: {field.name}={shown(value)} is not a boolean"
    if not isinstance(value, str):
        expected = "an ISO 8601 string" if field.kind == "ts" else "a string"
        return None, f"wrong_type: {field.name}={shown(value)} is not {expected}"
    if field.kind == "enum" and value not in field.values:
        return None, f"enum: {field.name}={shown(value)} not in {list(field.values)}"
    if field.kind == "ts":
        try:
            return parse_timestamp(value), None
        except ValueError:
            return None, f"unparseable_date: {field.name}={shown(value)}"
    return value, None


def validate(
    spec: RecordSpec, item: dict[str, Any], derived: dict[str, Any] | None = None
) -> tuple[dict[str, Any] | None, list[str]]:
    """The row of a scrubbed item, or None and the problems that reject it."""
    key = item.get(spec.key)
    if key is None or key == "":
        return None, [f"missing_key: {spec.key}={shown(key)}"]
    row: dict[str, Any] = {}
    problems: list[str] = []
    for field in spec.fields:
        value = item.get(field.name)
        if value is None:
            if field.nullable or (spec.null_allowed and spec.null_allowed(field.name, item)):
                row[field.name] = None
            else:
                absent = "absent" if field.name not in item else "null"
                problems.append(
                    f"wrong_type: {field.name}={absent} where the contract says it is never null"
                )
            continue
        converted, problem = _check(field, value)
        if problem:
            problems.append(problem)
        row[field.name] = converted
    if problems:
        return None, problems
    row.update(derived or {})
    extra = {k: v for k, v in item.items() if k not in spec.known}
    row["_extra"] = orjson.dumps(extra, option=orjson.OPT_SORT_KEYS).decode() if extra else None
    return {c: row.get(c) for c in spec.columns}, []


def version_of(item: dict[str, Any]) -> datetime | None:
    """The item's `updated_at` as naive local time, or None when it does not parse."""
    try:
        return parse_timestamp(item.get("updated_at"))
    except (TypeError, ValueError):
        return None
