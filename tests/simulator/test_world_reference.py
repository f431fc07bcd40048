"""The simulated province and its reference files (reference-data.md)."""

from __future__ import annotations

import csv
import time
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import pytest

from sources.simulator.reference import write_reference
from sources.simulator.world import (
    DEPARTMENT_MERGER,
    REORGANISATION,
    World,
    build_world,
)

CONTRACT_HEADERS = {
    "don_vi_hanh_chinh.csv": [
        "ma_dvhc",
        "ten",
        "cap",
        "loai",
        "ma_dvhc_cha",
        "hieu_luc_tu",
        "hieu_luc_den",
    ],
    "sap_xep_dvhc.csv": ["ma_dvhc_cu", "ma_dvhc_moi", "ngay_hieu_luc", "ty_le_dan_so"],
    "co_quan.csv": [
        "ma_co_quan",
        "ten",
        "nhom",
        "ma_dvhc",
        "hieu_luc_tu",
        "hieu_luc_den",
        "email_dau_moi",
    ],
    "thon_ban.csv": ["ma_thon", "ten", "ma_dvhc", "nam", "so_ho", "dan_so", "dan_so_tu_15"],
}
DISTRICTS = {
    "094": ("Thành phố Điện Biên Phủ", "thanh_pho"),
    "095": ("Thị xã Mường Lay", "thi_xa"),
    "096": ("Huyện Mường Nhé", "huyen"),
    "097": ("Huyện Mường Chà", "huyen"),
    "098": ("Huyện Tủa Chùa", "huyen"),
    "099": ("Huyện Tuần Giáo", "huyen"),
    "100": ("Huyện Điện Biên", "huyen"),
    "101": ("Huyện Điện Biên Đông", "huyen"),
    "102": ("Huyện Mường Ảng", "huyen"),
    "103": ("Huyện Nậm Pồ", "huyen"),
}
LAST_OLD_DAY = date(2025, 6, 30)


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(2158)


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_districts_and_communes(world: World) -> None:
    province = [u for u in world.units if u.level == "TINH"]
    assert [(u.code, u.parent_code, u.valid_to) for u in province] == [("11", None, None)]
    districts = {u.code: u for u in world.units if u.level == "HUYEN"}
    assert {c: (u.name, u.kind) for c, u in districts.items()} == DISTRICTS
    assert all(u.parent_code == "11" and u.valid_to == LAST_OLD_DAY for u in districts.values())

    old = world.old_communes
    assert len(old) == 129
    assert Counter(u.kind for u in old) == {"xa": 115, "phuong": 9, "thi_tran": 5}
    assert all(u.parent_code in districts and u.valid_to == LAST_OLD_DAY for u in old)
    # Wards only in the two towns; townships only in district seats (one per district).
    assert {u.parent_code for u in old if u.kind == "phuong"} == {"094", "095"}
    townships = Counter(u.parent_code for u in old if u.kind == "thi_tran")
    assert set(townships.values()) == {1}
    assert any(u.name == "Thị trấn Tuần Giáo" and u.parent_code == "099" for u in old)
    assert any(u.name == "Xã Mường Phăng" and u.parent_code == "094" for u in old)

    new = world.new_communes
    assert len(new) == 45
    assert Counter(u.kind for u in new) == {"xa": 42, "phuong": 3}
    assert all(u.parent_code == "11" and u.valid_from == REORGANISATION for u in new)
    assert all(u.valid_to is None for u in new)

    codes = [u.code for u in world.units]
    assert len(codes) == len(set(codes))
    assert all(len(u.code) == 5 and u.code.isdigit() for u in [*old, *new])
    assert {u.code for u in old}.isdisjoint(u.code for u in new)
    assert len(world.communes_in_force(date(2025, 6, 30))) == 129
    assert len(world.communes_in_force(date(2025, 7, 1))) == 45
    assert world.district_of(old[0].code) == "094"
    with pytest.raises(KeyError):
        world.district_of(new[0].code)


def test_lineage(world: World) -> None:
    old = {u.code for u in world.old_communes}
    new = {u.code for u in world.new_communes}
    totals: dict[str, float] = defaultdict(float)
    parts: dict[str, list[str]] = defaultdict(list)
    for li in world.lineage:
        assert li.old_code in old and li.new_code in new
        assert li.effective == REORGANISATION
        assert 0 < li.population_share <= 1
        totals[li.old_code] += li.population_share
        parts[li.old_code].append(li.new_code)
    assert set(totals) == old
    assert all(total == 1.0 for total in totals.values())
    splits = [code for code, news in parts.items() if len(news) > 1]
    assert 2 <= len(splits) <= 6
    assert {li.new_code for li in world.lineage} == new
    # A new commune stays within one old district's territory.
    for new_code in new:
        districts = {
            world.district_of(li.old_code) for li in world.lineage if li.new_code == new_code
        }
        assert len(districts) == 1
    for code in splits:
        assert len(world.successors(code)) == 2


def test_villages_and_figures(world: World) -> None:
    villages = world.villages
    assert 1_450 <= len(villages) <= 1_750
    assert len({v.code for v in villages}) == len(villages)
    pairs = {(li.old_code, li.new_code) for li in world.lineage}
    assert all((v.old_commune_code, v.new_commune_code) in pairs for v in villages)
    assert {v.old_commune_code for v in villages} == {u.code for u in world.old_communes}
    for v in villages:
        assert v.remote == (world.district_of(v.old_commune_code) in ("096", "103"))
    towns = {world.unit(v.old_commune_code).kind for v in villages if v.town}
    assert towns == {"phuong", "thi_tran"}
    # A split commune's villages go to both of its new communes.
    for li in world.lineage:
        if li.population_share < 1:
            assert any(
                v.old_commune_code == li.old_code and v.new_commune_code == li.new_code
                for v in villages
            )
    assert any("ả" in v.name or "ổ" in v.name or "ế" in v.name for v in villages)

    previous = None
    for year in range(2022, 2027):
        figures = world.figures_for(year)
        assert len(figures) == len(villages)
        households = sum(f.households for f in figures)
        population = sum(f.population for f in figures)
        adults = sum(f.population_15plus for f in figures)
        assert 117_000 <= households <= 143_000
        assert 585_000 <= population <= 715_000
        assert 0.66 <= adults / population <= 0.74
        assert all(0 < f.households < f.population and f.population_15plus <= f.population
                   for f in figures)  # fmt: skip
        if previous is not None:
            assert 1.002 < population / previous < 1.02  # slow growth
        previous = population
        old_or_new = {u.code for u in (world.old_communes if year <= 2025 else world.new_communes)}
        assert {f.commune_code for f in figures} <= old_or_new
    assert world.figures_for(2031) == world.figures_for(2026)
    assert world.figures_for(2019) == world.figures_for(2022)
    first = villages[0]
    assert world.figures(first.code, 2026).commune_code == first.new_commune_code
    assert world.figures(first.code, 2025).commune_code == first.old_commune_code


def test_agencies(world: World) -> None:
    agencies = world.agencies
    groups = Counter(a.group for a in agencies)
    assert 18 <= groups["SO_NGANH"] <= 24
    assert groups["UBND_HUYEN"] == 10
    assert groups["UBND_XA"] == 129 + 45
    codes = [a.code for a in agencies]
    assert len(set(codes)) == len(codes)
    assert set(codes).isdisjoint(u.code for u in world.units)
    emails = [a.contact_email for a in agencies]
    assert len(set(emails)) == len(emails)
    assert all(e.isascii() and e.endswith("@dienbien.gov.vn") for e in emails)
    assert all(0.0 <= a.performance <= 1.0 for a in agencies)
    performance = sorted(a.performance for a in agencies)
    assert performance[-3] >= 0.9 and performance[2] <= 0.2

    by_name = {a.name: a for a in agencies if a.group == "SO_NGANH"}
    assert by_name["Sở Y tế"].contact_email == "cds.soyte@dienbien.gov.vn"
    merged = by_name["Sở Thông tin và Truyền thông"]
    assert merged.valid_to == date(2025, 2, 28)
    assert by_name["Sở Khoa học và Công nghệ"].valid_to is None
    successor = by_name["Sở Nông nghiệp và Môi trường"]
    predecessor = by_name["Sở Nông nghiệp và Phát triển nông thôn"]
    assert successor.valid_from == DEPARTMENT_MERGER and predecessor.valid_to == date(2025, 2, 28)
    assert abs(successor.performance - predecessor.performance) <= 0.05
    assert all(a.admin_unit_code == "11" for a in by_name.values())
    before = {a.name for a in world.agencies_in_force(date(2025, 2, 28))}
    after = {a.name for a in world.agencies_in_force(DEPARTMENT_MERGER)}
    assert "Sở Lao động – Thương binh và Xã hội" in before - after
    assert "Sở Nông nghiệp và Môi trường" in after - before

    committees = [a for a in agencies if a.group == "UBND_HUYEN"]
    assert all(a.valid_to == LAST_OLD_DAY for a in committees)
    assert {a.admin_unit_code for a in committees} == set(DISTRICTS)
    assert world.district_committee("099").name == "UBND huyện Tuần Giáo"
    assert world.district_committee("094").name == "UBND thành phố Điện Biên Phủ"
    in_july = world.agencies_in_force(REORGANISATION)
    assert not any(a.group == "UBND_HUYEN" for a in in_july)
    assert sum(a.group == "UBND_XA" for a in in_july) == 45

    old = world.old_communes[0]
    committee = world.agency_for_commune(old.code, date(2024, 5, 1))
    assert committee.group == "UBND_XA" and committee.admin_unit_code == old.code
    assert committee.name.startswith("UBND phường ")
    with pytest.raises(KeyError):
        world.agency_for_commune(old.code, REORGANISATION)
    new = world.new_communes[-1]
    assert world.agency_for_commune(new.code, date(2025, 8, 1)).valid_from == REORGANISATION


def test_deterministic_and_fast() -> None:
    build_world.cache_clear()
    started = time.perf_counter()
    again = build_world(2158)
    assert time.perf_counter() - started < 1.0
    assert build_world(2158) is again  # cached
    other = build_world(7)
    assert again.units == other.units  # the structure does not depend on the seed
    assert again.village_figures != other.village_figures


def test_reference_files(world: World, tmp_path: Path) -> None:
    counts = write_reference(world, tmp_path / "a")
    assert set(counts) == set(CONTRACT_HEADERS)
    for name, header in CONTRACT_HEADERS.items():
        raw = (tmp_path / "a" / name).read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf") and b"\r" not in raw
        assert raw.decode("utf-8").splitlines()[0] == ",".join(header)
        rows = _read(tmp_path / "a" / name)
        assert len(rows) == counts[name]
        assert list(rows[0]) == header

    units = {r["ma_dvhc"]: r for r in _read(tmp_path / "a" / "don_vi_hanh_chinh.csv")}
    assert len(units) == 1 + 10 + 129 + 45
    assert units["094"]["ten"] == "Thành phố Điện Biên Phủ"
    assert units["11"]["ma_dvhc_cha"] == "" and units["11"]["hieu_luc_den"] == ""
    assert units["094"]["hieu_luc_den"] == "2025-06-30"
    assert {r["cap"] for r in units.values()} == {"TINH", "HUYEN", "XA"}
    for r in units.values():
        date.fromisoformat(r["hieu_luc_tu"])

    lineage = _read(tmp_path / "a" / "sap_xep_dvhc.csv")
    share: dict[str, float] = defaultdict(float)
    for r in lineage:
        assert r["ngay_hieu_luc"] == "2025-07-01"
        share[r["ma_dvhc_cu"]] += float(r["ty_le_dan_so"])
    assert len(share) == 129 and all(abs(s - 1) < 1e-9 for s in share.values())

    agencies = _read(tmp_path / "a" / "co_quan.csv")
    assert {r["nhom"] for r in agencies} == {"SO_NGANH", "UBND_HUYEN", "UBND_XA"}
    assert all(r["ma_dvhc"] in units for r in agencies)
    assert any(r["ten"] == "Sở Giáo dục và Đào tạo" for r in agencies)

    villages = _read(tmp_path / "a" / "thon_ban.csv")
    assert len(villages) == 5 * len(world.villages)
    assert {r["nam"] for r in villages} == {"2022", "2023", "2024", "2025", "2026"}
    for r in villages:
        unit = units[r["ma_dvhc"]]
        on = date(int(r["nam"]), 1, 1).isoformat()
        assert unit["cap"] == "XA" and unit["hieu_luc_tu"] <= on
        assert unit["hieu_luc_den"] == "" or on <= unit["hieu_luc_den"]
        assert int(r["dan_so_tu_15"]) <= int(r["dan_so"])

    # Same seed, same bytes; another seed, other villages.
    write_reference(world, tmp_path / "b")
    write_reference(build_world(99), tmp_path / "c")
    for name in CONTRACT_HEADERS:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    thon_ban = "thon_ban.csv"
    assert (tmp_path / "a" / thon_ban).read_bytes() != (tmp_path / "c" / thon_ban).read_bytes()
