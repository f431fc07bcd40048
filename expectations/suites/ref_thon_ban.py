"""Suite of `raw.ref_thon_ban`: villages and their population per year (reference-data.md)."""

from __future__ import annotations

from expectations import builders as b
from expectations.specs import payload, raw_spec
from expectations.suites._reference import file_loaded
from warehouse.dialect import try_int

DATASET = "ref_thon_ban"

SPEC = raw_spec(
    DATASET,
    key_columns=("ma_thon", "nam"),
    latest_file_only=True,
    ranks_agencies=False,
    year_sql="t.nam",
    quarantine_year_sql=try_int(payload("nam")),
    row_rules=(
        b.not_negative(DATASET, ("so_ho", "dan_so", "dan_so_tu_15")),
        b.at_most(
            DATASET,
            "adults_within_population",
            "dan_so_tu_15",
            "dan_so",
            "Consistency: the population aged 15 and over is a part of the population "
            "(dan_so_tu_15 <= dan_so).",
        ),
        b.at_most(
            DATASET,
            "households_within_population",
            "so_ho",
            "dan_so",
            "Consistency: a village has no more households than people (so_ho <= dan_so).",
        ),
        b.sql_only(
            DATASET,
            "commune_known",
            "t.ma_dvhc IS NOT NULL AND unit.code IS NULL AND EXISTS (SELECT 1 FROM ref_unit)",
            "Integrity: ma_dvhc is a unit of don_vi_hanh_chinh.csv.",
            joins=("LEFT JOIN ref_unit AS unit ON unit.code = t.ma_dvhc",),
        ),
    ),
    table_rules=(file_loaded(DATASET, "thon_ban.csv"),),
)
