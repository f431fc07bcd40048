"""The document-management system's database (QLVB), as its contract describes it.

`write_qlvb` drops and recreates the four tables of `qlvb-database.md` on any SQLAlchemy URL
and fills them deterministically from a seed, streaming rows in chunks so that four years of a
real province (about 6 M documents) fit in bounded memory. `keep_updating` then plays the live
system: it keeps touching random rows while the pipeline reads.
"""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import operator
import random
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    create_engine,
    func,
    select,
)
from sqlalchemy.engine import make_url

from sources.batch import Progress, no_progress
from sources.simulator.manifest import Manifest
from sources.simulator.world import REORGANISATION

if TYPE_CHECKING:
    from sources.simulator.world import Agency, World

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CHUNK_ROWS = 10_000

# Volumes at scale 1 (a real province).
DOCUMENTS_PER_YEAR = 1_500_000
MEETINGS_PER_YEAR = 3_000
MIN_MEETINGS_PER_YEAR = 150  # so that even a tiny demo has a few dozen meetings
WORKING_DAYS_PER_YEAR = 248

LEVEL_OF_GROUP = {"SO_NGANH": "TINH", "UBND_HUYEN": "HUYEN", "UBND_XA": "XA"}
# Departments and district committees handle far more paperwork than a commune committee;
# the merged communes of July 2025 are larger than the old ones.
GROUP_WEIGHT = {"SO_NGANH": 5.0, "UBND_HUYEN": 6.0, "UBND_XA": 1.0}
NEW_COMMUNE_WEIGHT = 2.0
# CQ-03 targets for 2025 (targets.csv) are what the agencies aim at: the simulated shares sit
# around them so that some agencies meet them and some miss.
ONLINE_FILES_2025 = {"TINH": 0.90, "HUYEN": 0.80, "XA": 0.60}

VALID_CHIEU = ("DI", "DEN")
VALID_HINH_THUC_VB = ("DIEN_TU", "GIAY")
VALID_DO_MAT = ("THUONG", "MAT", "TOI_MAT", "TUYET_MAT")
VALID_HINH_THUC_HOP = ("TRUC_TUYEN", "TRUC_TIEP", "KET_HOP")
VALID_CAP = ("TINH", "HUYEN", "XA")

# Lunar New Year's day; the offices close around it and work slowly in the weeks around.
TET = {
    2022: date(2022, 2, 1),
    2023: date(2023, 1, 22),
    2024: date(2024, 2, 10),
    2025: date(2025, 1, 29),
    2026: date(2026, 2, 17),
    2027: date(2027, 2, 6),
    2028: date(2028, 1, 26),
    2029: date(2029, 2, 13),
    2030: date(2030, 2, 3),
}
FIXED_HOLIDAYS = ((1, 1), (4, 30), (5, 1), (9, 2))
TREND_START = date(2023, 1, 1)
TREND_END = date(2026, 12, 31)


def define_tables(metadata: MetaData) -> dict[str, Table]:
    """The four tables exactly as the contract names them, with portable types and no index."""
    don_vi = Table(
        "don_vi",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("ma_don_vi", String(64), nullable=False),
        Column("ten_don_vi", String(255), nullable=False),
        Column("cap", String(16), nullable=False),
        Column("da_xoa", Boolean, nullable=False),
        Column("ngay_cap_nhat", DateTime, nullable=False),
    )
    van_ban = Table(
        "van_ban",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=False),
        Column("so_ky_hieu", String(64)),
        Column("ma_don_vi", String(64)),
        Column("chieu", String(16)),
        Column("hinh_thuc", String(16)),
        Column("ky_so", Boolean),
        Column("do_mat", String(16)),
        Column("ngay_van_ban", Date),
        Column("trich_yeu", Text),
        Column("da_xoa", Boolean, nullable=False),
        Column("ngay_cap_nhat", DateTime, nullable=False),
    )
    ho_so = Table(
        "ho_so_cong_viec",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=False),
        Column("ma_don_vi", String(64)),
        Column("ngay_mo", Date),
        Column("ngay_dong", Date),
        Column("xu_ly_tren_mang", Boolean),
        Column("bi_mat", Boolean),
        Column("da_xoa", Boolean, nullable=False),
        Column("ngay_cap_nhat", DateTime, nullable=False),
    )
    cuoc_hop = Table(
        "cuoc_hop",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=False),
        Column("ma_don_vi_chu_tri", String(64)),
        Column("ba_cap", Boolean),
        Column("hinh_thuc", String(16)),
        Column("ngay_hop", Date),
        Column("da_xoa", Boolean, nullable=False),
        Column("ngay_cap_nhat", DateTime, nullable=False),
    )
    return {t.name: t for t in (don_vi, van_ban, ho_so, cuoc_hop)}


def create_qlvb_engine(url: str) -> Engine:
    """An engine for the QLVB URL.

    SQLAlchemy 2.1 maps a bare `postgresql://` URL to psycopg 3; the project ships psycopg2,
    so the bare form falls back to it when psycopg 3 is not installed.
    """
    u = make_url(url)
    if u.drivername == "postgresql" and importlib.util.find_spec("psycopg") is None:
        u = u.set(drivername="postgresql+psycopg2")
    if u.get_backend_name() != "sqlite":
        return create_engine(u)
    # sqlite3's timeout is SQLite's busy timeout: a writer waits for a lock, never fails at once.
    return create_engine(u, connect_args={"timeout": 30})


def vn_now() -> datetime:
    """Now in Vietnam local time, naive (how the QLVB database stores timestamps)."""
    return datetime.now(VN_TZ).replace(tzinfo=None)


# --------------------------------------------------------------------------------------------
# The units (agencies) documents are spread over


@dataclass(frozen=True, slots=True)
class _Unit:
    code: str
    group: str
    level: str
    valid_from: date
    valid_to: date | None
    performance: float
    lag: float  # multiplies the share of paper / unsigned documents: 0.4 leader .. 1.6 laggard
    weight: float
    abbr: str
    offices: tuple[str, ...]  # internal offices that sign official letters, e.g. SYT-KHTC

    def in_force(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


def _ascii(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def _abbreviation(agency: Agency) -> str:
    """The symbol an agency puts in its document numbers, e.g. `SYT` for Sở Y tế."""
    if agency.group != "SO_NGANH":
        return "UBND"
    letters = []
    for word in _ascii(agency.name).split():
        if not word[0].isalnum() or word.lower() in {"va", "cac", "cua"}:
            continue
        letters.append(word if word.isupper() and len(word) > 1 else word[0].upper())
    return "".join(letters)[:8] or "SO"


def _units(world: World, seed: int) -> list[_Unit]:
    rng = random.Random(f"{seed}-qlvb-size")
    units = []
    for agency in sorted(world.agencies, key=lambda a: a.code):
        weight = GROUP_WEIGHT[agency.group]
        if agency.group == "UBND_XA" and agency.valid_from >= REORGANISATION:
            weight = NEW_COMMUNE_WEIGHT
        units.append(
            _Unit(
                code=agency.code,
                group=agency.group,
                level=LEVEL_OF_GROUP[agency.group],
                valid_from=agency.valid_from,
                valid_to=agency.valid_to,
                performance=agency.performance,
                lag=0.4 + 1.2 * (1.0 - agency.performance),
                weight=weight * rng.lognormvariate(0.0, 0.35),
                abbr=_abbreviation(agency),
                offices=_DEPARTMENT_UNITS if agency.group == "SO_NGANH" else _COMMITTEE_UNITS,
            )
        )
    return units


class _Picker:
    """Draws agencies in force on a day, by weight; the set changes on a handful of dates."""

    def __init__(self, units: Sequence[_Unit], groups: frozenset[str] | None = None) -> None:
        self._units = [u for u in units if groups is None or u.group in groups]
        self._cache: dict[tuple[int, ...], tuple[list[_Unit], list[float]]] = {}

    def pick(self, rng: random.Random, day: date, k: int) -> list[_Unit]:
        key = tuple(i for i, u in enumerate(self._units) if u.in_force(day))
        if not key:
            return []
        if key not in self._cache:
            chosen = [self._units[i] for i in key]
            cum, total = [], 0.0
            for u in chosen:
                total += u.weight
                cum.append(total)
            self._cache[key] = (chosen, cum)
        chosen, cum = self._cache[key]
        return rng.choices(chosen, cum_weights=cum, k=k)


# --------------------------------------------------------------------------------------------
# Calendar


def _day_factor(day: date) -> float:
    """Relative activity of a day: working days 1, weekends and holidays a trickle, Tết low."""
    tet = TET.get(day.year) or TET.get(day.year + 1)
    if tet is not None:
        offset = (day - tet).days
        if -3 <= offset <= 4:
            return 0.03
        if -12 <= offset <= 12:
            return 0.6
    if (day.month, day.day) in FIXED_HOLIDAYS:
        return 0.03
    if day.weekday() == 5:
        return 0.06
    if day.weekday() == 6:
        return 0.03
    return 1.0


def _day_counts(
    rng: random.Random, start: date, last: date, per_working_day: float
) -> list[tuple[date, int]]:
    counts = []
    day = start
    while day <= last:
        expected = per_working_day * _day_factor(day) * max(0.0, rng.gauss(1.0, 0.06))
        counts.append((day, int(expected + rng.random())))
        day += timedelta(days=1)
    return counts


def _trend(day: date) -> float:
    """0 at the start of 2023, 1 at the end of 2026: the plan's adoption curve."""
    span = (TREND_END - TREND_START).days
    return min(1.0, max(0.0, (day - TREND_START).days / span))


def _work_time(rng: random.Random, midnight: datetime) -> datetime:
    # Office hours 07:00-17:30, whole seconds.
    return midnight + timedelta(seconds=25_200 + int(rng.random() * 37_800))


# --------------------------------------------------------------------------------------------
# Text


_FAMILY = ("Nguyễn", "Trần", "Lê", "Lò", "Quàng", "Lường", "Cà", "Giàng", "Vừ", "Thào", "Sùng")
_MIDDLE_MALE = ("Văn", "A", "Seo", "Đức", "Văn")
_GIVEN = ("Minh", "Hùng", "Dua", "Pó", "Chứ", "Xuân", "Lan", "Hoa", "Thắng", "Sính", "Páo", "Mai")
_TOPICS = (
    "triển khai Kế hoạch chuyển đổi số năm {y}",
    "báo cáo kết quả thực hiện nhiệm vụ tháng {m}",
    "tăng cường công tác phòng, chống thiên tai",
    "đăng ký nhu cầu đào tạo, bồi dưỡng cán bộ",
    "kiểm tra công tác cải cách hành chính năm {y}",
    "phân bổ kinh phí sự nghiệp năm {y}",
    "tổ chức Hội nghị sơ kết 6 tháng đầu năm {y}",
    "cử cán bộ tham gia lớp tập huấn",
    "hướng dẫn sử dụng chữ ký số chuyên dùng",
    "chuẩn bị nội dung kỳ họp HĐND",
    "triển khai Đề án 06 trên địa bàn",
    "giải quyết kiến nghị của cử tri",
    "phòng, chống dịch bệnh trên gia súc",
    "hỗ trợ hộ nghèo xây dựng nhà ở",
    "rà soát thủ tục hành chính thuộc thẩm quyền",
)
_PERSONAL = (
    "V/v giải quyết chế độ cho {t} {n}",
    "V/v cử {t} {n} đi công tác",
    "Quyết định nâng bậc lương đối với {t} {n}",
    "V/v xác minh đơn của {t} {n}",
)


def _summaries(rng: random.Random) -> tuple[list[str], list[str]]:
    """Pools of summaries: ordinary ones, and ones that name a person (personal data)."""
    plain = [
        "V/v " + rng.choice(_TOPICS).format(y=rng.randint(2023, 2026), m=rng.randint(1, 12))
        for _ in range(400)
    ]
    personal = []
    for _ in range(800):
        female = rng.random() < 0.45
        middle = "Thị" if female else rng.choice(_MIDDLE_MALE)
        name = f"{rng.choice(_FAMILY)} {middle} {rng.choice(_GIVEN)}"
        personal.append(rng.choice(_PERSONAL).format(t="bà" if female else "ông", n=name))
    return plain, personal


_DOC_TYPES = ("QĐ", "KH", "TB", "BC", "TTr", "GM")
_DOC_TYPE_WEIGHTS = (15, 6, 8, 8, 4, 4)  # the rest (55) are official letters (công văn)
_DEPARTMENT_UNITS = ("VP", "KHTC", "TCCB", "NV", "TTr", "QLCL")
_COMMITTEE_UNITS = ("VP", "KT", "NC", "VX", "TH")
_SENDERS = ("BTTTT", "BNV", "VPCP", "BTC", "BKHĐT", "BYT", "BGDĐT", "UBND", "BCA", "BKHCN")


# --------------------------------------------------------------------------------------------
# Generators of rows (tuples in table column order)


@dataclass
class _Ctx:
    seed: int
    start: date
    last: date  # last day with data
    horizon: datetime  # no timestamp after this (end of `end`, or now if earlier)
    units: list[_Unit]
    unknown_code: str
    manifest: Manifest


def _later(rng: random.Random, created: datetime, horizon: datetime, mean_hours: float) -> datetime:
    """A change some time after creation, never past the horizon nor before creation."""
    changed = created + timedelta(seconds=int(rng.expovariate(1.0 / (mean_hours * 3600))) + 60)
    return max(created, min(changed, horizon))


def _don_vi_rows(ctx: _Ctx, world: World) -> Iterator[tuple]:
    for i, agency in enumerate(world.agencies, start=1):
        # The system knew the unit a few days before it came into force (or at the start).
        created = max(datetime.combine(ctx.start, time(7)), _at(agency.valid_from, -7, 8))
        changed = created
        if agency.valid_to is not None:
            changed = max(created, _at(agency.valid_to, 1, 8))  # marked dissolved in the system
        changed = min(changed, ctx.horizon)
        yield (i, agency.code, agency.name, LEVEL_OF_GROUP[agency.group], False, changed)


def _at(day: date, offset_days: int, hour: int) -> datetime:
    return datetime.combine(day + timedelta(days=offset_days), time(hour))


def _plant_ids(rng: random.Random, total: int, kinds: Sequence[str], per_kind: int) -> dict:
    """Distinct random ids that carry a planted anomaly, `per_kind` of each kind."""
    wanted = min(total // 4, per_kind * len(kinds))
    ids = rng.sample(range(1, total + 1), wanted) if wanted else []
    return {row_id: kinds[i % len(kinds)] for i, row_id in enumerate(sorted(ids))}


def _van_ban_rows(ctx: _Ctx, counts: list[tuple[date, int]], planted: dict) -> Iterator[tuple]:
    # The hottest loop of the simulator (6 M rows at scale 1): draws are `rand()` and indexes
    # into prepared tables rather than `choice`/`choices`/`randint`, about 3x faster.
    rng = random.Random(f"{ctx.seed}-qlvb-van_ban")
    rand = rng.random
    plain, personal = _summaries(rng)
    n_plain, n_personal = len(plain), len(personal)
    picker = _Picker(ctx.units)
    numbers: dict[tuple[str, int], int] = {}
    senders = sorted({u.abbr for u in ctx.units if u.group == "SO_NGANH"}) + list(_SENDERS)
    n_senders = len(senders)
    doc_types = [k for k, w in zip(_DOC_TYPES, _DOC_TYPE_WEIGHTS, strict=True) for _ in range(w)]
    n_types = len(doc_types)
    horizon = ctx.horizon
    row_id = 0
    for day, n in counts:
        t = _trend(day)
        paper_miss = 0.13 * (0.06**t)  # ordinary documents still on paper: ~9% -> <1%
        unsigned_miss = 0.20 * (0.1**t)  # outgoing e-documents unsigned: ~15% -> ~2%
        all_electronic_leaders = day.year >= 2026
        midnight = datetime.combine(day, time())
        for unit in picker.pick(rng, day, n):
            row_id += 1
            outgoing = rand() < 0.4
            r = rand()
            if r < 0.01:
                # Secret documents: graded, mostly on paper (they may not travel on the network).
                do_mat = "MAT" if r < 0.007 else ("TOI_MAT" if r < 0.0095 else "TUYET_MAT")
                electronic = rand() < 0.15
            else:
                do_mat = "THUONG"
                if all_electronic_leaders and unit.performance >= 0.85:
                    electronic = True
                else:
                    electronic = rand() >= paper_miss * unit.lag
            draft = outgoing and rand() < 0.05
            if not electronic or draft:
                ky_so = False
            elif outgoing:
                ky_so = rand() >= unsigned_miss * unit.lag
            else:
                ky_so = rand() < 0.95
            if draft:
                so_ky_hieu = None
            elif outgoing:
                key = (unit.code, day.year)
                numbers[key] = number = numbers.get(key, 0) + 1
                if rand() < 0.45:
                    so_ky_hieu = f"{number}/{doc_types[int(rand() * n_types)]}-{unit.abbr}"
                else:
                    offices = unit.offices
                    so_ky_hieu = f"{number}/{unit.abbr}-{offices[int(rand() * len(offices))]}"
            else:
                so_ky_hieu = (
                    f"{int(rand() * 3000) + 1}/{doc_types[int(rand() * n_types)]}"
                    f"-{senders[int(rand() * n_senders)]}"
                )
            if rand() < 0.05:
                summary = personal[int(rand() * n_personal)]
            else:
                summary = plain[int(rand() * n_plain)]
            created = midnight + timedelta(seconds=25_200 + int(rand() * 37_800))
            r = rand()
            da_xoa = r < 0.003
            if da_xoa:
                changed = _later(rng, created, horizon, 72.0)
            elif r < 0.15:
                changed = _later(rng, created, horizon, 48.0)
            else:
                changed = created if created <= horizon else horizon
            code, chieu = unit.code, ("DI" if outgoing else "DEN")
            anomaly = planted.get(row_id)
            if anomaly is not None:
                da_xoa = False
                if anomaly == "unknown_code":
                    code = ctx.unknown_code
                    detail = f"ma_don_vi={code!r} is not a unit of don_vi nor an agency"
                else:
                    chieu = "XX"
                    detail = "chieu='XX' not in DI, DEN"
                ctx.manifest.add("qlvb", "qlvb_van_ban", anomaly, str(row_id), detail)
            yield (
                row_id,
                so_ky_hieu,
                code,
                chieu,
                "DIEN_TU" if electronic else "GIAY",
                ky_so,
                do_mat,
                day,
                summary,
                da_xoa,
                changed,
            )


def _online_file_share(level: str, day: date, performance: float) -> float:
    year = day.year + (day.timetuple().tm_yday - 0.5) / 366
    base = ONLINE_FILES_2025[level] - 0.05 * (2025.5 - year)  # -10 pts in 2023, +5 in 2026
    return min(0.995, max(0.05, base + 0.24 * (performance - 0.5)))


def _ho_so_rows(ctx: _Ctx, counts: list[tuple[date, int]], planted: dict) -> Iterator[tuple]:
    rng = random.Random(f"{ctx.seed}-qlvb-ho_so_cong_viec")
    picker = _Picker(ctx.units)
    horizon, last = ctx.horizon, ctx.horizon.date()
    row_id = 0
    for day, n in counts:
        midnight = datetime.combine(day, time())
        for unit in picker.pick(rng, day, n):
            row_id += 1
            bi_mat = rng.random() < 0.01
            if bi_mat:
                online = rng.random() < 0.1
            else:
                online = rng.random() < _online_file_share(unit.level, day, unit.performance)
            created = min(_work_time(rng, midnight), horizon)
            ngay_dong = None
            changed = created
            if rng.random() >= 0.03:  # a few files stay open for a very long time
                closed = day + timedelta(days=int(rng.expovariate(1 / 20.0)))
                if closed <= last:
                    ngay_dong = closed
                    changed = max(created, min(_work_time(rng, _at(closed, 0, 0)), horizon))
            da_xoa = rng.random() < 0.003
            if da_xoa:
                changed = _later(rng, changed, horizon, 72.0)
            if planted.get(row_id) == "date_order":
                da_xoa = False
                ngay_dong = day - timedelta(days=rng.randint(3, 40))
                detail = f"ngay_dong={ngay_dong.isoformat()} before ngay_mo={day.isoformat()}"
                ctx.manifest.add("qlvb", "qlvb_ho_so_cong_viec", "date_order", str(row_id), detail)
            yield (row_id, unit.code, day, ngay_dong, online, bi_mat, da_xoa, changed)


def _cuoc_hop_rows(ctx: _Ctx, counts: list[tuple[date, int]], planted: dict) -> Iterator[tuple]:
    rng = random.Random(f"{ctx.seed}-qlvb-cuoc_hop")
    anyone = _Picker(ctx.units)
    province = _Picker(ctx.units, frozenset({"SO_NGANH"}))
    horizon = ctx.horizon
    row_id = 0
    for day, n in counts:
        t = _trend(day)
        midnight = datetime.combine(day, time())
        for _ in range(n):
            ba_cap = rng.random() < 0.10
            # Three-level meetings are convened by the province (its departments).
            chairs = (province if ba_cap else anyone).pick(rng, day, 1) or anyone.pick(rng, day, 1)
            if not chairs:
                continue
            row_id += 1
            online_share = 0.5 + 0.3 * t if ba_cap else 0.2 + 0.2 * t
            r = rng.random()
            if r < online_share:
                hinh_thuc = "TRUC_TUYEN" if r < online_share * 0.7 else "KET_HOP"
            else:
                hinh_thuc = "TRUC_TIEP"
            created = min(_work_time(rng, midnight), horizon)
            da_xoa = rng.random() < 0.003
            changed = _later(rng, created, horizon, 24.0) if da_xoa else created
            if planted.get(row_id) == "enum":
                da_xoa = False
                hinh_thuc = "ZOOM"
                detail = "hinh_thuc='ZOOM' not in TRUC_TUYEN, TRUC_TIEP, KET_HOP"
                ctx.manifest.add("qlvb", "qlvb_cuoc_hop", "enum", str(row_id), detail)
            yield (row_id, chairs[0].code, ba_cap, hinh_thuc, day, da_xoa, changed)


# --------------------------------------------------------------------------------------------
# Writing


def _column_converters(table: Table, dialect: Any) -> list[tuple[int, Callable[[Any], Any]]]:
    """Per column, what turns a Python value into what the driver stores, if anything.

    Values go through the column types' own bind processors (e.g. SQLite's datetime text
    format) so that the readers' SQLAlchemy comparisons match what is stored. Where a C-level
    equivalent gives the same result (checked here, on a sample) it is used instead: these
    conversions run tens of millions of times at scale 1.
    """
    samples = {DateTime: datetime(2024, 2, 3, 4, 5, 6), Date: date(2024, 2, 3), Boolean: True}
    fast = {
        DateTime: operator.methodcaller("isoformat", " ", "microseconds"),
        Date: date.isoformat,
        Boolean: None,  # the driver stores True/False itself
    }
    converters: list[tuple[int, Callable[[Any], Any]]] = []
    for i, column in enumerate(table.columns):
        processor = column.type._cached_bind_processor(dialect)
        if processor is None:
            continue
        kind = next((k for k in samples if isinstance(column.type, k)), None)
        if kind is not None and processor(samples[kind]) == (fast[kind] or _same)(samples[kind]):
            if fast[kind] is None:
                continue
            processor = fast[kind]
        converters.append((i, processor))
    return converters


def _same(value: Any) -> Any:
    return value


def _keep_none(processor: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        return None if value is None else processor(value)

    return convert


def _insert_chunks(
    conn: Connection,
    table: Table,
    rows: Iterable[tuple],
    *,
    label: str,
    total: int | None,
    progress: Progress,
) -> int:
    """Insert rows in chunks of CHUNK_ROWS, one transaction per chunk; returns the row count.

    With SQLite (or another driver taking positional parameters) a chunk goes straight to
    the DB-API's `executemany`, with psycopg2 to `execute_values`, both converted column by
    column; with any other driver through SQLAlchemy's insert.
    """
    dialect = conn.dialect
    columns = list(table.columns)
    quote = dialect.identifier_preparer.quote
    head = (
        f"INSERT INTO {dialect.identifier_preparer.format_table(table)} "
        f"({', '.join(quote(c.name) for c in columns)}) VALUES "
    )
    raw = _chunks(rows, CHUNK_ROWS)
    if dialect.driver == "psycopg2":
        # psycopg2's executemany is one round trip per row; execute_values sends pages.
        from psycopg2.extras import execute_values

        def write(chunk: list) -> None:
            with conn.connection.cursor() as cursor:
                execute_values(cursor, head + "%s", chunk, page_size=1000)

        chunks = _converted(raw, _column_converters(table, dialect))
    elif dialect.paramstyle in ("qmark", "format"):
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        sql = head + f"({', '.join([mark] * len(columns))})"

        def write(chunk: list) -> None:
            conn.exec_driver_sql(sql, chunk)

        chunks = _converted(raw, _column_converters(table, dialect))
    else:
        keys = [c.key for c in columns]

        def write(chunk: list) -> None:
            conn.execute(table.insert(), chunk)

        chunks = ([dict(zip(keys, r, strict=True)) for r in chunk] for chunk in raw)
    done = 0
    for chunk in chunks:
        with conn.begin():
            write(chunk)
        done += len(chunk)
        progress(label, done, total)
    if done == 0:
        progress(label, 0, total)
    return done


def _chunks(rows: Iterable[tuple], size: int) -> Iterator[list[tuple]]:
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _converted(
    chunks: Iterable[list[tuple]], converters: list[tuple[int, Callable[[Any], Any]]]
) -> Iterator[list[tuple]]:
    """Chunks with their values converted column by column (C-level `map` and `zip`)."""
    for chunk in chunks:
        if not converters:
            yield chunk
            continue
        by_column = list(zip(*chunk, strict=True))
        for i, convert in converters:
            values = by_column[i]
            by_column[i] = tuple(map(_keep_none(convert) if None in values else convert, values))
        yield list(zip(*by_column, strict=True))


def _unknown_code(world: World) -> str:
    known = {a.code for a in world.agencies}
    code, i = "000.00.99.H99", 0
    while code in known:
        i += 1
        code = f"000.00.{99 - i:02d}.H99"
    return code


def write_qlvb(
    world: World,
    url: str,
    *,
    seed: int,
    scale: float,
    start: date,
    end: date,
    manifest: Manifest,
    plant_anomalies: bool = True,
    progress: Progress = no_progress,
) -> dict[str, int]:
    """Drop and recreate the QLVB tables at `url` and fill them; returns rows per table.

    Deterministic for a given seed, scale and date range (as long as `end` is in the past:
    no timestamp is written after the current Vietnam time). Anomalies planted when
    `plant_anomalies` are recorded in `manifest`.
    """
    horizon = min(datetime.combine(end, time(23, 59, 59)), vn_now().replace(microsecond=0))
    last = min(end, horizon.date())
    ctx = _Ctx(
        seed=seed,
        start=start,
        last=last,
        horizon=horizon,
        units=_units(world, seed),
        unknown_code=_unknown_code(world),
        manifest=manifest,
    )
    counts_rng = random.Random(f"{seed}-qlvb-counts")
    per_day = DOCUMENTS_PER_YEAR * scale / WORKING_DAYS_PER_YEAR
    doc_counts = _day_counts(counts_rng, start, last, per_day)
    file_counts = _day_counts(counts_rng, start, last, per_day / 10)
    meetings = max(MEETINGS_PER_YEAR * scale, MIN_MEETINGS_PER_YEAR) / WORKING_DAYS_PER_YEAR
    meeting_counts = _day_counts(counts_rng, start, last, meetings)

    plant_rng = random.Random(f"{seed}-qlvb-anomalies")
    per_kind = 2 if plant_anomalies else 0
    doc_total = sum(n for _, n in doc_counts)
    planted_docs = _plant_ids(plant_rng, doc_total, ("unknown_code", "enum"), per_kind)
    file_total = sum(n for _, n in file_counts)
    planted_files = _plant_ids(plant_rng, file_total, ("date_order",), per_kind)
    # The meeting count is only known after generation (a day may lack a chair): plant among
    # the first meetings, which always exist.
    meeting_total = sum(n for _, n in meeting_counts)  # exact unless a day lacks a chair
    meeting_floor = sum(n for _, n in meeting_counts[: max(1, len(meeting_counts) // 2)])
    planted_meetings = _plant_ids(plant_rng, meeting_floor, ("enum",), per_kind)

    metadata = MetaData()
    tables = define_tables(metadata)
    engine = create_qlvb_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    counts: dict[str, int] = {}
    try:
        with engine.connect() as conn:
            if sqlite:
                # Bulk-load settings, for the generation only: no journal, no fsync.
                conn.exec_driver_sql("PRAGMA journal_mode = OFF")
                conn.exec_driver_sql("PRAGMA synchronous = OFF")
                conn.exec_driver_sql("PRAGMA cache_size = -65536")
                conn.commit()
            with conn.begin():
                metadata.drop_all(conn)
                metadata.create_all(conn)
            jobs = (
                ("don_vi", _don_vi_rows(ctx, world), len(world.agencies)),
                ("van_ban", _van_ban_rows(ctx, doc_counts, planted_docs), doc_total),
                ("ho_so_cong_viec", _ho_so_rows(ctx, file_counts, planted_files), file_total),
                ("cuoc_hop", _cuoc_hop_rows(ctx, meeting_counts, planted_meetings), meeting_total),
            )
            for name, rows, total in jobs:
                counts[name] = _insert_chunks(
                    conn, tables[name], rows, label=f"qlvb {name}", total=total, progress=progress
                )
            # Readers page by (ngay_cap_nhat, id): indexes built once, after the bulk load.
            for done, (name, table) in enumerate(tables.items()):
                progress("qlvb indexes", done, len(tables))
                index = Index(f"ix_{name}_ngay_cap_nhat_id", table.c.ngay_cap_nhat, table.c.id)
                with conn.begin():
                    index.create(conn)
            progress("qlvb indexes", len(tables), len(tables))
            with conn.begin():
                for name in tables:
                    conn.exec_driver_sql(f"ANALYZE {name}")
            if sqlite:
                # WAL lets the live updater write while the pipeline reads.
                conn.exec_driver_sql("PRAGMA journal_mode = WAL")
                conn.exec_driver_sql("PRAGMA synchronous = NORMAL")
                conn.commit()
    finally:
        engine.dispose()
    return counts


# --------------------------------------------------------------------------------------------
# Live mode


def _is_planted(name: str, row: Any, codes: frozenset[str]) -> bool:
    """Whether a row carries one of the anomalies planted by `write_qlvb`."""
    if name == "van_ban":
        return row.chieu not in VALID_CHIEU or row.ma_don_vi not in codes
    if name == "ho_so_cong_viec":
        return row.ngay_dong is not None and row.ngay_mo is not None and row.ngay_dong < row.ngay_mo
    if name == "cuoc_hop":
        return row.hinh_thuc not in VALID_HINH_THUC_HOP
    return False


def _live_changes(
    rng: random.Random, name: str, row: Any, now: datetime, codes: frozenset[str]
) -> dict[str, Any]:
    """New values for one row: always a fresh ngay_cap_nhat, sometimes a real change.

    A row with a planted anomaly is only re-stamped (never changed nor deleted), so the
    anomalies of the manifest stay findable while the live mode runs.
    """
    change: dict[str, Any] = {"b_id": row.id, "ngay_cap_nhat": now, "da_xoa": row.da_xoa}
    # r = 1 changes nothing: for planted rows, and for units (never deleted by the live mode).
    r = 1.0 if name == "don_vi" or _is_planted(name, row, codes) else rng.random()
    if r < 0.05:
        change["da_xoa"] = True
    if name == "van_ban":
        hinh_thuc, ky_so = row.hinh_thuc, row.ky_so
        if 0.05 <= r < 0.20 and hinh_thuc == "GIAY" and row.do_mat == "THUONG":
            hinh_thuc = "DIEN_TU"  # a paper document scanned and sent on the network
        elif 0.20 <= r < 0.35 and hinh_thuc == "DIEN_TU" and row.so_ky_hieu is not None:
            ky_so = True  # signed after the fact
        change.update(hinh_thuc=hinh_thuc, ky_so=ky_so)
    elif name == "ho_so_cong_viec":
        ngay_dong, online = row.ngay_dong, row.xu_ly_tren_mang
        if 0.05 <= r < 0.35 and ngay_dong is None and row.ngay_mo is not None:
            ngay_dong = max(row.ngay_mo, now.date())  # closed today
        elif 0.35 <= r < 0.40 and not row.bi_mat:
            online = not online
        change.update(ngay_dong=ngay_dong, xu_ly_tren_mang=online)
    elif name == "cuoc_hop":
        hinh_thuc = row.hinh_thuc
        if 0.05 <= r < 0.20 and hinh_thuc in VALID_HINH_THUC_HOP:
            hinh_thuc = rng.choice(VALID_HINH_THUC_HOP)
        change.update(hinh_thuc=hinh_thuc)
    return change


def keep_updating(
    url: str,
    *,
    seed: int,
    stop: threading.Event,
    interval_s: float = 0.05,
    batch: int = 20,
) -> int:
    """Play the live system until `stop` is set; returns the number of row updates made.

    Each round updates `batch` random rows of each table (a unit now and then), one small
    committed transaction per table, stamping them with the current Vietnam time. On SQLite
    the database is in WAL mode so readers are never blocked.
    """
    metadata = MetaData()
    tables = define_tables(metadata)
    engine = create_qlvb_engine(url)
    rng = random.Random(f"{seed}-qlvb-live")
    updates = 0
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA journal_mode = WAL")
                conn.commit()
            max_ids = {
                name: conn.execute(select(func.max(t.c.id))).scalar() or 0
                for name, t in tables.items()
            }
            don_vi = tables["don_vi"]
            codes = frozenset(conn.execute(select(don_vi.c.ma_don_vi)).scalars())
            conn.commit()  # no snapshot held open between the rounds
            statements = {}
            for name, t in tables.items():
                mutable = {
                    "van_ban": ("hinh_thuc", "ky_so"),
                    "ho_so_cong_viec": ("ngay_dong", "xu_ly_tren_mang"),
                    "cuoc_hop": ("hinh_thuc",),
                    "don_vi": (),
                }[name]
                values = {c: bindparam(c) for c in ("da_xoa", "ngay_cap_nhat", *mutable)}
                statements[name] = t.update().where(t.c.id == bindparam("b_id")).values(values)
            while not stop.is_set():
                for name, table in tables.items():
                    top = max_ids[name]
                    # Units rarely change.
                    size = min(batch, top) if name != "don_vi" else int(rng.random() < 0.1)
                    if size == 0:
                        continue
                    ids = rng.sample(range(1, top + 1), size)
                    with conn.begin():
                        rows = conn.execute(select(table).where(table.c.id.in_(ids))).all()
                        now = vn_now()
                        params = [_live_changes(rng, name, row, now, codes) for row in rows]
                        if params:
                            conn.execute(statements[name], params)
                    updates += len(params)
                stop.wait(interval_s)
    finally:
        engine.dispose()
    return updates


def table_digest(url: str) -> dict[str, str]:
    """SHA-256 of each table's rows in id order: equal digests mean equal contents."""
    metadata = MetaData()
    tables = define_tables(metadata)
    engine = create_qlvb_engine(url)
    digests = {}
    try:
        with engine.connect() as conn:
            for name, table in tables.items():
                h = hashlib.sha256()
                result = conn.execution_options(yield_per=CHUNK_ROWS).execute(
                    select(table).order_by(table.c.id)
                )
                for row in result:
                    h.update(repr(tuple(row)).encode())
                digests[name] = h.hexdigest()
    finally:
        engine.dispose()
    return digests


__all__ = [
    "VALID_CAP",
    "VALID_CHIEU",
    "VALID_DO_MAT",
    "VALID_HINH_THUC_HOP",
    "VALID_HINH_THUC_VB",
    "create_qlvb_engine",
    "define_tables",
    "keep_updating",
    "table_digest",
    "vn_now",
    "write_qlvb",
]
