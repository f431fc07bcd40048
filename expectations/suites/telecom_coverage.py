"""Suite of `raw.telecom_coverage`: the carriers' monthly village rows (telecom-feeds.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from expectations import builders as b
from expectations import sql as q
from expectations.reference import ReferenceSets
from expectations.rules import Facts, RowRule, TableRule
from expectations.specs import raw_spec
from warehouse.dialect import try_int, try_month_start

if TYPE_CHECKING:
    from expectations.context import CheckContext

DATASET = "telecom_coverage"
COUNTS = ("so_ho_cap_quang", "so_thue_bao", "so_thue_bao_smartphone")
_PERIOD_START = try_month_start("t.ky_bao_cao")
_REPORT_YEAR = try_int("left(t.ky_bao_cao, 4)")


def _report_year(period: Any) -> int | None:
    if isinstance(period, str) and len(period) >= 4 and period[:4].isdigit():
        return int(period[:4])
    return None


def _derive_village_known(frame: pd.DataFrame, refs: ReferenceSets) -> None:
    known: list[bool | None] = []
    for village, period in zip(frame["ma_thon"], frame["ky_bao_cao"], strict=True):
        year = _report_year(period)
        if not isinstance(village, str) or year is None:
            known.append(None)
        else:
            known.append(village in refs.villages_of_year(year))
    frame["_ma_thon_known"] = pd.Series(known, index=frame.index, dtype="object")


village_code_known = RowRule(
    f"{DATASET}.village_code_known",
    "Integrity: ma_thon is a village of thon_ban.csv (the list of the report's year, or of "
    "the latest earlier year); rows of unknown villages are quarantined, not counted.",
    sql=(
        "t.ma_thon IS NOT NULL AND village.ma_thon IS NULL AND EXISTS (SELECT 1 FROM ref_village)"
    ),
    message=lambda row, refs: (
        f"ma_thon={b.shown(row.get('ma_thon'))} is not in thon_ban.csv "
        f"(file {row.get('file_name')}, row {row.get('row_number')})"
    ),
    expect=lambda E: E.ExpectColumnValuesToBeInSet(column="_ma_thon_known", value_set=[True]),
    derive=_derive_village_known,
    needs=("villages",),
    joins=(
        f"LEFT JOIN village_year AS vy ON vy.y = {_REPORT_YEAR}",
        "LEFT JOIN ref_village AS village ON village.nam = vy.fig_year "
        "AND village.ma_thon = t.ma_thon",
    ),
    quarantine=("%unknown_village: %",),
)

period_format = RowRule(
    f"{DATASET}.period_format",
    "Conformity: ky_bao_cao is a month written YYYY-MM.",
    sql=f"t.ky_bao_cao IS NOT NULL AND ({_PERIOD_START} IS NULL OR length(t.ky_bao_cao) <> 7)",
    message=lambda row, refs: f"ky_bao_cao={b.shown(row.get('ky_bao_cao'))} is not YYYY-MM",
    expect=lambda E: E.ExpectColumnValuesToMatchRegex(
        column="ky_bao_cao", regex=r"^\d{4}-(?:0[1-9]|1[0-2])$"
    ),
)


def _every_village_reported(ctx: CheckContext) -> Facts:
    ctes = (
        (
            "bounds",
            f"SELECT min({_PERIOD_START}) AS lo, max({_PERIOD_START}) AS hi "
            "FROM raw.telecom_coverage AS t",
        ),
        (
            "months",
            "SELECT left(CAST(CAST(r.d AS DATE) AS VARCHAR), 7) AS m, "
            "CAST(EXTRACT(YEAR FROM r.d) AS INTEGER) AS y FROM bounds, generate_series("
            "CAST(bounds.lo AS TIMESTAMP), CAST(bounds.hi AS TIMESTAMP), INTERVAL '1 month') "
            "AS r(d)",
        ),
        (
            "expected",
            "SELECT months.m, village.ma_thon FROM months "
            "JOIN village_year AS vy ON vy.y = months.y "
            "JOIN ref_village AS village ON village.nam = vy.fig_year",
        ),
        ("reported", "SELECT DISTINCT ky_bao_cao AS m, ma_thon FROM raw.telecom_coverage"),
        # A village no carrier has ever reported is not covered (the indicators count it so):
        # a coverage fact, not a gap in the feeds. It is named in `observed`, not failed.
        ("ever", "SELECT DISTINCT ma_thon FROM raw.telecom_coverage"),
    )
    limit = ctx.settings.sample_size
    body = (
        "SELECT e.m AS month, count(*) AS villages, "
        "count(*) FILTER (WHERE r.ma_thon IS NULL) AS missing, "
        # NULL (no key) in months without a missing village.
        f"(array_agg(e.m || '|' || e.ma_thon ORDER BY e.ma_thon) "
        f"FILTER (WHERE r.ma_thon IS NULL))[1:{limit}] AS missing_villages "
        "FROM expected AS e LEFT JOIN reported AS r ON r.m = e.m AND r.ma_thon = e.ma_thon "
        "WHERE e.ma_thon IN (SELECT ma_thon FROM ever) GROUP BY 1 ORDER BY 1"
    )
    frame = ctx.df(q.with_ctes(body, *ctes))
    never = ctx.df(
        q.with_ctes(
            "SELECT DISTINCT e.ma_thon FROM expected AS e "
            "WHERE e.ma_thon NOT IN (SELECT ma_thon FROM ever) ORDER BY 1",
            *ctes,
        )
    )["ma_thon"].tolist()
    unserved = (
        f"; {len(never)} villages never reported by any carrier (not covered): "
        + ", ".join(never[:10])
        if never
        else ""
    )
    frame["year"] = frame["month"].str[:4].astype("int64")
    return Facts(
        frame,
        [ctx.E.ExpectColumnValuesToBeBetween(column="missing", max_value=0)],
        expected="every village of thon_ban.csv reported by at least one carrier every month "
        "from the first to the last month received",
        observe=lambda f, bad: (
            f"{len(f)} months; "
            + (
                "all villages reported"
                if bad.empty
                else f"{int(bad['missing'].sum())} village-months missing in {len(bad)} months "
                f"({', '.join(bad['month'].head(6))})"
            )
            + unserved
        ),
        count_column="missing",
        keys_column="missing_villages",
        year_column="year",
    )


def _reported_once_per_file(ctx: CheckContext) -> Facts:
    frame = ctx.df(
        "SELECT min(nha_mang || '|' || ky_bao_cao || '|' || ma_thon) AS key, "
        "min(file_name) AS file_name, count(*) - 1 AS extra_rows "
        "FROM raw.telecom_coverage GROUP BY file_sha256, ma_thon HAVING count(*) > 1 "
        "ORDER BY key"
    )
    return Facts(
        frame,
        [ctx.E.ExpectColumnValuesToBeBetween(column="extra_rows", max_value=0)],
        expected="one row per village in each file",
        observe=lambda f, bad: f"{len(bad)} villages reported more than once in one file",
        count_column="extra_rows",
        keys_column="key",
    )


SPEC = raw_spec(
    DATASET,
    key_columns=("nha_mang", "ky_bao_cao", "ma_thon"),
    key_match_sql=(
        "t.nha_mang = split_part(q.record_key, '|', 1) "
        "AND t.ky_bao_cao = split_part(q.record_key, '|', 2) "
        "AND t.ma_thon = split_part(q.record_key, '|', 3)"
    ),
    year_sql=_REPORT_YEAR,
    quarantine_year_sql=try_int("left(split_part(q.record_key, '|', 2), 4)"),
    freshness_sql=f"CAST({_PERIOD_START} + INTERVAL '1 month' AS TIMESTAMP)",
    present_columns=("ma_thon",),
    ranks_agencies=False,
    row_rules=(
        period_format,
        village_code_known,
        b.not_negative(DATASET, COUNTS),
        b.at_most(
            DATASET,
            "smartphone_within_subscribers",
            "so_thue_bao_smartphone",
            "so_thue_bao",
            "Consistency: smartphone subscribers are a part of all subscribers "
            "(so_thue_bao_smartphone <= so_thue_bao).",
            quarantine="%smartphone_exceeds_subscribers: %",
        ),
    ),
    table_rules=(
        TableRule(
            f"{DATASET}.every_village_reported_monthly",
            "Completeness: every village is reported by at least one carrier each month "
            "(villages no carrier has ever reported are not covered, and only listed).",
            _every_village_reported,
        ),
        TableRule(
            f"{DATASET}.village_reported_once_per_file",
            "Uniqueness: a carrier's file reports each village once.",
            _reported_once_per_file,
        ),
    ),
)
