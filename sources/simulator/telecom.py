"""Monthly coverage feeds of the three carriers, as `telecom-feeds.md` describes them.

One file per carrier and month: `vtl_YYYY-MM.csv` (UTF-8 BOM, `;`), `vnp_YYYY-MM.xlsx`
(sheet `BaoCao`, title, empty row, headers, data, `Tổng cộng` row) and `mbf_YYYY-MM.jsonl`.
Every file's modification time is set to its plausible delivery time (a few days into the
next month, Vietnam time; never later than the end of the simulated range), so that "the
newest modification time wins" can be tested.

The numbers follow a per-village model fixed by the seed: each carrier serves a subset of
villages (remote districts fewer carriers); fiber and 4G reach villages over time (remote
districts 096 Mường Nhé and 103 Nậm Pồ lag); 5G only from 2025 and only in towns; fiber
households and smartphone users grow a few points a year. Same seed, same bytes (the xlsx
archive is re-packed with fixed timestamps and fixed document properties).

Planted faults (`plant_faults=True`), each recorded in the manifest with source `telecom`;
file-level faults (dataset `telecom_files`) are keyed by file name, row-level faults
(dataset `telecom_coverage`) by `<carrier>|<YYYY-MM>|<village code>`:
- `missing_carrier_month`: no `vnp` file at all for one month (key: the expected name).
- `late_correction`: one `vtl` month is re-sent. The folder holds the *correction* (a few
  rows' counts changed, modification time 20 days after the first delivery); the bytes
  first delivered are kept, with the first delivery's modification time, as
  `<out_dir>/../telecom_resend/<name>.orig`. To replay: copy the `.orig` into the folder
  under `<name>` (keeping its mtime), ingest, then put the correction back and ingest again.
- `truncated_file`: one `mbf` file cut in the middle of a line.
- `legacy_encoding`: one `vtl` file written in UTF-16 (little-endian, with its `FF FE`
  byte-order mark, as Excel's "Unicode Text" export writes it): strict UTF-8 decoding fails
  on the first byte.
- `stray_file`: `ghi_chu.txt` (a note) and `vtl_<YYYY>-13.csv` (a name with no such month),
  neither of which is a feed.
- `unknown_village`: one extra `mbf` row whose village code is not in `thon_ban.csv`.
- `negative_count`: one `vnp` row with a negative `Thuê bao smartphone`.
A fault is placed at a fixed fraction of the range (so short ranges get all of them) and is
left out only when the range is too short to hold it in a file of its own.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter

from sources.batch import Progress, no_progress
from sources.simulator.manifest import Manifest
from sources.simulator.world import World

CARRIERS = ("vtl", "vnp", "mbf")
EXTENSIONS = {"vtl": "csv", "vnp": "xlsx", "mbf": "jsonl"}
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
VNP_HEADER = (
    "Mã thôn",
    "Cáp quang",
    "Số hộ dùng cáp quang",
    "Sóng 4G",
    "Sóng 5G",
    "Thuê bao di động",
    "Thuê bao smartphone",
)
VNP_SHEET = "BaoCao"
VNP_TOTAL_LABEL = "Tổng cộng"
RESEND_DIR = "telecom_resend"
VIETNAM = timezone(timedelta(hours=7))
# Delivery of month M's report: (day of month M+1, hour, minute), Vietnam time.
_DELIVERY = {"vtl": (5, 9, 0), "vnp": (7, 14, 0), "mbf": (4, 16, 30)}
_CORRECTION_DELAY = timedelta(days=20)
_NEVER = 10_000  # a month index that is never reached
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)

# Month indexes count from January 2022 (0). Cumulative shares of villages reached by the
# first carrier's fiber / 4G by a month index: (month, share) knots, linear in between.
_FIBER_CDF = {
    False: ((-60, 0.0), (0, 0.70), (12, 0.79), (48, 0.99), (72, 1.0)),
    True: ((-60, 0.0), (0, 0.38), (12, 0.50), (48, 0.88), (84, 1.0)),
}
_G4_CDF = {
    False: ((-60, 0.0), (0, 0.86), (12, 0.91), (48, 0.995), (60, 1.0)),
    True: ((-60, 0.0), (0, 0.70), (12, 0.78), (48, 0.96), (72, 1.0)),
}
_5G_START = 36  # January 2025
_SERVES = {"vtl": (0.995, 0.97), "vnp": (0.75, 0.45), "mbf": (0.62, 0.35)}  # (normal, remote)
_FIBER_WEIGHT = {"vtl": 0.6, "vnp": 0.25, "mbf": 0.15}
_MOBILE_WEIGHT = {"vtl": 0.55, "vnp": 0.25, "mbf": 0.2}


@dataclass(frozen=True)
class Row:
    """One village's report by one carrier for one month (the facts all formats share)."""

    period: str
    village_code: str
    fiber: bool
    fiber_households: int
    g4: bool
    g5: bool
    subscribers: int
    smartphone: int


@dataclass(frozen=True)
class _CarrierState:
    fiber_from: int  # month index from which this carrier's fiber reaches the village
    g4_from: int
    g5_from: int
    fiber_weight: float
    mobile_weight: float


@dataclass(frozen=True)
class _VillageState:
    code: str
    carriers: dict[str, _CarrierState]  # only the carriers that serve the village
    fiber_from: int  # first carrier's fiber
    fiber_base: float  # share of households with fiber once it is established, in 2022
    smartphone_base: float  # smartphone users / population 15+, 2022–2023
    sim_ratio: float  # active SIMs per person aged 15+


def _month_index(year: int, month: int) -> int:
    return (year - 2022) * 12 + month - 1


def _inverse_cdf(knots: tuple[tuple[int, float], ...], u: float) -> int:
    for (m0, p0), (m1, p1) in zip(knots, knots[1:], strict=False):
        if u <= p1:
            if p1 == p0:
                return m1
            return round(m0 + (m1 - m0) * (u - p0) / (p1 - p0))
    return knots[-1][0]


def _village_states(world: World, seed: int) -> list[_VillageState]:
    rng = random.Random(f"{seed}:telecom:villages")
    states = []
    for v in world.villages:
        serving = [c for c in CARRIERS if v.town or rng.random() < _SERVES[c][1 if v.remote else 0]]
        fiber_first = -60 if v.town else _inverse_cdf(_FIBER_CDF[v.remote], rng.random())
        g4_first = -60 if v.town else _inverse_cdf(_G4_CDF[v.remote], rng.random())
        carriers: dict[str, _CarrierState] = {}
        for rank, c in enumerate(serving):
            # The first serving carrier (usually vtl) brings fiber and 4G; others follow later
            # or never.
            if rank == 0:
                fiber_from, g4_from = fiber_first, g4_first
            else:
                follows = rng.random() < (0.9 if v.town else 0.45 if v.remote else 0.6)
                fiber_from = fiber_first + rng.randint(3, 30) if follows else _NEVER
                follows = rng.random() < (0.95 if v.town else 0.5 if v.remote else 0.75)
                g4_from = g4_first + rng.randint(0, 24) if follows else _NEVER
            if v.town and (rank == 0 or rng.random() < 0.65):
                g5_from = _5G_START + rng.randint(0, 14) + 4 * rank
            else:
                g5_from = _NEVER
            carriers[c] = _CarrierState(
                fiber_from,
                g4_from,
                g5_from,
                _FIBER_WEIGHT[c] * rng.uniform(0.7, 1.3),
                _MOBILE_WEIGHT[c] * rng.uniform(0.7, 1.3),
            )
        if v.town:
            fiber_base, smart = rng.uniform(0.62, 0.78), rng.uniform(0.76, 0.84)
        elif v.remote:
            fiber_base, smart = rng.uniform(0.30, 0.50), rng.uniform(0.52, 0.62)
        else:
            fiber_base, smart = rng.uniform(0.45, 0.65), rng.uniform(0.64, 0.72)
        states.append(
            _VillageState(
                v.code,
                carriers,
                fiber_first if serving else _NEVER,
                fiber_base,
                smart,
                rng.uniform(1.0, 1.15),
            )
        )
    return states


def carrier_rows(
    world: World, states: list[_VillageState], carrier: str, year: int, month: int, seed: int
) -> list[Row]:
    """The clean rows of one carrier's report for one month."""
    rng = random.Random(f"{seed}:telecom:{carrier}:{year:04d}-{month:02d}")
    m = _month_index(year, month)
    period = f"{year:04d}-{month:02d}"
    rows = []
    for state in states:
        mine = state.carriers.get(carrier)
        if mine is None:
            continue
        figures = world.figures(state.code, year)
        # Fiber: the village's penetration grows ~4.5 points a year and ramps up after the
        # first carrier arrives; it is shared among the carriers whose fiber is there.
        fiber = m >= mine.fiber_from
        fiber_households = 0
        if fiber:
            ramp = min(1.0, 0.3 + (m - state.fiber_from) / 15)
            share = min(0.95, state.fiber_base + 0.045 * m / 12) * ramp
            weights = sum(s.fiber_weight for s in state.carriers.values() if m >= s.fiber_from)
            total = figures.households * share * 1.03  # a few households have two carriers
            noise = 1 + rng.gauss(0, 0.01)
            fiber_households = min(
                figures.households, max(0, round(total * mine.fiber_weight / weights * noise))
            )
        # Mobile: smartphone users near 68% of people aged 15+ in 2022–2023, then +3 points
        # a year, shared among the carriers serving the village.
        smart_share = min(0.97, state.smartphone_base + 0.03 * max(0.0, (m - 18) / 12))
        mobile = mine.mobile_weight / sum(s.mobile_weight for s in state.carriers.values())
        noise = 1 + rng.gauss(0, 0.01)
        smartphone = max(0, round(figures.population_15plus * smart_share * mobile * noise))
        subscribers = max(
            smartphone + 1, round(figures.population_15plus * state.sim_ratio * mobile * noise)
        )
        rows.append(
            Row(
                period,
                state.code,
                fiber,
                fiber_households,
                m >= mine.g4_from,
                m >= mine.g5_from,
                subscribers,
                smartphone,
            )
        )
    return rows


# --- Formats --------------------------------------------------------------------------------
def vtl_text(rows: list[Row]) -> str:
    """The CSV text of a vtl file (without the byte-order mark)."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\n")
    writer.writerow(VTL_HEADER)
    for r in rows:
        writer.writerow(
            (
                r.period,
                r.village_code,
                int(r.fiber),
                r.fiber_households,
                int(r.g4),
                int(r.g5),
                r.subscribers,
                r.smartphone,
            )
        )
    return buf.getvalue()


def vtl_bytes(rows: list[Row]) -> bytes:
    return vtl_text(rows).encode("utf-8-sig")


def mbf_bytes(rows: list[Row]) -> bytes:
    lines = [
        json.dumps(
            {
                "period": r.period,
                "village_code": r.village_code,
                "fiber": r.fiber,
                "fiber_households": r.fiber_households,
                "coverage": {"4g": r.g4, "5g": r.g5},
                "subscribers": {"total": r.subscribers, "smartphone": r.smartphone},
            },
            ensure_ascii=False,
        )
        + "\n"
        for r in rows
    ]
    return "".join(lines).encode("utf-8")


def _yes_no(flag: bool) -> str:
    return "Có" if flag else "Không"


def vnp_bytes(rows: list[Row], year: int, month: int, written_at: datetime) -> bytes:
    """The xlsx workbook of a vnp file, byte-identical for the same rows and time."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(VNP_SHEET)
    ws.append([f"BÁO CÁO HẠ TẦNG THÁNG {month:02d}/{year:04d}"])
    ws.append([])
    ws.append(list(VNP_HEADER))
    for r in rows:
        ws.append(
            [
                r.village_code,
                _yes_no(r.fiber),
                r.fiber_households,
                _yes_no(r.g4),
                _yes_no(r.g5),
                r.subscribers,
                r.smartphone,
            ]
        )
    # Totals: flag columns count the villages with "Có".
    ws.append(
        [
            VNP_TOTAL_LABEL,
            sum(r.fiber for r in rows),
            sum(r.fiber_households for r in rows),
            sum(r.g4 for r in rows),
            sum(r.g5 for r in rows),
            sum(r.subscribers for r in rows),
            sum(r.smartphone for r in rows),
        ]
    )
    # openpyxl's save_workbook stamps "now" into the document properties and the zip entries
    # carry the current time: write through ExcelWriter with fixed properties, then re-pack
    # the archive with fixed entry times.
    utc = written_at.astimezone(UTC).replace(tzinfo=None)
    wb.properties.created = utc
    wb.properties.modified = utc
    wb.properties.creator = "VNPT Điện Biên"
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()
    out = io.BytesIO()
    with (
        zipfile.ZipFile(raw) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for name in src.namelist():
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            dst.writestr(info, src.read(name))
    return out.getvalue()


# --- Writing --------------------------------------------------------------------------------
def feed_name(carrier: str, year: int, month: int) -> str:
    return f"{carrier}_{year:04d}-{month:02d}.{EXTENSIONS[carrier]}"


def _months(start: date, end: date) -> list[tuple[int, int]]:
    months = []
    year, month = start.year, start.month
    while date(year, month, 1) <= end:
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _delivery(carrier: str, year: int, month: int, end: date) -> datetime:
    day, hour, minute = _DELIVERY[carrier]
    next_year, next_month = (year + 1, 1) if month == 12 else (year, month + 1)
    at = datetime(next_year, next_month, day, hour, minute, tzinfo=VIETNAM)
    return min(at, _latest(end))


def _latest(end: date) -> datetime:
    # Nothing can have arrived after the simulated "today".
    return datetime(end.year, end.month, end.day, 18, 0, tzinfo=VIETNAM)


def _write(path: Path, data: bytes, at: datetime) -> None:
    path.write_bytes(data)
    stamp = at.timestamp()
    os.utime(path, (stamp, stamp))


@dataclass(frozen=True)
class _Plan:
    """Where each fault goes: kind -> (carrier, month)."""

    faults: dict[str, tuple[str, tuple[int, int]]]

    def at(self, kind: str, carrier: str, ym: tuple[int, int]) -> bool:
        return self.faults.get(kind) == (carrier, ym)


# kind -> (carrier, fraction of the range); at most one fault per carrier file.
_FAULTS = (
    ("legacy_encoding", "vtl", 0.2),
    ("truncated_file", "mbf", 0.3),
    ("missing_carrier_month", "vnp", 0.4),
    ("unknown_village", "mbf", 0.5),
    ("late_correction", "vtl", 0.6),
    ("negative_count", "vnp", 0.8),
)


def _plan(months: list[tuple[int, int]], plant: bool) -> _Plan:
    faults: dict[str, tuple[str, tuple[int, int]]] = {}
    if not plant or not months:
        return _Plan(faults)
    taken: set[tuple[str, tuple[int, int]]] = set()
    n = len(months)
    for kind, carrier, fraction in _FAULTS:
        preferred = min(n - 1, int(n * fraction))
        # Nearest month to the preferred one whose file holds no other fault.
        for offset in sorted(range(-n, n), key=lambda o: (abs(o), o)):
            i = preferred + offset
            if 0 <= i < n and (carrier, months[i]) not in taken:
                taken.add((carrier, months[i]))
                faults[kind] = (carrier, months[i])
                break
    return _Plan(faults)


def _correct(rows: list[Row], rng: random.Random) -> tuple[list[Row], int]:
    """The carrier's correction: a few rows' subscriber counts revised by 1–5%."""
    changed = 0
    out = []
    for r in rows:
        if rng.random() < 0.03:
            factor = 1 + rng.choice((-1, 1)) * rng.uniform(0.01, 0.05)
            smartphone = max(0, round(r.smartphone * factor))
            subscribers = max(smartphone + 1, round(r.subscribers * factor))
            r = Row(
                r.period,
                r.village_code,
                r.fiber,
                r.fiber_households,
                r.g4,
                r.g5,
                subscribers,
                smartphone,
            )
            changed += 1
        out.append(r)
    if not changed and rows:  # always at least one revised row
        r = rows[0]
        out[0] = Row(
            r.period,
            r.village_code,
            r.fiber,
            r.fiber_households,
            r.g4,
            r.g5,
            r.subscribers + 3,
            r.smartphone + 2,
        )
        changed = 1
    return out, changed


def _encode(carrier: str, rows: list[Row], year: int, month: int, at: datetime) -> bytes:
    if carrier == "vtl":
        return vtl_bytes(rows)
    if carrier == "vnp":
        return vnp_bytes(rows, year, month, at)
    return mbf_bytes(rows)


def write_telecom_feeds(
    world: World,
    out_dir: Path,
    *,
    seed: int,
    start: date,
    end: date,
    manifest: Manifest,
    plant_faults: bool = True,
    progress: Progress = no_progress,
) -> int:
    """Write every carrier's file for each month from `start`'s month to `end`'s month.

    Returns the number of files written into `out_dir` (feeds, faulty or not, and stray
    files; a re-sent month counts once; the `.orig` kept beside `out_dir` is not counted).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    months = _months(start, end)
    plan = _plan(months, plant_faults)
    states = _village_states(world, seed)
    total = len(months) * len(CARRIERS)
    done = written = 0

    def add(dataset: str, kind: str, key: str | None, detail: str) -> None:
        manifest.add("telecom", dataset, kind, key, detail)

    for year, month in months:
        period = f"{year:04d}-{month:02d}"
        for carrier in CARRIERS:
            name = feed_name(carrier, year, month)
            ym = (year, month)
            at = _delivery(carrier, year, month, end)
            if plan.at("missing_carrier_month", carrier, ym):
                add(
                    "telecom_files",
                    "missing_carrier_month",
                    name,
                    f"{carrier} sent no file for {period}",
                )
            else:
                rows = carrier_rows(world, states, carrier, year, month, seed)
                rows = _plant_rows(rows, plan, carrier, ym, world, seed, add)
                data = _encode(carrier, rows, year, month, at)
                if plan.at("legacy_encoding", carrier, ym):
                    data = b"\xff\xfe" + vtl_text(rows).encode("utf-16-le")
                    add(
                        "telecom_files",
                        "legacy_encoding",
                        name,
                        f"{name} is UTF-16 LE with BOM FF FE instead of UTF-8",
                    )
                if plan.at("truncated_file", carrier, ym):
                    data, kept = _truncate(data)
                    add(
                        "telecom_files",
                        "truncated_file",
                        name,
                        f"{name} cut in the middle of line {kept + 1} of {len(rows)}",
                    )
                if plan.at("late_correction", carrier, ym):
                    resend = out_dir.parent / RESEND_DIR
                    resend.mkdir(parents=True, exist_ok=True)
                    _write(resend / f"{name}.orig", data, at)
                    rng = random.Random(f"{seed}:telecom:correction:{name}")
                    corrected, changed = _correct(rows, rng)
                    later = max(at + timedelta(hours=1), min(at + _CORRECTION_DELAY, _latest(end)))
                    data = _encode(carrier, corrected, year, month, later)
                    at = later
                    add(
                        "telecom_files",
                        "late_correction",
                        name,
                        f"{name} re-sent on {later.isoformat()} with {changed} rows revised; "
                        f"first delivery kept as ../{RESEND_DIR}/{name}.orig",
                    )
                _write(out_dir / name, data, at)
                written += 1
            done += 1
            progress("telecom", done, total)
    if plant_faults and months:
        written += _stray_files(out_dir, months, end, add)
    return written


def _plant_rows(
    rows: list[Row],
    plan: _Plan,
    carrier: str,
    ym: tuple[int, int],
    world: World,
    seed: int,
    add: Callable[[str, str, str | None, str], None],
) -> list[Row]:
    rng = random.Random(f"{seed}:telecom:rows:{carrier}:{ym}")
    if plan.at("unknown_village", carrier, ym) and rows:
        known = {v.code for v in world.villages}
        template = rows[rng.randrange(len(rows))]
        # A code shaped like a real one, in a real commune, that thon_ban.csv lacks.
        code = f"{template.village_code[:5]}950"
        while code in known:
            code = f"{int(code) + 1:08d}"
        stray = Row(
            template.period,
            code,
            template.fiber,
            template.fiber_households,
            template.g4,
            template.g5,
            template.subscribers,
            template.smartphone,
        )
        position = rng.randrange(len(rows) + 1)
        rows = rows[:position] + [stray] + rows[position:]
        add(
            "telecom_coverage",
            "unknown_village",
            f"{carrier}|{template.period}|{code}",
            f"row {position + 1} of {feed_name(carrier, *ym)} names village {code}, "
            "not in thon_ban.csv",
        )
    if plan.at("negative_count", carrier, ym) and rows:
        i = rng.randrange(len(rows))
        r = rows[i]
        value = -max(1, r.smartphone)
        rows = list(rows)
        rows[i] = Row(
            r.period, r.village_code, r.fiber, r.fiber_households, r.g4, r.g5, r.subscribers, value
        )
        add(
            "telecom_coverage",
            "negative_count",
            f"{carrier}|{r.period}|{r.village_code}",
            f"so_thue_bao_smartphone = {value} in row {i + 1} of {feed_name(carrier, *ym)}",
        )
    return rows


def _truncate(data: bytes) -> tuple[bytes, int]:
    """Cut `data` inside a line about 60% of the way through; complete lines kept."""
    newline = data.index(b"\n", len(data) * 6 // 10)
    previous = data.rindex(b"\n", 0, newline)
    cut = previous + 1 + (newline - previous) // 2
    return data[:cut], data[:cut].count(b"\n")


def _stray_files(
    out_dir: Path,
    months: list[tuple[int, int]],
    end: date,
    add: Callable[[str, str, str | None, str], None],
) -> int:
    year, month = months[-1]
    note = out_dir / "ghi_chu.txt"
    text = (
        f"Ghi chú: số liệu tháng {month:02d}/{year} của Viettel sẽ được gửi bổ sung "
        "qua thư điện tử.\n"
    )
    _write(note, text.encode("utf-8"), _delivery("vtl", year, month, end))
    add("telecom_files", "stray_file", note.name, "a note left in the drop folder")
    bad = out_dir / f"vtl_{year:04d}-13.csv"
    body = ";".join(VTL_HEADER) + "\n"
    _write(bad, body.encode("utf-8-sig"), _delivery("vtl", year, month, end))
    add("telecom_files", "stray_file", bad.name, "feed-like name with month 13")
    return 2
