"""The child process of the crash test: runs every ingest, and is killed mid-batch.

`python crash_child.py '<json>'` runs `ingest_all` into a DuckDB warehouse and sends itself
SIGKILL inside the transaction of the `kill_at`-th batch it lands of dataset `kill_in` —
after the batch's rows and quarantined records were written, before the watermark and the
commit — exactly where a power cut or the OOM killer would hurt most. Not a test module:
the test starts it.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from ingest_support import ingest_all, settings_for, small_chunk_reader

import sources.qlvb
from sources.simulator.generate import DemoSources
from warehouse.connection import open_writer
from warehouse.landing import Lander


def main() -> None:
    config = json.loads(sys.argv[1])
    calls = 0
    quarantine = Lander.quarantine

    def dying_quarantine(self: Lander, dataset: str, rejected: Any, now: datetime) -> int:
        nonlocal calls
        written = quarantine(self, dataset, rejected, now)  # inside the open transaction
        if dataset == config["kill_in"]:
            calls += 1
            if calls == config["kill_at"]:
                os.kill(os.getpid(), signal.SIGKILL)
        return written

    Lander.quarantine = dying_quarantine  # type: ignore[method-assign]
    sources.qlvb.QlvbReader = small_chunk_reader(config["chunk_size"])  # type: ignore[misc]
    demo = DemoSources.at(Path(config["root"]))
    settings = settings_for(
        demo, portal_url=config["portal_url"], telecom_dir=Path(config["telecom_dir"])
    )
    conn = open_writer(config["warehouse"])
    ingest_all(settings, Lander(conn, config["run_id"]), page_size=config["page_size"])
    conn.close()


if __name__ == "__main__":
    main()
