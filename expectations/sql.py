"""SQL the table-level checks share: the reference CTEs, open quarantine, and the one scan
that counts every row rule of a dataset per agency and year.

Everything here runs in the warehouse (SQL that DuckDB and PostgreSQL both run, see
warehouse/dialect.py) and returns small frames (one row per agency and year, per month, per
file...): the big tables never leave the database.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations.reference import LATEST_FILE_SQL

if TYPE_CHECKING:
    from expectations.rules import DatasetSpec, RowRule


def latest_file(table: str) -> str:
    return LATEST_FILE_SQL.format(table=table)


# Reference codes as the rules use them (latest reference file; one validity interval per
# code). Neither engine evaluates a CTE a query does not use, so every query may carry all.
REF_CTES: tuple[tuple[str, str], ...] = (
    (
        "ref_agency",
        "SELECT ma_co_quan AS code, min(hieu_luc_tu) AS vf, "
        "max(coalesce(hieu_luc_den, DATE '9999-12-31')) AS vt, min(nhom) AS nhom "
        f"FROM ({latest_file('ref_co_quan')}) AS f WHERE ma_co_quan IS NOT NULL GROUP BY 1",
    ),
    (
        "ref_unit",
        "SELECT ma_dvhc AS code, min(hieu_luc_tu) AS vf, "
        "max(coalesce(hieu_luc_den, DATE '9999-12-31')) AS vt "
        f"FROM ({latest_file('ref_don_vi_hanh_chinh')}) AS f WHERE ma_dvhc IS NOT NULL GROUP BY 1",
    ),
    (
        "ref_village",
        f"SELECT DISTINCT nam, ma_thon FROM ({latest_file('ref_thon_ban')}) AS f "
        "WHERE nam IS NOT NULL AND ma_thon IS NOT NULL",
    ),
    (
        # The figures year a report year uses: itself, else the latest earlier, else the first.
        # (a join, not a subquery per year: PostgreSQL would run that for every joined row)
        "village_year",
        "SELECT r.y, coalesce(max(v.nam), (SELECT min(nam) FROM ref_village)) AS fig_year "
        "FROM generate_series(1990, 2100) AS r(y) "
        "LEFT JOIN (SELECT DISTINCT nam FROM ref_village) AS v ON v.nam <= r.y GROUP BY r.y",
    ),
)


def with_ctes(body: str, *extra: tuple[str, str]) -> str:
    ctes = ",\n".join(f"{name} AS ({sql})" for name, sql in (*REF_CTES, *extra))
    return f"WITH {ctes}\n{body}"


def table_from(spec: DatasetSpec) -> str:
    if spec.latest_file_only:
        return f"({latest_file(spec.table.removeprefix('raw.'))}) AS t"
    return f"{spec.table} AS t"


def joins_of(spec: DatasetSpec, rules: tuple[RowRule, ...]) -> str:
    seen: list[str] = []
    for join in (*spec.joins, *(j for r in rules for j in r.joins)):
        if join not in seen:
            seen.append(join)
    return "\n".join(seen)


def open_quarantine(spec: DatasetSpec) -> tuple[str, str]:
    """CTE `qopen`: quarantined records of the dataset that no later landed row superseded."""
    agency = spec.quarantine_agency_sql or "NULL"
    year = spec.quarantine_year_sql or "NULL"
    if not spec.quarantined:
        return "qopen", (
            "SELECT CAST(NULL AS VARCHAR) AS record_key, CAST(NULL AS VARCHAR) AS reason, "
            "CAST(NULL AS TIMESTAMP) AS first_seen, CAST(NULL AS VARCHAR) AS agency_code, "
            "CAST(NULL AS INTEGER) AS year WHERE FALSE"
        )
    if spec.latest_file_only:
        # A reference file is replaced whole: what was rejected from the latest file is open.
        still_open = (
            "q.first_seen >= coalesce((SELECT max(_loaded_at) FROM "
            f"{spec.table}), TIMESTAMP '1900-01-01')"
        )
    else:
        match = spec.key_match_sql or f"{spec.key_sql} = q.record_key"
        still_open = (
            f"NOT EXISTS (SELECT 1 FROM {spec.table} AS t WHERE {match} "
            "AND t._loaded_at > q.first_seen)"
        )
    body = (
        f"SELECT q.record_key, q.reason, q.first_seen, CAST({agency} AS VARCHAR) AS agency_code, "
        f"CAST({year} AS INTEGER) AS year FROM quality.quarantine AS q "
        f"WHERE q.dataset = '{spec.dataset}' AND ({still_open})"
    )
    return "qopen", body


def reason_filter(rule: RowRule) -> str:
    """True for a quarantine reason that is this rule's (its name, or a connector's pattern)."""
    patterns = (f"%{rule.name}: %", *rule.quarantine)
    return " OR ".join("q.reason LIKE '" + p.replace("'", "''") + "'" for p in patterns)


def scan_sql(spec: DatasetSpec) -> str:
    """Per agency and year: rows, rows breaking each row rule, rows breaking any."""
    rules = spec.row_rules
    agency = spec.agency_sql or "NULL"
    year = spec.year_sql or "NULL"
    counts = [f'count(*) FILTER (WHERE {r.sql}) AS "r{i}"' for i, r in enumerate(rules)]
    broken = " OR ".join(f"({r.sql})" for r in rules) or "FALSE"
    select = ",\n  ".join(
        [
            f"CAST({agency} AS VARCHAR) AS agency_code",
            f"CAST({year} AS INTEGER) AS year",
            "count(*) AS records",
            *counts,
            f"count(*) FILTER (WHERE {broken}) AS invalid",
        ]
    )
    return with_ctes(
        f"SELECT {select}\nFROM {table_from(spec)}\n{joins_of(spec, rules)}\nGROUP BY 1, 2"
    )


def quarantine_sql(spec: DatasetSpec) -> str:
    """Per agency and year: open quarantined records, and those of each row rule."""
    counts = [
        f'count(*) FILTER (WHERE {reason_filter(r)}) AS "q{i}"'
        for i, r in enumerate(spec.row_rules)
    ]
    select = ",\n  ".join(["agency_code", "year", "count(*) AS quarantined", *counts])
    return with_ctes(f"SELECT {select}\nFROM qopen AS q\nGROUP BY 1, 2", open_quarantine(spec))


def sample_sql(spec: DatasetSpec, rule: RowRule, limit: int) -> str:
    """The first failing keys of a rule: rows in the table, then quarantined records."""
    raw = (
        f"SELECT DISTINCT CAST({spec.key_sql} AS VARCHAR) AS k FROM {table_from(spec)}\n"
        f"{joins_of(spec, (rule,))}\nWHERE {rule.sql} ORDER BY k LIMIT {limit}"
    )
    quarantined = (
        f"SELECT DISTINCT coalesce(q.record_key, '(no key)') AS k FROM qopen AS q "
        f"WHERE {reason_filter(rule)} ORDER BY k LIMIT {limit}"
    )
    return with_ctes(
        f"SELECT k FROM (({raw}) UNION ({quarantined})) AS u ORDER BY k LIMIT {limit}",
        open_quarantine(spec),
    )
