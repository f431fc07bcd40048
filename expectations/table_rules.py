"""Table rules shared by several datasets: volume against a baseline, every agency present."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from expectations import sql as q
from expectations.rules import Facts, TableRule
from warehouse.dialect import round_to

if TYPE_CHECKING:
    from expectations.context import CheckContext

RANKED_GROUPS = ("SO_NGANH", "UBND_HUYEN", "UBND_XA")


def _poisson_lower_tail(observed: pd.Series, expected: pd.Series) -> pd.Series:
    from scipy.stats import poisson  # a dependency of great-expectations

    return pd.Series(poisson.cdf(observed, expected), index=observed.index)


def volume_sql(table: str, agency: str, day: str, key: str, weeks: int, where: str = "TRUE") -> str:
    """Per agency and ISO week: the records received and the records expected.

    The expectation of a day is the province's total that day times the agency's share of
    the province on the same weekday over the previous `weeks` weeks (ratio of sums). The
    weekday share carries the weekly seasonality (quiet weekends); multiplying by the day's
    total carries everything that hits every agency at once (Tết, public holidays), so only
    a drop of one agency against the others stands out. Only days on which the agency is in
    force (co_quan.csv) count, on both sides.
    """
    ctes = (
        (
            "daily",
            f"SELECT {agency} AS agency_code, CAST({day} AS DATE) AS day, "
            f"count(DISTINCT {key}) AS n FROM {table} AS t "
            f"WHERE {agency} IS NOT NULL AND {day} IS NOT NULL AND ({where}) GROUP BY 1, 2",
        ),
        ("span", "SELECT min(day) AS lo, max(day) AS hi FROM daily"),
        (
            "days",
            "SELECT CAST(r.d AS DATE) AS day FROM span, generate_series(CAST(span.lo AS "
            "TIMESTAMP), CAST(span.hi AS TIMESTAMP), INTERVAL '1 day') AS r(d)",
        ),
        ("province", "SELECT day, sum(n) AS total FROM daily GROUP BY day"),
        (
            "grid",
            "SELECT a.code AS agency_code, d.day "
            "FROM ref_agency AS a JOIN days AS d ON d.day BETWEEN a.vf AND a.vt "
            "WHERE a.code IN (SELECT DISTINCT agency_code FROM daily)",
        ),
        (
            "g",
            "SELECT grid.agency_code, grid.day, CAST(EXTRACT(ISODOW FROM grid.day) AS INTEGER) "
            "AS dow, "
            "CAST(date_trunc('week', grid.day) AS DATE) AS week, "
            "coalesce(daily.n, 0) AS n, coalesce(province.total, 0) AS total FROM grid "
            "LEFT JOIN daily ON daily.agency_code = grid.agency_code AND daily.day = grid.day "
            "LEFT JOIN province ON province.day = grid.day",
        ),
        (
            "baseline",
            "SELECT *, sum(n) OVER w AS base_n, sum(total) OVER w AS base_total, "
            "count(*) OVER w AS base_days FROM g WINDOW w AS (PARTITION BY agency_code, dow "
            f"ORDER BY day RANGE BETWEEN INTERVAL '{7 * weeks} days' PRECEDING "
            "AND INTERVAL '1 day' PRECEDING)",
        ),
    )
    body = (
        "SELECT agency_code, week, count(*) AS days, sum(n) AS observed, "
        # In floating point on both engines (PostgreSQL would divide NUMERIC sums exactly).
        "sum(CASE WHEN base_total > 0 THEN CAST(total AS DOUBLE PRECISION) * base_n / base_total "
        "ELSE 0 END) AS expected, "
        "min(coalesce(base_days, 0)) AS baseline_days "
        "FROM baseline GROUP BY 1, 2 ORDER BY 1, 2"
    )
    return q.with_ctes(body, *ctes)


def volume(dataset: str, *, agency: str, day: str, key: str, where: str = "TRUE") -> TableRule:
    def compute(ctx: CheckContext) -> Facts:
        s = ctx.settings
        sql = volume_sql(
            q.table_from(ctx.spec).removesuffix(" AS t"), agency, day, key, s.volume_baseline_weeks
        )
        weeks = ctx.df(sql)
        min_days = max(1, s.volume_min_baseline_days // 7)
        judged = weeks[(weeks["days"] == 7) & (weeks["baseline_days"] >= min_days)].copy()
        judged = judged[judged["expected"] >= s.volume_min_expected].reset_index(drop=True)
        judged["ratio"] = (judged["observed"] / judged["expected"]).round(3)
        drop = judged["ratio"] < s.volume_max_ratio
        p_values = _poisson_lower_tail(judged["observed"], judged["expected"])
        judged["drop_p_value"] = p_values.where(drop, 1.0)
        judged["expected"] = judged["expected"].round(1)
        judged["year"] = pd.to_datetime(judged["week"]).dt.year.astype("int64")
        judged["week"] = judged["week"].astype(str)
        judged["key"] = judged["agency_code"] + "|" + judged["week"]

        def observe(f: pd.DataFrame, bad: pd.DataFrame) -> str:
            text = f"{len(f)} agency-weeks judged"
            if len(bad):
                parts = [
                    f"{r.agency_code} week of {r.week}: {int(r.observed)} vs {r.expected:g} "
                    "expected"
                    for r in bad.head(5).itertuples()
                ]
                text += f"; {len(bad)} with a collapse: " + "; ".join(parts)
            return text

        return Facts(
            judged,
            [ctx.E.ExpectColumnValuesToBeBetween(column="drop_p_value", min_value=s.volume_alpha)],
            expected=(
                f"no agency-week under {s.volume_max_ratio:.0%} of its expected count with "
                f"Poisson probability < {s.volume_alpha:g} (expected = the day's province total "
                f"× the agency's share of the same weekday over the last "
                f"{s.volume_baseline_weeks} weeks; judged when ≥ {s.volume_min_expected:g})"
            ),
            observe=observe,
            count_column=None,
            keys_column="key",
            agency_column="agency_code",
            year_column="year",
        )

    return TableRule(
        f"{dataset}.volume_per_agency_weekly",
        "Volume: each agency's records per week stay near what its share of the province's "
        "records on the same weekdays of the last weeks predicts (a collapse points at a "
        "broken feed or an office that stopped recording).",
        compute,
    )


def every_agency_present(
    dataset: str, *, agency: str, day: str, groups: tuple[str, ...] = RANKED_GROUPS
) -> TableRule:
    def compute(ctx: CheckContext) -> Facts:
        minimum = ctx.settings.presence_min_days
        listed = ", ".join(f"'{g}'" for g in groups)
        table = q.table_from(ctx.spec)
        ctes = (
            (
                "span",
                f"SELECT min(CAST({day} AS DATE)) AS lo, max(CAST({day} AS DATE)) AS hi "
                f"FROM {table}",
            ),
            (
                "years",
                "SELECT r.y FROM span, generate_series(CAST(EXTRACT(YEAR FROM span.lo) AS "
                "INTEGER), CAST(EXTRACT(YEAR FROM span.hi) AS INTEGER)) AS r(y)",
            ),
            (
                "expected",
                "SELECT a.code AS agency_code, CAST(years.y AS INTEGER) AS year, "
                "(least(a.vt, make_date(years.y, 12, 31), span.hi) "
                "- greatest(a.vf, make_date(years.y, 1, 1), span.lo)) + 1 AS days_in_force "
                f"FROM ref_agency AS a, years, span WHERE a.nhom IN ({listed})",
            ),
            (
                "counted",
                f"SELECT {agency} AS agency_code, CAST(EXTRACT(YEAR FROM {day}) AS INTEGER) "
                "AS year, "
                f"count(*) AS records FROM {table} GROUP BY 1, 2",
            ),
        )
        ctes = (
            *ctes,
            (
                # Records a day in force: the agency's own rate over the data's range, or its
                # group's when it has no record at all.
                "rates",
                "SELECT e.agency_code, min(a.nhom) AS nhom, "
                "CAST(sum(e.days_in_force) AS DOUBLE PRECISION) AS days, "
                "CAST(coalesce(sum(c.records), 0) AS DOUBLE PRECISION) AS records "
                "FROM expected AS e JOIN ref_agency AS a ON a.code = e.agency_code "
                "LEFT JOIN counted AS c USING (agency_code, year) "
                "WHERE e.days_in_force > 0 GROUP BY 1",
            ),
            (
                "group_rates",
                "SELECT nhom, sum(records) / sum(days) AS rate FROM rates GROUP BY 1",
            ),
        )
        body = (
            "SELECT e.agency_code, e.year, e.days_in_force, coalesce(c.records, 0) AS records, "
            + round_to(
                "e.days_in_force * CASE WHEN r.records > 0 THEN r.records / r.days "
                "ELSE gr.rate END",
                1,
                ctx.dialect,
            )
            + " AS expected_records "
            "FROM expected AS e LEFT JOIN counted AS c USING (agency_code, year) "
            "JOIN rates AS r ON r.agency_code = e.agency_code "
            "JOIN group_rates AS gr ON gr.nhom = r.nhom "
            f"WHERE e.days_in_force >= {minimum} ORDER BY e.year, e.agency_code"
        )
        frame = ctx.df(q.with_ctes(body, *ctes))
        frame = frame[frame["expected_records"] >= ctx.settings.presence_min_expected]
        frame = frame.reset_index(drop=True)
        frame["key"] = frame["agency_code"] + "|" + frame["year"].astype(str)

        def observe(f: pd.DataFrame, bad: pd.DataFrame) -> str:
            text = f"{len(f)} agency-years expected"
            if len(bad):
                text += f"; {len(bad)} without any record: " + ", ".join(bad["key"].head(10))
            return text

        return Facts(
            frame,
            [ctx.E.ExpectColumnValuesToBeBetween(column="records", min_value=1)],
            expected=(
                f"every agency of {', '.join(groups)} in force at least {minimum} days of a "
                "year (within the data's range) has records that year (judged where its usual "
                f"rate predicts at least {ctx.settings.presence_min_expected:g})"
            ),
            observe=observe,
            keys_column="key",
            agency_column="agency_code",
            year_column="year",
        )

    return TableRule(
        f"{dataset}.every_agency_present",
        "Completeness: every agency in force has records in the dataset each year (an "
        "agency with none cannot be scored and leaves a hole in the ranking).",
        compute,
    )
