"""Reader of the reference CSV files (contracts/reference-data.md).

`read_reference(folder)` reads the four files into one `Batch` each (datasets
`ref_don_vi_hanh_chinh`, `ref_sap_xep_dvhc`, `ref_co_quan`, `ref_thon_ban`), typed: dates as
`date`, counts and years as `int`, the population share as `float`, empty optional cells as
None. Each row also carries `file_sha256`, the version of the file it came from (the raw
tables key by it), and the batch's watermark is that same SHA-256.

A file that is missing, not UTF-8 or whose header is not the contract's raises
`ReferenceDataError` naming the file and the missing / extra columns: reference data that
cannot be read as a whole must stop the run, since every indicator depends on it. A bad
row is `Rejected` with the reason `<rule>: <file> row <n>: <field>=<value> ...` (n is the
line in the file, the header being row 1); rules: `missing_key`, `missing_value`,
`unparseable_date`, `enum`, `unparseable_number`, `negative_count`, `out_of_range`,
`duplicate` (a key seen on an earlier row: the first row wins). Across rows: the
shares of one old commune in `sap_xep_dvhc.csv` must add up to 1 (±1e-6), otherwise
`ReferenceDataError` names the commune — a split that loses or invents population would
skew every indicator mapped through it.

Readings of the contract: columns may come in any order; a byte-order mark is allowed;
`ma_dvhc_cha`, `hieu_luc_den` and `email_dau_moi` may be empty, every other cell is required.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sources.batch import Batch, Rejected

SHARE_TOLERANCE = 1e-6


class ReferenceDataError(ValueError):
    """A reference file that cannot be used as a whole (missing, header, cross-file rule)."""


class _Bad(Exception):
    def __init__(self, rule: str, message: str) -> None:
        self.rule = rule
        self.message = message


# -- cell parsers: text -> value, or _Bad ---------------------------------------------------
Parser = Callable[[str, str], Any]


def _text(name: str, value: str) -> str:
    if not value:
        raise _Bad("missing_value", f"{name}=''")
    return value


def _optional(name: str, value: str) -> str | None:
    return value or None


def _key(name: str, value: str) -> str:
    if not value:
        raise _Bad("missing_key", f"{name}=''")
    return value


def _day(name: str, value: str) -> date:
    if not value:
        raise _Bad("missing_value", f"{name}=''")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _Bad("unparseable_date", f"{name}={value!r} is not YYYY-MM-DD") from None


def _optional_day(name: str, value: str) -> date | None:
    return _day(name, value) if value else None


def _count(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise _Bad("unparseable_number", f"{name}={value!r} is not a whole number") from None
    if number < 0:
        raise _Bad("negative_count", f"{name}={number}")
    return number


def _year(name: str, value: str) -> int:
    year = _count(name, value)
    if not 1900 <= year <= 2100:
        raise _Bad("out_of_range", f"{name}={year} is not a plausible year")
    return year


def _share(name: str, value: str) -> float:
    try:
        share = float(value)
    except ValueError:
        raise _Bad("unparseable_number", f"{name}={value!r} is not a number") from None
    if not (math.isfinite(share) and 0.0 < share <= 1.0):
        raise _Bad("out_of_range", f"{name}={value!r} is not in (0, 1]")
    return share


def _enum(*values: str) -> Parser:
    def parse(name: str, value: str) -> str:
        if value not in values:
            raise _Bad("enum", f"{name}={value!r} not in {list(values)}")
        return value

    return parse


@dataclass(frozen=True)
class RefFile:
    name: str
    dataset: str
    columns: tuple[tuple[str, Parser], ...]
    key: tuple[str, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c for c, _ in self.columns)


FILES: tuple[RefFile, ...] = (
    RefFile(
        "don_vi_hanh_chinh.csv",
        "ref_don_vi_hanh_chinh",
        (
            ("ma_dvhc", _key),
            ("ten", _text),
            ("cap", _enum("TINH", "HUYEN", "XA")),
            ("loai", _enum("tinh", "thanh_pho", "thi_xa", "huyen", "phuong", "xa", "thi_tran")),
            ("ma_dvhc_cha", _optional),
            ("hieu_luc_tu", _day),
            ("hieu_luc_den", _optional_day),
        ),
        ("ma_dvhc",),
    ),
    RefFile(
        "sap_xep_dvhc.csv",
        "ref_sap_xep_dvhc",
        (
            ("ma_dvhc_cu", _key),
            ("ma_dvhc_moi", _key),
            ("ngay_hieu_luc", _day),
            ("ty_le_dan_so", _share),
        ),
        ("ma_dvhc_cu", "ma_dvhc_moi"),
    ),
    RefFile(
        "co_quan.csv",
        "ref_co_quan",
        (
            ("ma_co_quan", _key),
            ("ten", _text),
            ("nhom", _enum("SO_NGANH", "UBND_HUYEN", "UBND_XA")),
            ("ma_dvhc", _text),
            ("hieu_luc_tu", _day),
            ("hieu_luc_den", _optional_day),
            ("email_dau_moi", _optional),
        ),
        ("ma_co_quan",),
    ),
    RefFile(
        "thon_ban.csv",
        "ref_thon_ban",
        (
            ("ma_thon", _key),
            ("ten", _text),
            ("ma_dvhc", _text),
            ("nam", _year),
            ("so_ho", _count),
            ("dan_so", _count),
            ("dan_so_tu_15", _count),
        ),
        ("ma_thon", "nam"),
    ),
)


def _read_file(folder: Path, spec: RefFile) -> Batch:
    path = folder / spec.name
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ReferenceDataError(f"{spec.name}: missing from {str(folder)!r}") from None
    sha = hashlib.sha256(data).hexdigest()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReferenceDataError(
            f"{spec.name}: not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip() for h in next(reader, [])]
    missing = [c for c in spec.column_names if c not in header]
    extra = [h for h in header if h not in spec.column_names]
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if missing or extra or duplicated:
        raise ReferenceDataError(
            f"{spec.name}: wrong header: missing columns {missing}, extra columns {extra}"
            + (f", repeated columns {duplicated}" if duplicated else "")
        )
    position = {c: header.index(c) for c in spec.column_names}
    rows: list[dict[str, Any]] = []
    rejected: list[Rejected] = []
    first_row_of: dict[tuple[Any, ...], int] = {}
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        raw = {c: (cells[i].strip() if i < len(cells) else "") for c, i in position.items()}
        key_text = "|".join(raw[k] for k in spec.key) or None
        problems: list[str] = []
        if len(cells) != len(header):
            problems.append(
                f"malformed_row: {spec.name} row {line}: {len(cells)} cells, not {len(header)}"
            )
        row: dict[str, Any] = {}
        for name, parse in spec.columns:
            try:
                row[name] = parse(name, raw[name])
            except _Bad as bad:
                problems.append(f"{bad.rule}: {spec.name} row {line}: {bad.message}")
        if not problems:
            ident = tuple(row[k] for k in spec.key)
            first = first_row_of.setdefault(ident, line)
            if first != line:
                shown = ", ".join(f"{k}={row[k]!r}" for k in spec.key)
                problems.append(
                    f"duplicate: {spec.name} row {line}: {shown} already on row {first}"
                )
        if problems:
            payload = {**raw, "file": spec.name, "row": line}
            rejected.append(Rejected(key_text, "; ".join(problems), payload))
            continue
        row["file_sha256"] = sha
        rows.append(row)
    return Batch(spec.dataset, rows, rejected, watermark=sha)


def _check_shares(batch: Batch) -> None:
    # A commune whose every row was rejected has a sum of 0: it must be named too.
    totals: dict[str, float] = {
        r.payload["ma_dvhc_cu"]: 0.0 for r in batch.rejected if r.payload.get("ma_dvhc_cu")
    }
    for row in batch.rows:
        totals[row["ma_dvhc_cu"]] = totals.get(row["ma_dvhc_cu"], 0.0) + row["ty_le_dan_so"]
    wrong = {c: t for c, t in sorted(totals.items()) if abs(t - 1.0) > SHARE_TOLERANCE}
    if wrong:
        shown = ", ".join(f"{c} (sum {t:.6g})" for c, t in wrong.items())
        raise ReferenceDataError(
            f"sap_xep_dvhc.csv: the population shares of old commune(s) {shown} do not add up to 1"
        )


def read_reference(folder: Path) -> dict[str, Batch]:
    """The four reference files of `folder`, validated, keyed by dataset name."""
    folder = Path(folder)
    batches = {spec.dataset: _read_file(folder, spec) for spec in FILES}
    _check_shares(batches["ref_sap_xep_dvhc"])
    return batches
