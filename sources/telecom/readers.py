"""Readers of the three carriers' monthly coverage feeds (contracts/telecom-feeds.md).

Each reader turns one file into the rows of `telecom_coverage`: the `vtl` header's
Vietnamese names, plus `nha_mang`, `file_name`, `file_sha256` and `row_number` (the line
of a text file, the sheet row of a workbook). A file that cannot be read as a whole raises
`FeedFileError` and none of its rows are used: empty, truncated, not UTF-8, unreadable
workbook, headers other than the contract's, or a report period inside the file that is not
the one of its name. A row that can be read but is wrong is `Rejected` with record key
`<carrier>|<period>|<village>` and one of the rules `missing_key` (no village code),
`unparseable_number`, `wrong_type` (a flag that is not a flag), `negative_count`,
`smartphone_exceeds_subscribers`, `malformed_row` (a line with the wrong number of
fields). Whether a village code exists is not decided here: that needs `thon_ban.csv`, and
the landing's quality step quarantines unknown villages.

How these readers read the contract where it leaves room:
- `vtl`: the text must decode as UTF-8; the byte-order mark is skipped when present but
  not required (its content is codes and numbers: bytes that decode as UTF-8 are read
  right). A UTF-16 export or a legacy code page fails the decoding. The last line must
  end with a line end, otherwise the file is taken as cut short. `,` is the decimal mark
  and `.` may group thousands (`1.234` is 1234); counts must be whole numbers.
- `vnp`: the title's `MM/YYYY` is the file's period; headers are compared after Unicode
  NFC normalisation and stripping, in any order; blank rows are skipped, and so is the
  `Tổng cộng` row.
- `mbf`: any line that is not JSON makes the file unreadable (the last one: truncated);
  numbers must be JSON numbers (whole), flags JSON booleans; unknown keys are ignored.
- Two rows for one village in one file are both kept (they are different rows of the file);
  the quality step decides about duplicates.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable
from typing import Any

import orjson

from sources.batch import Batch, Rejected
from sources.telecom.files import FeedFile

DATASET = "telecom_coverage"
COLUMNS = (
    "nha_mang",
    "ky_bao_cao",
    "ma_thon",
    "co_cap_quang",
    "so_ho_cap_quang",
    "phu_song_4g",
    "phu_song_5g",
    "so_thue_bao",
    "so_thue_bao_smartphone",
    "file_name",
    "file_sha256",
    "row_number",
)
VTL_HEADER = (
    "ky_bao_cao",
    "ma_thon",
    "co_cap_quang",
    "so_ho_cap_quang",
    "phu_song_4g",
    "phu_song_5g",
    "so_thue_bao",
    "so_thue_bao_smartphone",
)
# vnp's headers and the column each one fills.
VNP_HEADERS = {
    "Mã thôn": "ma_thon",
    "Cáp quang": "co_cap_quang",
    "Số hộ dùng cáp quang": "so_ho_cap_quang",
    "Sóng 4G": "phu_song_4g",
    "Sóng 5G": "phu_song_5g",
    "Thuê bao di động": "so_thue_bao",
    "Thuê bao smartphone": "so_thue_bao_smartphone",
}
VNP_SHEET = "BaoCao"
VNP_TOTAL = "Tổng cộng"
COUNTS = ("so_ho_cap_quang", "so_thue_bao", "so_thue_bao_smartphone")
FLAGS = ("co_cap_quang", "phu_song_4g", "phu_song_5g")
BOM = b"\xef\xbb\xbf"
_GROUPED = re.compile(r"^-?\d{1,3}(\.\d{3})+(,\d+)?$")
_TITLE_PERIOD = re.compile(r"(\d{1,2})\s*/\s*(\d{4})")


class FeedFileError(ValueError):
    """A feed file that cannot be read as a whole; `reason` says why, `file_name` which."""

    def __init__(self, file_name: str, reason: str) -> None:
        self.file_name = file_name
        self.reason = reason
        super().__init__(f"{file_name}: {reason}")


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _json_safe(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return str(value)


# -- values -------------------------------------------------------------------------------
def _count_text(name: str, text: Any, problems: list[str]) -> int | None:
    """A count written as text with `,` decimal mark (and maybe `.` grouping)."""
    if isinstance(text, bool):
        problems.append(f"wrong_type: {name}={_shown(text)} is not a number")
        return None
    if isinstance(text, int | float):
        return _whole(name, text, problems)
    value = str(text or "").strip().replace("\u00a0", "").replace(" ", "")
    if _GROUPED.match(value):
        value = value.replace(".", "")
    try:
        number = float(value.replace(",", "."))
    except ValueError:
        problems.append(f"unparseable_number: {name}={_shown(text)}")
        return None
    return _whole(name, number, problems, shown=text)


def _whole(name: str, number: float, problems: list[str], shown: Any = None) -> int | None:
    if number != number or number in (float("inf"), float("-inf")) or number != int(number):
        problems.append(
            f"unparseable_number: {name}={_shown(number if shown is None else shown)}"
            " is not a whole number"
        )
        return None
    return int(number)


def _json_count(name: str, value: Any, problems: list[str]) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        absent = "absent" if value is None else _shown(value)
        problems.append(f"wrong_type: {name}={absent} is not a JSON number")
        return None
    return _whole(name, value, problems)


def _json_flag(name: str, value: Any, problems: list[str]) -> bool | None:
    if not isinstance(value, bool):
        absent = "absent" if value is None else _shown(value)
        problems.append(f"wrong_type: {name}={absent} is not a JSON boolean")
        return None
    return value


def _mapped_flag(
    name: str, value: Any, mapping: dict[str, bool], problems: list[str]
) -> bool | None:
    key = _nfc(str(value)) if value is not None else ""
    if key in mapping:
        return mapping[key]
    problems.append(f"wrong_type: {name}={_shown(value)} not in {list(mapping)}")
    return None


# -- rows ---------------------------------------------------------------------------------
def _finish(
    file: FeedFile,
    sha: str,
    row_number: int,
    values: dict[str, Any],
    problems: list[str],
    raw: dict[str, Any],
    rows: list[dict[str, Any]],
    rejected: list[Rejected],
) -> None:
    """Apply the row rules to parsed values; append a row or a rejection."""
    village = values.get("ma_thon")
    if not village:
        problems.insert(0, f"missing_key: ma_thon={_shown(raw.get('ma_thon', village))}")
    for name in COUNTS:
        count = values.get(name)
        if count is not None and count < 0:
            problems.append(f"negative_count: {name}={count}")
    total, smart = values.get("so_thue_bao"), values.get("so_thue_bao_smartphone")
    if total is not None and smart is not None and smart > total >= 0:
        problems.append(
            f"smartphone_exceeds_subscribers: so_thue_bao_smartphone={smart} > so_thue_bao={total}"
        )
    if problems:
        payload = {**_json_safe(raw), "file_name": file.name, "row_number": row_number}
        key = f"{file.carrier}|{file.period}|{village or ''}"
        rejected.append(Rejected(key, "; ".join(problems), payload))
        return
    rows.append(
        {
            **{c: values.get(c) for c in COLUMNS},
            "nha_mang": file.carrier,
            "ky_bao_cao": file.period,
            "file_name": file.name,
            "file_sha256": sha,
            "row_number": row_number,
        }
    )


def _check_period(file: FeedFile, found: Any, where: str) -> None:
    if found != file.period:
        raise FeedFileError(
            file.name,
            f"period_mismatch: {where} says {_shown(found)}, the file name says {file.period!r}",
        )


# -- vtl: CSV -----------------------------------------------------------------------------
def _read_vtl(file: FeedFile, data: bytes, sha: str) -> Batch:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        offset = exc.start + (len(BOM) if data.startswith(BOM) else 0)
        what = (
            "UTF-16 (byte-order mark FF FE or FE FF)"
            if data[:2] in (b"\xff\xfe", b"\xfe\xff")
            else (f"byte 0x{data[offset]:02x} at offset {offset} is not UTF-8")
        )
        raise FeedFileError(
            file.name, f"encoding: not UTF-8 ({what}); a legacy or other encoding"
        ) from None
    if not text.strip():
        raise FeedFileError(file.name, "empty_file: no header and no rows")
    if not text.endswith(("\n", "\r")):
        last = text.count("\n") + 1
        raise FeedFileError(file.name, f"truncated: line {last} (the last) has no line end")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    header = tuple(_nfc(h) for h in next(reader))
    if header != VTL_HEADER:
        missing = [h for h in VTL_HEADER if h not in header]
        extra = [h for h in header if h not in VTL_HEADER]
        raise FeedFileError(
            file.name,
            f"wrong_headers: expected {';'.join(VTL_HEADER)}; missing {missing}, extra {extra}"
            + ("" if missing or extra else ", order differs"),
        )
    rows: list[dict[str, Any]] = []
    rejected: list[Rejected] = []
    for fields in reader:
        line = reader.line_num
        if not any(f.strip() for f in fields):
            continue
        raw = dict(zip(VTL_HEADER, fields, strict=False))
        if len(fields) != len(VTL_HEADER):
            raw["_fields"] = len(fields)
            problems = [f"malformed_row: line {line} has {len(fields)} fields, not 8"]
            _finish(
                file,
                sha,
                line,
                {"ma_thon": raw.get("ma_thon", "").strip()},
                problems,
                raw,
                rows,
                rejected,
            )
            continue
        _check_period(file, raw["ky_bao_cao"].strip(), f"line {line}")
        problems: list[str] = []
        values: dict[str, Any] = {"ma_thon": raw["ma_thon"].strip()}
        for name in FLAGS:
            values[name] = _mapped_flag(name, raw[name], {"0": False, "1": True}, problems)
        for name in COUNTS:
            values[name] = _count_text(name, raw[name], problems)
        _finish(file, sha, line, values, problems, raw, rows, rejected)
    if not rows and not rejected:
        raise FeedFileError(file.name, "empty_file: a header but no rows")
    return Batch(DATASET, rows, rejected)


# -- vnp: Excel ---------------------------------------------------------------------------
def _read_vnp(file: FeedFile, data: bytes, sha: str) -> Batch:
    import openpyxl  # imported here: only this reader needs it
    from openpyxl.utils.exceptions import InvalidFileException

    if not data:
        raise FeedFileError(file.name, "empty_file: 0 bytes")
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise FeedFileError(
            file.name, f"unreadable: not a complete .xlsx workbook ({type(exc).__name__})"
        ) from None
    try:
        if VNP_SHEET not in book.sheetnames:
            raise FeedFileError(
                file.name, f"wrong_headers: no sheet {VNP_SHEET!r} (sheets: {book.sheetnames})"
            )
        try:
            table = list(book[VNP_SHEET].iter_rows(values_only=True))
        except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
            raise FeedFileError(
                file.name, f"unreadable: the sheet cannot be read ({type(exc).__name__})"
            ) from None
    finally:
        book.close()
    return _vnp_rows(file, table, sha)


def _vnp_rows(file: FeedFile, table: list[tuple[Any, ...]], sha: str) -> Batch:
    if not any(any(c not in (None, "") for c in row) for row in table):
        raise FeedFileError(file.name, "empty_file: the sheet is empty")
    title = table[0][0] if table and table[0] else None
    match = _TITLE_PERIOD.search(str(title or ""))
    if match is None:
        raise FeedFileError(file.name, f"wrong_headers: row 1 title {_shown(title)} has no MM/YYYY")
    _check_period(file, f"{match[2]}-{int(match[1]):02d}", "the title (row 1)")
    header = [_nfc(str(h)) if h is not None else "" for h in (table[2] if len(table) > 2 else ())]
    while header and header[-1] == "":
        header.pop()
    missing = [h for h in VNP_HEADERS if h not in header]
    extra = [h for h in header if h not in VNP_HEADERS]
    if missing or extra:
        raise FeedFileError(file.name, f"wrong_headers: row 3 missing {missing}, extra {extra}")
    position = {VNP_HEADERS[h]: header.index(h) for h in VNP_HEADERS}
    flags = {"Có": True, "Không": False}
    rows: list[dict[str, Any]] = []
    rejected: list[Rejected] = []
    for number, cells in enumerate(table[3:], start=4):
        if not any(c not in (None, "") for c in cells):
            continue
        if isinstance(cells[0], str) and _nfc(cells[0]).startswith(VNP_TOTAL):
            continue  # the totals row is not data
        raw = {c: (cells[i] if i < len(cells) else None) for c, i in position.items()}
        problems: list[str] = []
        code = raw["ma_thon"]
        values: dict[str, Any] = {"ma_thon": "" if code is None else _nfc(str(code))}
        for name in FLAGS:
            values[name] = _mapped_flag(name, raw[name], flags, problems)
        for name in COUNTS:
            values[name] = _count_text(name, raw[name], problems)
        _finish(file, sha, number, values, problems, raw, rows, rejected)
    if not rows and not rejected:
        raise FeedFileError(file.name, "empty_file: headers but no rows")
    return Batch(DATASET, rows, rejected)


# -- mbf: JSON lines ----------------------------------------------------------------------
def _read_mbf(file: FeedFile, data: bytes, sha: str) -> Batch:
    if not data.strip():
        raise FeedFileError(file.name, "empty_file: no lines")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FeedFileError(
            file.name, f"encoding: byte 0x{data[exc.start]:02x} at offset {exc.start} is not UTF-8"
        ) from None
    lines = text.splitlines()
    last = max(i for i, line in enumerate(lines, start=1) if line.strip())
    rows: list[dict[str, Any]] = []
    rejected: list[Rejected] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            what = "truncated" if number == last else "invalid_json"
            raise FeedFileError(file.name, f"{what}: line {number} is not complete JSON") from None
        if not isinstance(obj, dict):
            problems = [f"malformed_row: line {number} is not a JSON object"]
            _finish(file, sha, number, {}, problems, {"line": obj}, rows, rejected)
            continue
        _check_period(file, obj.get("period"), f"line {number}")
        problems: list[str] = []
        code = obj.get("village_code")
        values: dict[str, Any] = {"ma_thon": code.strip() if isinstance(code, str) else None}
        if code is not None and not isinstance(code, str):
            problems.append(f"wrong_type: village_code={_shown(code)} is not a string")
        coverage = obj.get("coverage") if isinstance(obj.get("coverage"), dict) else {}
        subscribers = obj.get("subscribers") if isinstance(obj.get("subscribers"), dict) else {}
        values["co_cap_quang"] = _json_flag("fiber", obj.get("fiber"), problems)
        values["so_ho_cap_quang"] = _json_count(
            "fiber_households", obj.get("fiber_households"), problems
        )
        values["phu_song_4g"] = _json_flag("coverage.4g", coverage.get("4g"), problems)
        values["phu_song_5g"] = _json_flag("coverage.5g", coverage.get("5g"), problems)
        values["so_thue_bao"] = _json_count("subscribers.total", subscribers.get("total"), problems)
        values["so_thue_bao_smartphone"] = _json_count(
            "subscribers.smartphone", subscribers.get("smartphone"), problems
        )
        raw = {**obj, "ma_thon": code}
        _finish(file, sha, number, values, problems, raw, rows, rejected)
    return Batch(DATASET, rows, rejected)


_READERS: dict[str, Callable[[FeedFile, bytes, str], Batch]] = {
    "vtl": _read_vtl,
    "vnp": _read_vnp,
    "mbf": _read_mbf,
}


def read_feed(file: FeedFile) -> Batch:
    """The rows of one feed file (dataset `telecom_coverage`); `FeedFileError` if unreadable.

    The bytes are read once; their SHA-256 must still be the one of the scan (a file that a
    carrier replaced in between is read at the next scan, as the new version it is).
    """
    if file.problem is not None or file.carrier not in _READERS:
        raise FeedFileError(file.name, file.problem or "not_a_feed: unknown carrier")
    try:
        data = file.path.read_bytes()
    except OSError as exc:
        raise FeedFileError(file.name, f"unreadable: {type(exc).__name__}") from None
    sha = hashlib.sha256(data).hexdigest()
    if sha != file.sha256:
        raise FeedFileError(file.name, "changed: the file changed after the scan; scan again")
    return _READERS[file.carrier](file, data, sha)
