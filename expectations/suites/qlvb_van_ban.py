"""Suite of `raw.qlvb_van_ban`: every version of every document (qlvb-database.md)."""

from __future__ import annotations

from expectations import builders as b
from expectations.gx_runtime import column
from expectations.rules import RowRule
from expectations.specs import payload, payload_year, raw_spec, year_of
from expectations.table_rules import every_agency_present, volume
from warehouse.dialect import try_bigint

DATASET = "qlvb_van_ban"

signed_only_if_electronic = RowRule(
    f"{DATASET}.signed_only_if_electronic",
    "Consistency: only an electronic document (hinh_thuc DIEN_TU) carries a digital "
    "signature (ky_so).",
    sql="t.ky_so AND t.hinh_thuc = 'GIAY'",
    message=lambda row, refs: f"ky_so={row.get('ky_so')!r} with hinh_thuc={row.get('hinh_thuc')!r}",
    expect=lambda E: E.ExpectColumnValuesToBeInSet(
        column="hinh_thuc",
        value_set=["DIEN_TU"],
        row_condition=column("ky_so") == True,  # noqa: E712 - builds a GX condition
    ),
)

SPEC = raw_spec(
    DATASET,
    key_columns=("id",),
    key_sql="CAST(t.id AS VARCHAR)",
    key_match_sql=f"t.id = {try_bigint('q.record_key')}",
    agency_sql="t.ma_don_vi",
    year_sql=year_of("t.ngay_van_ban"),
    quarantine_agency_sql=payload("ma_don_vi"),
    quarantine_year_sql=payload_year("ngay_van_ban"),
    freshness_sql="t.ngay_cap_nhat",
    row_rules=(
        b.enum(DATASET, "chieu", ("DI", "DEN")),
        b.enum(DATASET, "hinh_thuc", ("DIEN_TU", "GIAY")),
        b.enum(DATASET, "do_mat", ("THUONG", "MAT", "TOI_MAT", "TUYET_MAT")),
        signed_only_if_electronic,
        b.code_in_force(
            DATASET,
            "unit_code_valid_at_date",
            "ma_don_vi",
            "ngay_van_ban",
            "agencies",
            "Integrity: ma_don_vi is an agency of co_quan.csv in force on the document's "
            "date (ngay_van_ban).",
        ),
    ),
    table_rules=(
        volume(DATASET, agency="t.ma_don_vi", day="t.ngay_van_ban", key="t.id"),
        every_agency_present(DATASET, agency="t.ma_don_vi", day="t.ngay_van_ban"),
    ),
)
