"""The warehouse tables that the dbt project reads, and a tiny hand-made warehouse.

The DDL of schemas `raw` and `quality` is the landing's own (warehouse/schema.py, the one
place a raw column is named); `RAW_DDL` / `QUALITY_DDL` are its statements for those two
schemas, and tests/dbt/test_dbt_project.py checks that the dbt sources declare exactly
those columns, so landing and dbt cannot drift apart silently.

`build_fixture_warehouse(path)` creates those tables in a DuckDB file and fills them with
the rows of `fixture_rows()`, designed so that every mart value asserted in
tests/dbt/test_dbt_project.py can be computed by hand (see the comments next to the rows);
`build_fixture_postgres(dsn)` does the same in PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from warehouse.schema import QUALITY_TABLES, RAW_TABLES, Table

# Schemas and tables the dbt project reads (its sources).
SOURCE_TABLES: dict[str, Table] = {
    **{t.qualified: t for t in RAW_TABLES.values()},
    **{t.qualified: t for t in QUALITY_TABLES.values()},
}


def raw_ddl() -> list[str]:
    """CREATE statements of schema `raw` (one per table), in the landing's column order."""
    return ["CREATE SCHEMA IF NOT EXISTS raw"] + [t.ddl() for t in RAW_TABLES.values()]


def quality_ddl() -> list[str]:
    """CREATE statements of schema `quality`."""
    return ["CREATE SCHEMA IF NOT EXISTS quality"] + [t.ddl() for t in QUALITY_TABLES.values()]


RAW_DDL: list[str] = raw_ddl()
QUALITY_DDL: list[str] = quality_ddl()


def postgres_ddl(statement: str) -> str:
    """The same statement for PostgreSQL, which spells DuckDB's DOUBLE `DOUBLE PRECISION`."""
    return statement.replace(" DOUBLE,", " DOUBLE PRECISION,").replace(
        " DOUBLE)", " DOUBLE PRECISION)"
    )


def column_names(schema: str, table: str) -> list[str]:
    """Column names of a raw or quality table, in order."""
    return SOURCE_TABLES[f"{schema}.{table}"].column_names


# ---------------------------------------------------------------------------------------
# Hand-made rows
# ---------------------------------------------------------------------------------------

T0 = datetime(2023, 1, 5, 2, 0)  # first load of everything else
T_CATALOGUE = datetime(2024, 4, 20, 2, 0)  # first catalogue load, after the data begins
T1 = datetime(2024, 6, 15, 2, 0)  # procedure catalogue change (CQ-05 state)
T2 = datetime(2026, 2, 20, 2, 0)  # last load

Row = dict[str, Any]


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _d(text: str) -> date:
    return date.fromisoformat(text)


def _load(rows: Iterable[Row], loaded_at: datetime = T0, load_id: str = "load-0") -> list[Row]:
    return [{**row, "_load_id": load_id, "_loaded_at": loaded_at} for row in rows]


def _reference_rows() -> dict[str, list[Row]]:
    """Province 11, one district 094 with old communes 00001 (whole) and 00002 (split),
    new communes 10001 and 10002 from 2025-07-01."""
    old_file, new_file = "sha-units-old", "sha-units-v2"
    units = [
        ("11", "Tỉnh Điện Biên", "TINH", "tinh", None, "2004-01-01", None),
        ("094", "Thành phố Điện Biên Phủ", "HUYEN", "thanh_pho", "11", "2004-01-01", "2025-06-30"),
        ("00001", "Xã Một", "XA", "xa", "094", "2004-01-01", "2025-06-30"),
        ("00002", "Xã Hai", "XA", "xa", "094", "2004-01-01", "2025-06-30"),
        ("10001", "Xã Mới Một", "XA", "xa", "11", "2025-07-01", None),
        ("10002", "Xã Mới Hai", "XA", "xa", "11", "2025-07-01", None),
    ]
    admin = [
        {
            "ma_dvhc": code,
            "ten": name,
            "cap": level,
            "loai": kind,
            "ma_dvhc_cha": parent,
            "hieu_luc_tu": _d(start),
            "hieu_luc_den": _d(end) if end else None,
            "file_sha256": new_file,
        }
        for code, name, level, kind, parent, start, end in units
    ]
    # An older file version with a wrong name: staging must ignore it (latest file wins).
    stale = [{**admin[0], "ten": "CŨ", "file_sha256": old_file}]
    lineage = [
        ("00001", "10001", 1.0),
        ("00002", "10001", 0.6),
        ("00002", "10002", 0.4),
    ]
    sap_xep = [
        {
            "ma_dvhc_cu": old,
            "ma_dvhc_moi": new,
            "ngay_hieu_luc": _d("2025-07-01"),
            "ty_le_dan_so": share,
            "file_sha256": "sha-lineage",
        }
        for old, new, share in lineage
    ]
    agencies = [
        # code, name, group, unit, from, to
        ("S1", "Sở Một", "SO_NGANH", "11", "2020-01-01", None),
        ("S2", "Sở Hai", "SO_NGANH", "11", "2020-01-01", None),
        ("S3", "Sở Ba", "SO_NGANH", "11", "2020-01-01", None),
        ("S4", "Sở Bốn", "SO_NGANH", "11", "2020-01-01", None),
        ("S5", "Sở Năm", "SO_NGANH", "11", "2020-01-01", None),
        ("H1", "UBND thành phố Điện Biên Phủ", "UBND_HUYEN", "094", "2020-01-01", "2025-06-30"),
    ]
    co_quan = [
        {
            "ma_co_quan": code,
            "ten": name,
            "nhom": group,
            "ma_dvhc": unit,
            "hieu_luc_tu": _d(start),
            "hieu_luc_den": _d(end) if end else None,
            "email_dau_moi": f"{code.lower()}@example.vn",
            "file_sha256": "sha-agencies",
        }
        for code, name, group, unit, start, end in agencies
    ]
    villages = [
        # 2025 figures (old codes): V1, V2 in 00001; V3, V4 in 00002
        ("V1", "00001", 2025, 10, 40, 30),
        ("V2", "00001", 2025, 20, 60, 50),
        ("V3", "00002", 2025, 10, 30, 20),
        ("V4", "00002", 2025, 10, 30, 20),
    ]
    thon_ban = [
        {
            "ma_thon": code,
            "ten": f"Bản {code}",
            "ma_dvhc": commune,
            "nam": year,
            "so_ho": households,
            "dan_so": population,
            "dan_so_tu_15": adults,
            "file_sha256": "sha-villages",
        }
        for code, commune, year, households, population, adults in villages
    ]
    return {
        "ref_don_vi_hanh_chinh": _load(stale, datetime(2022, 12, 1), "load-ref-old") + _load(admin),
        "ref_sap_xep_dvhc": _load(sap_xep),
        "ref_co_quan": _load(co_quan),
        "ref_thon_ban": _load(thon_ban),
    }


def _procedure(
    code: str, agency: str | None, level: str, eligible: bool, online: str, fee: bool, updated: str
) -> Row:
    return {
        "ma_thu_tuc": code,
        "ten_thu_tuc": f"Thủ tục {code}",
        "linh_vuc": "Thử nghiệm",
        "ma_co_quan": agency,
        "cap_thuc_hien": level,
        "du_dieu_kien_toan_trinh": eligible,
        "muc_do": online,
        "co_phi": fee,
        "hieu_luc": True,
        "updated_at": _ts(updated),
        "_extra": None,
    }


def _dvc_rows() -> dict[str, list[Row]]:
    procedures = _load(
        [
            # S1: P1 fully online, P2 eligible but partly online → CQ-05(S1) = 1/2 until T1;
            # P6 not eligible and P7 abolished count in neither numerator nor denominator.
            _procedure("P1", "S1", "TINH", True, "TOAN_TRINH", True, "2022-12-01 00:00"),
            _procedure("P2", "S1", "TINH", True, "MOT_PHAN", False, "2022-12-01 00:00"),
            _procedure("P6", "S1", "TINH", False, "KHONG", False, "2022-12-01 00:00"),
            {**_procedure("P7", "S1", "TINH", True, "TOAN_TRINH", False, "2022-12-01 00:00"),
             "hieu_luc": False},
            _procedure("P3", "S3", "TINH", True, "TOAN_TRINH", True, "2022-12-01 00:00"),
            _procedure("P4", "S4", "TINH", True, "TOAN_TRINH", True, "2022-12-01 00:00"),
            _procedure("P5", "S2", "TINH", True, "MOT_PHAN", True, "2022-12-01 00:00"),
            _procedure("PH", None, "HUYEN", True, "TOAN_TRINH", True, "2022-12-01 00:00"),
        ],
        T_CATALOGUE,
        "load-cat-0",
    ) + _load(
        # loaded at T1 (2024-06-15): P2 becomes fully online → CQ-05(S1) = 100 % from June 2024
        [_procedure("P2", "S1", "TINH", True, "TOAN_TRINH", False, "2024-06-10 00:00")],
        T1,
        "load-cat-1",
    )  # fmt: skip

    dossiers: list[Row] = []

    def dossier(
        code: str,
        agency: str,
        received: str,
        *,
        online: bool = True,
        finished: str | None = None,
        due: str | None = None,
        procedure: str = "P1",
        paid: bool = False,
        digitised: bool = False,
        status: str | None = None,
        updated: str | None = None,
        loaded_at: datetime = T0,
    ) -> None:
        final_status = status or ("DA_HOAN_THANH" if finished else "DANG_XU_LY")
        dossiers.append(
            {
                "ma_ho_so": code,
                "ma_thu_tuc": procedure,
                "ma_co_quan": agency,
                "ma_dvhc": "11",
                "kenh_nop": "TRUC_TUYEN" if online else "TRUC_TIEP",
                "ngay_tiep_nhan": _ts(received),
                "han_xu_ly": _ts(due) if due else None,
                "ngay_hoan_thanh": _ts(finished) if finished else None,
                "ngay_tra_ket_qua": None,
                "trang_thai": final_status,
                "thanh_toan_truc_tuyen": paid,
                "so_hoa_ho_so": True,
                "so_hoa_ket_qua": digitised,
                "applicant_key": "0" * 64,
                "updated_at": _ts(updated or received),
                "_extra": None,
                "_load_id": "load-0",
                "_loaded_at": loaded_at,
            }
        )

    # S1, March 2024: 4 received (3 online); D1's later version finishes it exactly at its
    # deadline (on time), paid online and digitised; D2 is late; D3 (P2: no fee) is refused
    # in April without a deadline (on time); D4 received 23:30 on 31 March (March).
    dossier("D1", "S1", "2024-03-01 08:00", due="2024-03-10 17:00")
    dossier("D1", "S1", "2024-03-01 08:00", finished="2024-03-10 17:00",
            due="2024-03-10 17:00", paid=True, digitised=True,
            updated="2024-03-10 17:00")  # fmt: skip
    dossier("D2", "S1", "2024-03-02 08:00", finished="2024-03-20 09:00",
            due="2024-03-15 17:00")  # fmt: skip
    dossier("D3", "S1", "2024-03-03 08:00", online=False, finished="2024-04-02 09:00",
            procedure="P2", status="TU_CHOI")  # fmt: skip
    dossier("D4", "S1", "2024-03-31 23:30")
    # S2, May 2024 (P5, fee): both online, both late, one paid online.
    dossier("S2-1", "S2", "2024-05-02 08:00", finished="2024-05-03 08:00",
            due="2024-05-02 12:00", procedure="P5", paid=True)  # fmt: skip
    dossier("S2-2", "S2", "2024-05-02 09:00", finished="2024-05-03 09:00",
            due="2024-05-02 12:00", procedure="P5")  # fmt: skip
    # S3 and S4 tie in 2024 (same facts); S5 has no data at all (insufficient data).
    for agency, procedure in (("S3", "P3"), ("S4", "P4")):
        dossier(f"{agency}-1", agency, "2024-07-01 08:00", finished="2024-07-02 08:00",
                due="2024-07-05 00:00", procedure=procedure)  # fmt: skip
        dossier(f"{agency}-2", agency, "2024-07-01 09:00", online=False,
                finished="2024-07-09 08:00", due="2024-07-05 00:00",
                procedure=procedure)  # fmt: skip
    # H1 (district committee, until 2025-06-30): one dossier in May 2025 (counts), one in
    # September 2025 (after it ceased: left out of its values, still in the province total).
    dossier("H1-1", "H1", "2025-05-10 08:00", procedure="PH", finished="2025-05-11 08:00",
            paid=True)  # fmt: skip
    dossier("H1-2", "H1", "2025-09-10 08:00", procedure="PH", online=False)
    # The last load: a 2026 dossier of S1 makes 2026 the current, provisional year.
    dossier("S1-2026", "S1", "2026-02-10 08:00", finished="2026-02-12 08:00", loaded_at=T2)

    ratings = _load(
        [
            {"ma_danh_gia": "R1", "ma_ho_so": "D1", "muc_do": "RAT_HAI_LONG",
             "ngay_danh_gia": _ts("2024-03-11 10:00"), "updated_at": _ts("2024-03-11 10:00"),
             "_extra": None},
            {"ma_danh_gia": "R2", "ma_ho_so": "D2", "muc_do": "KHONG_HAI_LONG",
             "ngay_danh_gia": _ts("2024-03-21 10:00"), "updated_at": _ts("2024-03-21 10:00"),
             "_extra": None},
        ]
    )  # fmt: skip
    return {"dvc_procedures": procedures, "dvc_dossiers": dossiers, "dvc_ratings": ratings}


def _qlvb_rows() -> dict[str, list[Row]]:
    documents: list[Row] = []

    def document(
        doc_id: int,
        agency: str,
        day: str,
        *,
        number: str | None = "1/UBND",
        direction: str = "DI",
        electronic: bool = True,
        signed: bool = True,
        secrecy: str = "THUONG",
        deleted: bool = False,
        updated: str = "2024-03-31 00:00",
    ) -> None:
        documents.append(
            {
                "id": doc_id,
                "so_ky_hieu": number,
                "ma_don_vi": agency,
                "chieu": direction,
                "hinh_thuc": "DIEN_TU" if electronic else "GIAY",
                "ky_so": signed,
                "do_mat": secrecy,
                "ngay_van_ban": _d(day),
                "da_xoa": deleted,
                "ngay_cap_nhat": _ts(updated),
                "_load_id": "load-0",
                "_loaded_at": T0,
            }
        )

    # S1, March 2024: ordinary numbered documents 1, 2, 3 (2 electronic) → CQ-01 = 2/3;
    # outgoing electronic 1, 2 (1 signed) → CQ-02 = 1/2. Not counted: a draft (4), a secret
    # incoming document (5), a document deleted by its later version (6).
    document(1, "S1", "2024-03-05")
    document(2, "S1", "2024-03-06", signed=False)
    document(3, "S1", "2024-03-07", electronic=False, signed=False, direction="DEN")
    document(4, "S1", "2024-03-08", number=None)
    document(5, "S1", "2024-03-09", secrecy="MAT", direction="DEN")
    document(6, "S1", "2024-03-10")
    document(6, "S1", "2024-03-10", deleted=True, updated="2024-04-01 00:00")
    # S1, February 2026 (the current year): one ordinary outgoing signed electronic document.
    document(7, "S1", "2026-02-03", updated="2026-02-03 00:00")

    work_files = _load(
        [
            {"id": 1, "ma_don_vi": "S1", "ngay_mo": _d("2024-03-01"), "ngay_dong": None,
             "xu_ly_tren_mang": True, "bi_mat": False, "da_xoa": False,
             "ngay_cap_nhat": _ts("2024-03-01 00:00")},
            {"id": 2, "ma_don_vi": "S1", "ngay_mo": _d("2024-03-02"), "ngay_dong": None,
             "xu_ly_tren_mang": False, "bi_mat": False, "da_xoa": False,
             "ngay_cap_nhat": _ts("2024-03-02 00:00")},
            {"id": 3, "ma_don_vi": "S1", "ngay_mo": _d("2024-03-03"), "ngay_dong": None,
             "xu_ly_tren_mang": False, "bi_mat": True, "da_xoa": False,
             "ngay_cap_nhat": _ts("2024-03-03 00:00")},
        ]
    )  # fmt: skip
    meetings = _load(
        [
            {"id": 1, "ma_don_vi_chu_tri": "S1", "ba_cap": True, "hinh_thuc": "KET_HOP",
             "ngay_hop": _d("2024-03-15"), "da_xoa": False,
             "ngay_cap_nhat": _ts("2024-03-15 00:00")},
            {"id": 2, "ma_don_vi_chu_tri": "S1", "ba_cap": True, "hinh_thuc": "TRUC_TIEP",
             "ngay_hop": _d("2024-03-16"), "da_xoa": False,
             "ngay_cap_nhat": _ts("2024-03-16 00:00")},
        ]
    )  # fmt: skip
    units = _load(
        [
            {"id": 1, "ma_don_vi": "S1", "ten_don_vi": "Sở Một", "cap": "TINH", "da_xoa": False,
             "ngay_cap_nhat": _ts("2023-01-01 00:00")},
        ]
    )  # fmt: skip
    return {
        "qlvb_van_ban": documents,
        "qlvb_ho_so_cong_viec": work_files,
        "qlvb_cuoc_hop": meetings,
        "qlvb_don_vi": units,
    }


def _telecom_rows() -> dict[str, list[Row]]:
    """Two carriers, months 2025-03 and 2025-08; a vtl correction for 2025-03."""
    files = [
        # (file, carrier, period, modified, sha, status)
        ("vtl_2025-03.csv", "vtl", "2025-03", "2025-04-02 08:00", "sha-vtl-03-a", "loaded"),
        ("vtl_2025-03.csv", "vtl", "2025-03", "2025-04-09 08:00", "sha-vtl-03-b", "loaded"),
        ("mbf_2025-03.jsonl", "mbf", "2025-03", "2025-04-03 08:00", "sha-mbf-03", "loaded"),
        ("vtl_2025-08.csv", "vtl", "2025-08", "2025-09-02 08:00", "sha-vtl-08", "loaded"),
        ("vnp_2025-08.xlsx", "vnp", "2025-08", "2025-09-05 08:00", "sha-vnp-08", "failed"),
        ("notes.txt", None, None, "2025-09-05 08:00", "sha-notes", "not_a_feed"),
    ]
    registry = [
        {
            "file_name": name,
            "nha_mang": carrier,
            "ky_bao_cao": period,
            "size_bytes": 1000,
            "modified_at": _ts(modified),
            "sha256": sha,
            "status": status,
            "error": None if status == "loaded" else "unreadable",
            "registered_at": _ts(modified),
        }
        for name, carrier, period, modified, sha, status in files
    ]
    coverage: list[Row] = []

    def report(sha: str, carrier: str, period: str, rows: Sequence[tuple]) -> None:
        for index, (village, fiber, fiber_hh, g4, g5, subs, smart) in enumerate(rows, 1):
            coverage.append(
                {
                    "nha_mang": carrier,
                    "ky_bao_cao": period,
                    "ma_thon": village,
                    "co_cap_quang": fiber,
                    "so_ho_cap_quang": fiber_hh,
                    "phu_song_4g": g4,
                    "phu_song_5g": g5,
                    "so_thue_bao": subs,
                    "so_thue_bao_smartphone": smart,
                    "file_name": f"{carrier}_{period}",
                    "file_sha256": sha,
                    "row_number": index,
                    "_load_id": "load-tel",
                    "_loaded_at": T0,
                }
            )

    # Superseded vtl file of 2025-03: says everything is covered (must be ignored).
    report("sha-vtl-03-a", "vtl", "2025-03", [(v, True, 99, True, True, 99, 99)
                                              for v in ("V1", "V2", "V3", "V4")])  # fmt: skip
    # Correction (newest): V1 fiber 8 households, V3 fiber 4 households, 4G V1 V2 V3.
    report("sha-vtl-03-b", "vtl", "2025-03", [
        ("V1", True, 8, True, False, 30, 25),
        ("V2", False, 0, True, False, 40, 30),
        ("V3", True, 4, True, False, 10, 8),
    ])  # fmt: skip
    # mbf 2025-03: V1 5 more fiber households (capped at 10), V4 fiber 2, 5G in V2.
    report("sha-mbf-03", "mbf", "2025-03", [
        ("V1", True, 5, False, False, 20, 10),
        ("V2", False, 0, True, True, 20, 15),
        ("V4", True, 2, False, False, 5, 4),
    ])  # fmt: skip
    # vtl 2025-08 only (vnp's file failed): V1 and V3 fiber.
    report("sha-vtl-08", "vtl", "2025-08", [
        ("V1", True, 10, True, False, 30, 30),
        ("V3", True, 5, True, False, 10, 10),
    ])  # fmt: skip
    return {"telecom_files": registry, "telecom_coverage": coverage}


def fixture_rows() -> dict[str, list[Row]]:
    """Every raw table's rows (tables absent here stay empty)."""
    rows: dict[str, list[Row]] = {}
    rows.update(_reference_rows())
    rows.update(_dvc_rows())
    rows.update(_qlvb_rows())
    rows.update(_telecom_rows())
    return rows


def quality_rows() -> dict[str, list[Row]]:
    """The quality step blocks S1's 2024 data (the table holds the current blocks only)."""
    checks = [
        ("run-2", "2026-02-20 03:00", "dvc_dossiers", "volume", "blocking", False),
    ]
    return {
        "check_results": [
            {
                "run_id": run,
                "checked_at": _ts(at),
                "dataset": dataset,
                "check_name": name,
                "severity": severity,
                "passed": passed,
                "observed": "1",
                "expected": "2",
                "failed_rows": 1,
            }
            for run, at, dataset, name, severity, passed in checks
        ],
        "blocked_agencies": [
            {"run_id": "run-2", "dataset": "dvc_dossiers", "check_name": "volume",
             "year": 2024, "agency_code": "S1"},
        ],
    }  # fmt: skip


def insert_rows(
    connection: Any,
    schema: str,
    table: str,
    rows: Sequence[Mapping[str, Any]],
    marker: str = "?",
) -> None:
    """Insert dict rows (missing keys → NULL) through a DB-API connection or cursor."""
    if not rows:
        return
    columns = column_names(schema, table)
    markers = ", ".join(marker for _ in columns)
    connection.executemany(
        f"INSERT INTO {schema}.{table} ({', '.join(columns)}) VALUES ({markers})",
        [tuple(row.get(column) for column in columns) for row in rows],
    )


def build_fixture_warehouse(path: Path, *, with_rows: bool = True) -> Path:
    """Create the raw and quality tables in a DuckDB file and fill them with the fixture."""
    import duckdb

    connection = duckdb.connect(str(path))
    try:
        for statement in RAW_DDL + QUALITY_DDL:
            connection.execute(statement)
        if with_rows:
            for table, rows in fixture_rows().items():
                insert_rows(connection, "raw", table, rows)
            for table, rows in quality_rows().items():
                insert_rows(connection, "quality", table, rows)
    finally:
        connection.close()
    return path


def build_fixture_postgres(dsn: str) -> None:
    """Create the raw and quality tables in a PostgreSQL database and fill them."""
    import psycopg2

    connection = psycopg2.connect(dsn)
    try:
        with connection, connection.cursor() as cursor:
            for statement in RAW_DDL + QUALITY_DDL:
                cursor.execute(postgres_ddl(statement))
            for table, rows in fixture_rows().items():
                insert_rows(cursor, "raw", table, rows, marker="%s")
            for table, rows in quality_rows().items():
                insert_rows(cursor, "quality", table, rows, marker="%s")
    finally:
        connection.close()
