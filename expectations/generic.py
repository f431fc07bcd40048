"""Rules every dataset has: schema, keys, parseable values, quarantine, invalid share, freshness.

Each factory returns a rule named `<dataset>.<rule>`. The blocking ones are the gate of the
issue: a schema staging cannot read, and a share of invalid records (row rules broken in
the warehouse plus records quarantined at landing) above the dataset's threshold, per year
and per agency and year.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from expectations import sql as q
from expectations.rules import BLOCKING, WARNING, Facts, RowRule, TableRule
from warehouse.schema import RAW_TABLES

if TYPE_CHECKING:
    from expectations.context import CheckContext

PARSE_REASONS = (
    "%wrong_type: %",
    "%unparseable_date: %",
    "%unparseable_number: %",
    "%malformed_row: %",
    "%missing_value: %",
)


def key_present(dataset: str, key_columns: tuple[str, ...]) -> RowRule:
    shown = ", ".join(key_columns)

    def expect(E):  # noqa: N803
        return [E.ExpectColumnValuesToNotBeNull(column=c) for c in key_columns]

    return RowRule(
        f"{dataset}.key_present",
        f"Completeness: every record has its key ({shown}).",
        sql=" OR ".join(f"t.{c} IS NULL" for c in key_columns),
        message=f"{shown} missing",
        expect=expect,
        quarantine=("%missing_key: %",),
    )


def values_parseable(dataset: str) -> RowRule:
    return RowRule(
        f"{dataset}.values_parseable",
        "Conformity: every required value is present and has the contract's type (dates "
        "parse, flags are booleans, counts are whole numbers); records that do not were "
        "quarantined by the connector.",
        sql="FALSE",  # typed warehouse columns cannot hold such values: only quarantine counts
        quarantine=PARSE_REASONS,
    )


def _quarantine_keys(ctx: CheckContext, where: str = "TRUE") -> list[str]:
    sql = q.with_ctes(
        f"SELECT DISTINCT coalesce(q.record_key, '(no key)') AS k FROM qopen AS q WHERE {where} "
        f"ORDER BY k LIMIT {ctx.settings.sample_size}",
        q.open_quarantine(ctx.spec),
    )
    return [k for (k,) in ctx.conn.execute(sql).fetchall()]


def key_version_unique(
    dataset: str, *, name: str = "key_version_unique", severity: str = WARNING
) -> TableRule:
    def compute(ctx: CheckContext) -> Facts:
        spec = ctx.spec
        group = ", ".join(f"t.{c}" for c in spec.key_columns)
        dupes = (
            f"SELECT min(CAST({spec.key_sql} AS VARCHAR)) AS k, count(*) - 1 AS extra "
            f"FROM {q.table_from(spec)} GROUP BY {group} HAVING count(*) > 1"
        )
        raw_extra = int(ctx.scalar(f"SELECT coalesce(sum(extra), 0) FROM ({dupes}) AS d") or 0)
        where = "q.reason LIKE '%duplicate: %'"
        quarantined = int(
            ctx.scalar(
                q.with_ctes(
                    f"SELECT count(*) FROM qopen AS q WHERE {where}", q.open_quarantine(spec)
                )
            )
            or 0
        )
        frame = pd.DataFrame(
            {"place": ["table", "quarantine"], "duplicate_versions": [raw_extra, quarantined]}
        )

        def sample(_: pd.DataFrame) -> list[str]:
            limit = ctx.settings.sample_size
            keys = [k for k, _ in ctx.conn.execute(f"{dupes} ORDER BY k LIMIT {limit}").fetchall()]
            return sorted(set(keys + _quarantine_keys(ctx, where)))[:limit]

        return Facts(
            frame,
            [ctx.E.ExpectColumnValuesToBeBetween(column="duplicate_versions", max_value=0)],
            expected=f"one row per ({', '.join(spec.key_columns)}); no duplicate read",
            observe=lambda f, bad: (
                f"{raw_extra} duplicate key versions in the table, {quarantined} duplicates "
                "quarantined at landing"
            ),
            count_column="duplicate_versions",
            sample=sample,
        )

    return TableRule(
        f"{dataset}.{name}",
        "Uniqueness: one record per key and version; a second, different copy of the same "
        "version is a duplicate (the first is kept, the other quarantined).",
        compute,
        severity=severity,
    )


def quarantined_records(dataset: str) -> TableRule:
    def compute(ctx: CheckContext) -> Facts:
        frame = ctx.scan[["agency_code", "year", "quarantined"]]
        frame = frame[frame["quarantined"] > 0].reset_index(drop=True)
        by_rule = ctx.df(
            q.with_ctes(
                "SELECT split_part(split_part(q.reason, ':', 1), ';', 1) AS rule, count(*) AS n "
                "FROM qopen AS q GROUP BY 1 ORDER BY n DESC, rule",
                q.open_quarantine(ctx.spec),
            )
        )
        detail = ", ".join(f"{r.rule} {r.n}" for r in by_rule.itertuples())

        return Facts(
            frame,
            [ctx.E.ExpectColumnValuesToBeBetween(column="quarantined", max_value=0)],
            expected="no record quarantined (a few are a warning, not a failure of the run)",
            observe=lambda f, bad: (
                f"{int(f['quarantined'].sum())} records in quarantine"
                + (f" ({detail})" if detail else "")
            ),
            count_column="quarantined",
            agency_column="agency_code",
            year_column="year",
            sample=lambda _: _quarantine_keys(ctx),
        )

    return TableRule(
        f"{dataset}.quarantined_records",
        "Validity: records rejected at landing (by the connector or a row rule) and not "
        "since replaced by a valid version.",
        compute,
    )


def invalid_share(dataset: str) -> TableRule:
    def compute(ctx: CheckContext) -> Facts:
        threshold = ctx.settings.threshold(dataset)
        minimum = ctx.settings.min_records
        scan = ctx.scan.copy()
        scan["records_all"] = scan["records"] + scan["quarantined"]
        scan["invalid_all"] = scan["invalid"] + scan["quarantined"]
        per_year = (
            scan.groupby("year", dropna=False)[["records_all", "invalid_all"]].sum().reset_index()
        )
        per_year.insert(0, "agency_code", None)
        per_year.insert(0, "scope", "dataset")
        frames = [per_year]
        if ctx.spec.agency_sql is not None:
            agencies = scan[scan["agency_code"].notna()]
            agencies = agencies[["agency_code", "year", "records_all", "invalid_all"]].copy()
            agencies.insert(0, "scope", "agency")
            frames.append(agencies)
        frame = pd.concat(frames, ignore_index=True)
        frame["invalid_share"] = frame["invalid_all"] / frame["records_all"].where(
            frame["records_all"] > 0
        )
        judged = frame["records_all"] >= minimum
        frame["judged_share"] = frame["invalid_share"].where(judged)
        frame["agency_code"] = frame["agency_code"].astype("object")
        frame["group"] = [
            f"{a if isinstance(a, str) else 'all'}|{'all' if pd.isna(y) else int(y)}"
            for a, y in zip(frame["agency_code"], frame["year"], strict=True)
        ]

        def observe(f: pd.DataFrame, bad: pd.DataFrame) -> str:
            whole = f[f["scope"] == "dataset"]
            total, invalid = int(whole["records_all"].sum()), int(whole["invalid_all"].sum())
            share = invalid / total if total else 0.0
            text = f"{invalid} of {total} records invalid ({share:.2%})"
            if len(bad):
                worst = bad.sort_values("invalid_share", ascending=False).head(3)
                parts = [
                    f"{r.agency_code or 'all agencies'} {'' if pd.isna(r.year) else int(r.year)}: "
                    f"{r.invalid_share:.1%} of {int(r.records_all)}"
                    for r in worst.itertuples()
                ]
                text += "; above the threshold: " + "; ".join(parts)
            return text

        return Facts(
            frame,
            [
                ctx.E.ExpectColumnValuesToBeBetween(
                    column="judged_share", min_value=0, max_value=threshold
                )
            ],
            expected=(
                f"invalid share ≤ {threshold:.0%} per year and per agency and year "
                f"(judged over at least {minimum} records)"
            ),
            observe=observe,
            count_column="invalid_all",
            agency_column="agency_code",
            year_column="year",
            keys_column="group",
        )

    return TableRule(
        f"{dataset}.invalid_share_within_threshold",
        "Validity: the share of invalid records (quarantined at landing, or breaking a row "
        "rule in the warehouse) stays under the dataset's threshold; above it the figures "
        "built on the data would be wrong.",
        compute,
        severity=BLOCKING,
    )


# Type names as DuckDB spells them, from other spellings of the same types (PostgreSQL's
# information_schema among them).
_DUCKDB_TYPES = {
    "INT": "INTEGER",
    "INT4": "INTEGER",
    "INT8": "BIGINT",
    "STRING": "VARCHAR",
    "TEXT": "VARCHAR",
    "CHARACTER VARYING": "VARCHAR",
    "TIMESTAMP WITHOUT TIME ZONE": "TIMESTAMP",
    "DOUBLE PRECISION": "DOUBLE",
    "FLOAT8": "DOUBLE",
}


def schema_readable(dataset: str, expected: tuple[tuple[str, str], ...] | None = None) -> TableRule:
    columns = expected if expected is not None else RAW_TABLES[dataset].columns

    def compute(ctx: CheckContext) -> Facts:
        table = ctx.spec.source_table or ctx.spec.table
        schema, name = table.split(".", 1)
        found = dict(
            ctx.conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = ? AND table_name = ?",
                [schema, name],
            ).fetchall()
        )
        frame = pd.DataFrame(
            {
                "column": [c for c, _ in columns],
                "expected_type": [t for _, t in columns],
                "actual_type": [
                    _DUCKDB_TYPES.get(str(found[c]).upper(), str(found[c]).upper())
                    if c in found
                    else "(missing)"
                    for c, _ in columns
                ],
            }
        )

        def observe(f: pd.DataFrame, bad: pd.DataFrame) -> str:
            if not found:
                return f"table {table} not found"
            if bad.empty:
                return f"{len(f)} columns as expected"
            return "; ".join(f"{r.column}: {r.actual_type}" for r in bad.itertuples())

        return Facts(
            frame,
            [
                ctx.E.ExpectColumnPairValuesToBeEqual(
                    column_A="expected_type", column_B="actual_type"
                )
            ],
            expected=f"{table} has " + ", ".join(f"{c} {t}" for c, t in columns),
            observe=observe,
            keys_column="column",
        )

    return TableRule(
        f"{dataset}.schema_readable",
        "Conformity: the table has every column staging reads, with the type it casts from "
        "(added columns are fine; a missing or retyped one breaks staging).",
        compute,
        severity=BLOCKING,
    )


def freshness(dataset: str) -> TableRule:
    def compute(ctx: CheckContext) -> Facts:
        spec = ctx.spec
        newest = ctx.scalar(f"SELECT max({spec.freshness_sql}) FROM {q.table_from(spec)}")
        now = ctx.settings.at()
        limit = ctx.settings.max_age_days(dataset) or 1e9
        if newest is None:
            age = 1e9
        else:
            age = (pd.Timestamp(now) - pd.Timestamp(newest)).total_seconds() / 86400
        frame = pd.DataFrame({"newest": [str(newest)], "age_days": [round(age, 2)]})
        return Facts(
            frame,
            [ctx.E.ExpectColumnValuesToBeBetween(column="age_days", max_value=limit)],
            expected=f"newest record at most {limit:g} days old at {now:%Y-%m-%d %H:%M}",
            observe=lambda f, bad: (
                "no record at all" if newest is None else f"newest {newest} ({age:.1f} days old)"
            ),
            count_column=None,
            keys_column=None,
        )

    return TableRule(
        f"{dataset}.fresh",
        "Timeliness: the newest record is no older than the age set for the source "
        "(a stale source means the connector or the source stopped delivering).",
        compute,
    )


def standard_rules(
    dataset: str, key_columns: tuple[str, ...], *, with_freshness: bool = False
) -> tuple[tuple[RowRule, ...], tuple[TableRule, ...]]:
    """The row rules (key present, values parseable) and table rules (schema, key unique,
    quarantine, invalid share, freshness) of a dataset of `raw`."""
    row = (key_present(dataset, key_columns), values_parseable(dataset))
    table = [
        schema_readable(dataset),
        key_version_unique(dataset),
        quarantined_records(dataset),
        invalid_share(dataset),
    ]
    if with_freshness:
        table.append(freshness(dataset))
    return row, tuple(table)
