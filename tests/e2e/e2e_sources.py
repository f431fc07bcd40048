"""The generated demo sources, read and validated the way the contracts describe them.

Nothing here reads the warehouse or calls the pipeline's connectors: the portal's records come
from its own store (`portal_data.iter_payloads`, the JSON it serves), the document system from
its SQLite file, the carriers' feeds from their files, reference data from its CSV files. A
record that breaks its contract (a value outside an enumeration, a wrong type, a timestamp that
is not ISO 8601, a negative count, a village that thon_ban.csv lacks) is kept aside as invalid:
the contracts leave no way to count it.

Each usable record becomes a list of `Fact`s: the numerator and denominator it adds to one
indicator of one agency in one month (indicators.csv), with the keys of the records it depends
on, so that the computation can leave out records the pipeline quarantined for reasons the
contracts leave to judgement (e.g. a dossier finished before it was received).
"""

from __future__ import annotations

import csv
import json
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from sources.simulator.portal_data import iter_payloads

VIETNAM = timezone(timedelta(hours=7))
RecordKey = tuple[str, str]  # (raw dataset name, record key as the quarantine writes it)

# dvc-portal-api.md
KENH_NOP = ("TRUC_TUYEN", "TRUC_TIEP", "BUU_CHINH")
TRANG_THAI = (
    "MOI_TIEP_NHAN",
    "DANG_XU_LY",
    "CHO_BO_SUNG",
    "DA_HOAN_THANH",
    "DA_TRA_KET_QUA",
    "TU_CHOI",
    "DA_RUT",
)
FINISHED = ("DA_HOAN_THANH", "DA_TRA_KET_QUA", "TU_CHOI")  # indicators.csv, CQ-07 denominator
SATISFIED = ("RAT_HAI_LONG", "HAI_LONG")
MUC_DO_DANH_GIA = ("RAT_HAI_LONG", "HAI_LONG", "BINH_THUONG", "KHONG_HAI_LONG")
MUC_DO_THU_TUC = ("TOAN_TRINH", "MOT_PHAN", "KHONG")
LEVELS = ("TINH", "HUYEN", "XA")
# qlvb-database.md
CHIEU = ("DI", "DEN")
HINH_THUC_VB = ("DIEN_TU", "GIAY")
DO_MAT = ("THUONG", "MAT", "TOI_MAT", "TUYET_MAT")
HINH_THUC_HOP = ("TRUC_TUYEN", "TRUC_TIEP", "KET_HOP")
ONLINE_MEETING = ("TRUC_TUYEN", "KET_HOP")  # hybrid counts as online
# telecom-feeds.md
CARRIER_EXTENSIONS = {"vtl": "csv", "vnp": "xlsx", "mbf": "jsonl"}
UNREADABLE_FILE_KINDS = ("truncated_file", "legacy_encoding", "empty_file")


class Invalid(ValueError):
    """A value that breaks its source's contract."""


def month_of(day: date) -> date:
    return date(day.year, day.month, 1)


def local_time(text: Any) -> datetime:
    """An ISO 8601 timestamp as naive Vietnam local time (`Z` and other offsets converted)."""
    if not isinstance(text, str):
        raise Invalid(f"{text!r} is not an ISO 8601 string")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise Invalid(f"{text!r} is not ISO 8601") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(VIETNAM).replace(tzinfo=None)
    return moment


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise Invalid(f"{value!r} is not a boolean")


def _text(value: Any) -> str:
    if isinstance(value, str) and value:
        return value
    raise Invalid(f"{value!r} is not a non-empty string")


def _enum(value: Any, allowed: tuple[str, ...]) -> str:
    if value in allowed:
        return value
    raise Invalid(f"{value!r} not in {allowed}")


def _sql_flag(value: Any) -> bool:
    # SQLite stores BOOLEAN as 0/1.
    if value in (0, 1) and not isinstance(value, float):
        return bool(value)
    raise Invalid(f"{value!r} is not a boolean")


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise Invalid(f"{value!r} is not a count")
    return value


# --- Reference data -----------------------------------------------------------------------------
@dataclass(frozen=True)
class AgencyRef:
    code: str
    group: str
    valid_from: date
    valid_to: date | None

    def overlaps(self, first: date, last: date) -> bool:
        return self.valid_from <= last and (self.valid_to is None or self.valid_to >= first)


@dataclass(frozen=True)
class UnitRef:
    code: str
    level: str
    parent: str | None
    valid_from: date
    valid_to: date | None

    def overlaps(self, first: date, last: date) -> bool:
        return self.valid_from <= last and (self.valid_to is None or self.valid_to >= first)


@dataclass(frozen=True)
class VillageFigures:
    village: str
    commune: str  # the commune code the figures carry (in force on 1 January of their year)
    households: int
    people_15plus: int


@dataclass
class Reference:
    agencies: dict[str, AgencyRef]
    units: dict[str, UnitRef]
    lineage: list[tuple[str, str, float]]  # (old commune, new commune, population share)
    figures: dict[int, list[VillageFigures]]  # year -> villages

    @property
    def village_codes(self) -> frozenset[str]:
        return frozenset(f.village for rows in self.figures.values() for f in rows)

    def figures_for(self, year: int) -> tuple[int, list[VillageFigures]]:
        """The figures of `year`, else of the latest earlier year, else of the first year."""
        years = sorted(self.figures)
        earlier = [y for y in years if y <= year]
        chosen = earlier[-1] if earlier else years[0]
        return chosen, self.figures[chosen]


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _optional_date(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def read_reference(folder: Path) -> Reference:
    agencies = {
        r["ma_co_quan"]: AgencyRef(
            r["ma_co_quan"],
            r["nhom"],
            date.fromisoformat(r["hieu_luc_tu"]),
            _optional_date(r["hieu_luc_den"]),
        )
        for r in _csv_rows(folder / "co_quan.csv")
    }
    units = {
        r["ma_dvhc"]: UnitRef(
            r["ma_dvhc"],
            r["cap"],
            r["ma_dvhc_cha"] or None,
            date.fromisoformat(r["hieu_luc_tu"]),
            _optional_date(r["hieu_luc_den"]),
        )
        for r in _csv_rows(folder / "don_vi_hanh_chinh.csv")
    }
    lineage = [
        (r["ma_dvhc_cu"], r["ma_dvhc_moi"], float(r["ty_le_dan_so"]))
        for r in _csv_rows(folder / "sap_xep_dvhc.csv")
    ]
    figures: dict[int, list[VillageFigures]] = defaultdict(list)
    for r in _csv_rows(folder / "thon_ban.csv"):
        figures[int(r["nam"])].append(
            VillageFigures(r["ma_thon"], r["ma_dvhc"], int(r["so_ho"]), int(r["dan_so_tu_15"]))
        )
    return Reference(agencies, units, lineage, dict(figures))


# --- Facts of agency indicators -------------------------------------------------------------------
@dataclass(frozen=True)
class Fact:
    """What records add to one indicator of one agency in one month."""

    depends_on: tuple[RecordKey, ...]
    indicator: str
    agency: str
    month: date
    numerator: int
    denominator: int


@dataclass(frozen=True)
class Activity:
    """A dated record of a source: the extent of a source's periods is where its data lies."""

    depends_on: tuple[RecordKey, ...]
    source: str
    day: date


@dataclass(frozen=True)
class Procedure:
    code: str
    level: str
    agency: str | None
    eligible: bool
    online_level: str
    fee: bool
    in_force: bool


@dataclass
class AgencySources:
    facts: list[Fact] = field(default_factory=list)
    activity: list[Activity] = field(default_factory=list)
    procedures: dict[str, Procedure] = field(default_factory=dict)
    # procedure code -> the fields whose value differs between copies served with the same
    # updated_at (the contract cannot say which copy is right)
    ambiguous_procedures: dict[str, set[str]] = field(default_factory=dict)
    invalid: set[RecordKey] = field(default_factory=set)


def _latest_versions(records: list[dict], key: str) -> tuple[dict[str, dict], dict[str, set[str]]]:
    """The latest version of each record by `updated_at`, and the keys served twice with the
    same `updated_at` and different content (field names that differ)."""
    latest: dict[str, dict] = {}
    ambiguous: dict[str, set[str]] = {}
    for record in records:
        code = record[key]
        seen = latest.get(code)
        if seen is None or record["_version"] > seen["_version"]:
            latest[code] = record
        elif record["_version"] == seen["_version"] and record != seen:
            ambiguous.setdefault(code, set()).update(
                k for k in record.keys() | seen.keys() if record.get(k) != seen.get(k)
            )
    return latest, ambiguous


def _read_procedures(store: Path, out: AgencySources) -> None:
    records = []
    for item in iter_payloads(store, "procedures"):
        try:
            level = _enum(item.get("cap_thuc_hien"), LEVELS)
            agency = item.get("ma_co_quan")
            if agency is not None or level == "TINH":
                agency = _text(agency)  # null only for HUYEN and XA procedures
            records.append(
                {
                    "code": _text(item.get("ma_thu_tuc")),
                    "level": level,
                    "agency": agency,
                    "eligible": _flag(item.get("du_dieu_kien_toan_trinh")),
                    "online_level": _enum(item.get("muc_do"), MUC_DO_THU_TUC),
                    "fee": _flag(item.get("co_phi")),
                    "in_force": _flag(item.get("hieu_luc")),
                    "_version": local_time(item.get("updated_at")),
                }
            )
        except Invalid:
            out.invalid.add(("dvc_procedures", str(item.get("ma_thu_tuc"))))
    latest, ambiguous = _latest_versions(records, "code")
    out.ambiguous_procedures = ambiguous
    out.procedures = {
        code: Procedure(**{k: v for k, v in r.items() if k != "_version"})
        for code, r in latest.items()
    }


@dataclass(frozen=True)
class Dossier:
    key: str
    procedure: str
    agency: str
    online: bool
    received: datetime
    due: datetime | None
    finished: datetime | None
    status: str
    paid_online: bool
    result_digitised: bool


def _dossier(item: dict) -> Dossier:
    for name in ("so_hoa_ho_so", "thanh_toan_truc_tuyen", "so_hoa_ket_qua"):
        _flag(item.get(name))
    _text(item.get("ma_dvhc"))
    optional = {
        name: None if item.get(name) is None else local_time(item[name])
        for name in ("han_xu_ly", "ngay_hoan_thanh", "ngay_tra_ket_qua")
    }
    local_time(item.get("updated_at"))
    return Dossier(
        key=_text(item.get("ma_ho_so")),
        procedure=_text(item.get("ma_thu_tuc")),
        agency=_text(item.get("ma_co_quan")),
        online=_enum(item.get("kenh_nop"), KENH_NOP) == "TRUC_TUYEN",
        received=local_time(item.get("ngay_tiep_nhan")),
        due=optional["han_xu_ly"],
        finished=optional["ngay_hoan_thanh"],
        status=_enum(item.get("trang_thai"), TRANG_THAI),
        paid_online=item["thanh_toan_truc_tuyen"],
        result_digitised=item["so_hoa_ket_qua"],
    )


def _read_dossiers(store: Path, out: AgencySources) -> dict[str, Dossier]:
    dossiers: dict[str, tuple[str, Dossier]] = {}
    for item in iter_payloads(store, "dossiers"):
        try:
            dossier = _dossier(item)
        except Invalid:
            out.invalid.add(("dvc_dossiers", str(item.get("ma_ho_so"))))
            continue
        version = item["updated_at"]
        seen = dossiers.get(dossier.key)
        if seen is None or local_time(version) > local_time(seen[0]):
            dossiers[dossier.key] = (version, dossier)
    return {key: dossier for key, (_, dossier) in dossiers.items()}


def _dossier_facts(dossiers: dict[str, Dossier], out: AgencySources) -> None:
    for d in dossiers.values():
        keys = (("dvc_dossiers", d.key),)
        received = month_of(d.received.date())
        out.activity.append(Activity(keys, "dvc", d.received.date()))
        out.facts.append(Fact(keys, "CQ-06", d.agency, received, int(d.online), 1))
        procedure = out.procedures.get(d.procedure)
        if procedure is not None and procedure.fee:
            if "fee" in out.ambiguous_procedures.get(d.procedure, ()):
                raise AssertionError(f"dossier {d.key}: whether {d.procedure} has a fee is unknown")
            # a procedure left out of the catalogue takes its dossiers out of CQ-08 only
            fee_keys = (*keys, ("dvc_procedures", d.procedure))
            out.facts.append(Fact(fee_keys, "CQ-08", d.agency, received, int(d.paid_online), 1))
        if d.finished is not None and d.status in FINISHED:
            on_time = d.due is None or d.finished <= d.due  # dvc-portal-api.md, "on time"
            finished = month_of(d.finished.date())
            out.activity.append(Activity(keys, "dvc", d.finished.date()))
            out.facts.append(Fact(keys, "CQ-07", d.agency, finished, int(on_time), 1))
            out.facts.append(Fact(keys, "CQ-09", d.agency, finished, int(d.result_digitised), 1))


def _rating_facts(store: Path, dossiers: dict[str, Dossier], out: AgencySources) -> None:
    latest: dict[str, tuple[datetime, dict]] = {}
    for item in iter_payloads(store, "ratings"):
        key = str(item.get("ma_danh_gia"))
        try:
            parsed = {
                "dossier": _text(item.get("ma_ho_so")),
                "level": _enum(item.get("muc_do"), MUC_DO_DANH_GIA),
                "rated": local_time(item.get("ngay_danh_gia")),
            }
            version = local_time(item.get("updated_at"))
        except Invalid:
            out.invalid.add(("dvc_ratings", key))
            continue
        if key not in latest or version > latest[key][0]:
            latest[key] = (version, parsed)
    for key, (_, rating) in latest.items():
        out.activity.append(Activity((("dvc_ratings", key),), "dvc", rating["rated"].date()))
        dossier = dossiers.get(rating["dossier"])
        if dossier is None:
            continue  # a rating of a dossier the portal does not have counts for no agency
        keys = (("dvc_ratings", key), ("dvc_dossiers", dossier.key))
        satisfied = int(rating["level"] in SATISFIED)
        month = month_of(rating["rated"].date())
        out.facts.append(Fact(keys, "CQ-10", dossier.agency, month, satisfied, 1))


def _qlvb_rows(connection: sqlite3.Connection, table: str) -> list[sqlite3.Row]:
    return connection.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()


def _read_qlvb(path: Path, out: AgencySources) -> None:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    connection.row_factory = sqlite3.Row
    try:
        for row in _qlvb_rows(connection, "van_ban"):
            keys = (("qlvb_van_ban", str(row["id"])),)
            try:
                direction = _enum(row["chieu"], CHIEU)
                form = _enum(row["hinh_thuc"], HINH_THUC_VB)
                secrecy = _enum(row["do_mat"], DO_MAT)
                signed = _sql_flag(row["ky_so"])
                deleted = _sql_flag(row["da_xoa"])
                day = date.fromisoformat(row["ngay_van_ban"])
            except (Invalid, TypeError, ValueError):
                out.invalid.add(keys[0])
                continue
            if deleted:
                continue
            out.activity.append(Activity(keys, "qlvb", day))
            if row["so_ky_hieu"] is None:
                continue  # a draft is not an issued document
            month, agency = month_of(day), row["ma_don_vi"]
            if secrecy == "THUONG":
                out.facts.append(Fact(keys, "CQ-01", agency, month, int(form == "DIEN_TU"), 1))
            if direction == "DI" and form == "DIEN_TU":
                out.facts.append(Fact(keys, "CQ-02", agency, month, int(signed), 1))
        for row in _qlvb_rows(connection, "ho_so_cong_viec"):
            keys = (("qlvb_ho_so_cong_viec", str(row["id"])),)
            try:
                online, secret = _sql_flag(row["xu_ly_tren_mang"]), _sql_flag(row["bi_mat"])
                deleted = _sql_flag(row["da_xoa"])
                day = date.fromisoformat(row["ngay_mo"])
            except (Invalid, TypeError, ValueError):
                out.invalid.add(keys[0])
                continue
            if deleted:
                continue
            out.activity.append(Activity(keys, "qlvb", day))
            if not secret:
                out.facts.append(
                    Fact(keys, "CQ-03", row["ma_don_vi"], month_of(day), int(online), 1)
                )
        for row in _qlvb_rows(connection, "cuoc_hop"):
            keys = (("qlvb_cuoc_hop", str(row["id"])),)
            try:
                form = _enum(row["hinh_thuc"], HINH_THUC_HOP)
                three_level = _sql_flag(row["ba_cap"])
                deleted = _sql_flag(row["da_xoa"])
                day = date.fromisoformat(row["ngay_hop"])
            except (Invalid, TypeError, ValueError):
                out.invalid.add(keys[0])
                continue
            if deleted:
                continue
            out.activity.append(Activity(keys, "qlvb", day))
            if three_level:
                online = int(form in ONLINE_MEETING)
                out.facts.append(
                    Fact(keys, "CQ-04", row["ma_don_vi_chu_tri"], month_of(day), online, 1)
                )
    finally:
        connection.close()


def read_agency_sources(data: Path) -> AgencySources:
    out = AgencySources()
    store = data / "portal.sqlite"
    _read_procedures(store, out)
    dossiers = _read_dossiers(store, out)
    _dossier_facts(dossiers, out)
    _rating_facts(store, dossiers, out)
    _read_qlvb(data / "qlvb.sqlite", out)
    return out


# --- Carriers' feeds ------------------------------------------------------------------------------
@dataclass(frozen=True)
class CoverageRow:
    key: str  # "<carrier>|<YYYY-MM>|<village>", as the manifest and the quarantine name it
    village: str
    fiber: bool
    fiber_households: int
    g4: bool
    g5: bool
    smartphone: int


@dataclass
class TelecomSources:
    reported_months: set[date]  # months with at least one readable carrier file
    read_months: set[date]  # months whose files were read (the sample)
    rows: dict[date, list[CoverageRow]]  # month -> valid rows of every carrier's current file
    invalid: set[RecordKey] = field(default_factory=set)


def _vtl_rows(path: Path) -> list[dict[str, Any]]:
    text = path.read_bytes().decode("utf-8-sig")
    reader = csv.DictReader(text.splitlines(), delimiter=";")
    return [
        {
            "period": r["ky_bao_cao"],
            "village": r["ma_thon"],
            "fiber": r["co_cap_quang"],
            "fiber_households": r["so_ho_cap_quang"],
            "g4": r["phu_song_4g"],
            "g5": r["phu_song_5g"],
            "smartphone": r["so_thue_bao_smartphone"],
        }
        for r in reader
    ]


def _vnp_rows(path: Path, period: str) -> list[dict[str, Any]]:
    book = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = book["BaoCao"]
        rows = list(sheet.iter_rows(values_only=True))
    finally:
        book.close()
    header = list(rows[2])
    out = []
    for values in rows[3:]:
        if values[0] is None or str(values[0]).startswith("Tổng cộng"):
            continue
        r = dict(zip(header, values, strict=False))
        out.append(
            {
                "period": period,
                "village": r["Mã thôn"],
                "fiber": r["Cáp quang"],
                "fiber_households": r["Số hộ dùng cáp quang"],
                "g4": r["Sóng 4G"],
                "g5": r["Sóng 5G"],
                "smartphone": r["Thuê bao smartphone"],
            }
        )
    return out


def _mbf_rows(path: Path) -> list[dict[str, Any]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        out.append(
            {
                "period": r["period"],
                "village": r["village_code"],
                "fiber": r["fiber"],
                "fiber_households": r["fiber_households"],
                "g4": r["coverage"]["4g"],
                "g5": r["coverage"]["5g"],
                "smartphone": r["subscribers"]["smartphone"],
            }
        )
    return out


_FLAGS = {"vtl": {"1": True, "0": False}, "vnp": {"Có": True, "Không": False}}


def _feed_flag(carrier: str, value: Any) -> bool:
    if carrier == "mbf":
        return _flag(value)
    if value not in _FLAGS[carrier]:
        raise Invalid(f"{value!r} is not a flag of {carrier}")
    return _FLAGS[carrier][value]


def _feed_count(carrier: str, value: Any) -> int:
    if carrier == "vtl":
        if not isinstance(value, str) or not value.lstrip("-").isdigit():
            raise Invalid(f"{value!r} is not a whole number")
        value = int(value)
    return _count(value)


def _coverage_row(carrier: str, period: str, raw: dict, villages: frozenset[str]) -> CoverageRow:
    village = str(raw["village"])
    if raw["period"] != period:
        raise Invalid(f"row of {raw['period']!r} in the file of {period}")
    if village not in villages:
        raise Invalid(f"village {village} is not in thon_ban.csv")
    return CoverageRow(
        key=f"{carrier}|{period}|{village}",
        village=village,
        fiber=_feed_flag(carrier, raw["fiber"]),
        fiber_households=_feed_count(carrier, raw["fiber_households"]),
        g4=_feed_flag(carrier, raw["g4"]),
        g5=_feed_flag(carrier, raw["g5"]),
        smartphone=_feed_count(carrier, raw["smartphone"]),
    )


def _current_feed_files(folder: Path, broken: set[str]) -> dict[tuple[str, date], Path]:
    """The newest file (by modification time) of each carrier and month, broken ones left out."""
    newest: dict[tuple[str, date], Path] = {}
    for path in folder.iterdir():
        carrier, _, rest = path.name.partition("_")
        stem, _, extension = rest.partition(".")
        if CARRIER_EXTENSIONS.get(carrier) != extension or len(stem) != 7:
            continue
        try:
            month = date(int(stem[:4]), int(stem[5:7]), 1)
        except ValueError:
            continue  # e.g. a month 13: not a feed
        key = (carrier, month)
        if key not in newest or path.stat().st_mtime > newest[key].stat().st_mtime:
            newest[key] = path
    return {key: path for key, path in newest.items() if path.name not in broken}


def read_telecom(data: Path, reference: Reference, sample: set[date]) -> TelecomSources:
    """Every carrier's current file of the sampled months; files the manifest says were
    broken on purpose (truncated, wrong encoding, empty) cannot be read and count nowhere."""
    manifest = json.loads((data / "manifest.json").read_text(encoding="utf-8"))["anomalies"]
    broken = {
        a["record_key"]
        for a in manifest
        if a["source"] == "telecom" and a["kind"] in UNREADABLE_FILE_KINDS
    }
    files = _current_feed_files(data / "telecom", broken)
    villages = reference.village_codes
    out = TelecomSources({month for _, month in files}, set(), defaultdict(list))
    sample = sample | {max(out.reported_months)}  # the latest month: coverage needs it
    for (carrier, month), path in sorted(files.items()):
        if month not in sample:
            continue
        out.read_months.add(month)
        period = f"{month.year:04d}-{month.month:02d}"
        if carrier == "vtl":
            raws = _vtl_rows(path)
        elif carrier == "vnp":
            raws = _vnp_rows(path, period)
        else:
            raws = _mbf_rows(path)
        for raw in raws:
            try:
                out.rows[month].append(_coverage_row(carrier, period, raw, villages))
            except Invalid:
                out.invalid.add(("telecom_coverage", f"{carrier}|{period}|{raw['village']}"))
    return out


def telecom_fault_months(data: Path) -> set[date]:
    """Months of the planted feed faults (manifest keys name the file or the row)."""
    manifest = json.loads((data / "manifest.json").read_text(encoding="utf-8"))["anomalies"]
    months = set()
    for a in manifest:
        if a["source"] != "telecom" or not a["record_key"]:
            continue
        key = a["record_key"]
        text = key.split("|")[1] if "|" in key else key.partition("_")[2][:7]
        try:
            months.add(date(int(text[:4]), int(text[5:7]), 1))
        except ValueError:
            continue  # e.g. vtl_2026-13.csv
    return months
