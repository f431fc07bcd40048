"""The Dagster definitions load, and show exactly the assets, checks, jobs, schedule and
sensors recorded in the snapshot (regenerate with CDS_UPDATE_SNAPSHOT=1 after a deliberate
change, and review the diff)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

SNAPSHOT = Path(__file__).with_name("definitions_snapshot.json")
ROOT = Path(__file__).resolve().parents[2]


def _describe() -> dict:
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    schedules = {
        s.name: {"cron": s.cron_schedule, "timezone": s.execution_timezone, "job": s.job_name}
        for s in defs.schedules or []
    }
    return {
        "assets": sorted(k.to_user_string() for k in graph.get_all_asset_keys()),
        "asset_checks": sorted(
            f"{k.asset_key.to_user_string()}:{k.name}" for k in graph.asset_check_keys
        ),
        "jobs": sorted(j.name for j in defs.resolve_all_job_defs() if not j.name.startswith("__")),
        "schedules": schedules,
        "sensors": sorted(s.name for s in defs.sensors or []),
    }


def test_definitions_match_the_snapshot():
    described = _describe()
    if os.environ.get("CDS_UPDATE_SNAPSHOT") or not SNAPSHOT.exists():
        SNAPSHOT.write_text(json.dumps(described, indent=2, ensure_ascii=False) + "\n")
    assert described == json.loads(SNAPSHOT.read_text())


def test_nightly_schedule_runs_at_one_in_vietnam():
    from orchestration.definitions import defs

    schedule = defs.resolve_schedule_def("nightly_at_one")
    assert (schedule.cron_schedule, schedule.execution_timezone) == (
        "0 1 * * *",
        "Asia/Ho_Chi_Minh",
    )
    assert schedule.job_name == "nightly"


def test_every_source_entity_is_a_raw_asset_grouped_by_source():
    from orchestration.definitions import defs
    from warehouse.schema import RAW_TABLES

    graph = defs.resolve_asset_graph()
    groups = {
        key.to_user_string(): graph.get(key).group_name
        for key in graph.get_all_asset_keys()
        if key.path[0] == "raw" and graph.get(key).is_materializable
    }
    assert set(groups) == {f"raw/{name}" for name in RAW_TABLES}
    assert {groups["raw/dvc_dossiers"], groups["raw/qlvb_van_ban"]} == {"dvc_portal", "qlvb"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.timeout(180)
def test_webserver_serves_the_asset_graph(tmp_path):
    port = _free_port()
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    webserver = Path(sys.executable).parent / "dagster-webserver"
    process = subprocess.Popen(
        [str(webserver), "-m", "orchestration.definitions", "-h", "127.0.0.1", "-p", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: the whole group is stopped below
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 150
        while True:
            try:
                if requests.get(f"{url}/server_info", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            assert process.poll() is None, "dagster-webserver exited early"
            assert time.monotonic() < deadline, "dagster-webserver did not start in time"
            time.sleep(1)
        answer = requests.post(
            f"{url}/graphql",
            json={"query": "{ assetNodes { assetKey { path } } }"},
            timeout=60,
        ).json()
        served = sorted("/".join(n["assetKey"]["path"]) for n in answer["data"]["assetNodes"])
        assert served == _describe()["assets"]
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
