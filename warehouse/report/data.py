"""What the officials' report shows, read from the published warehouse's `marts` and `quality`.

Every figure comes from the marts (pipeline-interface.md); this module only selects the
year, joins names and, where the marts hold no province-wide value of an agency indicator,
rolls the agencies' counts up (counts are summed, percentages never averaged).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from warehouse.query import QueryError, Reader

PROVINCE_LEVELS = ("TINH", "tinh", "province")
COMMUNE_LEVELS = ("XA", "xa", "commune")
FIBER, SMARTPHONE = "HT-02", "HT-05"
REQUIRED_MARTS = (
    "agency_index",
    "agency_index_breakdown",
    "award_shortlist",
    "dim_agency",
    "dim_admin_unit",
    "dim_indicator",
    "fct_indicator_values",
    "indicator_coverage",
)


class ReportError(RuntimeError):
    """The report cannot be built (no data for the year, no published warehouse...)."""


@dataclass(frozen=True)
class TargetRow:
    """The province against one indicator of the plan."""

    indicator_code: str
    pillar: str
    name: str
    unit: str
    source: str
    coverage: str
    numerator: float | None
    denominator: float | None
    value: float | None
    target: float | None
    target_op: str | None
    status: str  # dat, chua_dat, khong_co_du_lieu, chua_co_muc_tieu
    gap_pp: float | None
    previous_value: float | None
    note: str = ""


@dataclass(frozen=True)
class RankingRow:
    group: str
    rank: int | None
    agency_code: str
    agency_name: str
    index_score: float | None
    previous_score: float | None
    status: str

    @property
    def change(self) -> float | None:
        if self.index_score is None or self.previous_score is None:
            return None
        return round(self.index_score - self.previous_score, 2)  # indices have 2 decimals


@dataclass(frozen=True)
class BreakdownRow:
    agency_code: str
    indicator_code: str
    indicator_name: str
    numerator: float | None
    denominator: float | None
    value: float | None
    target: float | None
    score: float | None
    weight: float | None
    effective_weight: float | None
    contribution: float | None


@dataclass(frozen=True)
class AwardRow:
    award_round: str
    position: int
    agency_code: str
    agency_name: str
    group: str
    index_score: float | None
    reason: str


@dataclass(frozen=True)
class TerritoryRow:
    admin_unit_code: str
    name: str
    fiber: float | None
    smartphone: float | None


@dataclass(frozen=True)
class CheckRow:
    dataset: str
    check_name: str
    severity: str
    passed: bool
    observed: str
    expected: str
    failed_rows: int | None


@dataclass(frozen=True)
class DatasetQuality:
    dataset: str
    checks: int
    passed: int
    failed_warning: int
    failed_blocking: int
    quarantined_run: int
    quarantined_total: int


@dataclass
class ReportData:
    year: int
    provisional: bool
    generated_at: datetime
    source: str
    targets: list[TargetRow]
    rankings: dict[str, list[RankingRow]]
    breakdowns: dict[str, list[BreakdownRow]]
    awards: list[AwardRow]
    territory: list[TerritoryRow]
    territory_targets: dict[str, tuple[str | None, float | None]]
    checks: list[CheckRow]
    quality: list[DatasetQuality]
    run_id: str | None = None
    run_at: datetime | None = None
    agency_groups: dict[str, str] = field(default_factory=dict)


def _num(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return float(value)
    return float(value)


def _records(reader: Reader, sql: str) -> list[dict[str, Any]]:
    result = reader.execute(sql)
    return [dict(zip(result.columns, row, strict=True)) for row in result.rows]


def _year_of(value: Any) -> int | None:
    if isinstance(value, date):
        return value.year
    return None if value is None else int(str(value)[:4])


def available_years(reader: Reader) -> list[int]:
    rows = _records(reader, "SELECT DISTINCT year FROM marts.agency_index ORDER BY year")
    return [int(r["year"]) for r in rows if r["year"] is not None]


def default_year(years: Iterable[int], today: date | None = None) -> int:
    """The latest full year with data: the latest year that is not the current one."""
    years = sorted(set(years))
    current = (today or date.today()).year
    full = [y for y in years if y != current]
    return (full or years)[-1]


def _check_marts(reader: Reader) -> None:
    present = set(reader.tables("marts"))
    missing = [t for t in REQUIRED_MARTS if t not in present]
    if missing:
        raise ReportError(
            "the published warehouse lacks "
            + ", ".join(f"marts.{t}" for t in missing)
            + ": run `cds demo` or `cds run` first"
        )


def load_report_data(reader: Reader, year: int | None, today: date | None = None) -> ReportData:
    """Everything the report shows for `year` (default: the latest full year with data)."""
    today = today or date.today()
    try:
        _check_marts(reader)
        years = available_years(reader)
        if not years:
            raise ReportError(
                "the published warehouse has no index yet (marts.agency_index is empty): "
                "run `cds demo` or `cds run` first"
            )
        if year is None:
            year = default_year(years, today)
        elif year not in years:
            raise ReportError(
                f"no data for {year} in the published warehouse "
                f"(marts.agency_index has {', '.join(map(str, years))})"
            )
        return _load(reader, year, today)
    except QueryError as exc:
        raise ReportError(f"cannot read the published warehouse: {exc}") from None


def _load(reader: Reader, year: int, today: date) -> ReportData:
    indicators = {
        r["indicator_code"]: r
        for r in _records(reader, "SELECT * FROM marts.dim_indicator ORDER BY indicator_code")
    }
    agencies = _agencies(reader, year)
    units = _records(reader, "SELECT * FROM marts.dim_admin_unit")
    values = _records(
        reader,
        "SELECT * FROM marts.fct_indicator_values WHERE period_grain = 'year' "
        f"AND extract(year FROM period_start) IN ({year - 1}, {year})",
    )
    checks, quality, run_id, run_at = _quality(reader)
    data = ReportData(
        year=year,
        provisional=year >= today.year,
        generated_at=datetime.now().replace(microsecond=0),
        source=getattr(reader, "description", ""),
        targets=_targets(reader, year, indicators, agencies, units, values),
        rankings=_rankings(reader, year, agencies),
        breakdowns=_breakdowns(reader, year, indicators),
        awards=_awards(reader, year, agencies),
        territory=[],
        territory_targets={},
        checks=checks,
        quality=quality,
        run_id=run_id,
        run_at=run_at,
        agency_groups={code: a["ranking_group"] for code, a in agencies.items()},
    )
    data.territory, data.territory_targets = _territory(year, units, values)
    return data


def _agencies(reader: Reader, year: int) -> dict[str, dict[str, Any]]:
    """One row per agency: the version in force in `year` when the dimension keeps several."""
    rows = _records(reader, "SELECT * FROM marts.dim_agency")
    year_end = date(year, 12, 31)

    def order(r: dict[str, Any]) -> tuple[bool, date]:
        start = r.get("valid_from") or date.min
        return (start <= year_end, start)

    chosen: dict[str, dict[str, Any]] = {}
    for row in sorted(rows, key=order):
        chosen[row["agency_code"]] = row
    return chosen


def _province_code(units: list[dict[str, Any]]) -> str:
    """The province's unit code: its level says so, or it is the unit without a parent."""
    for is_province in (
        lambda u: u.get("level") in PROVINCE_LEVELS,
        lambda u: not u.get("parent_code"),
    ):
        for unit in units:
            if is_province(unit):
                return str(unit["admin_unit_code"])
    return "11"  # Điện Biên (reference-data.md), when the dimension is empty


def _meets(value: float, op: str, target: float) -> bool:
    return {
        ">": value > target,
        ">=": value >= target,
        "<": value < target,
        "<=": value <= target,
        "=": value == target,
    }.get(op, value >= target)


def _seed_targets(reader: Reader, year: int) -> dict[str, tuple[str, float]]:
    """Province targets of indicators that have no value (no source yet), from the catalogue
    seeds when the warehouse carries them: the report then still shows what the plan asks."""
    if "targets" not in reader.tables("seeds"):
        return {}
    horizon = 2025 if year <= 2025 else 2030
    rows = _records(
        reader,
        "SELECT ma_chi_tieu, cap, toan_tu, gia_tri FROM seeds.targets "
        f"WHERE nam_muc_tieu = {horizon} AND cap IN ('ALL', 'TINH')",
    )
    # A province-level (TINH) target overrides one for all levels (ALL).
    targets: dict[str, tuple[str, float]] = {}
    for row in sorted(rows, key=lambda r: r["cap"] == "TINH"):
        targets[row["ma_chi_tieu"]] = (row["toan_tu"], float(row["gia_tri"]))
    return targets


def _targets(
    reader: Reader,
    year: int,
    indicators: dict[str, dict[str, Any]],
    agencies: dict[str, dict[str, Any]],
    units: list[dict[str, Any]],
    values: list[dict[str, Any]],
) -> list[TargetRow]:
    coverage = {
        r["indicator_code"]: r for r in _records(reader, "SELECT * FROM marts.indicator_coverage")
    }
    province = _province_code(units)
    by_year: dict[tuple[str, int], dict[str, Any]] = {}
    agency_rows: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    for row in values:
        key = (row["indicator_code"], _year_of(row["period_start"]))
        if row["unit_type"] == "admin_unit" and str(row["unit_code"]) == province:
            by_year[key] = row
        elif row["unit_type"] == "agency":
            agency_rows[key].append(row)
    seed_targets = _seed_targets(reader, year)
    out: list[TargetRow] = []
    codes = sorted(set(indicators) | set(coverage), key=_indicator_order)
    for code in codes:
        meta = indicators.get(code, {})
        cov = coverage.get(code, {})
        current = by_year.get((code, year)) or _roll_up(agency_rows[(code, year)], agencies)
        previous = by_year.get((code, year - 1)) or _roll_up(
            agency_rows[(code, year - 1)], agencies
        )
        value = _num(current.get("value")) if current else None
        target = _num(current.get("target")) if current else None
        op = current.get("target_op") if current else None
        if current is None and code in seed_targets:
            op, target = seed_targets[code]
        gap = _num(current.get("gap_pp")) if current else None
        if value is None:
            status = "khong_co_du_lieu"
        elif target is None or op is None:
            status = "chua_co_muc_tieu"
        else:
            meets = current.get("meets_target")
            meets = _meets(value, op, target) if meets is None else bool(meets)
            status = "dat" if meets else "chua_dat"
            gap = target - value if gap is None else gap
        note = current.get("_note", "") if current else ""
        if cov.get("status") == "no_source":
            note = "Chưa tích hợp nguồn số liệu (báo cáo của cơ quan)"
        out.append(
            TargetRow(
                indicator_code=code,
                pillar=meta.get("pillar") or "",
                name=meta.get("name_vi") or code,
                unit=meta.get("unit") or "%",
                source=meta.get("source") or cov.get("source") or "",
                coverage=cov.get("status") or "",
                numerator=_num(current.get("numerator")) if current else None,
                denominator=_num(current.get("denominator")) if current else None,
                value=value,
                target=target,
                target_op=op,
                status=status,
                gap_pp=gap if value is not None else None,
                previous_value=_num(previous.get("value")) if previous else None,
                note=note,
            )
        )
    return out


def _indicator_order(code: str) -> tuple[int, str]:
    prefixes = ["HT", "CQ", "KT", "XH"]
    head = code.split("-")[0]
    return (prefixes.index(head) if head in prefixes else len(prefixes), code)


def _roll_up(rows: list[dict[str, Any]], agencies: dict[str, dict[str, Any]]) -> dict | None:
    """Province-wide value of an agency indicator from the agencies' counts.

    Its target is the provincial one, which the marts attach to the provincial departments'
    (`SO_NGANH`) rows.
    """
    counted = [r for r in rows if r.get("numerator") is not None and r.get("denominator")]
    if not counted:
        return None
    numerator = sum(_num(r["numerator"]) or 0.0 for r in counted)
    denominator = sum(_num(r["denominator"]) or 0.0 for r in counted)
    provincial = [
        r
        for r in rows
        if agencies.get(r["unit_code"], {}).get("ranking_group") == "SO_NGANH"
        and r.get("target") is not None
    ]
    target_row = provincial[0] if provincial else {}
    return {
        "numerator": numerator,
        "denominator": denominator,
        "value": 100.0 * numerator / denominator if denominator else None,
        "target": target_row.get("target"),
        "target_op": target_row.get("target_op"),
        "meets_target": None,
        "gap_pp": None,
        "_note": "Tổng hợp từ số liệu của các cơ quan",
    }


def _rankings(
    reader: Reader, year: int, agencies: dict[str, dict[str, Any]]
) -> dict[str, list[RankingRow]]:
    rows = _records(
        reader,
        f"SELECT * FROM marts.agency_index WHERE year IN ({year - 1}, {year}) "
        "ORDER BY ranking_group, rank NULLS LAST, agency_code",
    )
    previous = {
        r["agency_code"]: _num(r["index_score"])
        for r in rows
        if int(r["year"]) == year - 1 and r["status"] == "ranked"
    }
    groups: dict[str, list[RankingRow]] = {}
    for row in rows:
        if int(row["year"]) != year:
            continue
        code = row["agency_code"]
        ranked = row["status"] == "ranked"
        groups.setdefault(row["ranking_group"], []).append(
            RankingRow(
                group=row["ranking_group"],
                rank=int(row["rank"]) if ranked and row["rank"] is not None else None,
                agency_code=code,
                agency_name=agencies.get(code, {}).get("name") or code,
                index_score=_num(row["index_score"]) if ranked else None,
                previous_score=previous.get(code) if ranked else None,
                status=row["status"],
            )
        )
    order = {g: i for i, g in enumerate(("SO_NGANH", "UBND_HUYEN", "UBND_XA"))}
    for members in groups.values():
        members.sort(key=lambda r: (r.rank is None, r.rank or 0, r.agency_name))
    return dict(sorted(groups.items(), key=lambda kv: order.get(kv[0], len(order))))


def _breakdowns(
    reader: Reader, year: int, indicators: dict[str, dict[str, Any]]
) -> dict[str, list[BreakdownRow]]:
    rows = _records(
        reader,
        f"SELECT * FROM marts.agency_index_breakdown WHERE year = {year} "
        "ORDER BY agency_code, indicator_code",
    )
    out: dict[str, list[BreakdownRow]] = defaultdict(list)
    for row in rows:
        code = row["indicator_code"]
        out[row["agency_code"]].append(
            BreakdownRow(
                agency_code=row["agency_code"],
                indicator_code=code,
                indicator_name=indicators.get(code, {}).get("name_vi") or code,
                numerator=_num(row["numerator"]),
                denominator=_num(row["denominator"]),
                value=_num(row["value"]),
                target=_num(row["target"]),
                score=_num(row["score"]),
                weight=_num(row["weight"]),
                effective_weight=_num(row["effective_weight"]),
                contribution=_num(row["contribution"]),
            )
        )
    return dict(out)


def _awards(reader: Reader, year: int, agencies: dict[str, dict[str, Any]]) -> list[AwardRow]:
    """The round of the report's year, then every phase round the warehouse proposes."""
    rows = _records(reader, "SELECT * FROM marts.award_shortlist ORDER BY award_round, position")
    chosen = [r for r in rows if str(r["award_round"]) == str(year)]
    chosen += [r for r in rows if not str(r["award_round"]).isdigit()]
    return [
        AwardRow(
            award_round=str(r["award_round"]),
            position=int(r["position"]),
            agency_code=r["agency_code"],
            agency_name=agencies.get(r["agency_code"], {}).get("name") or r["agency_code"],
            group=agencies.get(r["agency_code"], {}).get("ranking_group") or "",
            index_score=_num(r["index_score"]),
            reason=r["reason"] or "",
        )
        for r in chosen
    ]


def _territory(
    year: int, units: list[dict[str, Any]], values: list[dict[str, Any]]
) -> tuple[list[TerritoryRow], dict[str, tuple[str | None, float | None]]]:
    """Communes by fiber (HT-02) and smartphone (HT-05) shares, on the communes in force at
    the end of the year (the new communes from the reorganisation of 1 July 2025 on)."""
    communes = {str(u["admin_unit_code"]): u for u in units if u.get("level") in COMMUNE_LEVELS}
    year_end = date(year, 12, 31)
    in_force = {
        code
        for code, u in communes.items()
        if (u.get("valid_from") or date.min) <= year_end
        and (u.get("valid_to") is None or u["valid_to"] >= year_end)
    }
    shares: dict[str, dict[str, float | None]] = defaultdict(dict)
    targets: dict[str, tuple[str | None, float | None]] = {}
    for row in values:
        code = str(row["unit_code"])
        indicator = row["indicator_code"]
        if (
            row["unit_type"] != "admin_unit"
            or code not in communes
            or indicator not in (FIBER, SMARTPHONE)
            or _year_of(row["period_start"]) != year
        ):
            continue
        shares[code][indicator] = _num(row["value"])
        if row.get("target") is not None:
            targets[indicator] = (row.get("target_op"), _num(row["target"]))
    chosen = [c for c in shares if c in in_force] or list(shares)
    rows = [
        TerritoryRow(
            admin_unit_code=code,
            name=communes[code].get("name") or code,
            fiber=shares[code].get(FIBER),
            smartphone=shares[code].get(SMARTPHONE),
        )
        for code in chosen
    ]
    rows.sort(key=lambda r: (r.fiber is None, -(r.fiber or 0.0), r.name))
    return rows, targets


def _quality(
    reader: Reader,
) -> tuple[list[CheckRow], list[DatasetQuality], str | None, datetime | None]:
    """The checks of the latest run and the quarantine counts per dataset."""
    tables = set(reader.tables("quality"))
    if "check_results" not in tables:
        return [], [], None, None
    latest = _records(
        reader,
        "SELECT run_id, max(checked_at) AS last_checked FROM quality.check_results "
        "GROUP BY run_id ORDER BY last_checked DESC LIMIT 1",
    )
    if not latest:
        return [], [], None, None
    run_id, run_at = latest[0]["run_id"], latest[0]["last_checked"]
    quoted = str(run_id).replace("'", "''")
    checks = [
        CheckRow(
            dataset=r["dataset"],
            check_name=r["check_name"],
            severity=r["severity"],
            passed=bool(r["passed"]),
            observed="" if r["observed"] is None else str(r["observed"]),
            expected="" if r["expected"] is None else str(r["expected"]),
            failed_rows=None if r["failed_rows"] is None else int(r["failed_rows"]),
        )
        for r in _records(
            reader,
            "SELECT dataset, check_name, severity, passed, observed, expected, failed_rows "
            f"FROM quality.check_results WHERE run_id = '{quoted}' "
            "ORDER BY passed, severity, dataset, check_name",
        )
    ]
    quarantined: dict[str, tuple[int, int]] = {}
    if "quarantine" in tables:
        for r in _records(
            reader,
            f"SELECT dataset, count(*) AS total, count(*) FILTER (WHERE run_id = '{quoted}') "
            "AS in_run FROM quality.quarantine GROUP BY dataset",
        ):
            quarantined[r["dataset"]] = (int(r["in_run"]), int(r["total"]))
    summary: dict[str, list[CheckRow]] = defaultdict(list)
    for check in checks:
        summary[check.dataset].append(check)
    datasets = sorted(set(summary) | set(quarantined))
    quality = [
        DatasetQuality(
            dataset=name,
            checks=len(summary[name]),
            passed=sum(c.passed for c in summary[name]),
            failed_warning=sum(not c.passed and c.severity != "blocking" for c in summary[name]),
            failed_blocking=sum(not c.passed and c.severity == "blocking" for c in summary[name]),
            quarantined_run=quarantined.get(name, (0, 0))[0],
            quarantined_total=quarantined.get(name, (0, 0))[1],
        )
        for name in datasets
    ]
    return checks, quality, str(run_id), run_at
