"""The carriers' monthly feeds (telecom-feeds.md), parsed here independently of the writer."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import openpyxl
import pytest

from sources.simulator.manifest import Manifest
from sources.simulator.telecom import write_telecom_feeds
from sources.simulator.world import World, build_world

SEED = 2158
START, END = date(2024, 11, 1), date(2025, 2, 28)
PERIODS = ("2024-11", "2024-12", "2025-01", "2025-02")
CARRIERS = {"vtl": "csv", "vnp": "xlsx", "mbf": "jsonl"}
VTL_HEADER = (
    "ky_bao_cao;ma_thon;co_cap_quang;so_ho_cap_quang;phu_song_4g;phu_song_5g;so_thue_bao;"
    "so_thue_bao_smartphone"
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
FEED_NAME = re.compile(r"^(vtl|vnp|mbf)_(\d{4})-(0[1-9]|1[0-2])\.(csv|xlsx|jsonl)$")
VIETNAM = timezone(timedelta(hours=7))


@dataclass(frozen=True)
class Rec:
    carrier: str
    period: str
    village: str
    fiber: bool
    fiber_households: int
    g4: bool
    g5: bool
    subscribers: int
    smartphone: int


@dataclass
class Run:
    folder: Path
    manifest: Manifest
    written: int
    calls: list[tuple[str, int, int | None]]


def _write(root: Path, seed: int, start: date, end: date, plant: bool = True) -> Run:
    manifest = Manifest()
    calls: list[tuple[str, int, int | None]] = []
    written = write_telecom_feeds(
        build_world(seed),
        root / "telecom",
        seed=seed,
        start=start,
        end=end,
        manifest=manifest,
        plant_faults=plant,
        progress=lambda label, done, total: calls.append((label, done, total)),
    )
    return Run(root / "telecom", manifest, written, calls)


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(SEED)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return _write(tmp_path_factory.mktemp("first"), SEED, START, END)


@pytest.fixture(scope="module")
def records(run: Run) -> list[Rec]:
    return _readable(run)


def _flag01(text: str) -> bool:
    assert text in ("0", "1"), text
    return text == "1"


def _yes_no(value: object) -> bool:
    assert value in ("Có", "Không"), value
    return value == "Có"


def parse_vtl(data: bytes, period: str) -> list[Rec]:
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    assert ";".join(next(reader)) == VTL_HEADER
    out = []
    for row in reader:
        assert len(row) == 8 and row[0] == period
        out.append(
            Rec(
                "vtl",
                row[0],
                row[1],
                _flag01(row[2]),
                int(row[3]),
                _flag01(row[4]),
                _flag01(row[5]),
                int(row[6]),
                int(row[7]),
            )
        )
    return out


def parse_vnp(path: Path, period: str) -> list[Rec]:
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        assert wb.sheetnames == ["BaoCao"]
        rows = list(wb["BaoCao"].iter_rows(values_only=True))
    finally:
        wb.close()
    year, month = period.split("-")
    assert rows[0][0] == f"BÁO CÁO HẠ TẦNG THÁNG {month}/{year}"
    assert all(v is None for v in rows[1])
    assert tuple(rows[2]) == VNP_HEADER
    assert rows[-1][0] == "Tổng cộng"
    out = []
    for row in rows[3:-1]:
        code, fiber, households, g4, g5, subscribers, smartphone = row
        assert isinstance(code, str)
        assert all(isinstance(v, int) for v in (households, subscribers, smartphone))
        out.append(
            Rec(
                "vnp",
                period,
                code,
                _yes_no(fiber),
                households,
                _yes_no(g4),
                _yes_no(g5),
                subscribers,
                smartphone,
            )
        )
    total = rows[-1]
    assert total[1] == sum(r.fiber for r in out) and total[3] == sum(r.g4 for r in out)
    assert total[2] == sum(r.fiber_households for r in out)
    assert total[5] == sum(r.subscribers for r in out)
    assert total[6] == sum(r.smartphone for r in out)
    return out


def parse_mbf(data: bytes, period: str) -> list[Rec]:
    out = []
    for line in data.decode("utf-8").splitlines():
        obj = json.loads(line)
        assert list(obj) == [
            "period",
            "village_code",
            "fiber",
            "fiber_households",
            "coverage",
            "subscribers",
        ]
        assert list(obj["coverage"]) == ["4g", "5g"]
        assert list(obj["subscribers"]) == ["total", "smartphone"]
        assert obj["period"] == period
        assert isinstance(obj["fiber"], bool) and isinstance(obj["coverage"]["5g"], bool)
        assert isinstance(obj["fiber_households"], int)
        out.append(
            Rec(
                "mbf",
                obj["period"],
                obj["village_code"],
                obj["fiber"],
                obj["fiber_households"],
                obj["coverage"]["4g"],
                obj["coverage"]["5g"],
                obj["subscribers"]["total"],
                obj["subscribers"]["smartphone"],
            )
        )
    return out


def _faults(run: Run) -> dict[str, list[str | None]]:
    out: dict[str, list[str | None]] = {}
    for a in run.manifest.anomalies:
        assert a.source == "telecom"
        assert a.dataset in ("telecom_files", "telecom_coverage")
        out.setdefault(a.kind, []).append(a.record_key)
    return out


def _readable(run: Run) -> list[Rec]:
    """Every record of every readable feed file (the damaged ones are skipped)."""
    damaged = {
        a.record_key
        for a in run.manifest.anomalies
        if a.kind in ("truncated_file", "legacy_encoding", "stray_file")
    }
    recs: list[Rec] = []
    for path in sorted(run.folder.iterdir()):
        match = FEED_NAME.match(path.name)
        if match is None or path.name in damaged:
            continue
        carrier, period = match.group(1), f"{match.group(2)}-{match.group(3)}"
        if carrier == "vtl":
            recs += parse_vtl(path.read_bytes(), period)
        elif carrier == "vnp":
            recs += parse_vnp(path, period)
        else:
            recs += parse_mbf(path.read_bytes(), period)
    return recs


def test_files_progress_and_faults(run: Run, records: list[Rec], world: World) -> None:
    faults = _faults(run)
    assert set(faults) == {
        "missing_carrier_month",
        "late_correction",
        "truncated_file",
        "stray_file",
        "legacy_encoding",
        "unknown_village",
        "negative_count",
    }
    assert all(len(keys) == 1 for kind, keys in faults.items() if kind != "stray_file")
    names = sorted(p.name for p in run.folder.iterdir())
    assert run.written == len(names)
    (missing,) = faults["missing_carrier_month"]
    assert missing not in names and missing is not None and missing.startswith("vnp_")
    expected = {f"{c}_{p}.{ext}" for c, ext in CARRIERS.items() for p in PERIODS}
    assert set(names) == (expected - {missing}) | set(faults["stray_file"])
    assert "ghi_chu.txt" in names and any(re.match(r"vtl_\d{4}-13\.csv$", n) for n in names)
    assert run.calls[-1] == ("telecom", 12, 12)
    assert [c[1] for c in run.calls] == list(range(1, 13))

    (legacy,) = faults["legacy_encoding"]
    data = (run.folder / str(legacy)).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert data.decode("utf-16").splitlines()[0] == VTL_HEADER

    (truncated,) = faults["truncated_file"]
    data = (run.folder / str(truncated)).read_bytes()
    assert not data.endswith(b"\n")
    lines = data.split(b"\n")
    for line in lines[:-1]:
        json.loads(line)
    with pytest.raises(json.JSONDecodeError):
        json.loads(lines[-1])

    # Row-level faults: exactly the planted unknown village and negative count.
    recs = records
    known = {v.code for v in world.villages}
    unknown = [f"{r.carrier}|{r.period}|{r.village}" for r in recs if r.village not in known]
    assert unknown == faults["unknown_village"]
    negative = [
        f"{r.carrier}|{r.period}|{r.village}"
        for r in recs
        if min(r.fiber_households, r.subscribers, r.smartphone) < 0
    ]
    assert negative == faults["negative_count"]


def test_late_correction(run: Run) -> None:
    (name,) = _faults(run)["late_correction"]
    current = run.folder / str(name)
    original = run.folder.parent / "telecom_resend" / f"{name}.orig"
    assert original.exists() and current.exists()
    assert original.stat().st_mtime < current.stat().st_mtime
    period = str(name)[4:11]
    before = {r.village: r for r in parse_vtl(original.read_bytes(), period)}
    after = {r.village: r for r in parse_vtl(current.read_bytes(), period)}
    assert set(before) == set(after)
    changed = [v for v in before if before[v] != after[v]]
    assert 1 <= len(changed) <= len(before) // 10


def test_rows_and_trends(records: list[Rec], world: World) -> None:
    villages = {v.code: v for v in world.villages}
    recs = [r for r in records if r.smartphone >= 0 and r.village in villages]
    assert {r.carrier for r in recs} == set(CARRIERS)
    for r in recs:
        assert 0 <= r.smartphone < r.subscribers
        assert r.fiber_households >= 0 and (r.fiber or r.fiber_households == 0)
        year = int(r.period[:4])
        assert r.fiber_households <= world.figures(r.village, year).households
    # 5G: none before 2025, only in towns after.
    assert not any(r.g5 for r in recs if r.period < "2025-01")
    g5 = [r for r in recs if r.g5]
    assert g5 and all(villages[r.village].town for r in g5)
    # vtl serves nearly every village, the others fewer.
    served = {
        c: {r.village for r in recs if r.carrier == c and r.period == "2025-02"} for c in CARRIERS
    }
    assert len(served["vtl"]) > 0.95 * len(villages)
    assert len(served["vnp"]) < len(served["vtl"]) and len(served["mbf"]) < len(served["vtl"])

    # Remote districts lag: fiber reach and smartphone use, on one month's combined reports
    # (2025-02: all three carriers' files are readable).
    month = [r for r in recs if r.period == "2025-02"]
    reached = {r.village for r in month if r.fiber}
    smart: dict[str, int] = {}
    for r in month:
        smart[r.village] = smart.get(r.village, 0) + r.smartphone

    def shares(remote: bool) -> tuple[float, float]:
        group = [v for v in world.villages if v.remote == remote]
        fiber = sum(v.code in reached for v in group) / len(group)
        adults = sum(world.figures(v.code, 2025).population_15plus for v in group)
        users = sum(
            min(smart.get(v.code, 0), world.figures(v.code, 2025).population_15plus) for v in group
        )
        return fiber, users / adults

    remote_fiber, remote_smart = shares(True)
    other_fiber, other_smart = shares(False)
    assert remote_fiber + 0.1 < other_fiber
    assert remote_smart + 0.05 < other_smart
    assert 0.6 < other_smart < 0.85


def test_delivery_times(run: Run) -> None:
    def stamp(*args: int) -> float:
        return datetime(*args, tzinfo=VIETNAM).timestamp()

    mtimes = {p.name: p.stat().st_mtime for p in run.folder.iterdir()}
    assert mtimes["mbf_2024-11.jsonl"] == stamp(2024, 12, 4, 16, 30)
    assert mtimes["vtl_2024-12.csv"] == stamp(2025, 1, 5, 9, 0)
    # The last month cannot have arrived after the end of the range.
    assert max(mtimes.values()) <= stamp(2025, 2, 28, 18, 0)


def test_deterministic(run: Run, tmp_path: Path) -> None:
    again = _write(tmp_path / "again", SEED, START, END)
    first = {p.name: p for p in run.folder.iterdir()}
    second = {p.name: p for p in again.folder.iterdir()}
    assert set(first) == set(second)
    for name, path in first.items():
        assert path.read_bytes() == second[name].read_bytes(), name
        assert path.stat().st_mtime == second[name].stat().st_mtime, name
    resend = "telecom_resend"
    for path in (run.folder.parent / resend).iterdir():
        assert path.read_bytes() == (again.folder.parent / resend / path.name).read_bytes()
    assert run.manifest.anomalies == again.manifest.anomalies

    # Without faults: every file is clean, and files the faults did not touch hold the same
    # rows (the xlsx differs: its document time is the delivery time, capped at the end).
    clean = _write(tmp_path / "clean", SEED, START, date(2024, 11, 30), plant=False)
    assert clean.manifest.anomalies == [] and clean.written == 3
    name = "mbf_2024-11.jsonl"
    assert (clean.folder / name).read_bytes() == first[name].read_bytes()
    name = "vnp_2024-11.xlsx"
    assert parse_vnp(clean.folder / name, "2024-11") == parse_vnp(first[name], "2024-11")
    parse_vtl((clean.folder / "vtl_2024-11.csv").read_bytes(), "2024-11")

    other = _write(tmp_path / "other", 7, START, date(2024, 11, 30), plant=False)
    for name in ("vnp_2024-11.xlsx", "mbf_2024-11.jsonl"):
        assert (other.folder / name).read_bytes() != first[name].read_bytes()
