"""What `cds run` and `cds demo` print after a run: checks, rankings, the 2025 targets."""

from __future__ import annotations

from datetime import date
from typing import Any

from warehouse.dialect import dialect_of, round_to
from warehouse.query import QueryResult, format_table

RANKING_GROUPS = {
    "SO_NGANH": "Sở, ngành",
    "UBND_HUYEN": "UBND cấp huyện",
    "UBND_XA": "UBND cấp xã",
}


def _result(conn: Any, sql: str, params: list | None = None) -> QueryResult:
    cursor = conn.execute(sql, params or [])
    columns = [d[0] for d in cursor.description]
    return QueryResult(columns, cursor.fetchall())


def _exists(conn: Any, schema: str, table: str) -> bool:
    return bool(
        conn.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = ? AND table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )


def checks_summary(conn: Any, run_id: str) -> str:
    """Checks passed and failed per dataset in this run, and the failed ones by name."""
    if not _exists(conn, "quality", "check_results"):
        return "No quality checks ran."
    per_dataset = _result(
        conn,
        "SELECT dataset, count(*) FILTER (WHERE passed) AS passed, "
        "count(*) FILTER (WHERE NOT passed) AS failed FROM quality.check_results "
        "WHERE run_id = ? GROUP BY dataset ORDER BY dataset",
        [run_id],
    )
    if not per_dataset.rows:
        return "No quality checks ran."
    failed = _result(
        conn,
        "SELECT dataset, check_name, severity, observed, failed_rows FROM quality.check_results "
        "WHERE run_id = ? AND NOT passed ORDER BY severity, dataset, check_name",
        [run_id],
    )
    text = "Quality checks per dataset:\n" + format_table(per_dataset)
    if failed.rows:
        text += "\nFailed checks:\n" + format_table(failed, max_width=50)
    return text


def blocking_failures(conn: Any, run_id: str) -> list[str]:
    """`dataset: check` of every blocking check that failed in this run."""
    if not _exists(conn, "quality", "check_results"):
        return []
    rows = conn.execute(
        "SELECT DISTINCT dataset, check_name FROM quality.check_results "
        "WHERE run_id = ? AND severity = 'blocking' AND NOT passed ORDER BY 1, 2",
        [run_id],
    ).fetchall()
    return [f"{dataset}: {check}" for dataset, check in rows]


def latest_full_year(conn: Any, today: date | None = None) -> int | None:
    """The latest year with an index that is over (the current year is provisional)."""
    this_year = (today or date.today()).year
    row = conn.execute(
        "SELECT max(year) FILTER (WHERE year < ?), max(year) FROM marts.agency_index",
        [this_year],
    ).fetchone()
    return row[0] if row[0] is not None else row[1]


def top_of_rankings(conn: Any, year: int, top: int = 5) -> str:
    parts = []
    for group, label in RANKING_GROUPS.items():
        result = _result(
            conn,
            "SELECT i.rank, a.name AS agency, i.index_score FROM marts.agency_index i "
            "JOIN marts.dim_agency a USING (agency_code) "
            "WHERE i.year = ? AND i.ranking_group = ? AND i.status = 'ranked' AND i.rank <= ? "
            "ORDER BY i.rank, a.name",
            [year, group, top],
        )
        if result.rows:
            parts.append(f"Top {top} — {label}, {year}:\n{format_table(result)}")
    return "\n".join(parts) or f"No agency was ranked for {year}."


def province_against_targets(conn: Any, target_year: int = 2025) -> str:
    """Every indicator with a target for `target_year`: the province's value that year, or,
    for indicators the catalogue computes per agency only, how many agencies met it."""
    result = _result(
        conn,
        f"""
        WITH targeted AS (
            SELECT ma_chi_tieu AS indicator_code,
                   string_agg(DISTINCT toan_tu || ' ' || CAST(gia_tri AS VARCHAR)
                              || CASE WHEN cap = 'ALL' THEN '' ELSE ' (' || cap || ')' END,
                              '; ') AS target
            FROM seeds.targets WHERE nam_muc_tieu = ? GROUP BY 1
        ),
        year_values AS (
            SELECT * FROM marts.fct_indicator_values
            WHERE period_grain = 'year' AND period_start = make_date(?, 1, 1)
        ),
        agencies AS (
            SELECT indicator_code, count(*) FILTER (WHERE meets_target) AS met,
                   count(*) FILTER (WHERE meets_target IS NOT NULL) AS judged
            FROM year_values WHERE unit_type = 'agency' GROUP BY 1
        )
        SELECT d.indicator_code, d.name_vi, {round_to("p.value", 1, dialect_of(conn))} AS value,
               t.target,
               CASE WHEN p.meets_target THEN 'đạt'
                    WHEN NOT p.meets_target THEN 'chưa đạt'
                    WHEN a.judged > 0 THEN CAST(a.met AS VARCHAR) || '/'
                         || CAST(a.judged AS VARCHAR) || ' cơ quan đạt'
                    ELSE 'không có dữ liệu' END AS status
        FROM targeted t
        JOIN marts.dim_indicator d USING (indicator_code)
        LEFT JOIN year_values p
          ON p.indicator_code = t.indicator_code AND p.unit_type = 'admin_unit'
         AND p.unit_code = '11'
        LEFT JOIN agencies a ON a.indicator_code = t.indicator_code
        ORDER BY d.indicator_code
        """,
        [target_year, target_year],
    )
    return f"The province against its {target_year} targets:\n" + format_table(result, max_width=60)


def has_marts(conn: Any) -> bool:
    return _exists(conn, "marts", "agency_index")
