"""Benchmark of the dbt build: time and peak memory of a full build and of the nightly
incremental build, per scale (issue 4). Not a test: run it by hand on a quiet machine.

    .venv/bin/python bench/dbt_build.py [--scale 0.25 --scale 1] [--end 2026-11-28]

Per scale it reuses the sources that `bench/ingest.py` generated (for D-1 and D; generated
here when missing), lands the D-1 sources into a fresh warehouse, measures
`dbt build --full-refresh` with /usr/bin/time -v, lands the one-day increment of D, and
measures the plain `dbt build` that the nightly run does. Results: a table, and
bench/results/dbt-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))

from orchestration.demo import demo_environment  # noqa: E402
from orchestration.ingest import (  # noqa: E402
    PORTAL_DATASETS,
    QLVB_DATASETS,
    ingest_portal,
    ingest_qlvb,
    ingest_reference,
    ingest_telecom,
)
from orchestration.settings import Settings  # noqa: E402
from sources.simulator.generate import DemoSources, generate  # noqa: E402
from sources.simulator.portal_server import PortalServer  # noqa: E402
from warehouse.connection import dbt_environment, open_writer  # noqa: E402
from warehouse.landing import Lander  # noqa: E402


def sources_for(scale: float, end: date) -> DemoSources:
    folder = RESULTS / "sources" / f"scale-{scale:g}-2023-01-01-{end.isoformat()}"
    stamp = folder / "params.json"
    params = {"seed": 2158, "scale": scale, "start": "2023-01-01", "end": end.isoformat()}
    sources = DemoSources.at(folder)
    if not (stamp.exists() and json.loads(stamp.read_text()) == params):
        print(f"  generating {folder} ...", flush=True)
        generate(sources, scale=scale, end=end)
        stamp.write_text(json.dumps(params))
    return sources


def land(sources: DemoSources, warehouse: Path) -> float:
    started = time.monotonic()
    with PortalServer(sources.portal_store) as server:
        env = demo_environment(sources, server.base_url, {})
        env["CDS_WAREHOUSE"] = str(warehouse)
        os.environ.update(env)
        settings = Settings.load()
        conn = open_writer(str(warehouse))
        lander = Lander(conn, f"bench-{time.time_ns()}")
        ingest_reference(settings, lander)
        ingest_telecom(settings, lander)
        for dataset in PORTAL_DATASETS:
            ingest_portal(settings, lander, dataset)
        for dataset in QLVB_DATASETS:
            ingest_qlvb(settings, lander, dataset)
        conn.close()
    return time.monotonic() - started


def timed_dbt(warehouse: Path, *args: str) -> dict[str, float]:
    env = {**os.environ, **dbt_environment(str(warehouse))}
    dbt = Path(sys.executable).parent / "dbt"
    started = time.monotonic()
    result = subprocess.run(
        ["/usr/bin/time", "-v", str(dbt), "build", "--quiet", *args],
        cwd=ROOT / "dbt_project",
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"dbt build {' '.join(args)} failed:\n{result.stdout[-3000:]}")
    seconds = time.monotonic() - started
    peak_kb = re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)
    return {"seconds": seconds, "peak_mb": int(peak_kb.group(1)) / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, action="append")
    parser.add_argument("--end", type=date.fromisoformat, default=date(2026, 11, 28))
    options = parser.parse_args()
    results = []
    for scale in options.scale or [0.25, 1.0]:
        before, after = (
            sources_for(scale, options.end - timedelta(days=1)),
            sources_for(scale, options.end),
        )
        warehouse = RESULTS / f"dbt-{scale:g}.duckdb"
        warehouse.unlink(missing_ok=True)
        land(before, warehouse)
        full = timed_dbt(warehouse, "--full-refresh")
        land(after, warehouse)
        nightly = timed_dbt(warehouse)
        results.append({"scale": scale, "full_build": full, "nightly_build": nightly})
        print(
            f"scale {scale:g}: full build {full['seconds']:.1f} s, peak {full['peak_mb']:.0f} MB;"
            f" nightly incremental build {nightly['seconds']:.1f} s, "
            f"peak {nightly['peak_mb']:.0f} MB",
            flush=True,
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"dbt-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results: {out}")


if __name__ == "__main__":
    main()
