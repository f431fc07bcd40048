"""The simulated portal: its generated store and its API, over real HTTP on loopback."""

from __future__ import annotations

import shutil
import sqlite3
import statistics
import time
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from sources.simulator.manifest import Manifest
from sources.simulator.portal_data import (
    TET,
    iter_payloads,
    store_meta,
    volume_collapse,
    write_portal_store,
)
from sources.simulator.portal_server import PortalFaults, PortalServer
from sources.simulator.world import REORGANISATION, World, build_world

SEED = 2158
CREDENTIALS = {"client_id": "cds", "client_secret": "cds-secret"}
VIETNAM = timezone(timedelta(hours=7))
TIMEOUT = 10

DOSSIER_FIELDS = [
    "ma_ho_so", "ma_thu_tuc", "ma_co_quan", "ma_dvhc", "kenh_nop", "ngay_tiep_nhan",
    "han_xu_ly", "ngay_hoan_thanh", "ngay_tra_ket_qua", "trang_thai", "thanh_toan_truc_tuyen",
    "so_hoa_ho_so", "so_hoa_ket_qua", "nguoi_nop", "updated_at",
]  # fmt: skip
PROCEDURE_FIELDS = [
    "ma_thu_tuc", "ten_thu_tuc", "linh_vuc", "ma_co_quan", "cap_thuc_hien",
    "du_dieu_kien_toan_trinh", "muc_do", "co_phi", "hieu_luc", "updated_at",
]  # fmt: skip
RATING_FIELDS = ["ma_danh_gia", "ma_ho_so", "muc_do", "ngay_danh_gia", "updated_at"]
KENH_NOP = {"TRUC_TUYEN", "TRUC_TIEP", "BUU_CHINH"}
TRANG_THAI = {
    "MOI_TIEP_NHAN", "DANG_XU_LY", "CHO_BO_SUNG", "DA_HOAN_THANH", "DA_TRA_KET_QUA", "TU_CHOI",
    "DA_RUT",
}  # fmt: skip
FINISHED = {"DA_HOAN_THANH", "DA_TRA_KET_QUA", "TU_CHOI"}
MUC_DO_DANH_GIA = {"RAT_HAI_LONG", "HAI_LONG", "BINH_THUONG", "KHONG_HAI_LONG"}


# --- Fixtures ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def world() -> World:
    return build_world(SEED)


@pytest.fixture(scope="module")
def main_store(tmp_path_factory: pytest.TempPathFactory, world: World) -> tuple[Path, Manifest]:
    """Four years at a tiny scale: the merger, the reorganisation and every planted record."""
    path = tmp_path_factory.mktemp("portal") / "portal.sqlite"
    manifest = Manifest()
    counts = write_portal_store(
        world, path, seed=SEED, scale=0.005, start=date(2023, 1, 1), end=date(2026, 11, 28),
        manifest=manifest,
    )  # fmt: skip
    assert 1800 <= counts["procedures"] <= 2000
    assert 6000 <= counts["dossiers"] <= 9500
    return path, manifest


@pytest.fixture(scope="module")
def server(main_store: tuple[Path, Manifest]):
    with PortalServer(main_store[0]) as running:
        yield running


@pytest.fixture(scope="module")
def listing(server: PortalServer) -> dict[str, list[list[dict]]]:
    """Every page of every list endpoint, fetched once (page_size 1000)."""
    session = _session(server.base_url)
    return {
        table: _pages(session, server.base_url, table, page_size=1000)
        for table in ("procedures", "dossiers", "ratings")
    }


# --- Helpers ----------------------------------------------------------------------------------
def _token(base: str) -> str:
    answer = requests.post(f"{base}/api/v1/auth/token", json=CREDENTIALS, timeout=TIMEOUT)
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def _session(base: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {_token(base)}"
    return session


def _pages(session: requests.Session, base: str, table: str, **params: object) -> list[list[dict]]:
    pages: list[list[dict]] = []
    query = dict(params)
    while True:
        answer = session.get(f"{base}/api/v1/{table}", params=query, timeout=TIMEOUT)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert set(body) == {"items", "next_page_token", "total"}
        pages.append(body["items"])
        if body["next_page_token"] is None:
            return pages
        query = {**params, "page_token": body["next_page_token"]}


def _flat(pages: list[list[dict]]) -> list[dict]:
    return [item for page in pages for item in page]


def _local(text: str) -> datetime:
    """An ISO 8601 timestamp as naive Vietnam local time (as the connectors must do)."""
    moment = datetime.fromisoformat(text)
    assert moment.tzinfo is not None, f"{text!r} has no offset"
    return moment.astimezone(VIETNAM).replace(tzinfo=None)


def _is_timestamp(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        _local(value)
    except (ValueError, AssertionError):
        return False
    return value.endswith("Z") or value.endswith("+07:00")


def _dossier_problems(item: dict, agencies: set[str]) -> set[str]:
    """The anomaly kinds a record shows (empty for a valid record)."""
    problems: set[str] = set()
    for name in ("ma_ho_so", "ma_thu_tuc", "ma_co_quan", "ma_dvhc"):
        if not isinstance(item[name], str):
            problems.add("wrong_type")
    for name in ("thanh_toan_truc_tuyen", "so_hoa_ho_so", "so_hoa_ket_qua"):
        if not isinstance(item[name], bool):
            problems.add("wrong_type")
    for name in ("ngay_tiep_nhan", "updated_at"):
        if not _is_timestamp(item[name]):
            problems.add("wrong_type")
    for name in ("han_xu_ly", "ngay_hoan_thanh", "ngay_tra_ket_qua"):
        if item[name] is not None and not _is_timestamp(item[name]):
            problems.add("wrong_type")
    if item["kenh_nop"] not in KENH_NOP or item["trang_thai"] not in TRANG_THAI:
        problems.add("enum")
    if item["ma_co_quan"] not in agencies:
        problems.add("unknown_code")
    if (
        "wrong_type" not in problems
        and item["ngay_hoan_thanh"] is not None
        and _local(item["ngay_hoan_thanh"]) < _local(item["ngay_tiep_nhan"])
    ):
        problems.add("date_order")
    return problems


def _store_rows(path: Path) -> dict[str, list[tuple]]:
    connection = sqlite3.connect(path)
    try:
        return {
            table: connection.execute(
                f"SELECT id, updated_at, payload FROM {table} ORDER BY seq"
            ).fetchall()
            for table in ("meta", "procedures", "dossiers", "ratings")
            if table != "meta"
        } | {"meta": connection.execute("SELECT * FROM meta ORDER BY key").fetchall()}
    finally:
        connection.close()


# --- Authentication and basics ----------------------------------------------------------------
def test_health_needs_no_token(server: PortalServer) -> None:
    answer = requests.get(f"{server.base_url}/api/v1/health", timeout=TIMEOUT)
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}


def test_authentication(server: PortalServer) -> None:
    base = server.base_url
    wrong = requests.post(
        f"{base}/api/v1/auth/token", json={**CREDENTIALS, "client_secret": "x"}, timeout=TIMEOUT
    )
    assert wrong.status_code == 401
    good = requests.post(f"{base}/api/v1/auth/token", json=CREDENTIALS, timeout=TIMEOUT).json()
    assert good["token_type"] == "Bearer" and good["expires_in"] == 3600
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic x"}):
        answer = requests.get(f"{base}/api/v1/dossiers", headers=headers, timeout=TIMEOUT)
        assert answer.status_code == 401
        assert answer.json() == {"error": "invalid_token"}
    ok = requests.get(
        f"{base}/api/v1/dossiers",
        headers={"Authorization": f"Bearer {good['access_token']}"},
        params={"page_size": 1},
        timeout=TIMEOUT,
    )
    assert ok.status_code == 200 and len(ok.json()["items"]) == 1


def test_expired_access_token(main_store: tuple[Path, Manifest]) -> None:
    with PortalServer(main_store[0], faults=PortalFaults(token_ttl_s=1.0)) as server:
        session = _session(server.base_url)
        first = session.get(f"{server.base_url}/api/v1/dossiers", timeout=TIMEOUT)
        assert first.status_code == 200
        time.sleep(1.1)
        page = {"page_token": first.json()["next_page_token"]}
        later = session.get(f"{server.base_url}/api/v1/dossiers", params=page, timeout=TIMEOUT)
        assert later.status_code == 401
        assert later.json() == {"error": "invalid_token"}
        # A new token carries on from the same page token.
        session.headers["Authorization"] = f"Bearer {_token(server.base_url)}"
        again = session.get(f"{server.base_url}/api/v1/dossiers", params=page, timeout=TIMEOUT)
        assert again.status_code == 200


@pytest.mark.parametrize(
    "params",
    [
        {"page_size": 0},
        {"page_size": 1001},
        {"page_size": "ten"},
        {"page_size": -5},
        {"updated_since": "31/02/2024"},
        {"updated_since": "2024-01-01T00:00:00 07:00"},  # an unencoded '+'
        {"page_token": "bm90LWEtdG9rZW4"},
    ],
)
def test_malformed_parameters(server: PortalServer, params: dict) -> None:
    session = _session(server.base_url)
    answer = session.get(f"{server.base_url}/api/v1/dossiers", params=params, timeout=TIMEOUT)
    assert answer.status_code == 400
    assert isinstance(answer.json()["error"], str)


def test_page_size_bounds_and_default(server: PortalServer) -> None:
    session = _session(server.base_url)
    url = f"{server.base_url}/api/v1/dossiers"
    assert len(session.get(url, timeout=TIMEOUT).json()["items"]) == 100
    assert len(session.get(url, params={"page_size": 1}, timeout=TIMEOUT).json()["items"]) == 1
    big = session.get(url, params={"page_size": 1000}, timeout=TIMEOUT).json()
    assert len(big["items"]) == 1000
    # A token of one endpoint is not valid on another.
    other = session.get(
        f"{server.base_url}/api/v1/ratings",
        params={"page_token": big["next_page_token"]},
        timeout=TIMEOUT,
    )
    assert other.status_code == 400


def test_describe(server: PortalServer) -> None:
    summary = server.summary()
    assert summary["base_url"] == server.base_url
    assert summary["counts"]["dossiers"] > 0 and summary["faults"] == {}
    assert "cds-secret" not in server.describe()
    assert server.base_url in server.describe()


# --- The data as served -----------------------------------------------------------------------
def test_dossiers_follow_the_contract(
    listing: dict[str, list[list[dict]]], main_store: tuple[Path, Manifest], world: World
) -> None:
    dossiers = _flat(listing["dossiers"])
    path, manifest = main_store
    assert len(dossiers) == int(store_meta(path)["count_dossiers"])
    assert len({d["ma_ho_so"] for d in dossiers}) == len(dossiers)
    agencies = {a.code for a in world.agencies}
    found: set[tuple[str, str]] = set()
    for item in dossiers:
        assert list(item) == DOSSIER_FIELDS
        assert list(item["nguoi_nop"]) == ["ho_ten", "so_dinh_danh", "so_dien_thoai"]
        for kind in _dossier_problems(item, agencies):
            found.add((item["ma_ho_so"], kind))
    planted = {
        (a.record_key, a.kind)
        for a in manifest.anomalies
        if a.dataset == "dvc_dossiers" and a.kind != "volume_collapse"
    }
    assert found == planted
    assert Counter(kind for _, kind in planted) == {
        "date_order": 1, "unknown_code": 1, "enum": 1, "wrong_type": 2,
    }  # fmt: skip


def test_dossiers_are_handled_by_agencies_in_force(
    listing: dict[str, list[list[dict]]], main_store: tuple[Path, Manifest], world: World
) -> None:
    planted = {a.record_key for a in main_store[1].anomalies}
    level = {p["ma_thu_tuc"]: p["cap_thuc_hien"] for p in _flat(listing["procedures"])}
    fees = {p["ma_thu_tuc"]: p["co_phi"] for p in _flat(listing["procedures"])}
    groups: Counter[tuple[str, str, bool]] = Counter()
    for item in _flat(listing["dossiers"]):
        if item["ma_ho_so"] in planted:
            continue
        received = _local(item["ngay_tiep_nhan"])
        day = received.date()
        agency = world.agency(item["ma_co_quan"])
        unit = world.unit(item["ma_dvhc"])
        assert agency.in_force(day), item
        assert unit.in_force(day), item
        assert item["ma_ho_so"].startswith(f"{agency.code}-{day:%y%m%d}-")
        cap = level[item["ma_thu_tuc"]]
        after = day >= REORGANISATION
        groups[(cap, agency.group, after)] += 1
        if agency.group != "SO_NGANH":
            assert agency.admin_unit_code == item["ma_dvhc"], item
        assert unit.level == ("XA" if after or cap == "XA" else "HUYEN"), item
        if item["thanh_toan_truc_tuyen"]:
            assert fees[item["ma_thu_tuc"]], item
        # Lifecycle fields agree with the status.
        status = item["trang_thai"]
        assert (item["ngay_hoan_thanh"] is not None) == (status in FINISHED), item
        assert (item["ngay_tra_ket_qua"] is not None) == (status == "DA_TRA_KET_QUA"), item
        assert _local(item["updated_at"]) >= received
        person = item["nguoi_nop"]
        assert person["so_dien_thoai"].startswith("09") and len(person["so_dien_thoai"]) == 10
        assert person["so_dinh_danh"].isdigit() and len(person["so_dinh_danh"]) in (10, 12, 13)
    assert set(groups) == {
        ("TINH", "SO_NGANH", False), ("HUYEN", "UBND_HUYEN", False), ("XA", "UBND_XA", False),
        ("TINH", "SO_NGANH", True), ("HUYEN", "UBND_XA", True), ("HUYEN", "SO_NGANH", True),
        ("XA", "UBND_XA", True),
    }  # fmt: skip


def test_ordering_and_timezones(listing: dict[str, list[list[dict]]]) -> None:
    for table, key in (("dossiers", "ma_ho_so"), ("ratings", "ma_danh_gia")):
        items = _flat(listing[table])
        keys = [(_local(i["updated_at"]), i[key]) for i in items]
        assert keys == sorted(keys), table
        utc = sum(i["updated_at"].endswith("Z") for i in items)
        assert 0 < utc < 0.03 * len(items), (table, utc)
    procedures = _flat(listing["procedures"])
    keys = [(_local(p["updated_at"]), p["ma_thu_tuc"]) for p in procedures]
    assert keys == sorted(keys)


def test_procedures_and_the_planted_duplicate(
    listing: dict[str, list[list[dict]]], main_store: tuple[Path, Manifest], world: World
) -> None:
    procedures = _flat(listing["procedures"])
    for p in procedures:
        assert list(p) == PROCEDURE_FIELDS
        assert p["cap_thuc_hien"] in {"TINH", "HUYEN", "XA"}
        assert p["muc_do"] in {"TOAN_TRINH", "MOT_PHAN", "KHONG"}
        assert all(isinstance(p[f], bool) for f in ("du_dieu_kien_toan_trinh", "co_phi"))
        assert (p["ma_co_quan"] is None) == (p["cap_thuc_hien"] != "TINH")
        if p["muc_do"] == "TOAN_TRINH":
            assert p["du_dieu_kien_toan_trinh"]
    counts = Counter(p["ma_thu_tuc"] for p in procedures)
    duplicates = {code for code, n in counts.items() if n > 1}
    planted = [a for a in main_store[1].anomalies if a.dataset == "dvc_procedures"]
    assert [(a.kind, a.record_key) for a in planted] == [("duplicate", code) for code in duplicates]
    twins = [p for p in procedures if p["ma_thu_tuc"] in duplicates]
    assert twins[0]["updated_at"] == twins[1]["updated_at"] and twins[0] != twins[1]
    # As of the end, ceased departments hold no procedure: theirs moved on the merger day.
    in_force = {a.code for a in world.agencies_in_force(date(2026, 11, 28))}
    tinh = [p for p in procedures if p["cap_thuc_hien"] == "TINH"]
    assert all(p["ma_co_quan"] in in_force for p in tinh)
    moved = [p for p in tinh if p["updated_at"].startswith("2025-03-01")]
    assert len(moved) > 100
    eligible = [p for p in procedures if p["du_dieu_kien_toan_trinh"] and p["hieu_luc"]]
    assert 0.5 < len(eligible) / len(procedures) < 0.7
    assert 0.02 < sum(not p["hieu_luc"] for p in procedures) / len(procedures) < 0.08
    assert 0.28 < sum(p["co_phi"] for p in procedures) / len(procedures) < 0.42
    # Some departments have every eligible procedure fully online, most do not.
    shares = defaultdict(list)
    for p in eligible:
        if p["ma_co_quan"]:
            shares[p["ma_co_quan"]].append(p["muc_do"] == "TOAN_TRINH")
    full = [code for code, flags in shares.items() if all(flags)]
    assert 1 <= len(full) < len(shares) / 2


def test_paging_does_not_skip_the_twin(
    server: PortalServer, main_store: tuple[Path, Manifest]
) -> None:
    """Two rows with the same (updated_at, id) on either side of a page boundary."""
    code = next(a.record_key for a in main_store[1].anomalies if a.kind == "duplicate")
    connection = sqlite3.connect(main_store[0])
    seq, updated = connection.execute(
        "SELECT min(seq), updated_at FROM procedures WHERE id = ?", (code,)
    ).fetchone()
    connection.close()
    token = server._page_token("procedures", (updated, code, seq), "", 1)
    session = _session(server.base_url)
    answer = session.get(
        f"{server.base_url}/api/v1/procedures",
        params={"page_size": 1, "page_token": token},
        timeout=TIMEOUT,
    ).json()
    assert answer["items"][0]["ma_thu_tuc"] == code


def test_ratings(listing: dict[str, list[list[dict]]], main_store: tuple[Path, Manifest]) -> None:
    ratings = _flat(listing["ratings"])
    dossiers = {d["ma_ho_so"]: d for d in _flat(listing["dossiers"])}
    done = {"DA_HOAN_THANH", "DA_TRA_KET_QUA"}
    found: set[tuple[str, str]] = set()
    for r in ratings:
        assert list(r) == RATING_FIELDS
        if r["muc_do"] not in MUC_DO_DANH_GIA:
            found.add((r["ma_danh_gia"], "enum"))
        dossier = dossiers.get(r["ma_ho_so"])
        if dossier is None:
            found.add((r["ma_danh_gia"], "unknown_code"))
            continue
        assert dossier["trang_thai"] in done
        assert _local(r["ngay_danh_gia"]) > _local(dossier["ngay_hoan_thanh"])
    planted = {
        (a.record_key, a.kind) for a in main_store[1].anomalies if a.dataset == "dvc_ratings"
    }
    assert found == planted and len(planted) == 2
    finished = sum(
        d["trang_thai"] in {"DA_HOAN_THANH", "DA_TRA_KET_QUA"} for d in dossiers.values()
    )
    assert 0.16 < len(ratings) / finished < 0.24
    satisfied = sum(r["muc_do"] in {"RAT_HAI_LONG", "HAI_LONG"} for r in ratings) / len(ratings)
    assert 0.75 < satisfied < 0.97


def test_updated_since_is_inclusive(server: PortalServer, listing: dict) -> None:
    items = _flat(listing["dossiers"])
    pivot = items[len(items) // 2]
    moment = _local(pivot["updated_at"])
    expected = [i["ma_ho_so"] for i in items if _local(i["updated_at"]) >= moment]
    session = _session(server.base_url)
    spellings = [
        moment.isoformat() + "+07:00",
        moment.isoformat(),  # no offset: local time
        (moment - timedelta(hours=7)).isoformat() + "Z",
        (moment - timedelta(hours=5)).isoformat() + "+02:00",
    ]
    for since in spellings:
        pages = _pages(session, server.base_url, "dossiers", page_size=500, updated_since=since)
        got = [i["ma_ho_so"] for i in _flat(pages)]
        assert got == expected, since
        assert got[0] == pivot["ma_ho_so"] or _local(_flat(pages)[0]["updated_at"]) == moment


# --- Statistics of the generated data ---------------------------------------------------------
def test_shares_are_realistic(listing: dict[str, list[list[dict]]], main_store) -> None:
    planted = {a.record_key for a in main_store[1].anomalies}
    dossiers = [d for d in _flat(listing["dossiers"]) if d["ma_ho_so"] not in planted]
    online: dict[int, list[bool]] = defaultdict(list)
    per_day: Counter[date] = Counter()
    on_time: dict[str, list[bool]] = defaultdict(list)
    for d in dossiers:
        received = _local(d["ngay_tiep_nhan"])
        online[received.year].append(d["kenh_nop"] == "TRUC_TUYEN")
        per_day[received.date()] += 1
        if d["trang_thai"] in FINISHED:
            due = d["han_xu_ly"]
            on_time[d["ma_co_quan"]].append(
                due is None or _local(d["ngay_hoan_thanh"]) <= _local(due)
            )
    share = {year: sum(flags) / len(flags) for year, flags in online.items()}
    assert 0.2 < share[2023] < 0.42 and 0.58 < share[2026] < 0.82
    assert share[2023] < share[2024] < share[2025] < share[2026]
    everything = [flag for flags in on_time.values() for flag in flags]
    assert 0.88 < sum(everything) / len(everything) < 0.99
    rates = [sum(f) / len(f) for f in on_time.values() if len(f) >= 40]
    assert 0.9 <= statistics.median(rates) <= 0.99
    # Weekends and Tết are quiet.
    days = [date(2023, 1, 1) + timedelta(days=k) for k in range(1428)]
    workdays = [per_day[day] for day in days if day.weekday() < 5]
    sundays = [per_day[day] for day in days if day.weekday() == 6]
    assert statistics.mean(sundays) < 0.15 * statistics.mean(workdays)
    tet = TET[2024]
    holiday = sum(per_day.get(tet + timedelta(days=k), 0) for k in range(-2, 6))
    assert holiday < 0.1 * statistics.mean(workdays) * 8


def test_volume_collapse(tmp_path: Path, world: World) -> None:
    collapse = volume_collapse(world, SEED, date(2023, 1, 1))
    assert world.agency(collapse.agency).group == "UBND_HUYEN"
    assert collapse.first_day.weekday() == 0 and collapse.first_day.year == 2025
    # Four weeks around it at a larger scale: the agency's week is nearly empty.
    start = collapse.first_day - timedelta(days=14)
    assert volume_collapse(world, SEED, start) == collapse
    manifest = Manifest()
    path = tmp_path / "portal.sqlite"
    write_portal_store(
        world, path, seed=SEED, scale=0.1, start=start, end=start + timedelta(days=27),
        manifest=manifest, plant_anomalies=False,
    )  # fmt: skip
    weeks: Counter[int] = Counter()
    for d in iter_payloads(path, "dossiers"):
        if d["ma_co_quan"] == collapse.agency:
            weeks[(_local(d["ngay_tiep_nhan"]).date() - start).days // 7] += 1
    assert weeks[2] <= 0.25 * min(weeks[0], weeks[1], weeks[3]), weeks
    entries = [(a.kind, a.record_key) for a in manifest.anomalies]
    assert entries == [("volume_collapse", collapse.agency)]


# --- Determinism and nightly increments -------------------------------------------------------
def test_same_seed_same_store(tmp_path: Path, world: World) -> None:
    stores = []
    for name in ("a.sqlite", "b.sqlite"):
        manifest = Manifest()
        write_portal_store(
            world, tmp_path / name, seed=SEED, scale=0.01, start=date(2025, 5, 1),
            end=date(2025, 7, 20), manifest=manifest,
        )  # fmt: skip
        stores.append((_store_rows(tmp_path / name), manifest.anomalies))
    assert stores[0] == stores[1]
    assert len(stores[0][1]) >= 8  # a duplicate, five dossiers, two ratings


def test_later_end_advances_the_same_dossiers(tmp_path: Path, world: World) -> None:
    def generate(end: date) -> dict[str, dict[str, dict]]:
        path = tmp_path / f"{end}.sqlite"
        write_portal_store(
            world, path, seed=SEED, scale=0.01, start=date(2025, 5, 1), end=end,
            manifest=Manifest(),
        )  # fmt: skip
        return {
            table: {next(iter(r.values())): r for r in iter_payloads(path, table)}
            for table in ("dossiers", "ratings")
        }

    before, after = generate(date(2025, 7, 15)), generate(date(2025, 8, 15))
    stable = ("ma_thu_tuc", "ma_co_quan", "ma_dvhc", "kenh_nop", "ngay_tiep_nhan", "han_xu_ly",
              "nguoi_nop")  # fmt: skip
    advanced = 0
    for key, old in before["dossiers"].items():
        new = after["dossiers"][key]
        assert {f: old[f] for f in stable} == {f: new[f] for f in stable}
        assert _local(new["updated_at"]) >= _local(old["updated_at"])
        if old["trang_thai"] in FINISHED | {"DA_RUT"} and old["trang_thai"] != "DA_HOAN_THANH":
            assert new == old
        if new != old:
            advanced += 1
            assert _local(new["updated_at"]) > datetime(2025, 7, 15, 23, 59, 59)
    assert advanced > 0
    new_ones = set(after["dossiers"]) - set(before["dossiers"])
    assert new_ones
    assert all(
        _local(after["dossiers"][k]["ngay_tiep_nhan"]) > datetime(2025, 7, 15, 23, 59, 59)
        for k in new_ones
    )
    assert set(before["ratings"]) <= set(after["ratings"])
    assert all(before["ratings"][k] == after["ratings"][k] for k in before["ratings"])


def test_end_may_be_a_moment(tmp_path: Path, world: World) -> None:
    """With a datetime `end`, nothing after that moment is visible."""
    cutoff = datetime(2025, 6, 10, 12, 30)
    path = tmp_path / "portal.sqlite"
    write_portal_store(
        world, path, seed=SEED, scale=0.01, start=date(2025, 6, 1), end=cutoff,
        manifest=Manifest(),
    )  # fmt: skip
    dossiers = list(iter_payloads(path, "dossiers"))
    assert dossiers
    assert max(_local(d["updated_at"]) for d in dossiers) <= cutoff
    assert any(_local(d["ngay_tiep_nhan"]).date() == cutoff.date() for d in dossiers)
    assert store_meta(path)["cutoff"] == "2025-06-10T12:30:00"


# --- Faults -----------------------------------------------------------------------------------
def test_rate_limit(main_store: tuple[Path, Manifest]) -> None:
    faults = PortalFaults(rate_limit=True, rate_limit_per_second=3)
    with PortalServer(main_store[0], faults=faults) as server:
        session = _session(server.base_url)
        answers = [
            session.get(f"{server.base_url}/api/v1/dossiers", params={"page_size": 1})
            for _ in range(12)
        ]
        limited = [a for a in answers if a.status_code == 429]
        assert limited and len(limited) < 12
        assert all(a.headers["Retry-After"].isdigit() for a in limited)
        assert all(int(a.headers["Retry-After"]) >= 1 for a in limited)
        time.sleep(float(limited[-1].headers["Retry-After"]))
        after = session.get(f"{server.base_url}/api/v1/dossiers", params={"page_size": 1})
        assert after.status_code == 200


def test_transient_errors(main_store: tuple[Path, Manifest]) -> None:
    with PortalServer(main_store[0], faults=PortalFaults(error_rate=0.5, seed=3)) as server:
        token = None
        while token is None:
            answer = requests.post(
                f"{server.base_url}/api/v1/auth/token", json=CREDENTIALS, timeout=TIMEOUT
            )
            token = answer.json()["access_token"] if answer.status_code == 200 else None
        headers = {"Authorization": f"Bearer {token}"}
        statuses = Counter(
            requests.get(
                f"{server.base_url}/api/v1/ratings", headers=headers, timeout=TIMEOUT
            ).status_code
            for _ in range(40)
        )
        assert statuses[200] > 5
        assert set(statuses) - {200} <= {500, 502, 503, 504}
        assert sum(n for status, n in statuses.items() if status >= 500) > 5
        health = requests.get(f"{server.base_url}/api/v1/health", timeout=TIMEOUT)
        assert health.status_code == 200  # monitoring is not disturbed


def test_slow_response_exceeds_a_short_timeout(main_store: tuple[Path, Manifest]) -> None:
    faults = PortalFaults(slow_rate=1.0, slow_seconds=3.0)
    with PortalServer(main_store[0], faults=faults) as server:
        started = time.monotonic()
        with pytest.raises(requests.exceptions.ReadTimeout):
            requests.post(f"{server.base_url}/api/v1/auth/token", json=CREDENTIALS, timeout=0.3)
        assert time.monotonic() - started < 2.0


def test_page_token_expiry(main_store: tuple[Path, Manifest]) -> None:
    with PortalServer(main_store[0], faults=PortalFaults(page_token_ttl_s=1.0)) as server:
        session = _session(server.base_url)
        url = f"{server.base_url}/api/v1/dossiers"
        first = session.get(url, timeout=TIMEOUT).json()
        fresh = session.get(url, params={"page_token": first["next_page_token"]}, timeout=TIMEOUT)
        assert fresh.status_code == 200
        time.sleep(1.1)
        stale = session.get(url, params={"page_token": first["next_page_token"]}, timeout=TIMEOUT)
        assert stale.status_code == 410
        assert stale.json() == {"error": "page_token_expired"}


def test_records_reappear_when_mutated_while_paging(
    tmp_path: Path, main_store: tuple[Path, Manifest]
) -> None:
    path = tmp_path / "portal.sqlite"
    shutil.copy(main_store[0], path)  # the fault writes to the store
    before = {r["ma_danh_gia"] for r in iter_payloads(path, "ratings")}
    faults = PortalFaults(mutate_while_paging=0.5, seed=7)
    with PortalServer(path, faults=faults) as server:
        session = _session(server.base_url)
        pages = _pages(session, server.base_url, "ratings", page_size=100)
    seen: dict[str, tuple[int, datetime]] = {}
    again = 0
    for number, page in enumerate(pages):
        for item in page:
            key, moment = item["ma_danh_gia"], _local(item["updated_at"])
            if key in seen:
                again += 1
                first_page, first_moment = seen[key]
                assert number > first_page and moment > first_moment
            seen[key] = (number, moment)
    assert again > 0
    assert set(seen) == before


def test_fault_specs() -> None:
    faults = PortalFaults.from_specs(["rate_limit", "error_rate=0.1", "slow_seconds=30"])
    assert faults.rate_limit and faults.error_rate == 0.1 and faults.slow_seconds == 30.0
    assert faults.active() == {"rate_limit": True, "error_rate": 0.1, "slow_seconds": 30.0}
    with pytest.raises(ValueError):
        PortalFaults.from_specs(["nonsense=1"])


def test_timestamps_convert_with_the_offset() -> None:
    """The served `Z` times are the same moments as local times (sanity of the helper)."""
    from sources.simulator.portal_data import serve_timestamp

    assert serve_timestamp("2025-01-01T03:00:00", utc=True) == "2024-12-31T20:00:00Z"
    assert serve_timestamp("2025-01-01T03:00:00", utc=False) == "2025-01-01T03:00:00+07:00"
    assert _local("2024-12-31T20:00:00Z") == datetime(2025, 1, 1, 3)
