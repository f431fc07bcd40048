"""A small warehouse built by hand: the `marts` and `quality` tables of
pipeline-interface.md with a few plausible agencies, communes and checks.

Years are relative to today so the "latest full year" rule keeps its meaning: FULL is last
year, PREV the year before, and THIS_YEAR (the current, unfinished one) also has an index.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from warehouse.connection import open_writer

REPO = Path(__file__).resolve().parents[2]
CDS = REPO / ".venv" / "bin" / "cds"
THIS_YEAR = date.today().year
FULL = THIS_YEAR - 1
PREV = THIS_YEAR - 2

INDICATORS = [
    # code, pillar, name_vi, name_en, unit, source, weight
    ("HT-01", "HA_TANG", "Tỷ lệ thôn/bản có hạ tầng cáp quang băng rộng", "Fiber villages", "%",
     "telecom", 0),
    ("HT-02", "HA_TANG", "Tỷ lệ hộ gia đình sử dụng cáp quang", "Fiber households", "%",
     "telecom", 0),
    ("HT-04", "HA_TANG", "Tỷ lệ thôn/bản được phủ sóng 5G", "5G villages", "%", "telecom", 0),
    ("HT-05", "HA_TANG", "Tỷ lệ người dân sử dụng điện thoại thông minh", "Smartphone users",
     "%", "telecom", 0),
    ("CQ-01", "CHINH_QUYEN_SO", "Tỷ lệ văn bản trao đổi dưới dạng điện tử (trừ văn bản mật)",
     "Electronic documents", "%", "qlvb", 15),
    ("CQ-03", "CHINH_QUYEN_SO", "Tỷ lệ hồ sơ công việc được xử lý trên môi trường mạng",
     "Work files online", "%", "qlvb", 15),
    ("CQ-06", "CHINH_QUYEN_SO", "Tỷ lệ hồ sơ thủ tục hành chính được tiếp nhận trực tuyến",
     "Dossiers filed online", "%", "dvc", 15),
    ("CQ-07", "CHINH_QUYEN_SO", "Tỷ lệ hồ sơ được giải quyết đúng hạn", "Dossiers on time", "%",
     "dvc", 15),
    ("CQ-15", "CHINH_QUYEN_SO", "Số chuyên gia chuyển đổi số được đào tạo", "Experts trained",
     "người", "bao_cao", 0),
    ("KT-01", "KINH_TE_SO", "Tỷ trọng kinh tế số trong GRDP", "Digital economy share", "%",
     "bao_cao", 0),
    ("XH-01", "XA_HOI_SO", "Tỷ lệ dân số có tài khoản thanh toán điện tử", "Payment accounts",
     "%", "bao_cao", 0),
]  # fmt: skip
INDEX_WEIGHTS = {"CQ-01": 15, "CQ-03": 15, "CQ-06": 15, "CQ-07": 15}

# agency code, name, group, admin unit, valid_from, valid_to
AGENCIES = [
    ("000.00.12.H23", "Sở Y tế", "SO_NGANH", "11", date(2015, 1, 1), None),
    ("000.00.07.H23", "Sở Tư pháp", "SO_NGANH", "11", date(2015, 1, 1), None),
    ("000.00.15.H23", "Sở Khoa học và Công nghệ", "SO_NGANH", "11", date(2015, 1, 1), None),
    ("000.00.21.H23", "Ban Dân tộc", "SO_NGANH", "11", date(2015, 1, 1), None),
    ("000.41.00.H23", "UBND huyện Tuần Giáo", "UBND_HUYEN", "099", date(2015, 1, 1),
     date(FULL, 6, 30)),
    ("000.42.00.H23", "UBND huyện Mường Chà", "UBND_HUYEN", "097", date(2015, 1, 1),
     date(FULL, 6, 30)),
    ("000.51.01.H23", "UBND xã Mường Phăng", "UBND_XA", "03500", date(FULL, 7, 1), None),
    ("000.51.02.H23", "UBND phường Điện Biên Phủ", "UBND_XA", "03510", date(FULL, 7, 1), None),
    ("000.51.03.H23", "UBND xã Quài Tở", "UBND_XA", "03520", date(FULL, 7, 1), None),
]  # fmt: skip
NAMES = {a[0]: a[1] for a in AGENCIES}
GROUP = {a[0]: a[2] for a in AGENCIES}

# admin unit code, name, level, parent, valid_from, valid_to
UNITS = [
    ("11", "Tỉnh Điện Biên", "TINH", None, date(2004, 1, 1), None),
    ("099", "Huyện Tuần Giáo", "HUYEN", "11", date(2004, 1, 1), date(FULL, 6, 30)),
    ("097", "Huyện Mường Chà", "HUYEN", "11", date(2004, 1, 1), date(FULL, 6, 30)),
    ("03127", "Xã Mường Phăng (cũ)", "XA", "099", date(2004, 1, 1), date(FULL, 6, 30)),
    ("03130", "Xã Quài Cang", "XA", "099", date(2004, 1, 1), date(FULL, 6, 30)),
    ("03500", "Xã Mường Phăng", "XA", "11", date(FULL, 7, 1), None),
    ("03510", "Phường Điện Biên Phủ", "XA", "11", date(FULL, 7, 1), None),
    ("03520", "Xã Quài Tở", "XA", "11", date(FULL, 7, 1), None),
    ("03530", "Xã Nà Tấu", "XA", "11", date(FULL, 7, 1), None),
]  # fmt: skip

# Province-wide values: (indicator, year) -> (numerator, denominator, target, op)
PROVINCE = {
    ("HT-01", FULL): (1820, 1850, 100.0, ">="),
    ("HT-01", PREV): (1700, 1850, 100.0, ">="),
    ("HT-02", FULL): (89_400, 134_000, 60.0, ">"),
    ("HT-02", PREV): (75_000, 132_000, 60.0, ">"),
    ("HT-04", FULL): (220, 1850, None, None),
    ("HT-05", FULL): (281_000, 420_000, 70.0, ">"),
    ("HT-05", PREV): (250_000, 415_000, 70.0, ">"),
    ("CQ-06", FULL): (31_500, 40_000, None, None),
    ("CQ-07", FULL): (38_900, 40_000, None, None),
}
# Agency values of the index indicators in FULL: agency -> indicator -> (numerator, denominator)
AGENCY_COUNTS = {
    "000.00.12.H23": {"CQ-01": (980, 1000), "CQ-03": (450, 500), "CQ-06": (900, 1000),
                      "CQ-07": (990, 1000)},
    "000.00.07.H23": {"CQ-01": (700, 1000), "CQ-03": (300, 500), "CQ-06": (400, 800),
                      "CQ-07": (760, 800)},
    "000.00.15.H23": {"CQ-01": (850, 900), "CQ-03": (380, 400), "CQ-06": (0, 0),
                      "CQ-07": (0, 0)},
    "000.00.21.H23": {"CQ-01": (0, 0), "CQ-03": (0, 0), "CQ-06": (0, 0), "CQ-07": (10, 12)},
    "000.41.00.H23": {"CQ-01": (1500, 1600), "CQ-03": (600, 700), "CQ-06": (2000, 2600),
                      "CQ-07": (2500, 2600)},
    "000.42.00.H23": {"CQ-01": (1200, 1500), "CQ-03": (500, 700), "CQ-06": (1500, 2400),
                      "CQ-07": (2300, 2400)},
    "000.51.01.H23": {"CQ-01": (400, 420), "CQ-03": (120, 200), "CQ-06": (700, 800),
                      "CQ-07": (790, 800)},
    "000.51.02.H23": {"CQ-01": (600, 610), "CQ-03": (260, 300), "CQ-06": (1300, 1400),
                      "CQ-07": (1390, 1400)},
    "000.51.03.H23": {"CQ-01": (200, 300), "CQ-03": (50, 150), "CQ-06": (150, 400),
                      "CQ-07": (300, 400)},
}  # fmt: skip
# Targets of the index indicators by group (the marts attach them per row).
GROUP_TARGETS = {
    "SO_NGANH": {"CQ-01": 100.0, "CQ-03": 90.0},
    "UBND_HUYEN": {"CQ-01": 100.0, "CQ-03": 80.0},
    "UBND_XA": {"CQ-01": 100.0, "CQ-03": 60.0},
}
PREVIOUS_INDEX = {
    "000.00.12.H23": 90.10,
    "000.00.07.H23": 70.00,
    "000.00.15.H23": 93.00,
    "000.41.00.H23": 84.50,
    "000.42.00.H23": 80.25,
}
COMMUNES_FULL = {  # new commune -> (fiber %, smartphone %)
    "03500": (48.5, 66.0),
    "03510": (91.2, 88.7),
    "03520": (63.0, 58.4),
    "03530": (35.7, 52.9),
}
COMMUNES_PREV = {"03127": (40.1, 60.2), "03130": (30.0, 49.9)}
AWARDS = [
    (str(FULL), 1, "000.51.02.H23", "Chỉ số cao nhất toàn tỉnh (97,63); hạng 1 nhóm UBND cấp xã"),
    (str(FULL), 2, "000.00.15.H23", "Hạng 1 nhóm Sở, ngành (97,22); không có kiểm tra chặn"),
    (
        str(FULL),
        3,
        "000.00.12.H23",
        "Hạng 2 nhóm Sở, ngành (96,75); tăng 6,65 điểm so với năm trước",
    ),
    ("phase_1", 1, "000.00.12.H23", "Chỉ số bình quân giai đoạn I cao nhất"),
    (str(THIS_YEAR), 1, "000.51.02.H23", "Tạm tính: chỉ số cao nhất nhóm UBND cấp xã"),
]
RUN_OLD, RUN_LATEST = "run-20240101", "run-latest-42"


@dataclass
class IndexRow:
    agency_code: str
    index_score: float | None
    status: str
    rank: int | None = None


def _score(value: float, target: float | None) -> float:
    return 100.0 * min(value / target, 1.0) if target else value


def breakdown(agency: str) -> list[tuple]:
    """Breakdown rows of an agency in FULL, computed as indicators.md says."""
    counts = AGENCY_COUNTS[agency]
    targets = GROUP_TARGETS[GROUP[agency]]
    applicable = {code: w for code, w in INDEX_WEIGHTS.items() if counts[code][1]}
    total = sum(applicable.values())
    rows = []
    for code, weight in INDEX_WEIGHTS.items():
        num, den = counts[code]
        target = targets.get(code)
        if den:
            value = 100.0 * num / den
            score = _score(value, target)
            effective = 100.0 * weight / total
            contribution = score * effective / 100
        else:
            value = score = None
            effective = contribution = 0.0
        rows.append((FULL, agency, code, num, den, value, target, score, weight, effective,
                     contribution))  # fmt: skip
    return rows


def index_rows() -> list[IndexRow]:
    rows = []
    for agency, counts in AGENCY_COUNTS.items():
        applicable = sum(w for c, w in INDEX_WEIGHTS.items() if counts[c][1])
        if applicable * 2 < sum(INDEX_WEIGHTS.values()):
            rows.append(IndexRow(agency, None, "insufficient_data"))
            continue
        score = round(sum(r[10] for r in breakdown(agency)), 2)
        rows.append(IndexRow(agency, score, "ranked"))
    for group in GROUP_TARGETS:
        members = sorted(
            (r for r in rows if GROUP[r.agency_code] == group and r.status == "ranked"),
            key=lambda r: -(r.index_score or 0),
        )
        for r in members:
            r.rank = 1 + sum(1 for o in members if (o.index_score or 0) > (r.index_score or 0))
    return rows


def _insert(conn, table: str, rows: list[tuple]) -> None:  # noqa: ANN001 - duckdb connection
    if rows:
        marks = ", ".join("?" * len(rows[0]))
        conn.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)


def build_warehouse(path: Path) -> None:
    """Create the warehouse file with the pipeline's own tables and hand-made marts."""
    conn = open_writer(str(path))
    conn.execute("CREATE SCHEMA IF NOT EXISTS marts; CREATE SCHEMA IF NOT EXISTS seeds")
    conn.execute(
        "CREATE TABLE marts.dim_indicator (indicator_code VARCHAR, pillar VARCHAR, "
        "name_vi VARCHAR, name_en VARCHAR, unit VARCHAR, source VARCHAR, weight INTEGER)"
    )
    _insert(conn, "marts.dim_indicator", INDICATORS)
    conn.execute(
        "CREATE TABLE marts.dim_agency (agency_code VARCHAR, name VARCHAR, ranking_group VARCHAR, "
        "admin_unit_code VARCHAR, valid_from DATE, valid_to DATE)"
    )
    _insert(conn, "marts.dim_agency", AGENCIES)
    conn.execute(
        "CREATE TABLE marts.dim_admin_unit (admin_unit_code VARCHAR, name VARCHAR, "
        "level VARCHAR, parent_code VARCHAR, valid_from DATE, valid_to DATE)"
    )
    _insert(conn, "marts.dim_admin_unit", UNITS)
    conn.execute(
        "CREATE TABLE marts.fct_indicator_values (indicator_code VARCHAR, unit_type VARCHAR, "
        "unit_code VARCHAR, period_grain VARCHAR, period_start DATE, numerator DOUBLE, "
        "denominator DOUBLE, value DOUBLE, target DOUBLE, target_op VARCHAR, "
        "meets_target BOOLEAN, gap_pp DOUBLE)"
    )
    _insert(conn, "marts.fct_indicator_values", _values())
    conn.execute(
        "CREATE TABLE marts.agency_index (year INTEGER, agency_code VARCHAR, "
        "ranking_group VARCHAR, index_score DOUBLE, rank INTEGER, status VARCHAR)"
    )
    index = [
        (FULL, r.agency_code, GROUP[r.agency_code], r.index_score, r.rank, r.status)
        for r in index_rows()
    ]
    for group in GROUP_TARGETS:
        members = sorted(
            ((c, s) for c, s in PREVIOUS_INDEX.items() if GROUP[c] == group), key=lambda m: -m[1]
        )
        index += [(PREV, c, group, s, rank, "ranked") for rank, (c, s) in enumerate(members, 1)]
    index.append((THIS_YEAR, "000.51.02.H23", "UBND_XA", 95.5, 1, "ranked"))
    _insert(conn, "marts.agency_index", index)
    conn.execute(
        "CREATE TABLE marts.agency_index_breakdown (year INTEGER, agency_code VARCHAR, "
        "indicator_code VARCHAR, numerator DOUBLE, denominator DOUBLE, value DOUBLE, "
        "target DOUBLE, score DOUBLE, weight DOUBLE, effective_weight DOUBLE, "
        "contribution DOUBLE)"
    )
    _insert(conn, "marts.agency_index_breakdown", [r for a in AGENCY_COUNTS for r in breakdown(a)])
    conn.execute(
        "CREATE TABLE marts.award_shortlist (award_round VARCHAR, position INTEGER, "
        "agency_code VARCHAR, index_score DOUBLE, reason VARCHAR)"
    )
    scores = {r.agency_code: r.index_score for r in index_rows()}
    _insert(
        conn,
        "marts.award_shortlist",
        [(r, p, a, scores.get(a) or 95.5, why) for r, p, a, why in AWARDS],
    )
    conn.execute(
        "CREATE TABLE marts.indicator_coverage (indicator_code VARCHAR, source VARCHAR, "
        "status VARCHAR, latest_period DATE)"
    )
    _insert(
        conn,
        "marts.indicator_coverage",
        [
            (code, source, "no_source", None)
            if source == "bao_cao"
            else (code, source, "computed", date(FULL, 12, 1))
            for code, _, _, _, _, source, _ in INDICATORS
        ],
    )
    conn.execute(
        "CREATE TABLE seeds.targets (ma_chi_tieu VARCHAR, cap VARCHAR, nam_muc_tieu INTEGER, "
        "toan_tu VARCHAR, gia_tri DOUBLE)"
    )
    horizon = 2025 if FULL <= 2025 else 2030
    _insert(
        conn,
        "seeds.targets",
        [("KT-01", "ALL", horizon, ">=", 10.0), ("XH-01", "ALL", horizon, ">", 50.0)],
    )
    _insert(conn, "quality.check_results", _checks())
    _insert(conn, "quality.quarantine", _quarantine())
    conn.close()


def _values() -> list[tuple]:
    rows = []

    def add(code, unit_type, unit, year, num, den, target, op):  # noqa: ANN001, ANN202
        value = 100.0 * num / den if den else None
        meets = None
        if target is not None and value is not None:
            meets = value > target if op == ">" else value >= target
        gap = target - value if target is not None and value is not None else None
        rows.append((code, unit_type, unit, "year", date(year, 1, 1), num, den, value, target,
                     op, meets, gap))  # fmt: skip

    for (code, year), (num, den, target, op) in PROVINCE.items():
        add(code, "admin_unit", "11", year, num, den, target, op)
    for agency, counts in AGENCY_COUNTS.items():
        for code, (num, den) in counts.items():
            add(code, "agency", agency, FULL, num, den,
                GROUP_TARGETS[GROUP[agency]].get(code), ">=")  # fmt: skip
    for communes, year in ((COMMUNES_FULL, FULL), (COMMUNES_PREV, PREV)):
        for unit, (fiber, phone) in communes.items():
            add("HT-02", "admin_unit", unit, year, fiber * 10, 1000, 60.0, ">")
            add("HT-05", "admin_unit", unit, year, phone * 10, 1000, 70.0, ">")
    # A monthly row that the yearly report must ignore.
    rows.append(("HT-02", "admin_unit", "11", "month", date(FULL, 12, 1), 1, 2, 50.0, 60.0, ">",
                 False, 10.0))  # fmt: skip
    return rows


def _checks() -> list[tuple]:
    old = datetime(PREV, 12, 31, 2, 0)
    latest = datetime(THIS_YEAR, 1, 2, 2, 15)
    return [
        (RUN_OLD, old, "dvc_dossiers", "row_count_positive", "blocking", False, "0", "> 0", 0,
         None),
        (RUN_LATEST, latest, "dvc_dossiers", "ngay_hoan_thanh_after_ngay_tiep_nhan", "blocking",
         True, "0", "0", 0, None),
        (RUN_LATEST, latest, "dvc_dossiers", "volume_within_baseline", "warning", False,
         "812", ">= 1500 (70% of the weekly baseline)", None, None),
        (RUN_LATEST, latest, "qlvb_van_ban", "ma_don_vi_known", "blocking", True, "0", "0", 0,
         None),
        (RUN_LATEST, latest, "telecom_coverage", "carrier_months_complete", "blocking", False,
         "mbf missing 2025-11", "3 carriers every month", 1, None),
        (RUN_LATEST, latest, "ref_co_quan", "unique_ma_co_quan", "blocking", True, "0", "0", 0,
         None),
    ]  # fmt: skip


def _quarantine() -> list[tuple]:
    seen = datetime(THIS_YEAR, 1, 2, 2, 10)
    rows = [
        ("dvc_dossiers", f"HS-{i:05d}", "enum: kenh_nop='FAX' not in TRUC_TUYEN, TRUC_TIEP, "
         "BUU_CHINH", "{}", RUN_LATEST, seen, f"sha{i}")
        for i in range(7)
    ]  # fmt: skip
    rows += [
        ("telecom_coverage", "row 12", "negative_count: so_ho_cap_quang=-3", "{}", RUN_OLD, seen,
         "shaT"),
        ("qlvb_van_ban", "991", "unknown_code: ma_don_vi='X'", "{}", RUN_LATEST, seen, "shaQ"),
    ]  # fmt: skip
    return rows


def cds(args: list[str], warehouse: Path | str, cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    """Run the installed `cds` command against `warehouse`."""
    env = {**os.environ, "CDS_WAREHOUSE": str(warehouse)}
    return subprocess.run(
        [str(CDS), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, **kwargs
    )
