"""The `cds` command: the common jobs of the pipeline (pipeline-interface.md)."""

from __future__ import annotations

import os
import signal
import sys
import threading
from datetime import date, datetime
from pathlib import Path

import click

from orchestration.cli_serving import query, report
from orchestration.progress import TerminalProgress

DEMO_ROOT = Path("warehouse/demo")
DEMO_SCALE = 0.05


def _fail(message: str) -> None:
    click.echo(f"cds: error: {message}", err=True)
    sys.exit(2)


class _Date(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):  # noqa: ANN001 - click's signature
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not a date of the form YYYY-MM-DD", param, ctx)


DATE = _Date()


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
def main() -> None:
    """cds — Điện Biên's digital-transformation data platform.

    Ingests the public-service portal, the document system and the carriers' coverage feeds,
    validates them, computes every indicator of plan 2158/KH-UBND and ranks the agencies.
    Settings come from CDS_* environment variables or a .env file (pipeline-interface.md).
    """


# -- simulate ---------------------------------------------------------------------------------
@main.group(invoke_without_command=True)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=DEMO_ROOT,
    show_default=True,
    help="Folder that receives reference/, telecom/, qlvb.sqlite, portal.sqlite and manifest.json.",
)
@click.option(
    "--seed",
    type=int,
    default=2158,
    show_default=True,
    help="Random seed: the same seed and options give byte-identical sources.",
)
@click.option(
    "--scale",
    type=click.FloatRange(min=0.0001, max=10),
    default=DEMO_SCALE,
    show_default=True,
    help="Volume: 1.0 is a real province (~400,000 dossiers and ~1.5 million documents a year).",
)
@click.option(
    "--start",
    type=DATE,
    default="2023-01-01",
    show_default=True,
    help="First day of generated activity.",
)
@click.option(
    "--end", type=DATE, default=None, help="Last day of generated activity [default: today]."
)
@click.option(
    "--qlvb-url",
    default=None,
    help="SQLAlchemy URL to write the document system "
    "to (e.g. postgresql://postgres@127.0.0.1:5432/test) [default: OUT/qlvb.sqlite].",
)
@click.option("--clean", is_flag=True, help="Plant no anomalies and no feed faults.")
@click.pass_context
def simulate(
    ctx: click.Context,
    out: Path,
    seed: int,
    scale: float,
    start: date,
    end: date | None,
    qlvb_url: str | None,
    clean: bool,
) -> None:
    """Generate the demo sources: reference data, portal store, document DB, feed files.

    Deterministic: the same options give the same bytes. Planted anomalies (invalid records,
    a volume collapse, a missing carrier month, broken feed files) are listed in
    OUT/manifest.json unless --clean. Use `cds simulate serve` to serve the portal.
    """
    if ctx.invoked_subcommand is not None:
        return
    from sources.simulator.generate import DemoSources, generate

    started = datetime.now()
    try:
        summary = generate(
            DemoSources.at(out, qlvb_url),
            seed=seed,
            scale=scale,
            start=start,
            end=end,
            plant_anomalies=not clean,
            progress=TerminalProgress(),
        )
    except (ValueError, OSError) as exc:
        _fail(str(exc))
    seconds = (datetime.now() - started).total_seconds()
    click.echo(f"Generated the demo sources in {out} in {seconds:.1f} s:")
    for name, count in summary.counts.items():
        click.echo(f"  {name:<36} {count:>12,}")
    click.echo(f"  planted anomalies (manifest.json)    {summary.anomalies:>12,}")


@simulate.command("serve")
@click.option(
    "--data",
    type=click.Path(path_type=Path, exists=True, file_okay=False),
    default=DEMO_ROOT,
    show_default=True,
    help="Folder written by `cds simulate`.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address.")
@click.option("--port", type=int, default=0, help="Port [default: a free one].")
@click.option("--client-id", default="cds", show_default=True)
@click.option("--client-secret", default="cds-secret", show_default=True)
@click.option("--rate-limit", is_flag=True, help="Answer 429 with Retry-After above 10 req/s.")
@click.option(
    "--error-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Share of requests answered 500/502/503/504.",
)
@click.option(
    "--slow-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Share of responses delayed by --slow-seconds.",
)
@click.option("--slow-seconds", type=float, default=0.0, show_default=True)
@click.option(
    "--page-token-ttl",
    type=float,
    default=900.0,
    show_default=True,
    help="Seconds a page token stays valid (410 afterwards).",
)
@click.option(
    "--token-ttl",
    type=float,
    default=3600.0,
    show_default=True,
    help="Seconds an access token stays valid (401 afterwards).",
)
@click.option(
    "--mutate-while-paging",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Probability per page that served records change.",
)
def simulate_serve(
    data: Path,
    host: str,
    port: int,
    client_id: str,
    client_secret: str,
    rate_limit: bool,
    error_rate: float,
    slow_rate: float,
    slow_seconds: float,
    page_token_ttl: float,
    token_ttl: float,
    mutate_while_paging: float,
) -> None:
    """Serve the simulated portal API on loopback until interrupted (Ctrl-C)."""
    from sources.simulator.portal_server import PortalFaults, PortalServer

    store = data / "portal.sqlite"
    if not store.exists():
        _fail(f"{store} does not exist: run `cds simulate --out {data}` first")
    faults = PortalFaults(
        rate_limit=rate_limit,
        error_rate=error_rate,
        slow_rate=slow_rate,
        slow_seconds=slow_seconds,
        page_token_ttl_s=page_token_ttl,
        token_ttl_s=token_ttl,
        mutate_while_paging=mutate_while_paging,
    )
    server = PortalServer(
        store, host=host, port=port, client_id=client_id, client_secret=client_secret, faults=faults
    )
    server.start()
    click.echo(
        f"Portal API serving {store} at {server.base_url} (client id {client_id!r}); "
        "Ctrl-C stops it."
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


# -- run and demo -----------------------------------------------------------------------------
def _print_outcome(outcome) -> None:  # noqa: ANN001 - orchestration.runner.RunOutcome
    click.echo(f"Run {outcome.run_id}: {'succeeded' if outcome.success else 'FAILED'}")
    click.echo(f"  full log: {outcome.log_path}")
    if outcome.sources:
        click.echo(f"  {'source':<24} {'read':>10} {'landed':>10} {'quarantined':>12}  status")
        for source, read, landed, quarantined, status in outcome.sources:
            click.echo(f"  {source:<24} {read:>10,} {landed:>10,} {quarantined:>12,}  {status}")
    for failure in outcome.failures:
        click.echo(f"  failed step {failure}", err=True)


def _run_nightly(*, show_results: bool) -> int:
    from orchestration.after_run import after_run
    from orchestration.runner import run_job
    from orchestration.settings import Settings, SettingsError
    from warehouse.connection import WarehouseError

    try:
        # Every setting is checked before anything is created, read or sent.
        Settings.load().check()
        click.echo("Running the nightly pipeline:")
        outcome = run_job("nightly")
        _print_outcome(outcome)
        report = after_run(Settings.load(), outcome, show_results=show_results)
    except (SettingsError, WarehouseError) as exc:
        _fail(str(exc))
    click.echo(report.text)
    if report.blocking_failures:
        click.echo(
            "Blocking quality checks failed, the marts were not published from that data: "
            + "; ".join(report.blocking_failures),
            err=True,
        )
    return 0 if outcome.success and not report.blocking_failures else 1


@main.command()
def run() -> None:
    """Run the nightly pipeline against the configured sources.

    Ingest, validate, transform, publish and alert. Exit status 0 when it finished (also with
    quarantined records and warnings), non-zero when a blocking check failed or a source stayed
    unreachable after retries.
    """
    sys.exit(_run_nightly(show_results=False))


@main.command()
@click.option(
    "--scale",
    type=click.FloatRange(min=0.0001, max=10),
    default=DEMO_SCALE,
    show_default=True,
    help="Volume of the generated sources (1.0 = a real province).",
)
@click.option("--seed", type=int, default=2158, show_default=True)
@click.option("--end", type=DATE, default=None, help="Last day of data [default: today].")
@click.option(
    "--data",
    type=click.Path(path_type=Path),
    default=DEMO_ROOT,
    show_default=True,
    help="Folder of the generated demo sources.",
)
def demo(scale: float, seed: int, end: date | None, data: Path) -> None:
    """Generate the demo sources, serve the portal on loopback and run the pipeline on them.

    Needs no configuration and no network. Sources are generated once per seed, scale and end
    date (a second run reuses them and lands nothing new); the warehouse is CDS_WAREHOUSE
    (default warehouse/cds.duckdb).
    """
    from orchestration.demo import demo_environment, ensure_demo_sources
    from sources.simulator.portal_server import PortalServer

    sources = ensure_demo_sources(
        data, seed=seed, scale=scale, end=end, progress=TerminalProgress(), echo=click.echo
    )
    with PortalServer(sources.portal_store) as server:
        click.echo(f"Portal API of the demo serving at {server.base_url}")
        os.environ.update(demo_environment(sources, server.base_url, os.environ))
        code = _run_nightly(show_results=True)
    if code == 0:
        from orchestration.cli_serving import report

        click.get_current_context().invoke(report)
    sys.exit(code)


main.add_command(report)
main.add_command(query)

if __name__ == "__main__":
    main()
