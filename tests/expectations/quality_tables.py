"""Small warehouse tables for the quality tests, with the exact columns of warehouse/schema.py.

`clean_rows()` is one consistent little province (reference files, one record or so per
dataset); `DIRTY` gives, for each rule, the rows (or quarantined records) that break it,
each with a key of its own, so that one dirty warehouse tests every rule at once.
"""

from __future__ import annotations

import copy
from datetime import date, datetime
from typing import Any

import duckdb

from warehouse.schema import QUALITY_TABLES, RAW_TABLES, create_all_ddl

SO = "000.00.01.H23"  # a department, in force throughout
HUYEN = "000.00.31.H23"  # a district committee, until 30 June 2025
XA_NEW = "000.00.51.H23"  # a new commune committee, from 1 July 2025
LOADED_AT = datetime(2024, 5, 20, 2, 0)
CLEAN_NOW = datetime(2024, 5, 31, 23, 0)


def connect(path: str = ":memory:") -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect(path)
    for statement in create_all_ddl():
        conn.execute(statement)
    return conn


def insert(conn: Any, dataset: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    table = RAW_TABLES.get(dataset) or QUALITY_TABLES[dataset]
    defaults = {"_load_id": "test-load", "_loaded_at": LOADED_AT, "file_sha256": "sha-ref-1"}
    if dataset == "quarantine":
        defaults = {"run_id": "test-run", "first_seen": LOADED_AT, "payload": "{}"}
    columns = table.column_names
    values = [[row.get(c, defaults.get(c)) for c in columns] for row in rows]
    marks = ", ".join("?" for _ in columns)
    conn.executemany(f"INSERT INTO {table.qualified} VALUES ({marks})", values)


def reference_rows() -> dict[str, list[dict[str, Any]]]:
    d = date
    return {
        "ref_don_vi_hanh_chinh": [
            {"ma_dvhc": "11", "ten": "Tỉnh Điện Biên", "cap": "TINH", "loai": "tinh",
             "ma_dvhc_cha": None, "hieu_luc_tu": d(2004, 1, 1), "hieu_luc_den": None},
            {"ma_dvhc": "094", "ten": "Thành phố Điện Biên Phủ", "cap": "HUYEN",
             "loai": "thanh_pho", "ma_dvhc_cha": "11", "hieu_luc_tu": d(2004, 1, 1),
             "hieu_luc_den": d(2025, 6, 30)},
            {"ma_dvhc": "03127", "ten": "Phường Him Lam", "cap": "XA", "loai": "phuong",
             "ma_dvhc_cha": "094", "hieu_luc_tu": d(2004, 1, 1), "hieu_luc_den": d(2025, 6, 30)},
            {"ma_dvhc": "03601", "ten": "Phường Điện Biên Phủ", "cap": "XA", "loai": "phuong",
             "ma_dvhc_cha": "11", "hieu_luc_tu": d(2025, 7, 1), "hieu_luc_den": None},
        ],
        "ref_sap_xep_dvhc": [
            {"ma_dvhc_cu": "03127", "ma_dvhc_moi": "03601", "ngay_hieu_luc": d(2025, 7, 1),
             "ty_le_dan_so": 1.0},
        ],
        "ref_co_quan": [
            {"ma_co_quan": SO, "ten": "Sở Khoa học và Công nghệ", "nhom": "SO_NGANH",
             "ma_dvhc": "11", "hieu_luc_tu": d(2004, 1, 1), "hieu_luc_den": None,
             "email_dau_moi": "skhcn@dienbien.gov.vn"},
            {"ma_co_quan": HUYEN, "ten": "UBND thành phố Điện Biên Phủ", "nhom": "UBND_HUYEN",
             "ma_dvhc": "094", "hieu_luc_tu": d(2004, 1, 1), "hieu_luc_den": d(2025, 6, 30),
             "email_dau_moi": "ubnd.tpdbp@dienbien.gov.vn"},
            {"ma_co_quan": XA_NEW, "ten": "UBND phường Điện Biên Phủ", "nhom": "UBND_XA",
             "ma_dvhc": "03601", "hieu_luc_tu": d(2025, 7, 1), "hieu_luc_den": None,
             "email_dau_moi": "ubnd.pdbp@dienbien.gov.vn"},
        ],
        "ref_thon_ban": [
            {"ma_thon": v, "ten": f"Bản {v}", "ma_dvhc": "03127", "nam": year, "so_ho": 80,
             "dan_so": 350, "dan_so_tu_15": 260}
            for v in ("03127001", "03127002")
            for year in (2024, 2025)
        ],
    }  # fmt: skip


def clean_rows() -> dict[str, list[dict[str, Any]]]:
    ts = datetime
    rows = reference_rows()
    rows.update(
        {
            "dvc_procedures": [
                {"ma_thu_tuc": "1.000001", "ten_thu_tuc": "Cấp phép", "linh_vuc": "Khoa học",
                 "ma_co_quan": SO, "cap_thuc_hien": "TINH", "du_dieu_kien_toan_trinh": True,
                 "muc_do": "TOAN_TRINH", "co_phi": False, "hieu_luc": True,
                 "updated_at": ts(2024, 1, 2, 8, 0)},
                {"ma_thu_tuc": "2.000002", "ten_thu_tuc": "Hộ tịch", "linh_vuc": "Hộ tịch",
                 "ma_co_quan": None, "cap_thuc_hien": "HUYEN", "du_dieu_kien_toan_trinh": True,
                 "muc_do": "MOT_PHAN", "co_phi": True, "hieu_luc": True,
                 "updated_at": ts(2024, 1, 2, 8, 0)},
            ],
            "dvc_dossiers": [
                {"ma_ho_so": "D-clean", "ma_thu_tuc": "1.000001", "ma_co_quan": SO,
                 "ma_dvhc": "094", "kenh_nop": "TRUC_TUYEN",
                 "ngay_tiep_nhan": ts(2024, 5, 6, 9, 0), "han_xu_ly": ts(2024, 5, 13, 17, 0),
                 "ngay_hoan_thanh": ts(2024, 5, 8, 10, 0),
                 "ngay_tra_ket_qua": ts(2024, 5, 9, 10, 0), "trang_thai": "DA_TRA_KET_QUA",
                 "thanh_toan_truc_tuyen": False, "so_hoa_ho_so": True, "so_hoa_ket_qua": True,
                 "applicant_key": "ab" * 32, "updated_at": ts(2024, 5, 30, 10, 0)},
            ],
            "dvc_ratings": [
                {"ma_danh_gia": "R-clean", "ma_ho_so": "D-clean", "muc_do": "HAI_LONG",
                 "ngay_danh_gia": ts(2024, 5, 10, 8, 0), "updated_at": ts(2024, 5, 30, 8, 0)},
            ],
            "qlvb_don_vi": [
                {"id": 1, "ma_don_vi": SO, "ten_don_vi": "Sở KH&CN", "cap": "TINH",
                 "da_xoa": False, "ngay_cap_nhat": ts(2024, 1, 1, 8, 0)},
                {"id": 2, "ma_don_vi": HUYEN, "ten_don_vi": "UBND TP", "cap": "HUYEN",
                 "da_xoa": False, "ngay_cap_nhat": ts(2024, 1, 1, 8, 0)},
            ],
            "qlvb_van_ban": [
                {"id": 1, "so_ky_hieu": "12/KH-SKHCN", "ma_don_vi": SO, "chieu": "DI",
                 "hinh_thuc": "DIEN_TU", "ky_so": True, "do_mat": "THUONG",
                 "ngay_van_ban": date(2024, 5, 6), "da_xoa": False,
                 "ngay_cap_nhat": ts(2024, 5, 30, 9, 0)},
            ],
            "qlvb_ho_so_cong_viec": [
                {"id": 1, "ma_don_vi": SO, "ngay_mo": date(2024, 5, 6),
                 "ngay_dong": date(2024, 5, 10), "xu_ly_tren_mang": True, "bi_mat": False,
                 "da_xoa": False, "ngay_cap_nhat": ts(2024, 5, 30, 9, 0)},
            ],
            "qlvb_cuoc_hop": [
                {"id": 1, "ma_don_vi_chu_tri": SO, "ba_cap": False, "hinh_thuc": "TRUC_TUYEN",
                 "ngay_hop": date(2024, 5, 6), "da_xoa": False,
                 "ngay_cap_nhat": ts(2024, 5, 30, 9, 0)},
            ],
            "telecom_coverage": [
                {"nha_mang": carrier, "ky_bao_cao": "2024-04", "ma_thon": village,
                 "co_cap_quang": True, "so_ho_cap_quang": 30, "phu_song_4g": True,
                 "phu_song_5g": False, "so_thue_bao": 200, "so_thue_bao_smartphone": 150,
                 "file_name": f"{carrier}_2024-04.{ext}", "file_sha256": f"sha-{carrier}",
                 "row_number": i + 2}
                for carrier, ext in (("vtl", "csv"), ("vnp", "xlsx"), ("mbf", "jsonl"))
                for i, village in enumerate(("03127001", "03127002"))
            ],
            "telecom_files": [
                {"file_name": f"{carrier}_2024-04.{ext}", "nha_mang": carrier,
                 "ky_bao_cao": "2024-04", "size_bytes": 1000,
                 "modified_at": ts(2024, 5, 5, 9, 0), "sha256": f"sha-{carrier}",
                 "status": "loaded", "error": None, "rows_landed": 2, "rows_quarantined": 0,
                 "registered_at": LOADED_AT, "_load_id": "test-load"}
                for carrier, ext in (("vtl", "csv"), ("vnp", "xlsx"), ("mbf", "jsonl"))
            ],
        }
    )  # fmt: skip
    return rows


def _dossier(key: str, **changes: Any) -> dict[str, Any]:
    row = copy.deepcopy(clean_rows()["dvc_dossiers"][0])
    row.update(ma_ho_so=key, **changes)
    return row


def _quarantined(dataset: str, key: str, reason: str, payload: str = "{}") -> dict[str, Any]:
    return {"dataset": dataset, "record_key": key, "reason": reason, "payload": payload,
            "payload_sha256": f"{dataset}-{key}"}  # fmt: skip


def _like(dataset: str, index: int = 0, **changes: Any) -> dict[str, Any]:
    row = copy.deepcopy(clean_rows()[dataset][index])
    row.update(changes)
    return row


ts = datetime
# rule name -> (rows to add per dataset, the key the rule must name)
DIRTY: dict[str, tuple[dict[str, list[dict[str, Any]]], str | None]] = {
    # --- portal
    "dvc_procedures.enum_cap_thuc_hien": (
        {"dvc_procedures": [_like("dvc_procedures", 1, ma_thu_tuc="P-cap", cap_thuc_hien="XX")]},
        "P-cap",
    ),
    "dvc_procedures.enum_muc_do": (
        {"dvc_procedures": [_like("dvc_procedures", ma_thu_tuc="P-muc", muc_do="MUC_4")]},
        "P-muc",
    ),
    "dvc_procedures.province_procedure_has_agency": (
        {"dvc_procedures": [_like("dvc_procedures", ma_thu_tuc="P-noag", ma_co_quan=None)]},
        "P-noag",
    ),
    "dvc_procedures.agency_code_known": (
        {"dvc_procedures": [_like("dvc_procedures", ma_thu_tuc="P-ag", ma_co_quan="999.X")]},
        "P-ag",
    ),
    "dvc_procedures.key_version_unique": (
        {"dvc_procedures": [_like("dvc_procedures", ten_thu_tuc="Bản cũ")]},
        "1.000001",
    ),
    "dvc_dossiers.key_present": ({"dvc_dossiers": [_dossier(None)]}, None),  # type: ignore[arg-type]
    "dvc_dossiers.values_parseable": (
        {
            "quarantine": [
                _quarantined("dvc_dossiers", "D-wt", "wrong_type: so_hoa_ho_so=1 is not a boolean")
            ]
        },
        "D-wt",
    ),  # fmt: skip
    "dvc_dossiers.enum_kenh_nop": ({"dvc_dossiers": [_dossier("D-fax", kenh_nop="FAX")]}, "D-fax"),
    "dvc_dossiers.enum_trang_thai": (
        {"dvc_dossiers": [_dossier("D-status", trang_thai="XONG")]},
        "D-status",
    ),
    "dvc_dossiers.date_order_finished_after_received": (
        {"dvc_dossiers": [_dossier("D-order", ngay_hoan_thanh=ts(2024, 5, 4, 9, 0))]},
        "D-order",
    ),
    "dvc_dossiers.date_order_returned_after_received": (
        {"dvc_dossiers": [_dossier("D-ret", ngay_tra_ket_qua=ts(2024, 5, 1, 9, 0))]},
        "D-ret",
    ),
    "dvc_dossiers.agency_code_valid_at_date": (
        {"dvc_dossiers": [_dossier("D-agency", ma_co_quan=XA_NEW)]},
        "D-agency",
    ),
    "dvc_dossiers.admin_unit_code_valid_at_date": (
        {"dvc_dossiers": [_dossier("D-unit", ma_dvhc="03601")]},
        "D-unit",
    ),
    "dvc_dossiers.procedure_code_known": (
        {"dvc_dossiers": [_dossier("D-proc", ma_thu_tuc="9.999999")]},
        "D-proc",
    ),
    "dvc_dossiers.key_version_unique": (
        {"dvc_dossiers": [_dossier("D-clean", kenh_nop="TRUC_TIEP")]},
        "D-clean",
    ),
    "dvc_dossiers.quarantined_records": (
        {"quarantine": [_quarantined("dvc_dossiers", "D-q", "enum: kenh_nop='FAX' not in [...]")]},
        "D-q",
    ),
    "dvc_ratings.enum_muc_do": (
        {"dvc_ratings": [_like("dvc_ratings", ma_danh_gia="R-enum", muc_do="TUYET_VOI")]},
        "R-enum",
    ),
    "dvc_ratings.dossier_exists": (
        {"dvc_ratings": [_like("dvc_ratings", ma_danh_gia="R-ghost", ma_ho_so="D-ghost")]},
        "R-ghost",
    ),
    # --- document system
    "qlvb_don_vi.enum_cap": ({"qlvb_don_vi": [_like("qlvb_don_vi", id=91, cap="XXX")]}, "91"),
    "qlvb_don_vi.unit_code_known": (
        {"qlvb_don_vi": [_like("qlvb_don_vi", id=92, ma_don_vi="999.X")]},
        "92",
    ),
    "qlvb_van_ban.enum_chieu": ({"qlvb_van_ban": [_like("qlvb_van_ban", id=11, chieu="XX")]}, "11"),
    "qlvb_van_ban.enum_hinh_thuc": (
        {"qlvb_van_ban": [_like("qlvb_van_ban", id=12, hinh_thuc="FAX", ky_so=False)]},
        "12",
    ),
    "qlvb_van_ban.enum_do_mat": (
        {"qlvb_van_ban": [_like("qlvb_van_ban", id=13, do_mat="X")]},
        "13",
    ),
    "qlvb_van_ban.signed_only_if_electronic": (
        {"qlvb_van_ban": [_like("qlvb_van_ban", id=14, hinh_thuc="GIAY", ky_so=True)]},
        "14",
    ),
    "qlvb_van_ban.unit_code_valid_at_date": (
        {"qlvb_van_ban": [_like("qlvb_van_ban", id=15, ma_don_vi=XA_NEW)]},
        "15",
    ),
    "qlvb_ho_so_cong_viec.date_order_closed_after_opened": (
        {
            "qlvb_ho_so_cong_viec": [
                _like("qlvb_ho_so_cong_viec", id=21, ngay_dong=date(2024, 5, 1))
            ]
        },
        "21",
    ),
    "qlvb_ho_so_cong_viec.unit_code_valid_at_date": (
        {"qlvb_ho_so_cong_viec": [_like("qlvb_ho_so_cong_viec", id=22, ma_don_vi="999.X")]},
        "22",
    ),
    "qlvb_cuoc_hop.enum_hinh_thuc": (
        {"qlvb_cuoc_hop": [_like("qlvb_cuoc_hop", id=31, hinh_thuc="ZOOM")]},
        "31",
    ),
    "qlvb_cuoc_hop.unit_code_valid_at_date": (
        {"qlvb_cuoc_hop": [_like("qlvb_cuoc_hop", id=32, ma_don_vi_chu_tri=XA_NEW)]},
        "32",
    ),
    # --- telecom
    "telecom_coverage.village_code_known": (
        {"telecom_coverage": [_like("telecom_coverage", ma_thon="03127950", row_number=90)]},
        "vtl|2024-04|03127950",
    ),
    "telecom_coverage.counts_not_negative": (
        {
            "quarantine": [
                _quarantined(
                    "telecom_coverage",
                    "vnp|2024-04|03127002",
                    "negative_count: so_thue_bao_smartphone=-3",
                )
            ]
        },
        "vnp|2024-04|03127002",
    ),  # fmt: skip
    "telecom_coverage.smartphone_within_subscribers": (
        {
            "telecom_coverage": [
                _like(
                    "telecom_coverage",
                    1,
                    so_thue_bao_smartphone=500,
                    row_number=91,
                    file_sha256="sha-vtl-b",
                )
            ]
        },
        "vtl|2024-04|03127002",
    ),  # fmt: skip
    "telecom_coverage.period_format": (
        {"telecom_coverage": [_like("telecom_coverage", ky_bao_cao="2024-4", row_number=92)]},
        "vtl|2024-4|03127001",
    ),
    "telecom_coverage.village_reported_once_per_file": (
        {"telecom_coverage": [_like("telecom_coverage", 2, row_number=93)]},
        "vnp|2024-04|03127001",
    ),
    "telecom_files.feed_files_readable": (
        {
            "telecom_files": [
                _like(
                    "telecom_files",
                    file_name="mbf_2024-03.jsonl",
                    ky_bao_cao="2024-03",
                    nha_mang="mbf",
                    sha256="sha-bad",
                    status="failed",
                    error="truncated: line 9",
                )
            ]
        },
        "mbf_2024-03.jsonl",
    ),  # fmt: skip
    "telecom_files.no_stray_files": (
        {
            "telecom_files": [
                _like(
                    "telecom_files",
                    file_name="ghi_chu.txt",
                    nha_mang=None,
                    ky_bao_cao=None,
                    sha256="sha-note",
                    status="not_a_feed",
                    error="not_a_feed: 'ghi_chu.txt'",
                )
            ]
        },
        "ghi_chu.txt",
    ),  # fmt: skip
    "telecom_files.carrier_month_present": (
        {
            "telecom_files": [
                _like(
                    "telecom_files",
                    file_name="vtl_2024-02.csv",
                    ky_bao_cao="2024-02",
                    sha256="sha-feb",
                )
            ]
        },
        "vnp_2024-02.xlsx",
    ),  # fmt: skip
    "telecom_files.month_resent": (
        {
            "telecom_files": [
                _like("telecom_files", sha256="sha-vtl-2", modified_at=ts(2024, 5, 25, 9, 0))
            ]
        },
        "vtl_2024-04.csv",
    ),  # fmt: skip
    # --- reference files
    "ref_don_vi_hanh_chinh.enum_cap": (
        {"ref_don_vi_hanh_chinh": [_like("ref_don_vi_hanh_chinh", 2, ma_dvhc="03128", cap="X")]},
        "03128",
    ),
    "ref_don_vi_hanh_chinh.enum_loai": (
        {"ref_don_vi_hanh_chinh": [_like("ref_don_vi_hanh_chinh", 2, ma_dvhc="03129", loai="x")]},
        "03129",
    ),
    "ref_don_vi_hanh_chinh.date_order_validity": (
        {
            "ref_don_vi_hanh_chinh": [
                _like("ref_don_vi_hanh_chinh", 2, ma_dvhc="03130", hieu_luc_den=date(2003, 1, 1))
            ]
        },
        "03130",
    ),  # fmt: skip
    "ref_don_vi_hanh_chinh.parent_known": (
        {
            "ref_don_vi_hanh_chinh": [
                _like("ref_don_vi_hanh_chinh", 2, ma_dvhc="03131", ma_dvhc_cha="999")
            ]
        },
        "03131",
    ),  # fmt: skip
    "ref_sap_xep_dvhc.share_in_range": (
        {"ref_sap_xep_dvhc": [_like("ref_sap_xep_dvhc", ma_dvhc_moi="03127", ty_le_dan_so=1.5)]},
        "03127|03127",
    ),
    "ref_sap_xep_dvhc.old_code_known": (
        {"ref_sap_xep_dvhc": [_like("ref_sap_xep_dvhc", ma_dvhc_cu="99999")]},
        "99999|03601",
    ),
    "ref_sap_xep_dvhc.new_code_known": (
        {
            "ref_sap_xep_dvhc": [
                _like("ref_sap_xep_dvhc", ma_dvhc_cu="03127", ma_dvhc_moi="88888", ty_le_dan_so=0.5)
            ]
        },
        "03127|88888",
    ),  # fmt: skip
    "ref_sap_xep_dvhc.shares_sum_to_one": (
        {
            "ref_sap_xep_dvhc": [
                _like(
                    "ref_sap_xep_dvhc",
                    ma_dvhc_cu="03127",
                    ma_dvhc_moi="03601",
                    ty_le_dan_so=0.2,
                    file_sha256="sha-ref-1",
                )
            ]
        },
        "03127",
    ),  # fmt: skip
    "ref_co_quan.enum_nhom": (
        {"ref_co_quan": [_like("ref_co_quan", ma_co_quan="C-nhom", nhom="PHONG")]},
        "C-nhom",
    ),
    "ref_co_quan.date_order_validity": (
        {"ref_co_quan": [_like("ref_co_quan", ma_co_quan="C-date", hieu_luc_den=date(2000, 1, 1))]},
        "C-date",
    ),
    "ref_co_quan.admin_unit_known": (
        {"ref_co_quan": [_like("ref_co_quan", ma_co_quan="C-unit", ma_dvhc="999")]},
        "C-unit",
    ),
    "ref_co_quan.contact_present": (
        {"ref_co_quan": [_like("ref_co_quan", ma_co_quan="C-mail", email_dau_moi=None)]},
        "C-mail",
    ),
    "ref_thon_ban.counts_not_negative": (
        {"ref_thon_ban": [_like("ref_thon_ban", ma_thon="V-neg", so_ho=-1)]},
        "V-neg|2024",
    ),
    "ref_thon_ban.adults_within_population": (
        {"ref_thon_ban": [_like("ref_thon_ban", ma_thon="V-adult", dan_so_tu_15=999)]},
        "V-adult|2024",
    ),
    "ref_thon_ban.households_within_population": (
        {"ref_thon_ban": [_like("ref_thon_ban", ma_thon="V-hh", so_ho=999, dan_so_tu_15=100)]},
        "V-hh|2024",
    ),
    "ref_thon_ban.commune_known": (
        {"ref_thon_ban": [_like("ref_thon_ban", ma_thon="V-com", ma_dvhc="99999")]},
        "V-com|2024",
    ),
}

# Rules that the dirty warehouse breaks as a whole rather than through one keyed row.
DIRTY_WITHOUT_KEY = {
    # a ten-minute-old warehouse is stale two years later (the dirty run checks in 2026)
    "dvc_dossiers.fresh",
    "dvc_ratings.fresh",
    "qlvb_van_ban.fresh",
    "qlvb_ho_so_cong_viec.fresh",
    "qlvb_cuoc_hop.fresh",
    "telecom_coverage.fresh",
}
DIRTY_NOW = datetime(2026, 1, 1, 8, 0)


def fill(conn: Any, rows: dict[str, list[dict[str, Any]]]) -> None:
    for dataset, items in rows.items():
        insert(conn, dataset, items)


def clean_warehouse(path: str = ":memory:") -> duckdb.DuckDBPyConnection:
    conn = connect(path)
    fill(conn, clean_rows())
    return conn


def dirty_warehouse() -> duckdb.DuckDBPyConnection:
    conn = clean_warehouse()
    for rows, _ in DIRTY.values():
        fill(conn, rows)
    return conn


# One quarantined record per raw dataset whose reason names three connector rules: it must
# make the dataset's key_present, values_parseable, key_version_unique and
# quarantined_records checks fail.
GENERIC_RULES = ("key_present", "values_parseable", "key_version_unique", "quarantined_records")


def generic_key(dataset: str) -> str:
    if dataset == "telecom_coverage":
        return "vtl|2024-04|Q-village"
    return f"Q-{dataset}"


def generic_dirty_rows() -> dict[str, list[dict[str, Any]]]:
    from expectations.registry import SPECS

    reason = "missing_key: id=None; wrong_type: flag=1 is not a boolean; duplicate: seen twice"
    return {
        "quarantine": [
            _quarantined(dataset, generic_key(dataset), reason)
            for dataset in SPECS
            if dataset != "telecom_files"
        ]
    }
