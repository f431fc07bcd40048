"""Every rule on a clean and on a dirty warehouse (small DuckDB tables, exact raw columns)."""

from __future__ import annotations

import pytest
import quality_tables as qt

from expectations.registry import SPECS
from expectations.rules import BLOCKING, WARNING

# Rules with tests of their own (test_table_rules.py, test_volume.py).
TESTED_ELSEWHERE = {
    "invalid_share_within_threshold",
    "schema_readable",
    "file_loaded",
    "volume_per_agency_weekly",
    "every_agency_present",
    "every_village_reported_monthly",
    "every_agency_registered",
}


def test_every_check_passes_on_the_clean_warehouse(clean_outcomes):
    failed = {n: (o.observed, o.error) for n, o in clean_outcomes.items() if not o.passed}
    assert failed == {}
    assert len(clean_outcomes) == sum(len(s.rules) for s in SPECS.values())


@pytest.mark.parametrize("rule", sorted(qt.DIRTY))
def test_rule_fails_on_its_dirty_rows(dirty_outcomes, rule):
    outcome = dirty_outcomes[rule]
    _, key = qt.DIRTY[rule]
    assert not outcome.passed, outcome.observed
    assert outcome.error is None
    assert outcome.failed_rows >= 1
    if key is not None:
        assert key in outcome.failed_keys, (outcome.observed, outcome.failed_keys)


@pytest.mark.parametrize("dataset", sorted(d for d in SPECS if d != "telecom_files"))
@pytest.mark.parametrize("rule", qt.GENERIC_RULES)
def test_generic_rule_counts_connector_rejections(dirty_outcomes, dataset, rule):
    outcome = dirty_outcomes[f"{dataset}.{rule}"]
    assert not outcome.passed
    assert qt.generic_key(dataset) in outcome.failed_keys


@pytest.mark.parametrize("rule", sorted(qt.DIRTY_WITHOUT_KEY))
def test_stale_sources_fail_freshness(dirty_outcomes, clean_outcomes, rule):
    assert clean_outcomes[rule].passed
    assert not dirty_outcomes[rule].passed
    assert "days old" in dirty_outcomes[rule].observed


def test_every_rule_is_exercised():
    names = {r.name for spec in SPECS.values() for r in spec.rules}
    generic = {f"{d}.{r}" for d in SPECS for r in qt.GENERIC_RULES}
    elsewhere = {n for n in names if n.split(".", 1)[1] in TESTED_ELSEWHERE}
    missing = names - set(qt.DIRTY) - qt.DIRTY_WITHOUT_KEY - generic - elsewhere
    assert missing == set()


def test_rules_are_named_typed_and_documented():
    for spec in SPECS.values():
        for rule in spec.rules:
            assert rule.name.startswith(f"{spec.dataset}.")
            assert rule.severity in (BLOCKING, WARNING)
            assert rule.dimension  # the description starts with its quality dimension
    blocking = {r.name.split(".", 1)[1] for s in SPECS.values() for r in s.rules}
    assert {"schema_readable", "invalid_share_within_threshold"} <= blocking


def test_warnings_never_block_and_failed_outcomes_carry_keys(dirty_outcomes):
    for outcome in dirty_outcomes.values():
        if outcome.severity == WARNING:
            assert outcome.blocked == []
        if not outcome.passed and outcome.failed_keys:
            assert len(outcome.failed_keys) <= 10
            assert all(isinstance(k, str) for k in outcome.failed_keys)
