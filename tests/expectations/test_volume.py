"""The volume rule: weekday seasonality and province-wide holidays pass, a collapse fails."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import pandas as pd
import quality_tables as qt

from expectations.runner import run_suite
from expectations.settings import QualitySettings
from warehouse.schema import RAW_TABLES

START = date(2024, 1, 1)  # a Monday
WEEKS = 20
AGENCIES = (qt.SO, qt.HUYEN)
# Per weekday (Monday first): offices work Monday to Friday, a little on Saturday.
WEEKDAY_MEAN = (30, 30, 30, 30, 30, 4, 1)
HOLIDAY = (date(2024, 2, 5), date(2024, 2, 18))  # two weeks around Tết: 5% everywhere
SLOW_WEEK = date(2024, 2, 19)  # the week after: offices at 20% everywhere
RULE = "dvc_dossiers.volume_per_agency_weekly"


def _poisson(rng: random.Random, mean: float) -> int:
    return sum(1 for _ in range(int(mean * 4)) if rng.random() < 0.25)


def _dossiers(collapse: tuple[str, date] | None) -> pd.DataFrame:
    rng = random.Random(2158)
    rows = []
    for day_number in range(WEEKS * 7):
        day = START + timedelta(days=day_number)
        for agency in AGENCIES:
            mean = WEEKDAY_MEAN[day.weekday()]
            if HOLIDAY[0] <= day <= HOLIDAY[1]:
                mean *= 0.05
            elif 0 <= (day - SLOW_WEEK).days < 7:
                mean *= 0.2
            if collapse and agency == collapse[0] and 0 <= (day - collapse[1]).days < 7:
                mean *= 0.05
            for n in range(_poisson(rng, mean)):
                received = datetime.combine(day, datetime.min.time()) + timedelta(
                    hours=8, minutes=n
                )
                rows.append({"ma_ho_so": f"{agency}-{day:%y%m%d}-{n:04d}", "ma_co_quan": agency,
                             "ngay_tiep_nhan": received, "updated_at": received})  # fmt: skip
    frame = pd.DataFrame(rows)
    for column in RAW_TABLES["dvc_dossiers"].column_names:
        if column not in frame:
            frame[column] = None
    return frame[RAW_TABLES["dvc_dossiers"].column_names]


def _volume(collapse: tuple[str, date] | None):
    conn = qt.connect()
    qt.fill(conn, qt.reference_rows())
    frame = _dossiers(collapse)
    conn.register("frame", frame)
    conn.execute("INSERT INTO raw.dvc_dossiers SELECT * FROM frame")
    settings = QualitySettings(now=datetime(2024, 6, 1))
    (outcome,) = run_suite(conn, "dvc_dossiers", "t", settings, only={RULE})
    return outcome


def test_weekends_and_a_province_wide_holiday_are_not_anomalies():
    outcome = _volume(None)
    assert outcome.passed, outcome.observed
    frame = outcome.validation.results[0].result  # GX judged every agency-week with a baseline
    judged = frame["element_count"]
    # 20 weeks less 4 of baseline, less the 2 holiday weeks (too few records expected); the
    # slow week at 20% is judged against the province's own slowdown, and passes.
    assert judged == 2 * (WEEKS - 4 - 2)


def test_a_one_week_collapse_of_one_agency_is_caught():
    week = date(2024, 4, 8)
    outcome = _volume((qt.HUYEN, week))
    assert not outcome.passed
    assert outcome.failed_keys == [f"{qt.HUYEN}|{week.isoformat()}"]
    assert outcome.affected == [(2024, qt.HUYEN)]
    assert outcome.severity == "warning" and outcome.blocked == []
    assert f"{qt.HUYEN} week of {week.isoformat()}" in outcome.observed
