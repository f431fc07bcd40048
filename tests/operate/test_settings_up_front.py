"""`cds run` checks every setting before it starts: all problems in one message, exit 2,
nothing created, nothing read, no alert sent, no secret printed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from orchestration.settings import SETTINGS

SECRET = "s3cr3t-client-value"
PII_KEY = "pii-key-never-printed"


def cds(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """Run `cds` as a user would, in `cwd`, with no CDS_* variable but those given."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("CDS_", "DAGSTER_HOME"))}
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", *args],
        cwd=cwd,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_folder_without_settings_names_every_missing_one_and_creates_nothing(tmp_path):
    result = cds(tmp_path, {}, "run")
    assert result.returncode == 2, result.stderr
    required = [s.variable for s in SETTINGS if s.required]
    assert len(required) == 7
    for variable in required:
        assert f"{variable}: missing" in result.stderr
    assert "7 setting(s) missing or malformed" in result.stderr
    assert "Running the nightly pipeline" not in result.stdout
    assert list(tmp_path.iterdir()) == []


def test_malformed_settings_are_all_named_without_secrets(tmp_path, webhook):
    (tmp_path / "warehouse-as-folder").mkdir()
    env = {
        "CDS_WAREHOUSE": str(tmp_path / "warehouse-as-folder"),
        "CDS_DVC_BASE_URL": "portal.example/api",
        "CDS_DVC_CLIENT_ID": "cds",
        "CDS_DVC_CLIENT_SECRET": SECRET,
        "CDS_QLVB_URL": "not a url",
        "CDS_TELECOM_DIR": str(tmp_path / "no-such-feeds"),
        "CDS_REFERENCE_DIR": str(tmp_path / "no-such-reference"),
        "CDS_PII_KEY": PII_KEY,
        "CDS_ALERT_SMTP_URL": f"mail.example:25?password={SECRET}",
        "CDS_ALERT_WEBHOOK_URL": webhook.url,
        "CDS_REPORTS_DUE": "15-11",
    }
    result = cds(tmp_path, env, "run")
    assert result.returncode == 2, result.stderr
    for variable in (
        "CDS_WAREHOUSE",
        "CDS_DVC_BASE_URL",
        "CDS_QLVB_URL",
        "CDS_TELECOM_DIR",
        "CDS_REFERENCE_DIR",
        "CDS_ALERT_SMTP_URL",
        "CDS_REPORTS_DUE",
    ):
        assert f"{variable}: " in result.stderr
    assert "7 setting(s) missing or malformed" in result.stderr
    assert "MM-DD" in result.stderr and "no-such-feeds" in result.stderr
    assert SECRET not in result.stdout + result.stderr
    assert PII_KEY not in result.stdout + result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["warehouse-as-folder"]
    assert list((tmp_path / "warehouse-as-folder").iterdir()) == []
    assert webhook.bodies == []  # no alert sent
