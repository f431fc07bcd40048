"""Benchmark of the ingestion: rows per second and peak resident memory, per source.

Not a test: run it by hand (see bench/README.md). For each scale it

1. generates the demo sources twice (cached under `bench/results/sources/`, git-ignored):
   once with `end = D - 1` and once with `end = D`. The simulator is deterministic, so the
   second set is the first one a day later: the same records, some of them changed, plus the
   new ones of day D — a realistic nightly increment;
2. **initial load**: ingests the `D - 1` sources into a fresh DuckDB warehouse;
3. **nightly increment**: ingests the `D` sources into the same warehouse (watermarks and the
   feed registry carry over, exactly as the nightly run would).

Each source (reference, telecom, dvc, qlvb) is ingested by a child process of its own running
the same `orchestration.ingest` functions as the Dagster assets; its peak resident memory is
that child's `ru_maxrss` (from `os.wait4`), so the peaks are per source and include the
interpreter and its imports. The portal is served by the simulator in another child process
on a loopback port (its memory is not counted: it stands for the province's server).

Prints a table and writes `bench/results/ingest-<timestamp>.json` (and `ingest-latest.json`).
Figures are approximate when the machine is shared with other work.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SOURCES = ("reference", "telecom", "dvc", "qlvb")
SEED = 2158
START = date(2023, 1, 1)
DEFAULT_END = date(2026, 11, 28)
CLIENT_ID, CLIENT_SECRET = "cds", "cds-secret"
PII_KEY = "bench-pii-key-0123456789abcdef0123456789abcdef"  # a bench key, not a secret


# -- sources -----------------------------------------------------------------------------------
def ensure_sources(root: Path, *, scale: float, start: date, end: date) -> tuple[Path, float]:
    """The folder of the sources for (scale, start, end), generated unless already there.

    Returns the folder and the seconds spent generating (0 when reused).
    """
    from sources.simulator.generate import DemoSources, generate

    folder = root / f"scale-{scale:g}-{start.isoformat()}-{end.isoformat()}"
    params = {"seed": SEED, "scale": scale, "start": start.isoformat(), "end": end.isoformat()}
    stamp = folder / "params.json"
    if stamp.exists() and json.loads(stamp.read_text()) == params:
        print(f"  sources {folder.name}: reused", flush=True)
        return folder, 0.0
    if folder.exists():
        shutil.rmtree(folder)
    print(f"  sources {folder.name}: generating ...", flush=True)
    last: dict[str, float] = {}

    def progress(label: str, done: int, total: int | None) -> None:
        # One line per label every 20 %, so a long generation shows it is alive.
        if not total:
            return
        share = done / total
        if share >= last.get(label, -1.0) + 0.2 or done == total:
            last[label] = share
            print(f"    {label}: {done:,}/{total:,}", flush=True)

    began = time.perf_counter()
    summary = generate(
        DemoSources.at(folder), seed=SEED, scale=scale, start=start, end=end, progress=progress
    )
    took = time.perf_counter() - began
    stamp.write_text(json.dumps(params) + "\n")
    counts = ", ".join(f"{k} {v:,}" for k, v in summary.counts.items() if "/" in k)
    print(f"  sources {folder.name}: generated in {took:.0f} s ({counts})", flush=True)
    return folder, took


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PortalProcess:
    """The simulator's portal serving one store, in a child process of its own."""

    def __init__(self, store: Path) -> None:
        self.port = _free_port()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sources.simulator.portal_server",
                "--store",
                str(store),
                "--port",
                str(self.port),
                "--client-id",
                CLIENT_ID,
                "--client-secret",
                CLIENT_SECRET,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.base_url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(self.base_url + "/api/v1/health", timeout=2):
                    return
            except OSError as exc:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"the portal did not start on {self.base_url}") from exc
                time.sleep(0.2)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# -- one source in a child process ------------------------------------------------------------
def worker(args: argparse.Namespace) -> None:
    """Ingest one source into the warehouse; print one JSON line of per-dataset figures."""
    from orchestration.ingest import (
        PORTAL_DATASETS,
        QLVB_DATASETS,
        PortalOptions,
        ingest_portal,
        ingest_qlvb,
        ingest_reference,
        ingest_telecom,
    )
    from orchestration.settings import Settings
    from sources.simulator.generate import DemoSources
    from warehouse.connection import open_writer
    from warehouse.landing import Lander, LandingStats

    demo = DemoSources.at(Path(args.sources))
    settings = Settings(
        warehouse=args.warehouse,
        dvc_base_url=args.portal_url,
        dvc_client_id=CLIENT_ID,
        dvc_client_secret=CLIENT_SECRET,
        qlvb_url=demo.qlvb_url,
        telecom_dir=str(demo.telecom_dir),
        reference_dir=str(demo.reference_dir),
        pii_key=PII_KEY,
    )
    conn = open_writer(args.warehouse)
    lander = Lander(conn, args.run_id)
    figures: dict[str, dict[str, Any]] = {}

    def timed(dataset: str, call: Any) -> None:
        began = time.perf_counter()
        stats: LandingStats = call()
        figures[dataset] = {
            "rows_read": stats.rows_read,
            "rows_landed": stats.rows_landed,
            "rows_quarantined": stats.rows_quarantined,
            "seconds": time.perf_counter() - began,
        }

    began = time.perf_counter()
    if args.source == "reference":
        results = ingest_reference(settings, lander)
        took = time.perf_counter() - began
        for dataset, stats in results.items():
            figures[dataset] = {
                "rows_read": stats.rows_read,
                "rows_landed": stats.rows_landed,
                "rows_quarantined": stats.rows_quarantined,
                "seconds": took / len(results),  # read together: the time is shared
            }
    elif args.source == "telecom":
        timed("telecom_coverage", lambda: ingest_telecom(settings, lander))
    elif args.source == "dvc":
        for dataset in PORTAL_DATASETS:
            timed(dataset, lambda d=dataset: ingest_portal(settings, lander, d, PortalOptions()))
    else:
        for dataset in QLVB_DATASETS:
            timed(dataset, lambda d=dataset: ingest_qlvb(settings, lander, d))
    conn.close()
    print(json.dumps({"datasets": figures, "seconds": time.perf_counter() - began}), flush=True)


def run_source(
    source: str, *, sources: Path, warehouse: Path, portal_url: str, run_id: str
) -> dict[str, Any]:
    """Run one source's worker; its figures plus the child's peak RSS and CPU time."""
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "worker",
        "--source",
        source,
        "--sources",
        str(sources),
        "--warehouse",
        str(warehouse),
        "--portal-url",
        portal_url,
        "--run-id",
        run_id,
    ]
    began = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, cwd=ROOT, text=True)
    assert proc.stdout is not None
    output = proc.stdout.read()
    # wait4 gives this child's own resource usage (RUSAGE_CHILDREN would mix the children).
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - began
    if proc.returncode != 0:
        raise RuntimeError(f"the {source} ingest failed (exit {proc.returncode})")
    result = json.loads(output.strip().splitlines()[-1])
    datasets = result["datasets"]
    rows_read = sum(d["rows_read"] for d in datasets.values())
    return {
        "source": source,
        "datasets": datasets,
        "rows_read": rows_read,
        "rows_landed": sum(d["rows_landed"] for d in datasets.values()),
        "rows_quarantined": sum(d["rows_quarantined"] for d in datasets.values()),
        "ingest_seconds": result["seconds"],
        "process_seconds": wall,
        "rows_per_second": rows_read / result["seconds"] if result["seconds"] > 0 else None,
        "peak_rss_mb": usage.ru_maxrss / 1024,  # Linux: kilobytes
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
    }


def ingest_phase(
    phase: str, *, scale: float, sources: Path, warehouse: Path
) -> list[dict[str, Any]]:
    from sources.simulator.generate import DemoSources

    portal = PortalProcess(DemoSources.at(sources).portal_store)
    runs = []
    try:
        for source in SOURCES:
            run = run_source(
                source,
                sources=sources,
                warehouse=warehouse,
                portal_url=portal.base_url,
                run_id=f"bench-{phase}-{scale:g}",
            )
            run.update(scale=scale, phase=phase)
            runs.append(run)
            print(_line(run), flush=True)
    finally:
        portal.stop()
    return runs


# -- report ------------------------------------------------------------------------------------
_HEADER = (
    f"{'scale':>6} {'phase':<11} {'source':<10} {'rows read':>11} {'landed':>11} "
    f"{'quarant.':>8} {'ingest s':>9} {'rows/s':>9} {'peak MB':>8} {'cpu s':>7}"
)


def _line(run: dict[str, Any]) -> str:
    rate = run["rows_per_second"]
    return (
        f"{run['scale']:>6g} {run['phase']:<11} {run['source']:<10} {run['rows_read']:>11,} "
        f"{run['rows_landed']:>11,} {run['rows_quarantined']:>8,} {run['ingest_seconds']:>9.1f} "
        f"{(f'{rate:,.0f}' if rate else '-'):>9} {run['peak_rss_mb']:>8.0f} "
        f"{run['cpu_seconds']:>7.1f}"
    )


def _dataset_lines(runs: list[dict[str, Any]]) -> list[str]:
    lines = [f"{'scale':>6} {'phase':<11} {'dataset':<22} {'rows read':>11} {'s':>7} {'rows/s':>9}"]
    for run in runs:
        for name, d in run["datasets"].items():
            rate = d["rows_read"] / d["seconds"] if d["seconds"] > 0 else 0
            lines.append(
                f"{run['scale']:>6g} {run['phase']:<11} {name:<22} {d['rows_read']:>11,} "
                f"{d['seconds']:>7.1f} {rate:>9,.0f}"
            )
    return lines


def _memory_verdict(runs: list[dict[str, Any]], scales: list[float]) -> list[str]:
    """Peak at the largest scale against the peak at the smallest, per source and phase."""
    if len(scales) < 2:
        return []
    low, high = min(scales), max(scales)
    peaks = {(r["scale"], r["phase"], r["source"]): r["peak_rss_mb"] for r in runs}
    lines = [f"Memory, scale {high:g} vs {low:g} (flat means at most 1.5x):"]
    for phase in ("initial", "increment"):
        for source in SOURCES:
            a, b = peaks.get((low, phase, source)), peaks.get((high, phase, source))
            if a and b:
                verdict = "ok" if b <= 1.5 * a else "NOT FLAT"
                lines.append(
                    f"  {phase:<10} {source:<10} {a:7.0f} MB -> {b:7.0f} MB"
                    f"  x{b / a:4.2f}  {verdict}"
                )
    return lines


def _code_version() -> dict[str, Any]:
    """Where the ingestion code was imported from, and the repository's commit and state."""
    import orchestration.ingest

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    return {
        "ingest_module": orchestration.ingest.__file__,
        "commit": git("rev-parse", "--short", "HEAD"),
        "uncommitted_changes": bool(
            git(
                "status",
                "--porcelain",
                "--",
                "orchestration",
                "sources",
                "warehouse",
                "expectations",
            )
        ),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    w = sub.add_parser("worker", help="(internal) ingest one source into a warehouse")
    w.add_argument("--source", choices=SOURCES, required=True)
    w.add_argument("--sources", required=True)
    w.add_argument("--warehouse", required=True)
    w.add_argument("--portal-url", required=True)
    w.add_argument("--run-id", required=True)
    parser.add_argument(
        "--scale",
        type=float,
        action="append",
        help="scale to run (repeatable; default: 0.25 and 1)",
    )
    parser.add_argument("--start", type=date.fromisoformat, default=START)
    parser.add_argument(
        "--end", type=date.fromisoformat, default=DEFAULT_END, help="day D of the increment"
    )
    parser.add_argument(
        "--sources-root", type=Path, default=RESULTS / "sources", help="cache of generated sources"
    )
    parser.add_argument("--no-increment", action="store_true", help="initial load only")
    parser.add_argument(
        "--generate-only",
        action="store_true",
        help="generate (or check) the sources, ingest nothing",
    )
    parser.add_argument(
        "--label", default="", help="tag of the result files (e.g. the code version measured)"
    )
    args = parser.parse_args(argv)
    if args.command == "worker":
        worker(args)
        return

    import duckdb

    scales = args.scale or [0.25, 1.0]
    RESULTS.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "started_at": datetime.now().isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "duckdb": duckdb.__version__,
            "load_average": os.getloadavg(),
        },
        "label": args.label,
        "code": _code_version(),
        "start": args.start.isoformat(),
        "end": args.end.isoformat(),
        "generation_seconds": {},
        "runs": [],
    }
    for scale in scales:
        print(f"Scale {scale:g}: {args.start} .. {args.end - timedelta(days=1)}, then +1 day")
        before, took_before = ensure_sources(
            args.sources_root, scale=scale, start=args.start, end=args.end - timedelta(days=1)
        )
        report["generation_seconds"][f"{scale:g}/initial"] = took_before
        after = None
        if not args.no_increment:
            after, took_after = ensure_sources(
                args.sources_root, scale=scale, start=args.start, end=args.end
            )
            report["generation_seconds"][f"{scale:g}/increment"] = took_after
        if args.generate_only:
            continue
        tag = f"-{args.label}" if args.label else ""
        warehouse = RESULTS / f"warehouse{tag}-{scale:g}.duckdb"
        for path in (warehouse, warehouse.with_name(warehouse.name + ".wal")):
            path.unlink(missing_ok=True)
        print(_HEADER, flush=True)
        report["runs"] += ingest_phase("initial", scale=scale, sources=before, warehouse=warehouse)
        if after is not None:
            report["runs"] += ingest_phase(
                "increment", scale=scale, sources=after, warehouse=warehouse
            )
        report["warehouse_mb"] = {
            **report.get("warehouse_mb", {}),
            f"{scale:g}": warehouse.stat().st_size / 2**20,
        }
    if args.generate_only:
        return
    report["finished_at"] = datetime.now().isoformat(timespec="seconds")
    runs = report["runs"]
    print()
    print(_HEADER)
    for run in runs:
        print(_line(run))
    print()
    print("\n".join(_dataset_lines(runs)))
    verdict = _memory_verdict(runs, scales)
    if verdict:
        print()
        print("\n".join(verdict))
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    tag = f"-{args.label}" if args.label else ""
    text = json.dumps(report, indent=2) + "\n"
    (RESULTS / f"ingest{tag}-{stamp}.json").write_text(text)
    (RESULTS / f"ingest{tag}-latest.json").write_text(text)
    print(f"\nJSON: {RESULTS / f'ingest{tag}-{stamp}.json'}")


if __name__ == "__main__":
    main()
