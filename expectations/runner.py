"""Run a dataset's suite on the warehouse and turn each rule into a `CheckOutcome`.

Row rules are counted in one SQL pass over the table (plus one over its quarantine); table
rules compute their own small frames. Every frame is validated by Great Expectations, whose
validation result is kept on the outcome (for Data Docs); the failing frame rows give the
failing record count, the sample of keys and the (year, agency) pairs concerned.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import pandas as pd

from expectations import gx_runtime
from expectations.context import CheckContext
from expectations.registry import ALL_SPECS, DATASETS
from expectations.rules import (
    BLOCKING,
    CheckOutcome,
    DatasetSpec,
    Facts,
    RowRule,
    Rule,
    TableRule,
)
from expectations.settings import QualitySettings
from warehouse.dialect import hash_join_plans

log = logging.getLogger(__name__)


def row_rules_frame(ctx: CheckContext) -> pd.DataFrame:
    """The scan (per agency and year) with `failed<i>` = rows breaking rule i in the table
    (`r<i>`) plus records quarantined for it (`q<i>`): one frame for every row rule."""
    frame = ctx.scan.copy()
    for i in range(len(ctx.spec.row_rules)):
        frame[f"failed{i}"] = frame[f"r{i}"] + frame[f"q{i}"]
    return frame


def row_rule_facts(rule: RowRule, ctx: CheckContext, frame: pd.DataFrame) -> Facts:
    """Rule i of the dataset judged on the row-rules frame: no record may break it."""
    i = ctx.rule_index(rule)

    def observe(f: pd.DataFrame, bad: pd.DataFrame) -> str:
        total = int(f["records"].sum() + f["quarantined"].sum())
        in_table, quarantined = int(f[f"r{i}"].sum()), int(f[f"q{i}"].sum())
        if not in_table and not quarantined:
            return f"0 of {total} records break it"
        return (
            f"{in_table + quarantined} of {total} records break it "
            f"({quarantined} quarantined at landing, {in_table} in the warehouse)"
        )

    return Facts(
        frame,
        [ctx.E.ExpectColumnValuesToBeBetween(column=f"failed{i}", max_value=0)],
        expected="no record breaks the rule",
        observe=observe,
        count_column=f"failed{i}",
        agency_column="agency_code" if ctx.spec.agency_sql else None,
        year_column="year" if ctx.spec.year_sql else None,
        sample=lambda _: ctx.samples(rule),
    )


def _keys(facts: Facts, bad: pd.DataFrame, limit: int) -> list[str]:
    if facts.sample is not None:
        return [str(k) for k in facts.sample(bad)][:limit]
    if facts.keys_column is None or bad.empty:
        return []
    keys: list[str] = []
    for value in bad[facts.keys_column]:
        items = (
            list(value) if isinstance(value, list | tuple) or hasattr(value, "tolist") else [value]
        )
        for item in items:
            if item is not None and str(item) not in keys:
                keys.append(str(item))
            if len(keys) >= limit:
                return keys
    return keys


def _affected(facts: Facts, bad: pd.DataFrame) -> list[tuple[int | None, str | None]]:
    if bad.empty:
        return []
    if facts.agency_column is None and facts.year_column is None:
        return [(None, None)]
    pairs: set[tuple[int | None, str | None]] = set()
    for _, row in bad.iterrows():
        year = row[facts.year_column] if facts.year_column else None
        agency = row[facts.agency_column] if facts.agency_column else None
        pairs.add(
            (
                None if year is None or pd.isna(year) else int(year),
                agency if isinstance(agency, str) else None,
            )
        )
    return sorted(pairs, key=lambda p: (p[0] or 0, p[1] or ""))


def _annotate(expectations: list[Any], rule: Rule) -> list[Any]:
    for expectation in expectations:
        expectation.meta = {
            "check_name": rule.name,
            "severity": rule.severity,
            "dimension": rule.dimension,
        }
        expectation.notes = rule.description
        # GX's own severity field, so Data Docs show blocking checks as critical.
        expectation.severity = "critical" if rule.severity == BLOCKING else "warning"
    return expectations


def _part(result: Any, name: str) -> Any:
    """The results of one check out of a validation that judged several."""
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResult,
    )

    mine = [
        r for r in result.results if (r.expectation_config.meta or {}).get("check_name") == name
    ]
    passed = sum(1 for r in mine if r.success)
    return ExpectationSuiteValidationResult(
        success=passed == len(mine),
        results=mine,
        suite_name=name,
        statistics={
            "evaluated_expectations": len(mine),
            "successful_expectations": passed,
            "unsuccessful_expectations": len(mine) - passed,
            "success_percent": 100.0 * passed / len(mine) if mine else None,
        },
        meta=result.meta,
    )


def summarise(
    rule: Rule, facts: Facts, frame: pd.DataFrame, result: Any, ctx: CheckContext
) -> CheckOutcome:
    """One check outcome from the GX result of the rule's expectations on `frame`."""
    error = gx_runtime.raised(result)
    bad = frame[frame[gx_runtime.ROW].isin(gx_runtime.failing_rows(result))]
    passed = bool(result.success) and error is None
    if facts.failed_rows is not None:
        failed_rows = facts.failed_rows
    elif facts.count_column is not None:
        failed_rows = int(bad[facts.count_column].sum()) if not bad.empty else 0
    else:
        failed_rows = len(bad)
    observed = facts.observe(frame, bad) if facts.observe else f"{len(bad)} failing"
    if error is not None:
        observed = f"expectation could not be evaluated: {error}"
    affected = _affected(facts, bad) if not passed else []
    if not passed and error is not None and not affected:
        affected = [(None, None)]
    return CheckOutcome(
        dataset=ctx.spec.dataset,
        check_name=rule.name,
        severity=rule.severity,
        passed=passed,
        observed=observed,
        expected=facts.expected,
        failed_rows=0 if passed else failed_rows,
        failed_keys=[] if passed else _keys(facts, bad, ctx.settings.sample_size),
        dimension=rule.dimension,
        description=rule.description,
        affected=affected,
        error=error,
        validation=result,
    )


def evaluate(rule: Rule, facts: Facts, ctx: CheckContext) -> CheckOutcome:
    """Validate the facts with GX and summarise the result as one check outcome."""
    frame = gx_runtime.with_row_index(facts.frame)
    result = gx_runtime.validate_frame(
        frame,
        asset_name=ctx.spec.dataset,
        suite_name=rule.name,
        expectations=_annotate(facts.expectations, rule),
    )
    return summarise(rule, facts, frame, result, ctx)


def evaluate_row_rules(rules: list[RowRule], ctx: CheckContext) -> list[CheckOutcome]:
    """Every row rule of the dataset in one GX validation of the shared per-agency frame."""
    frame = gx_runtime.with_row_index(row_rules_frame(ctx))
    facts = {rule.name: row_rule_facts(rule, ctx, frame) for rule in rules}
    expectations = [e for rule in rules for e in _annotate(facts[rule.name].expectations, rule)]
    result = gx_runtime.validate_frame(
        frame,
        asset_name=ctx.spec.dataset,
        suite_name=f"{ctx.spec.dataset}.row_rules",
        expectations=expectations,
    )
    return [
        _finish(
            rule, ctx, lambda r=rule: summarise(r, facts[r.name], frame, _part(result, r.name), ctx)
        )
        for rule in rules
    ]


def _finish(rule: Rule, ctx: CheckContext, make: Any) -> CheckOutcome:
    try:
        outcome = make()
    except Exception as exc:  # noqa: BLE001 - a broken check is reported, never fatal
        log.warning("check %s could not run", rule.name, exc_info=True)
        outcome = _crashed(rule, ctx.spec, exc)
    if outcome.blocks and ctx.spec.ranks_agencies:
        outcome.blocked = list(outcome.affected)
    return outcome


def _crashed(rule: Rule, spec: DatasetSpec, exc: BaseException) -> CheckOutcome:
    text = f"{type(exc).__name__}: {exc}".strip()
    first_line = text.splitlines()[0][:300]
    return CheckOutcome(
        dataset=spec.dataset,
        check_name=rule.name,
        severity=rule.severity,
        passed=False,
        observed=f"check could not run: {first_line}",
        expected="the check runs",
        dimension=rule.dimension,
        description=rule.description,
        affected=[(None, None)],
        error=text,
    )


def run_rule(rule: Rule, ctx: CheckContext) -> CheckOutcome:
    if isinstance(rule, RowRule):
        return evaluate_row_rules([rule], ctx)[0]
    return _finish(rule, ctx, lambda: evaluate(rule, rule.compute(ctx), ctx))


def _raiser(exc: BaseException) -> Any:
    def make() -> CheckOutcome:
        raise exc

    return make


def run_suite(
    conn: Any,
    dataset: str,
    run_id: str,
    settings: QualitySettings | None = None,
    *,
    only: set[str] | None = None,
) -> list[CheckOutcome]:
    """Every check of one dataset's suite (or only the named ones) on the warehouse."""
    spec = ALL_SPECS[dataset]
    ctx = CheckContext(conn, spec, settings or QualitySettings(), run_id)
    started = time.perf_counter()
    chosen = [rule for rule in spec.rules if only is None or rule.name in only]
    row_rules = [r for r in chosen if isinstance(r, RowRule)]
    by_name: dict[str, CheckOutcome] = {}
    with hash_join_plans(conn):
        if row_rules:
            try:
                by_name.update({o.check_name: o for o in evaluate_row_rules(row_rules, ctx)})
            except Exception as exc:  # noqa: BLE001 - e.g. the table cannot be read at all
                log.warning("row rules of %s could not run", dataset, exc_info=True)
                by_name.update({r.name: _finish(r, ctx, _raiser(exc)) for r in row_rules})
        for rule in chosen:
            if isinstance(rule, TableRule):
                by_name[rule.name] = run_rule(rule, ctx)
    outcomes = [by_name[rule.name] for rule in chosen]
    log.info("suite %s: %d checks in %.2fs", dataset, len(outcomes), time.perf_counter() - started)
    return outcomes


def run_all(
    conn: Any,
    run_id: str,
    settings: QualitySettings | None = None,
    datasets: tuple[str, ...] = DATASETS,
) -> list[CheckOutcome]:
    """Every suite, reference first."""
    settings = settings or QualitySettings()
    return [o for dataset in datasets for o in run_suite(conn, dataset, run_id, settings)]


def blocking_failures(outcomes: list[CheckOutcome]) -> list[CheckOutcome]:
    return [o for o in outcomes if o.severity == BLOCKING and not o.passed]
