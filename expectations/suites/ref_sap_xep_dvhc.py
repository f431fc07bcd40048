"""Suite of `raw.ref_sap_xep_dvhc`: lineage of the 1 July 2025 reorganisation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations import builders as b
from expectations.rules import Facts, RowRule, TableRule
from expectations.specs import raw_spec
from expectations.sql import latest_file
from expectations.suites._reference import file_loaded
from warehouse.dialect import round_to

if TYPE_CHECKING:
    from expectations.context import CheckContext

DATASET = "ref_sap_xep_dvhc"
TOLERANCE = 1e-6

share_in_range = RowRule(
    f"{DATASET}.share_in_range",
    "Validity: ty_le_dan_so is a share in (0, 1].",
    sql="t.ty_le_dan_so <= 0 OR t.ty_le_dan_so > 1",
    message=lambda row, refs: f"ty_le_dan_so={row.get('ty_le_dan_so')!r} is not in (0, 1]",
    expect=lambda E: E.ExpectColumnValuesToBeBetween(
        column="ty_le_dan_so", min_value=0, max_value=1, strict_min=True
    ),
    quarantine=("%out_of_range: %",),
)


def _shares_sum_to_one(ctx: CheckContext) -> Facts:
    frame = ctx.df(
        f"SELECT ma_dvhc_cu, {round_to('sum(ty_le_dan_so)', 9, ctx.dialect)} AS total, "
        f"abs(sum(ty_le_dan_so) - 1) AS deviation FROM ({latest_file(DATASET)}) AS f "
        "GROUP BY 1 ORDER BY 1"
    )
    return Facts(
        frame,
        [ctx.E.ExpectColumnValuesToBeBetween(column="deviation", max_value=TOLERANCE)],
        expected="the shares of each old commune add up to 1 (±1e-6)",
        observe=lambda f, bad: (
            f"{len(f)} old communes; "
            + (
                "all add up to 1"
                if bad.empty
                else ", ".join(f"{r.ma_dvhc_cu}: {r.total:g}" for r in bad.head(5).itertuples())
            )
        ),
        keys_column="ma_dvhc_cu",
    )


SPEC = raw_spec(
    DATASET,
    key_columns=("ma_dvhc_cu", "ma_dvhc_moi"),
    latest_file_only=True,
    ranks_agencies=False,
    row_rules=(
        share_in_range,
        b.sql_only(
            DATASET,
            "old_code_known",
            "old_unit.code IS NULL AND EXISTS (SELECT 1 FROM ref_unit)",
            "Integrity: ma_dvhc_cu is a unit of don_vi_hanh_chinh.csv.",
            joins=("LEFT JOIN ref_unit AS old_unit ON old_unit.code = t.ma_dvhc_cu",),
        ),
        b.sql_only(
            DATASET,
            "new_code_known",
            "new_unit.code IS NULL AND EXISTS (SELECT 1 FROM ref_unit)",
            "Integrity: ma_dvhc_moi is a unit of don_vi_hanh_chinh.csv.",
            joins=("LEFT JOIN ref_unit AS new_unit ON new_unit.code = t.ma_dvhc_moi",),
        ),
    ),
    table_rules=(
        file_loaded(DATASET, "sap_xep_dvhc.csv"),
        TableRule(
            f"{DATASET}.shares_sum_to_one",
            "Consistency: the population of an old commune is shared out whole among the new "
            "ones (its shares add up to 1), so re-expressed figures neither lose nor invent "
            "people.",
            _shares_sum_to_one,
        ),
    ),
)
