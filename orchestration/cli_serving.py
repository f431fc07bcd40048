"""`cds report` and `cds query`: what officials and analysts read (pipeline-interface.md).

Both read the published warehouse (a read-only snapshot of the DuckDB file, or PostgreSQL in a
read-only transaction), so they answer while a run writes. A failure prints one line on
stderr and exits with status 2, having changed nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

DEFAULT_REPORT_DIR = Path("warehouse/reports")


def _fail(message: str) -> None:
    click.echo(f"cds: error: {' '.join(message.split())}", err=True)
    sys.exit(2)


def _warehouse() -> str:
    from orchestration.settings import Settings

    return Settings.load().warehouse


@click.command()
@click.option(
    "--year",
    type=int,
    default=None,
    help="Year of the scorecard [default: the latest full year with data].",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=DEFAULT_REPORT_DIR,
    show_default=True,
    help="Folder that receives the HTML page and the Excel workbook.",
)
def report(year: int | None, out: Path) -> None:
    """Write the officials' scorecard: an HTML page with charts and an Excel workbook.

    In Vietnamese: the province against every target of plan 2158/KH-UBND, the ranking of each
    group with the change from last year, each agency's breakdown, the award shortlist, the
    communes by fiber and smartphone shares, and the data-quality status of the last run.
    Reads the published warehouse; the page needs no network to open.
    """
    from warehouse.report import ReportError, build_report

    try:
        files = build_report(_warehouse(), year, out)
    except ReportError as exc:
        _fail(str(exc))
    provisional = " (provisional: the year is not over)" if files.data.provisional else ""
    click.echo(f"Scorecard {files.year}{provisional}:")
    click.echo(f"  page      {files.html}")
    click.echo(f"  workbook  {files.xlsx}")


@click.command()
@click.argument("sql")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
    help="Output: aligned table, CSV or JSON records.",
)
@click.option(
    "--max-rows",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="Rows shown by --format table (csv and json print every row).",
)
def query(sql: str, output_format: str, max_rows: int) -> None:
    """Run a read-only SQL query on the published warehouse and print the result.

    SQL is one or more SELECT (or EXPLAIN, PRAGMA, CALL) statements; the result of the last
    one is printed. Use - to read the SQL from stdin. Writes are refused: the published
    warehouse is read-only. Example: cds query "SELECT * FROM marts.agency_index LIMIT 5"
    """
    from warehouse.query import FORMATTERS, QueryError, format_table, run_query

    if sql == "-":
        sql = sys.stdin.read()
    try:
        result = run_query(_warehouse(), sql)
    except QueryError as exc:
        _fail(str(exc))
    text = (
        format_table(result, max_rows=max_rows)
        if output_format == "table"
        else FORMATTERS[output_format](result)
    )
    try:
        click.echo(text)
    except BrokenPipeError:  # `cds query ... | head`: the reader left, nothing to report
        sys.stderr.close()
