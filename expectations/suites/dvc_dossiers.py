"""Suite of `raw.dvc_dossiers`: every version of every dossier (dvc-portal-api.md)."""

from __future__ import annotations

from expectations import builders as b
from expectations.specs import payload, payload_year, raw_spec, year_of
from expectations.table_rules import every_agency_present, volume

DATASET = "dvc_dossiers"
CHANNELS = ("TRUC_TUYEN", "TRUC_TIEP", "BUU_CHINH")
STATUSES = (
    "MOI_TIEP_NHAN",
    "DANG_XU_LY",
    "CHO_BO_SUNG",
    "DA_HOAN_THANH",
    "DA_TRA_KET_QUA",
    "TU_CHOI",
    "DA_RUT",
)

SPEC = raw_spec(
    DATASET,
    key_columns=("ma_ho_so",),
    key_sql="t.ma_ho_so",
    agency_sql="t.ma_co_quan",
    year_sql=year_of("t.ngay_tiep_nhan"),
    quarantine_agency_sql=payload("ma_co_quan"),
    quarantine_year_sql=payload_year("ngay_tiep_nhan"),
    freshness_sql="t.updated_at",
    row_rules=(
        b.enum(DATASET, "kenh_nop", CHANNELS),
        b.enum(DATASET, "trang_thai", STATUSES),
        b.date_order(
            DATASET,
            "date_order_finished_after_received",
            "ngay_hoan_thanh",
            "ngay_tiep_nhan",
            "Consistency: a dossier is not finished before it was received "
            "(ngay_hoan_thanh >= ngay_tiep_nhan).",
        ),
        b.date_order(
            DATASET,
            "date_order_returned_after_received",
            "ngay_tra_ket_qua",
            "ngay_tiep_nhan",
            "Consistency: a result is not handed over before the dossier was received "
            "(ngay_tra_ket_qua >= ngay_tiep_nhan).",
        ),
        b.code_in_force(
            DATASET,
            "agency_code_valid_at_date",
            "ma_co_quan",
            "ngay_tiep_nhan",
            "agencies",
            "Integrity: ma_co_quan is an agency of co_quan.csv in force on the day the "
            "dossier was received.",
        ),
        b.code_in_force(
            DATASET,
            "admin_unit_code_valid_at_date",
            "ma_dvhc",
            "ngay_tiep_nhan",
            "admin_units",
            "Integrity: ma_dvhc is an administrative unit of don_vi_hanh_chinh.csv in force "
            "on the day the dossier was received (old codes before 1 July 2025).",
        ),
        b.sql_only(
            DATASET,
            "procedure_code_known",
            "t.ma_thu_tuc IS NOT NULL AND proc.ma_thu_tuc IS NULL "
            "AND EXISTS (SELECT 1 FROM raw.dvc_procedures)",
            "Integrity: ma_thu_tuc is a procedure of the portal's catalogue.",
            joins=(
                "LEFT JOIN (SELECT DISTINCT ma_thu_tuc FROM raw.dvc_procedures) AS proc "
                "ON proc.ma_thu_tuc = t.ma_thu_tuc",
            ),
        ),
    ),
    table_rules=(
        volume(DATASET, agency="t.ma_co_quan", day="t.ngay_tiep_nhan", key="t.ma_ho_so"),
        every_agency_present(DATASET, agency="t.ma_co_quan", day="t.ngay_tiep_nhan"),
    ),
)
