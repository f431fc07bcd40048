"""End to end: `cds demo` at a small scale, its marts against an independent computation.

The module runs `cds demo` twice as a subprocess (a temporary data folder and CDS_WAREHOUSE),
reads the warehouse read-only after each run, and compares the marts record by record with
`independent.py`, which computes every indicator from the generated *sources* (portal store,
document database, feed files, reference CSVs) on the rules of the contracts:

- every agency indicator value (CQ-01..03, CQ-05..10) of every agency, and the province's
  (CQ-04..10), at month, quarter and year grain: numerator and denominator exactly, value and
  gap to 1e-9, target, operator and whether it is met;
- the telecom indicators (HT-01..05) of the province, the districts, the old communes and the
  new ones (actual, and re-expressed before 1 July 2025) for the periods whose value month is
  one of a sample of months (the months of the planted feed faults, quarter and year ends
  around the reorganisation, the latest month);
- the index, status and rank of every agency of every year (2025 and 2024 included), its
  breakdown, the award shortlists (2025 in particular), and indicator_coverage;
- a second `cds demo` lands nothing and leaves every mart as it was.

Records that break their contract are left out of the computation and must be in
quality.quarantine; records the contracts leave to judgement (e.g. a dossier finished before
it was received) are left out exactly when the pipeline quarantined them.

Scale 0.005 to the end of January 2026: every ranking group has dossiers and documents every
year, some agencies lack data for an indicator (renormalised weights) and a few lack more than
half (insufficient data); 2025 is a full year and 2026 a provisional one.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from e2e_sources import (
    AgencySources,
    RecordKey,
    Reference,
    TelecomSources,
    read_agency_sources,
    read_reference,
    read_telecom,
    telecom_fault_months,
)
from e2e_warehouse import (
    WarehouseState,
    close,
    pipeline_values,
    read_warehouse,
    report,
    same_rows,
    value_differences,
)
from independent import (
    AGENCY_SOURCES,
    REEXPRESSED,
    AgencyComputation,
    AwardRound,
    Catalogue,
    IndexRow,
    Value,
    ValueKey,
    agency_index,
    agency_values,
    award_rounds,
    coverage,
    read_catalogue,
    territorial_values,
)

# The fixture runs the pipeline twice: allow more than the suite's default 600 s per test.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]

SCALE = "0.005"
END = "2026-01-31"
LATEST_FULL_YEAR, OTHER_YEAR = 2025, 2024
# Quarter and year ends around the reorganisation of 1 July 2025; the months of the planted
# feed faults are added from the manifest, the latest month by the reader.
TELECOM_SAMPLE = {date(2024, 6, 1), date(2024, 12, 1), date(2025, 6, 1), date(2025, 7, 1)}
TELECOM_SAMPLE |= {date(2025, 9, 1), date(2025, 12, 1)}
# indicators.csv: agency groups for CQ-01..03 and CQ-05..10, the province for CQ-04..10
AGENCY_INDICATORS = tuple(f"CQ-{n:02d}" for n in (1, 2, 3, 5, 6, 7, 8, 9, 10))
PROVINCE_INDICATORS = tuple(f"CQ-{n:02d}" for n in range(4, 11))
TELECOM_INDICATORS = tuple(f"HT-{n:02d}" for n in range(1, 6))
GRAINS = ("month", "quarter", "year")
GROUPS = ("SO_NGANH", "UBND_HUYEN", "UBND_XA")
INDEX_TOLERANCE = 0.005 + 1e-9  # a published index is the exact one rounded to 2 decimals


@dataclass
class Run:
    returncode: int
    output: str
    run_id: str | None
    state: WarehouseState | None


@dataclass
class Sources:
    """The generated sources as `independent` reads them."""

    reference: Reference
    agency: AgencySources
    telecom: TelecomSources


@dataclass
class Expected:
    """The independent computation, and the pipeline's values to compare with it."""

    excluded: set[RecordKey]
    computed: AgencyComputation
    territorial: dict[ValueKey, Value]
    index: dict[tuple[int, str], IndexRow]
    actual: dict[ValueKey, Value]


@dataclass
class Demo:
    data: Path
    first: Run
    second: Run
    sources: Sources
    expected: Expected


def _cds() -> list[str]:
    script = Path(sys.executable).with_name("cds")
    return [str(script)] if script.exists() else [sys.executable, "-m", "orchestration.cli"]


def _start(root: Path, data: Path, warehouse: Path, name: str) -> tuple[subprocess.Popen, Path]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CDS_", "DAGSTER_"))}
    env["CDS_WAREHOUSE"] = str(warehouse)
    log = root / f"{name}.log"
    command = [*_cds(), "demo", "--scale", SCALE, "--end", END, "--data", str(data)]
    with log.open("w") as out:
        # Output to a file: a pipe nobody reads while the sources are computed would fill up.
        process = subprocess.Popen(command, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
    return process, log


def _finish(process: subprocess.Popen, log: Path, warehouse: Path) -> Run:
    returncode = process.wait(timeout=1200)
    output = log.read_text()
    match = re.search(r"^Run (\S+): ", output, re.MULTILINE)
    state = read_warehouse(warehouse) if warehouse.exists() else None
    return Run(returncode, output, match.group(1) if match else None, state)


def _read_sources(data: Path) -> Sources:
    reference = read_reference(data / "reference")
    sample = TELECOM_SAMPLE | telecom_fault_months(data)
    return Sources(reference, read_agency_sources(data), read_telecom(data, reference, sample))


def _compute(sources: Sources, state: WarehouseState) -> Expected:
    # Out of the computation: records that break their contract, and those the pipeline
    # quarantined for reasons the contracts leave to judgement (but not a record served twice
    # with the same version: one copy of it lands).
    served_twice = {("dvc_procedures", code) for code in sources.agency.ambiguous_procedures}
    quarantined = {(dataset, key) for dataset, key, _ in state.quarantine.rows}
    excluded = sources.agency.invalid | sources.telecom.invalid | (quarantined - served_twice)
    catalogue = read_catalogue()
    computed = agency_values(sources.agency, sources.reference, catalogue, excluded)
    years = sorted(
        {y for first, last in computed.extents.values() for y in range(first.year, last.year + 1)}
    )
    return Expected(
        excluded,
        computed,
        territorial_values(sources.telecom, sources.reference, catalogue),
        agency_index(computed.values, sources.reference, catalogue, years),
        pipeline_values(state),
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """`cds demo` twice; the independent computation runs while the pipeline does."""
    root = tmp_path_factory.mktemp("e2e")
    data, warehouse = root / "data", root / "warehouse" / "cds.duckdb"
    started = time.monotonic()
    process, log = _start(root, data, warehouse, "first")
    # The sources are complete once `cds demo` stamps them: read them while the pipeline runs.
    while not (data / "params.json").exists() and process.poll() is None:
        time.sleep(0.2)
    sources = _read_sources(data) if (data / "params.json").exists() else None
    first = _finish(process, log, warehouse)
    assert first.returncode == 0, f"first cds demo failed:\n{first.output[-4000:]}"
    assert sources is not None and first.state is not None
    process, log = _start(root, data, warehouse, "second")
    try:
        expected = _compute(sources, first.state)
    finally:
        second = _finish(process, log, warehouse)
    print(f"\ncds demo twice, sources computed alongside: {time.monotonic() - started:.0f} s")
    return Demo(data, first, second, sources, expected)


@pytest.fixture(scope="module")
def state(demo: Demo) -> WarehouseState:
    assert demo.first.state is not None
    return demo.first.state


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return read_catalogue()


@pytest.fixture(scope="module")
def computed(demo: Demo) -> AgencyComputation:
    return demo.expected.computed


@pytest.fixture(scope="module")
def territorial(demo: Demo) -> dict[ValueKey, Value]:
    return demo.expected.territorial


@pytest.fixture(scope="module")
def actual(demo: Demo) -> dict[ValueKey, Value]:
    return demo.expected.actual


@pytest.fixture(scope="module")
def index(demo: Demo) -> dict[tuple[int, str], IndexRow]:
    return demo.expected.index


# --- The runs and their sources ----------------------------------------------------------------
def test_every_group_has_dossiers_and_documents_in_the_years_checked(
    demo: Demo, computed: AgencyComputation
) -> None:
    for year in (OTHER_YEAR, LATEST_FULL_YEAR):
        for group in GROUPS:
            members = {a.code for a in demo.sources.reference.agencies.values() if a.group == group}
            for indicator in ("CQ-06", "CQ-01"):  # dossiers received, ordinary documents
                total = sum(
                    v.denominator
                    for (code, kind, unit, grain, start), v in computed.values.items()
                    if code == indicator and kind == "agency" and unit in members
                    and grain == "year" and start.year == year
                )  # fmt: skip
                assert total > 0, f"no {indicator} records for {group} in {year}: scale too small"


def test_records_that_break_their_contract_are_quarantined(
    demo: Demo, state: WarehouseState
) -> None:
    invalid = demo.sources.agency.invalid | demo.sources.telecom.invalid
    quarantined = {(dataset, key) for dataset, key, _ in state.quarantine.rows}
    assert invalid, "the demo plants invalid records: none found"
    assert sorted(invalid - quarantined) == [], "contract-breaking records not quarantined"


# --- Indicator values ----------------------------------------------------------------------------
def test_agency_indicator_values_match(
    computed: AgencyComputation, actual: dict[ValueKey, Value]
) -> None:
    expected = {k: v for k, v in computed.values.items() if k[1] == "agency"}
    covered = {
        (code, grain) for (code, _, _, grain, _), v in expected.items() if v.value is not None
    }
    assert covered >= {(code, grain) for code in AGENCY_INDICATORS for grain in GRAINS}
    differences = value_differences(expected, actual)
    assert not differences, report(differences, "agency indicator values")


def test_province_indicator_values_match(
    computed: AgencyComputation, actual: dict[ValueKey, Value]
) -> None:
    expected = {k: v for k, v in computed.values.items() if k[1] == "admin_unit"}
    covered = {
        (code, grain) for (code, _, _, grain, _), v in expected.items() if v.value is not None
    }
    assert covered >= {(code, grain) for code in PROVINCE_INDICATORS for grain in GRAINS}
    differences = value_differences(expected, actual)
    assert not differences, report(differences, "province values of agency indicators")


def test_agency_indicator_rows_are_the_units_in_force_in_each_period(
    computed: AgencyComputation, actual: dict[ValueKey, Value]
) -> None:
    """A row for each agency and period it was in force (none before or after), and for the
    province, for each indicator whose `ap_dung` names the agency's group or TINH."""
    agency_indicators = set(AGENCY_INDICATORS) | set(PROVINCE_INDICATORS)
    pipeline = {k for k in actual if k[0] in agency_indicators}
    extra = sorted(pipeline - computed.values.keys())
    missing = sorted(computed.values.keys() - pipeline)
    lines = [f"unexpected row {k}" for k in extra] + [f"missing row {k}" for k in missing]
    assert not lines, report(lines, "rows of agency indicators")


def test_territorial_values_match(
    demo: Demo, territorial: dict[ValueKey, Value], actual: dict[ValueKey, Value]
) -> None:
    lineage = demo.sources.reference.lineage
    split = sorted({new for _, new, share in lineage if share < 1})[0]
    whole = sorted(
        new
        for new in {n for _, n, _ in lineage}
        if all(share == 1 for _, n, share in lineage if n == new)
        and sum(1 for _, n, _ in lineage if n == new) > 1
    )[0]
    district = sorted(c for c, u in demo.sources.reference.units.items() if u.level == "HUYEN")[0]
    for unit in ("11", district, whole, split):
        for indicator in TELECOM_INDICATORS:
            for grain in GRAINS:
                bases = {
                    v.basis
                    for (code, _, u, g, _), v in territorial.items()
                    if (code, u, g) == (indicator, unit, grain) and v.denominator
                }
                wanted = {"actual", REEXPRESSED} if unit in (whole, split) else {"actual"}
                assert bases == wanted, f"sample lacks {indicator} {unit} {grain}: {bases}"
    differences = value_differences(territorial, actual, check_basis=True)
    assert not differences, report(differences, "territorial indicator values")


# --- Index, ranking, shortlist, coverage --------------------------------------------------------
def test_index_scores_statuses_and_ranks(
    demo: Demo, index: dict[tuple[int, str], IndexRow], state: WarehouseState
) -> None:
    pipeline = {(r["year"], r["agency_code"]): r for r in state.marts["agency_index"].dicts()}
    statuses = {row.status for row in index.values() if row.year == LATEST_FULL_YEAR}
    assert statuses == {"ranked", "insufficient_data"}
    assert {y for y, _ in index} >= {OTHER_YEAR, LATEST_FULL_YEAR}
    # 2025 ranks departments merged on 1 March, district committees (January to June) and the
    # old and new commune committees, each on the part of the year it was in force
    first, last = date(LATEST_FULL_YEAR, 1, 1), date(LATEST_FULL_YEAR, 12, 31)
    part_year = {
        a.group
        for a in demo.sources.reference.agencies.values()
        if (LATEST_FULL_YEAR, a.code) in index
        and (a.valid_from > first or (a.valid_to is not None and a.valid_to < last))
    }
    assert part_year == set(GROUPS)
    lines = [f"unexpected agency-year {k}" for k in sorted(pipeline.keys() - index.keys())]
    for key, want in sorted(index.items()):
        got = pipeline.get(key)
        if got is None:
            lines.append(f"missing agency-year {key}")
            continue
        if (got["ranking_group"], got["status"]) != (want.group, want.status):
            lines.append(f"{key}: group/status {want.group}/{want.status}, pipeline {got}")
            continue
        if want.status == "ranked":
            if got["index_score"] is None or abs(got["index_score"] - want.raw) > INDEX_TOLERANCE:
                lines.append(f"{key}: index {want.raw:.6f}, pipeline {got['index_score']}")
            if got["rank"] != want.rank:
                lines.append(f"{key}: rank {want.rank}, pipeline {got['rank']}")
        elif got["index_score"] is not None or got["rank"] is not None:
            lines.append(f"{key}: insufficient data has no index nor rank, pipeline {got}")
    assert not lines, report(lines, "agency_index")


def test_index_breakdown_explains_each_index(
    index: dict[tuple[int, str], IndexRow], state: WarehouseState
) -> None:
    pipeline = {
        (r["year"], r["agency_code"], r["indicator_code"]): r
        for r in state.marts["agency_index_breakdown"].dicts()
    }
    lines = []
    expected_keys = set()
    for (year, agency), row in sorted(index.items()):
        for indicator, want in row.breakdown.items():
            key = (year, agency, indicator)
            expected_keys.add(key)
            got = pipeline.get(key)
            if got is None:
                lines.append(f"missing breakdown {key}")
                continue
            fields = ["value", "target", "score", "weight", "effective_weight", "contribution"]
            if want.value is not None:
                fields += ["numerator", "denominator"]
            for name in fields:
                if not close(getattr(want, name), got[name]):
                    lines.append(f"{key}: {name} {getattr(want, name)!r}, pipeline {got[name]!r}")
    lines += [f"unexpected breakdown {k}" for k in sorted(pipeline.keys() - expected_keys)]
    assert not lines, report(lines, "agency_index_breakdown")


def _round_differences(name: str, want: AwardRound, got: list[dict]) -> list[str]:
    """Position by position: the agency there has the index the round's ranking puts there.

    Agencies with equal indices may come in any order (the contract names no tie-break), so
    the check is on indices: together with distinct agencies it fixes who is on the list and
    in which order, up to ties.
    """
    expected = [index for _, index in want.candidates[: want.size]]
    mine = dict(want.candidates)
    if [r["position"] for r in got] != list(range(1, len(expected) + 1)):
        return [f"{name}: positions {[r['position'] for r in got]}, expected 1..{len(expected)}"]
    lines = []
    if len({r["agency_code"] for r in got}) != len(got):
        lines.append(f"{name}: an agency is listed twice")
    for r, index in zip(got, expected, strict=True):
        agency = r["agency_code"]
        if agency not in mine or abs(mine[agency] - index) > 1e-9:
            lines.append(
                f"{name} #{r['position']}: {agency} (index {mine.get(agency)}) where the ranking "
                f"puts an agency with index {index}"
            )
        if abs(r["index_score"] - index) > 0.01 + 1e-9:
            lines.append(f"{name} #{r['position']}: index {index}, pipeline {r['index_score']}")
        if r["is_provisional"] != want.provisional or ("tạm tính" in r["reason"]) != (
            want.provisional
        ):
            lines.append(f"{name}: provisional should be {want.provisional}: {r['reason']}")
        if f"{r['index_score']:.2f}".replace(".", ",") not in r["reason"]:
            lines.append(f"{name}: the reason does not give the index: {r['reason']}")
    return lines


def test_award_shortlists(
    index: dict[tuple[int, str], IndexRow],
    computed: AgencyComputation,
    state: WarehouseState,
) -> None:
    data_end = min(computed.extents[s][1] for s in AGENCY_SOURCES)
    rounds = {
        name: r for name, r in award_rounds(index, state.blocked, data_end).items() if r.candidates
    }
    latest = str(LATEST_FULL_YEAR)
    assert latest in rounds and not rounds[latest].provisional
    assert "phase_1" in rounds and rounds[max(k for k in rounds if k.isdigit())].provisional
    published: dict[str, list[dict]] = defaultdict(list)
    for r in sorted(state.marts["award_shortlist"].dicts(), key=lambda r: r["position"]):
        published[r["award_round"]].append(r)
    assert sorted(published) == sorted(rounds)
    lines = []
    for name, want in rounds.items():
        lines += _round_differences(name, want, published[name])
    assert not lines, report(lines, "award_shortlist")


def test_indicator_coverage_lists_the_whole_catalogue(
    catalogue: Catalogue,
    computed: AgencyComputation,
    territorial: dict[ValueKey, Value],
    state: WarehouseState,
) -> None:
    expected = coverage(catalogue, {**computed.values, **territorial})
    rows = state.marts["indicator_coverage"].dicts()
    assert len(rows) == len(catalogue.indicators) == 35
    got = {r["indicator_code"]: (r["source"], r["status"], r["latest_period"]) for r in rows}
    assert got == expected


# --- Re-running ----------------------------------------------------------------------------------
def test_second_run_lands_nothing_and_changes_no_mart(demo: Demo) -> None:
    second = demo.second
    assert second.returncode == 0, f"second cds demo failed:\n{second.output[-4000:]}"
    assert second.state is not None and demo.first.state is not None
    assert second.run_id and second.run_id != demo.first.run_id
    log = [r for r in second.state.run_log.dicts() if r["run_id"] == second.run_id]
    assert len(log) >= 12, log  # every raw dataset was read again
    assert {(r["source"], r["rows_landed"]) for r in log if r["rows_landed"]} == set()
    assert all(r["status"] == "succeeded" for r in log), log
    changed = [
        name
        for name, table in demo.first.state.marts.items()
        if not same_rows(table, second.state.marts[name])
    ]
    assert changed == []
