"""Suite of `raw.qlvb_don_vi`: the document system's organisational units (qlvb-database.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations import builders as b
from expectations import sql as q
from expectations.rules import Facts, TableRule
from expectations.specs import payload, raw_spec
from warehouse.dialect import try_bigint

if TYPE_CHECKING:
    from expectations.context import CheckContext

DATASET = "qlvb_don_vi"
LEVELS = ("TINH", "HUYEN", "XA")


def _every_agency_registered(ctx: CheckContext) -> Facts:
    """Agencies in force today (co_quan.csv) without a live unit in the document system."""
    day = ctx.settings.at().date()
    frame = ctx.df(
        q.with_ctes(
            "SELECT a.code AS agency_code, count(u.id) AS units "
            "FROM ref_agency AS a LEFT JOIN raw.qlvb_don_vi AS u "
            "ON u.ma_don_vi = a.code AND NOT coalesce(u.da_xoa, FALSE) "
            "WHERE ? BETWEEN a.vf AND a.vt GROUP BY 1 ORDER BY 1"
        ),
        [day],
    )
    return Facts(
        frame,
        [ctx.E.ExpectColumnValuesToBeBetween(column="units", min_value=1)],
        expected=f"every agency in force on {day} is a unit (don_vi) of the document system",
        observe=lambda f, bad: f"{len(f)} agencies in force, {len(bad)} without a unit",
        keys_column="agency_code",
        agency_column="agency_code",
    )


SPEC = raw_spec(
    DATASET,
    key_columns=("id",),
    key_sql="CAST(t.id AS VARCHAR)",
    key_match_sql=f"t.id = {try_bigint('q.record_key')}",
    agency_sql="t.ma_don_vi",
    quarantine_agency_sql=payload("ma_don_vi"),
    row_rules=(
        b.enum(DATASET, "cap", LEVELS),
        b.code_known(
            DATASET,
            "unit_code_known",
            "ma_don_vi",
            "agencies",
            "Integrity: ma_don_vi is an agency code of co_quan.csv (the same codes).",
        ),
    ),
    table_rules=(
        TableRule(
            f"{DATASET}.every_agency_registered",
            "Completeness: every agency in force is a unit of the document system, so that "
            "its documents, work files and meetings can be attributed to it.",
            _every_agency_registered,
        ),
    ),
)
