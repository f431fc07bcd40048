"""What a quality rule is, what a check reports, and the registry of every dataset's suite.

Two kinds of rule:
- `RowRule`: a property of one record. On each batch, before landing, it is a Great
  Expectations expectation over the batch's rows (`expectations.row_level`); failing rows go
  to quarantine with the rule's name. On the warehouse the same rule is an SQL predicate
  counted per agency and year, together with the records already quarantined for it.
- `TableRule`: a property of a whole table (uniqueness, freshness, volume, completeness,
  files present...). Its SQL computes a small frame of facts that Great Expectations then
  validates (`expectations.runner`).

Every rule has a name `<dataset>.<rule>`, a docstring-like description that starts with its
quality dimension, and a severity: `blocking` (published figures would be wrong: the
dependent marts are not rebuilt and the shortlist leaves the affected agencies out) or
`warning` (alert, the run still succeeds).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from expectations.reference import ReferenceSets

BLOCKING = "blocking"
WARNING = "warning"
SEVERITIES = (BLOCKING, WARNING)
DIMENSIONS = (
    "Completeness",
    "Conformity",
    "Consistency",
    "Integrity",
    "Timeliness",
    "Uniqueness",
    "Validity",
    "Volume",
)


def dimension_of(description: str) -> str:
    """The quality dimension a description starts with (`"Validity: ..."`)."""
    head = description.strip().split(":", 1)[0].strip()
    if head not in DIMENSIONS:
        raise ValueError(f"a rule description must start with one of {DIMENSIONS}: {description!r}")
    return head


@dataclass(frozen=True)
class RowRule:
    """A rule on single records.

    `expect(E)` builds the Great Expectations expectation over a batch frame (E is
    `great_expectations.expectations`); `derive(frame, refs)` first adds the derived columns it
    needs (e.g. whether a code is in force on the record's date). `sql` is the same rule as a
    predicate on a raw row `t` (true when the row breaks it), using the `joins` it names and
    the reference CTEs of `expectations.sql`. `message` names the failing field and value (a
    format string over the row, or a function of the row and the reference sets).
    `quarantine` lists `LIKE` patterns of connector rejections that mean the same thing, so
    records the connector already rejected count for this rule.
    """

    name: str
    description: str
    sql: str
    message: str | Callable[[dict[str, Any], ReferenceSets], str] = ""
    expect: Callable[[Any], Any] | None = None
    derive: Callable[[pd.DataFrame, ReferenceSets], None] | None = None
    needs: tuple[str, ...] = ()  # reference sets the rule needs ("agencies", "admin_units", ...)
    joins: tuple[str, ...] = ()
    quarantine: tuple[str, ...] = ()
    severity: str = WARNING

    @property
    def dimension(self) -> str:
        return dimension_of(self.description)

    @property
    def at_landing(self) -> bool:
        """Checked on each batch before landing (else only on the warehouse)."""
        return self.expect is not None

    @property
    def dataset(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def short_name(self) -> str:
        return self.name.split(".", 1)[1]


@dataclass
class Facts:
    """The small frame a table rule computed in SQL and the expectations GX validates it with.

    Every expectation must be a column-map expectation so that failing frame rows are known:
    the runner adds a `_row` column and reads GX's unexpected index list. `count_column`
    gives the failing records of a failing frame row (default 1 each); `keys_column` holds a
    key or a list of keys; `agency_column` and `year_column` name the affected agencies and
    years; `sample` fetches the sample of failing keys instead, only when the rule failed.
    """

    frame: pd.DataFrame
    expectations: list[Any]
    expected: str
    observe: Callable[[pd.DataFrame, pd.DataFrame], str] | None = None
    count_column: str | None = None
    keys_column: str | None = None
    agency_column: str | None = None
    year_column: str | None = None
    sample: Callable[[pd.DataFrame], list[str]] | None = None
    failed_rows: int | None = None  # overrides the count derived from failing frame rows


@dataclass(frozen=True)
class TableRule:
    """A rule on a whole table: `compute(ctx)` returns the `Facts` to validate."""

    name: str
    description: str
    compute: Callable[[Any], Facts]
    severity: str = WARNING

    @property
    def dimension(self) -> str:
        return dimension_of(self.description)

    @property
    def dataset(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def short_name(self) -> str:
        return self.name.split(".", 1)[1]


Rule = RowRule | TableRule


@dataclass
class CheckOutcome:
    """The result of one check of one run: what `quality.check_results` and Dagster show."""

    dataset: str
    check_name: str
    severity: str
    passed: bool
    observed: str
    expected: str
    failed_rows: int = 0
    failed_keys: list[str] = field(default_factory=list)
    dimension: str = ""
    description: str = ""
    # (year, agency code) pairs the failure concerns; None stands for "every" year/agency.
    affected: list[tuple[int | None, str | None]] = field(default_factory=list)
    # The pairs a failed blocking check takes out of the ranking (quality.blocked_agencies):
    # `affected` for agency data and the agency reference file, none for territorial data.
    blocked: list[tuple[int | None, str | None]] = field(default_factory=list)
    error: str | None = None
    validation: Any = None  # the GX ExpectationSuiteValidationResult (for Data Docs)

    @property
    def blocks(self) -> bool:
        """A failed blocking check: the run must not publish figures built on this data."""
        return self.severity == BLOCKING and not self.passed

    @property
    def agency_codes(self) -> list[str]:
        return sorted({a for _, a in self.affected if a is not None})

    @property
    def years(self) -> list[int]:
        return sorted({y for y, _ in self.affected if y is not None})


@dataclass(frozen=True)
class DatasetSpec:
    """How the checks read one dataset's table and its quarantined records.

    SQL fragments use the alias `t` for the table and `q` for `quality.quarantine`.
    `key_sql` builds the record key the way connectors write `record_key` in quarantine.
    """

    dataset: str
    table: str
    key_columns: tuple[str, ...]
    key_sql: str
    # Predicate matching a table row `t` with a quarantined record `q` (default: key_sql =
    # q.record_key; a native-typed comparison is cheaper on big tables).
    key_match_sql: str | None = None
    version_column: str | None = None
    agency_sql: str | None = None
    year_sql: str | None = None
    joins: tuple[str, ...] = ()  # joins the agency or year expressions need
    quarantine_agency_sql: str | None = None
    quarantine_year_sql: str | None = None
    freshness_sql: str | None = None  # newest record moment, as a TIMESTAMP
    # Whether a blocking failure removes agencies from the ranking (agency data, reference
    # files the ranking is built on) or only fails the run (territorial data).
    ranks_agencies: bool = True
    asset_key: tuple[str, ...] = ()
    row_rules: tuple[RowRule, ...] = ()
    table_rules: tuple[TableRule, ...] = ()
    latest_file_only: bool = False  # reference files: judge the latest loaded version
    source_table: str | None = None  # the table as DDL knows it (schema check), if not `table`
    # The record key of a batch row, as quarantine stores it.
    row_key: Callable[[dict[str, Any]], str | None] | None = None
    # Whether records of the dataset can be in quality.quarantine (not for dbt models).
    quarantined: bool = True
    # The columns the schema check expects, when they are not the raw table's (dbt models).
    columns: tuple[tuple[str, str], ...] = ()

    @property
    def rules(self) -> tuple[Rule, ...]:
        return (*self.row_rules, *self.table_rules)


def enum_sql(column: str, values: Sequence[str]) -> str:
    quoted = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
    return f"t.{column} IS NOT NULL AND t.{column} NOT IN ({quoted})"
