"""Suite of `raw.ref_co_quan`: the agencies ranked by the index (reference-data.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations import builders as b
from expectations.rules import Facts, TableRule
from expectations.specs import raw_spec
from expectations.sql import latest_file
from expectations.suites._reference import file_loaded

if TYPE_CHECKING:
    from expectations.context import CheckContext

DATASET = "ref_co_quan"


def _contact_present(ctx: CheckContext) -> Facts:
    day = ctx.settings.at().date()
    frame = ctx.df(
        "SELECT ma_co_quan AS agency_code, "
        "coalesce(trim(email_dau_moi), '') LIKE '%_@_%' AS has_contact "
        f"FROM ({latest_file(DATASET)}) AS f "
        "WHERE ? BETWEEN hieu_luc_tu AND coalesce(hieu_luc_den, DATE '9999-12-31') ORDER BY 1",
        [day],
    )
    return Facts(
        frame,
        [ctx.E.ExpectColumnValuesToBeInSet(column="has_contact", value_set=[True])],
        expected=f"every agency in force on {day} has a data-quality contact (email_dau_moi)",
        observe=lambda f, bad: f"{len(f)} agencies in force, {len(bad)} without a contact",
        keys_column="agency_code",
        agency_column="agency_code",
    )


SPEC = raw_spec(
    DATASET,
    key_columns=("ma_co_quan",),
    latest_file_only=True,
    agency_sql="t.ma_co_quan",
    row_rules=(
        b.enum(DATASET, "nhom", ("SO_NGANH", "UBND_HUYEN", "UBND_XA")),
        b.date_order(
            DATASET,
            "date_order_validity",
            "hieu_luc_den",
            "hieu_luc_tu",
            "Consistency: an agency's last day in force is not before its first "
            "(hieu_luc_den >= hieu_luc_tu).",
        ),
        b.sql_only(
            DATASET,
            "admin_unit_known",
            "t.ma_dvhc IS NOT NULL AND unit.code IS NULL AND EXISTS (SELECT 1 FROM ref_unit)",
            "Integrity: ma_dvhc is a unit of don_vi_hanh_chinh.csv.",
            joins=("LEFT JOIN ref_unit AS unit ON unit.code = t.ma_dvhc",),
        ),
    ),
    table_rules=(
        file_loaded(DATASET, "co_quan.csv"),
        TableRule(
            f"{DATASET}.contact_present",
            "Completeness: every agency in force has a data-quality contact, who receives the "
            "alerts about its data (otherwise they go to the fallback mailbox).",
            _contact_present,
        ),
    ),
)
