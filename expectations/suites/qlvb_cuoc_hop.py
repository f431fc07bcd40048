"""Suite of `raw.qlvb_cuoc_hop`: every version of every meeting (qlvb-database.md)."""

from __future__ import annotations

from expectations import builders as b
from expectations.specs import payload, payload_year, raw_spec, year_of
from warehouse.dialect import try_bigint

DATASET = "qlvb_cuoc_hop"

SPEC = raw_spec(
    DATASET,
    key_columns=("id",),
    key_sql="CAST(t.id AS VARCHAR)",
    key_match_sql=f"t.id = {try_bigint('q.record_key')}",
    agency_sql="t.ma_don_vi_chu_tri",
    year_sql=year_of("t.ngay_hop"),
    quarantine_agency_sql=payload("ma_don_vi_chu_tri"),
    quarantine_year_sql=payload_year("ngay_hop"),
    freshness_sql="t.ngay_cap_nhat",
    row_rules=(
        b.enum(DATASET, "hinh_thuc", ("TRUC_TUYEN", "TRUC_TIEP", "KET_HOP")),
        b.code_in_force(
            DATASET,
            "unit_code_valid_at_date",
            "ma_don_vi_chu_tri",
            "ngay_hop",
            "agencies",
            "Integrity: the chairing unit (ma_don_vi_chu_tri) is an agency of co_quan.csv in "
            "force on the day of the meeting.",
        ),
    ),
)
