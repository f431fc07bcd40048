"""Shorthands the suites use to describe a dataset of `raw`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from expectations.generic import standard_rules
from expectations.rules import BLOCKING, DatasetSpec, RowRule, TableRule
from warehouse.dialect import json_text, try_int
from warehouse.schema import RAW_TABLES


def payload(field: str) -> str:
    """A field of a quarantined record's payload (JSON text), as SQL."""
    return json_text("q.payload", field)


def payload_year(field: str) -> str:
    """The year of a date field of a quarantined record (None when it does not parse)."""
    return try_int(f"substr({payload(field)}, 1, 4)")


def year_of(expr: str) -> str:
    """The calendar year of a DATE or TIMESTAMP expression, as SQL (INTEGER)."""
    return f"CAST(EXTRACT(YEAR FROM {expr}) AS INTEGER)"


def key_of(*columns: str) -> Callable[[dict[str, Any]], str | None]:
    """The record key of a row as connectors write it: the key fields joined by `|`."""

    def key(row: dict[str, Any]) -> str | None:
        values = [row.get(c) for c in columns]
        if all(v is None for v in values):
            return None
        return "|".join("" if v is None else str(v) for v in values)

    return key


def raw_spec(
    dataset: str,
    *,
    key_columns: tuple[str, ...],
    key_sql: str | None = None,
    key_match_sql: str | None = None,
    agency_sql: str | None = None,
    year_sql: str | None = None,
    joins: tuple[str, ...] = (),
    quarantine_agency_sql: str | None = None,
    quarantine_year_sql: str | None = None,
    freshness_sql: str | None = None,
    row_rules: tuple[RowRule, ...] = (),
    table_rules: tuple[TableRule, ...] = (),
    ranks_agencies: bool = True,
    latest_file_only: bool = False,
    present_columns: tuple[str, ...] | None = None,
) -> DatasetSpec:
    """A dataset of `raw` with the standard rules plus its own.

    `key_columns` identify a record (without its version); `present_columns` are those the
    `key_present` rule requires (default: the key columns).
    """
    standard_row, standard_table = standard_rules(
        dataset, present_columns or key_columns, with_freshness=freshness_sql is not None
    )
    key_sql = key_sql or " || '|' || ".join(f"CAST(t.{c} AS VARCHAR)" for c in key_columns)
    table = RAW_TABLES[dataset]
    version = None if latest_file_only else table.key[-1]
    return DatasetSpec(
        dataset=dataset,
        table=table.qualified,
        key_columns=tuple(table.key),
        key_sql=key_sql,
        key_match_sql=key_match_sql,
        version_column=version,
        agency_sql=agency_sql,
        year_sql=year_sql,
        joins=joins,
        quarantine_agency_sql=quarantine_agency_sql,
        quarantine_year_sql=quarantine_year_sql,
        freshness_sql=freshness_sql,
        ranks_agencies=ranks_agencies,
        asset_key=("raw", dataset),
        row_rules=(*standard_row, *row_rules),
        table_rules=(*standard_table, *table_rules),
        latest_file_only=latest_file_only,
        row_key=key_of(*key_columns),
    )


def staging_spec(
    model: str,
    *,
    columns: tuple[tuple[str, str], ...],
    key_columns: tuple[str, ...],
    agency_sql: str | None = None,
    year_sql: str | None = None,
    row_rules: tuple[RowRule, ...] = (),
    table_rules: tuple[TableRule, ...] = (),
    ranks_agencies: bool = True,
) -> DatasetSpec:
    """A dbt staging model: the columns the marts read (schema, blocking), its key unique
    (blocking: a duplicate would be counted twice), its own rules and the invalid share."""
    from expectations.generic import invalid_share, key_version_unique, schema_readable

    key_sql = " || '|' || ".join(f"CAST(t.{c} AS VARCHAR)" for c in key_columns)
    present = RowRule(
        f"{model}.key_present",
        f"Completeness: every row has its key ({', '.join(key_columns)}).",
        sql=" OR ".join(f"t.{c} IS NULL" for c in key_columns),
    )
    return DatasetSpec(
        dataset=model,
        table=f"staging.{model}",
        key_columns=key_columns,
        key_sql=key_sql,
        agency_sql=agency_sql,
        year_sql=year_sql,
        ranks_agencies=ranks_agencies,
        asset_key=("staging", model),
        row_rules=(present, *row_rules),
        table_rules=(
            schema_readable(model, columns),
            key_version_unique(model, name="key_unique", severity=BLOCKING),
            invalid_share(model),
            *table_rules,
        ),
        row_key=key_of(*key_columns),
        quarantined=False,
        columns=columns,
    )
