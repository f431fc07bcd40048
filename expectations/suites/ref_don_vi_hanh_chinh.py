"""Suite of `raw.ref_don_vi_hanh_chinh`: administrative units (reference-data.md)."""

from __future__ import annotations

from expectations import builders as b
from expectations.specs import raw_spec
from expectations.suites._reference import file_loaded

DATASET = "ref_don_vi_hanh_chinh"
KINDS = ("tinh", "thanh_pho", "thi_xa", "huyen", "phuong", "xa", "thi_tran")

SPEC = raw_spec(
    DATASET,
    key_columns=("ma_dvhc",),
    latest_file_only=True,
    ranks_agencies=False,
    row_rules=(
        b.enum(DATASET, "cap", ("TINH", "HUYEN", "XA")),
        b.enum(DATASET, "loai", KINDS),
        b.date_order(
            DATASET,
            "date_order_validity",
            "hieu_luc_den",
            "hieu_luc_tu",
            "Consistency: a unit's last day in force is not before its first "
            "(hieu_luc_den >= hieu_luc_tu).",
        ),
        b.sql_only(
            DATASET,
            "parent_known",
            "t.ma_dvhc_cha IS NOT NULL AND parent.code IS NULL",
            "Integrity: ma_dvhc_cha, when set, is a unit of the same file.",
            joins=("LEFT JOIN ref_unit AS parent ON parent.code = t.ma_dvhc_cha",),
        ),
    ),
    table_rules=(file_loaded(DATASET, "don_vi_hanh_chinh.csv"),),
)
