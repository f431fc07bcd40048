"""Suite of `raw.qlvb_ho_so_cong_viec`: every version of every work file (qlvb-database.md)."""

from __future__ import annotations

from expectations import builders as b
from expectations.specs import payload, payload_year, raw_spec, year_of
from warehouse.dialect import try_bigint

DATASET = "qlvb_ho_so_cong_viec"

SPEC = raw_spec(
    DATASET,
    key_columns=("id",),
    key_sql="CAST(t.id AS VARCHAR)",
    key_match_sql=f"t.id = {try_bigint('q.record_key')}",
    agency_sql="t.ma_don_vi",
    year_sql=year_of("t.ngay_mo"),
    quarantine_agency_sql=payload("ma_don_vi"),
    quarantine_year_sql=payload_year("ngay_mo"),
    freshness_sql="t.ngay_cap_nhat",
    row_rules=(
        b.date_order(
            DATASET,
            "date_order_closed_after_opened",
            "ngay_dong",
            "ngay_mo",
            "Consistency: a work file is not closed before it was opened (ngay_dong >= ngay_mo).",
        ),
        b.code_in_force(
            DATASET,
            "unit_code_valid_at_date",
            "ma_don_vi",
            "ngay_mo",
            "agencies",
            "Integrity: ma_don_vi is an agency of co_quan.csv in force on the day the work "
            "file was opened (ngay_mo).",
        ),
    ),
)
