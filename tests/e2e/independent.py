"""An independent computation of the indicators, the index, the ranking and the shortlist.

Written from `indicators.md`, `indicators.csv`, `targets.csv`, `reference-data.md` and
`telecom-feeds.md` alone, on the records of `e2e_sources` (never on the warehouse), so that
the end-to-end test can compare the pipeline's marts with it record by record:

- a value is kept per unit and per calendar month, quarter and year (Vietnam local time) with
  its numerator and denominator; roll-ups add counts; a zero denominator gives no value;
- an agency is computed on the part of each period it was in force, the province on every
  record; CQ-05 takes the catalogue as served (one load: every period takes it);
- targets: the level's target, else the `ALL` one, of the first target year not before the
  period's year; `>` is strict;
- territorial indicators combine carriers per village (any carrier covers; counts summed and
  capped by the village figures), per commune as the figures code it; after 30 June 2025 on
  the new communes, and before it re-expressed on them through the lineage (whole communes
  whole, split ones by population share); a quarter or year takes its last reported month;
- the index renormalises weights over applicable indicators, flags more than half of the weight
  not applicable as insufficient data, rounds to 2 decimals and ranks with shared ranks.
"""

from __future__ import annotations

import csv
import functools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from e2e_sources import AgencySources, RecordKey, Reference, TelecomSources, month_of

REPO = Path(__file__).resolve().parents[2]
CONTRACTS = REPO.parent / "shared" / "contracts"
SEEDS = REPO / "dbt_project" / "seeds"  # the project's copy of the contract files
GROUP_LEVEL = {"SO_NGANH": "TINH", "UBND_HUYEN": "HUYEN", "UBND_XA": "XA"}
INTEGRATED = ("dvc", "qlvb", "telecom")
AGENCY_SOURCES = ("dvc", "qlvb")
# indicators.md, "The award shortlist": at most 5 a year, 5 for phase I, 10 for phase II.
ANNUAL_AWARDS = 5
PHASES = {"phase_1": (2023, 2025, 5), "phase_2": (2026, 2030, 10)}
REEXPRESSED = "reexpressed_new_communes"

Period = tuple[str, date]  # (grain, first day)
ValueKey = tuple[str, str, str, str, date]  # (indicator, unit_type, unit_code, grain, start)


# --- Catalogue ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Indicator:
    code: str
    source: str
    applies_to: frozenset[str]
    weight: int


@dataclass(frozen=True)  # not slotted: target_years is a cached property
class Catalogue:
    indicators: dict[str, Indicator]
    targets: dict[tuple[str, str, int], tuple[str, float]]  # (code, cap, year) -> (op, value)

    def target(self, code: str, level: str, year: int) -> tuple[str, float] | None:
        """The target a period of `year` is judged against at `level` (None: no target)."""
        milestones = [y for y in self.target_years if y >= year]
        if not milestones:
            return None
        first = milestones[0]
        return self.targets.get((code, level, first)) or self.targets.get((code, "ALL", first))

    @functools.cached_property
    def target_years(self) -> list[int]:
        return sorted({y for _, _, y in self.targets})


def catalogue_folder() -> Path:
    """The shared contracts when they sit beside the repository, else the project's copy."""
    return CONTRACTS if (CONTRACTS / "indicators.csv").exists() else SEEDS


def read_catalogue(folder: Path | None = None) -> Catalogue:
    folder = folder or catalogue_folder()
    with (folder / "indicators.csv").open(encoding="utf-8", newline="") as handle:
        indicators = {
            r["ma_chi_tieu"]: Indicator(
                r["ma_chi_tieu"],
                r["nguon"],
                frozenset(part.strip() for part in r["ap_dung"].split(";")),
                int(r["trong_so"]),
            )
            for r in csv.DictReader(handle)
        }
    with (folder / "targets.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    targets = {
        (r["ma_chi_tieu"], r["cap"], int(r["nam_muc_tieu"])): (r["toan_tu"], float(r["gia_tri"]))
        for r in rows
    }
    return Catalogue(indicators, targets)


# --- Periods --------------------------------------------------------------------------------------
def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def months_between(first: date, last: date) -> list[date]:
    months, month = [], month_of(first)
    while month <= last:
        months.append(month)
        month = next_month(month)
    return months


def period_of(grain: str, month: date) -> date:
    if grain == "month":
        return month
    if grain == "quarter":
        return date(month.year, (month.month - 1) // 3 * 3 + 1, 1)
    return date(month.year, 1, 1)


@functools.cache
def period_months(grain: str, start: date) -> tuple[date, ...]:
    count = {"month": 1, "quarter": 3, "year": 12}[grain]
    months = [start]
    while len(months) < count:
        months.append(next_month(months[-1]))
    return tuple(months)


@functools.cache
def period_end(grain: str, start: date) -> date:
    return next_month(period_months(grain, start)[-1]) - timedelta(days=1)


def periods_of(months: Iterable[date]) -> list[Period]:
    return sorted(
        {(grain, period_of(grain, m)) for m in months for grain in ("month", "quarter", "year")}
    )


# --- Values ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Value:
    numerator: float
    denominator: float
    value: float | None
    target: float | None
    target_op: str | None
    meets_target: bool | None
    gap_pp: float | None
    basis: str = "actual"


def make_value(
    catalogue: Catalogue,
    code: str,
    level: str,
    year: int,
    numerator: float,
    denominator: float,
    basis: str = "actual",
) -> Value:
    value = None if denominator == 0 else 100.0 * numerator / denominator
    target = catalogue.target(code, level, year)
    op, goal = target if target else (None, None)
    meets = None
    if value is not None and goal is not None:
        meets = {">": value > goal, ">=": value >= goal, "<": value < goal, "<=": value <= goal}[op]
    gap = None if value is None or goal is None else goal - value
    return Value(numerator, denominator, value, goal, op, meets, gap, basis)


@dataclass
class AgencyComputation:
    values: dict[ValueKey, Value]
    extents: dict[str, tuple[date, date]]  # source -> (first day, last day) of its data


def _procedure_state(
    sources: AgencySources, group: str | None, agency: str | None, excluded: set[RecordKey]
) -> tuple[int, int]:
    """CQ-05 of an agency (or of the province when `group` is None): the catalogue as served."""
    relevant = {"level", "agency", "eligible", "online_level", "in_force"}
    clash = {c: f for c, f in sources.ambiguous_procedures.items() if f & relevant}
    if clash:
        raise AssertionError(f"procedures served twice with conflicting CQ-05 fields: {clash}")
    numerator = denominator = 0
    for p in sources.procedures.values():
        if ("dvc_procedures", p.code) in excluded:
            continue
        if group == "SO_NGANH" and not (p.level == "TINH" and p.agency == agency):
            continue
        if group in ("UBND_HUYEN", "UBND_XA") and p.level != GROUP_LEVEL[group]:
            continue
        if p.in_force and p.eligible:
            denominator += 1
            numerator += p.online_level == "TOAN_TRINH"
    return numerator, denominator


def agency_values(
    sources: AgencySources,
    reference: Reference,
    catalogue: Catalogue,
    excluded: set[RecordKey],
) -> AgencyComputation:
    """Every value of the agency indicators (dvc, qlvb) per agency and for the province."""
    monthly: dict[tuple[str, str, date], list[int]] = defaultdict(lambda: [0, 0])
    province: dict[tuple[str, date], list[int]] = defaultdict(lambda: [0, 0])
    for fact in sources.facts:
        if excluded.intersection(fact.depends_on):
            continue
        for cell in (
            monthly[(fact.indicator, fact.agency, fact.month)],
            province[(fact.indicator, fact.month)],
        ):
            cell[0] += fact.numerator
            cell[1] += fact.denominator
    days: dict[str, list[date]] = defaultdict(list)
    for activity in sources.activity:
        if not excluded.intersection(activity.depends_on):
            days[activity.source].append(activity.day)
    extents = {source: (min(d), max(d)) for source, d in days.items()}
    periods = {s: periods_of(months_between(*extents[s])) for s in extents}

    values: dict[ValueKey, Value] = {}
    indicators = [i for i in catalogue.indicators.values() if i.source in AGENCY_SOURCES]
    for agency in reference.agencies.values():
        level = GROUP_LEVEL[agency.group]
        state = _procedure_state(sources, agency.group, agency.code, excluded)
        for indicator in indicators:
            if agency.group not in indicator.applies_to:
                continue
            for grain, start in periods.get(indicator.source, []):
                if not agency.overlaps(start, period_end(grain, start)):
                    continue
                if indicator.code == "CQ-05":
                    num, den = state
                else:
                    num = den = 0
                    for month in period_months(grain, start):
                        if agency.overlaps(month, next_month(month) - timedelta(days=1)):
                            cell = monthly.get((indicator.code, agency.code, month), (0, 0))
                            num, den = num + cell[0], den + cell[1]
                key = (indicator.code, "agency", agency.code, grain, start)
                values[key] = make_value(catalogue, indicator.code, level, start.year, num, den)
    state = _procedure_state(sources, None, None, excluded)
    for unit in reference.units.values():
        if unit.level != "TINH":
            continue
        for indicator in indicators:
            if "TINH" not in indicator.applies_to:
                continue
            for grain, start in periods.get(indicator.source, []):
                if indicator.code == "CQ-05":
                    num, den = state
                else:
                    num = den = 0
                    for month in period_months(grain, start):
                        cell = province.get((indicator.code, month), (0, 0))
                        num, den = num + cell[0], den + cell[1]
                key = (indicator.code, "admin_unit", unit.code, grain, start)
                values[key] = make_value(catalogue, indicator.code, "TINH", start.year, num, den)
    return AgencyComputation(values, extents)


# --- Territorial indicators -----------------------------------------------------------------------
# villages, with fiber, with 4G, with 5G, households, fiber households, people 15+, smartphone users
Counts = tuple[float, float, float, float, float, float, float, float]
TERRITORIAL = {  # indicator -> (numerator, denominator) positions in Counts
    "HT-01": (1, 0),
    "HT-02": (5, 4),
    "HT-03": (2, 0),
    "HT-04": (3, 0),
    "HT-05": (7, 6),
}


def _add(a: Counts | None, b: Counts, share: float = 1.0) -> Counts:
    scaled = tuple(x * share for x in b) if share != 1.0 else b
    return scaled if a is None else tuple(x + y for x, y in zip(a, scaled, strict=True))  # type: ignore[return-value]


def commune_counts(telecom: TelecomSources, reference: Reference, month: date) -> dict[str, Counts]:
    """Per commune code of the month's village figures: the carriers combined per village."""
    by_village: dict[str, list] = defaultdict(list)
    for row in telecom.rows.get(month, []):
        by_village[row.village].append(row)
    _, figures = reference.figures_for(month.year)
    communes: dict[str, Counts] = {}
    for f in figures:
        rows = by_village.get(f.village, [])
        counts: Counts = (
            1,
            int(any(r.fiber for r in rows)),
            int(any(r.g4 for r in rows)),
            int(any(r.g5 for r in rows)),
            f.households,
            min(sum(r.fiber_households for r in rows), f.households),
            f.people_15plus,
            min(sum(r.smartphone for r in rows), f.people_15plus),
        )
        communes[f.commune] = _add(communes.get(f.commune), counts)
    return communes


def unit_months(
    telecom: TelecomSources, reference: Reference, month: date
) -> dict[str, tuple[Counts, str]]:
    """Counts and basis of every territorial unit with a value in a read month."""
    communes = commune_counts(telecom, reference, month)
    last_day = next_month(month) - timedelta(days=1)
    units: dict[str, tuple[Counts, str]] = {}
    total: Counts | None = None
    for counts in communes.values():
        total = _add(total, counts)
    for unit in reference.units.values():
        if unit.level == "TINH" and total is not None:
            units[unit.code] = (total, "actual")
    districts: dict[str, Counts] = {}
    for code, counts in communes.items():
        unit = reference.units.get(code)
        if unit is None:
            continue
        if unit.overlaps(month, last_day):
            units[code] = (counts, "actual")
        parent = reference.units.get(unit.parent or "")
        if parent is not None and parent.level == "HUYEN" and parent.overlaps(month, last_day):
            districts[parent.code] = _add(districts.get(parent.code), counts)
    units.update({code: (counts, "actual") for code, counts in districts.items()})
    mapped: dict[str, Counts] = {}
    for old, new, share in reference.lineage:
        if old in communes and new not in communes:
            mapped[new] = _add(mapped.get(new), communes[old], share)
    for code, counts in mapped.items():
        unit = reference.units[code]
        basis = "actual" if month >= month_of(unit.valid_from) else REEXPRESSED
        units[code] = (counts, basis)
    return units


def territorial_values(
    telecom: TelecomSources, reference: Reference, catalogue: Catalogue
) -> dict[ValueKey, Value]:
    """HT-01..05 for every unit and period whose value month (the period's last reported month
    with a value for the unit, actual values first) is one of the months read."""
    read = {m: unit_months(telecom, reference, m) for m in sorted(telecom.read_months)}
    new_communes = {new for _, new, _ in reference.lineage}
    values: dict[ValueKey, Value] = {}
    for grain, start in periods_of(telecom.reported_months):
        end = period_end(grain, start)
        reported = sorted(m for m in telecom.reported_months if start <= m <= end)
        for code, unit in reference.units.items():
            in_force = [
                m
                for m in reported
                if code in new_communes or unit.overlaps(m, next_month(m) - timedelta(days=1))
            ]
            if not in_force:
                continue
            actual = [m for m in in_force if code not in new_communes or m >= unit.valid_from]
            chosen = (actual or in_force)[-1]
            if chosen not in read or code not in read[chosen]:
                continue
            counts, basis = read[chosen][code]
            for indicator, (n, d) in TERRITORIAL.items():
                if unit.level not in catalogue.indicators[indicator].applies_to:
                    continue
                values[(indicator, "admin_unit", code, grain, start)] = make_value(
                    catalogue, indicator, unit.level, start.year, counts[n], counts[d], basis
                )
    return values


# --- The index, the ranking and the shortlist -----------------------------------------------------
@dataclass(frozen=True)
class Contribution:
    numerator: float | None
    denominator: float | None
    value: float | None
    target: float | None
    score: float | None
    weight: int
    effective_weight: float
    contribution: float | None


@dataclass(frozen=True)
class IndexRow:
    year: int
    agency: str
    group: str
    status: str  # ranked | insufficient_data
    raw: float | None
    index: float | None
    rank: int | None
    breakdown: dict[str, Contribution]


def agency_index(
    values: dict[ValueKey, Value], reference: Reference, catalogue: Catalogue, years: list[int]
) -> dict[tuple[int, str], IndexRow]:
    weighted = [i for i in catalogue.indicators.values() if i.weight > 0]
    rows: dict[tuple[int, str], IndexRow] = {}
    for year in years:
        first = date(year, 1, 1)
        for agency in reference.agencies.values():
            if not agency.overlaps(first, date(year, 12, 31)):
                continue
            level = GROUP_LEVEL[agency.group]
            mine = [i for i in weighted if agency.group in i.applies_to]
            total = sum(i.weight for i in mine)
            scored: dict[str, tuple[Value | None, float | None]] = {}
            for indicator in mine:
                v = values.get((indicator.code, "agency", agency.code, "year", first))
                score = None
                if v is not None and v.value is not None:
                    target = catalogue.target(indicator.code, level, year)
                    score = v.value if target is None else 100.0 * min(v.value / target[1], 1.0)
                scored[indicator.code] = (v, score)
            applicable = sum(i.weight for i in mine if scored[i.code][1] is not None)
            breakdown = {}
            raw = 0.0
            for indicator in mine:
                v, score = scored[indicator.code]
                share = 100.0 * indicator.weight / applicable if score is not None else 0.0
                part = None if score is None else score * indicator.weight / applicable
                raw += part or 0.0
                breakdown[indicator.code] = Contribution(
                    v.numerator if v else None,
                    v.denominator if v else None,
                    v.value if v else None,
                    v.target if v else None,
                    score,
                    indicator.weight,
                    share,
                    part,
                )
            insufficient = total - applicable > total / 2
            rows[(year, agency.code)] = IndexRow(
                year,
                agency.code,
                agency.group,
                "insufficient_data" if insufficient else "ranked",
                None if insufficient else raw,
                None if insufficient else round(raw, 2),
                None,
                breakdown,
            )
    ranked: dict[tuple[int, str], list[IndexRow]] = defaultdict(list)
    for row in rows.values():
        if row.status == "ranked":
            ranked[(row.year, row.group)].append(row)
    for members in ranked.values():
        for row in members:
            better = sum(1 for other in members if other.index > row.index)  # type: ignore[operator]
            rows[(row.year, row.agency)] = IndexRow(
                row.year,
                row.agency,
                row.group,
                row.status,
                row.raw,
                row.index,
                better + 1,
                row.breakdown,
            )
    return rows


@dataclass(frozen=True)
class AwardRound:
    name: str
    provisional: bool
    # every eligible agency with its index, best first: the shortlist is the first `size` of them
    # (ties at the cut are the contract's blind spot: any of the tied agencies may be chosen)
    candidates: list[tuple[str, float]]
    size: int


def award_rounds(
    index: dict[tuple[int, str], IndexRow],
    blocked: set[tuple[int | None, str | None]],
    data_end: date,
) -> dict[str, AwardRound]:
    def is_blocked(year: int, agency: str) -> bool:
        return any((y is None or y == year) and (a is None or a == agency) for y, a in blocked)

    years = sorted({year for year, _ in index})
    rounds: dict[str, AwardRound] = {}
    for year in years:
        eligible = [
            (r.agency, r.index)
            for r in index.values()
            if r.year == year and r.status == "ranked" and not is_blocked(year, r.agency)
        ]
        eligible.sort(key=lambda pair: -pair[1])  # type: ignore[operator]
        provisional = data_end < date(year, 12, 31)
        rounds[str(year)] = AwardRound(str(year), provisional, eligible, ANNUAL_AWARDS)  # type: ignore[arg-type]
    for name, (first, last, size) in PHASES.items():
        if last not in years:
            continue
        yearly: dict[str, list[float]] = defaultdict(list)
        for r in index.values():
            if first <= r.year <= last and r.status == "ranked":
                if any(is_blocked(y, r.agency) for y in range(first, last + 1)):
                    continue
                yearly[r.agency].append(r.index)  # type: ignore[arg-type]
        means = [(agency, round(sum(v) / len(v), 2)) for agency, v in yearly.items()]
        means.sort(key=lambda pair: -pair[1])
        rounds[name] = AwardRound(name, data_end < date(last, 12, 31), means, size)
    return rounds


def coverage(
    catalogue: Catalogue, values: dict[ValueKey, Value]
) -> dict[str, tuple[str, str, date | None]]:
    """Per catalogue indicator: (source, computed | no_source, first day of its latest month
    with a value)."""
    latest: dict[str, date] = {}
    for (code, _, _, grain, start), v in values.items():
        if grain == "month" and v.value is not None and start > latest.get(code, date.min):
            latest[code] = start
    return {
        code: (
            i.source,
            "computed" if i.source in INTEGRATED else "no_source",
            latest.get(code),
        )
        for code, i in catalogue.indicators.items()
    }
