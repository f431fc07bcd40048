"""Builders of the common row rules (enumerations, date order, codes in force, counts)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from expectations.reference import ReferenceSets, in_force
from expectations.rules import RowRule, enum_sql

_LABEL = {"agencies": "an agency (co_quan.csv)", "admin_units": "a unit (don_vi_hanh_chinh.csv)"}
_CTE = {"agencies": "ref_agency", "admin_units": "ref_unit"}


def shown(value: Any) -> str:
    """A value as a rejection message names it: repr, cut short."""
    text = repr(value.isoformat()) if hasattr(value, "isoformat") else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def enum(dataset: str, column: str, values: Sequence[str]) -> RowRule:
    listed = ", ".join(values)

    return RowRule(
        f"{dataset}.enum_{column}",
        f"Validity: {column} is one of the contract's values ({listed}).",
        sql=enum_sql(column, values),
        message=lambda row, refs: f"{column}={shown(row.get(column))} not in [{listed}]",
        expect=lambda E: E.ExpectColumnValuesToBeInSet(column=column, value_set=list(values)),
        quarantine=(f"%enum: {column}=%",),
    )


def date_order(
    dataset: str, name: str, later: str, earlier: str, description: str, *, quarantine: str = ""
) -> RowRule:
    """`later` is not before `earlier` (rows where either is missing are not judged)."""
    return RowRule(
        f"{dataset}.{name}",
        description,
        sql=f"t.{later} < t.{earlier}",
        message=lambda row, refs: (
            f"{later}={shown(row.get(later))} is before {earlier}={shown(row.get(earlier))}"
        ),
        expect=lambda E: E.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=later,
            column_B=earlier,
            or_equal=True,
            ignore_row_if="either_value_is_missing",
        ),
        quarantine=(quarantine,) if quarantine else (),
    )


def code_in_force(
    dataset: str, name: str, column: str, day_column: str, table: str, description: str
) -> RowRule:
    """`column` names a code of `table` ("agencies" / "admin_units") in force on `day_column`."""
    derived = f"_{column}_in_force"
    alias = f"ref_{column}"
    cte = _CTE[table]

    def derive(frame: pd.DataFrame, refs: ReferenceSets) -> None:
        frame[derived] = in_force(getattr(refs, table), frame[column], frame[day_column])

    def message(row: dict[str, Any], refs: ReferenceSets) -> str:
        day = row.get(day_column)
        day_text = day.date().isoformat() if hasattr(day, "date") else str(day)
        return (
            f"{column}={shown(row.get(column))} is not {_LABEL[table]} in force on {day_text} "
            f"({refs.describe(table, row.get(column))})"
        )

    return RowRule(
        f"{dataset}.{name}",
        description,
        sql=(
            f"t.{column} IS NOT NULL AND t.{day_column} IS NOT NULL AND ({alias}.code IS NULL "
            f"OR NOT CAST(t.{day_column} AS DATE) BETWEEN {alias}.vf AND {alias}.vt) "
            f"AND EXISTS (SELECT 1 FROM {cte})"
        ),
        message=message,
        expect=lambda E: E.ExpectColumnValuesToBeInSet(column=derived, value_set=[True]),
        derive=derive,
        needs=(table,),
        joins=(f"LEFT JOIN {cte} AS {alias} ON {alias}.code = t.{column}",),
    )


def code_known(dataset: str, name: str, column: str, table: str, description: str) -> RowRule:
    """`column` (when set) names a code of `table`, whatever its validity."""
    derived = f"_{column}_known"
    alias = f"ref_{column}"
    cte = _CTE[table]

    def derive(frame: pd.DataFrame, refs: ReferenceSets) -> None:
        codes = frame[column]
        found = codes.isin(list(getattr(refs, table))).to_numpy()
        is_code = codes.notna().to_numpy()
        frame[derived] = pd.Series(
            np.where(is_code, found, None), index=frame.index, dtype="object"
        )

    return RowRule(
        f"{dataset}.{name}",
        description,
        sql=(f"t.{column} IS NOT NULL AND {alias}.code IS NULL AND EXISTS (SELECT 1 FROM {cte})"),
        message=lambda row, refs: f"{column}={shown(row.get(column))} is not {_LABEL[table]}",
        expect=lambda E: E.ExpectColumnValuesToBeInSet(column=derived, value_set=[True]),
        derive=derive,
        needs=(table,),
        joins=(f"LEFT JOIN {cte} AS {alias} ON {alias}.code = t.{column}",),
    )


def not_negative(
    dataset: str, columns: Sequence[str], *, name: str = "counts_not_negative"
) -> RowRule:
    def message(row: dict[str, Any], refs: ReferenceSets) -> str:
        bad = [
            f"{c}={row.get(c)}"
            for c in columns
            if isinstance(row.get(c), int | float) and row[c] < 0
        ]
        return ", ".join(bad) + " is negative"

    return RowRule(
        f"{dataset}.{name}",
        f"Validity: counts are not negative ({', '.join(columns)}).",
        sql=" OR ".join(f"t.{c} < 0" for c in columns),
        message=message,
        expect=lambda E: [E.ExpectColumnValuesToBeBetween(column=c, min_value=0) for c in columns],
        quarantine=("%negative_count: %",),
    )


def at_most(
    dataset: str, name: str, part: str, whole: str, description: str, *, quarantine: str = ""
) -> RowRule:
    """`part` <= `whole` (rows where either is missing are not judged)."""
    return RowRule(
        f"{dataset}.{name}",
        description,
        sql=f"t.{part} > t.{whole}",
        message=lambda row, refs: f"{part}={row.get(part)} exceeds {whole}={row.get(whole)}",
        expect=lambda E: E.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=whole, column_B=part, or_equal=True, ignore_row_if="either_value_is_missing"
        ),
        quarantine=(quarantine,) if quarantine else (),
    )


def sql_only(
    dataset: str, name: str, sql: str, description: str, joins: tuple[str, ...] = ()
) -> RowRule:
    """A row rule that needs other tables of the warehouse: judged on the warehouse only."""
    return RowRule(f"{dataset}.{name}", description, sql=sql, joins=joins)
