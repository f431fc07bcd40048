"""The embedded default of `cds demo`: generated sources and the settings that point at them."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path

from sources.batch import Progress, no_progress
from sources.simulator.generate import DemoSources, generate

DEMO_CLIENT_ID = "cds"
DEMO_CLIENT_SECRET = "cds-secret"
DEMO_FALLBACK_MAILBOX = "trungtam.cds@dienbien.gov.vn"


def ensure_demo_sources(
    root: Path,
    *,
    seed: int,
    scale: float,
    end: date | None,
    progress: Progress = no_progress,
    echo: Callable[[str], None] = print,
) -> DemoSources:
    """Generate the demo sources unless the same ones (seed, scale, end) are there already."""
    sources = DemoSources.at(root)
    params = {"seed": seed, "scale": scale, "end": (end or date.today()).isoformat()}
    stamp = root / "params.json"
    if stamp.exists() and json.loads(stamp.read_text()) == params:
        echo(f"Demo sources in {root} are up to date ({params}).")
        return sources
    echo(f"Generating the demo sources in {root} ({params}) ...")
    stamp.unlink(missing_ok=True)
    generate(sources, seed=seed, scale=scale, end=end, progress=progress)
    stamp.write_text(json.dumps(params) + "\n")
    return sources


def _pii_key(root: Path) -> str:
    """The demo's own pseudonymisation key, made once and kept beside the demo sources."""
    path = root / ".pii_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def demo_environment(
    sources: DemoSources, portal_url: str, current: Mapping[str, str]
) -> dict[str, str]:
    """The CDS_* settings that point the pipeline at the demo sources; alerts about data no
    agency owns go to the demo's own fallback mailbox unless one is configured."""
    return {
        "CDS_ALERT_FALLBACK_TO": current.get("CDS_ALERT_FALLBACK_TO") or DEMO_FALLBACK_MAILBOX,
        "CDS_DVC_BASE_URL": portal_url,
        "CDS_DVC_CLIENT_ID": DEMO_CLIENT_ID,
        "CDS_DVC_CLIENT_SECRET": DEMO_CLIENT_SECRET,
        "CDS_QLVB_URL": sources.qlvb_url,
        "CDS_TELECOM_DIR": str(sources.telecom_dir.resolve()),
        "CDS_REFERENCE_DIR": str(sources.reference_dir.resolve()),
        "CDS_PII_KEY": _pii_key(sources.root),
    }
