"""Settings name what is missing; the `cds` command documents itself and fails clearly."""

from __future__ import annotations

import subprocess
import sys

import pytest

from orchestration.settings import SOURCE_REQUIREMENTS, Settings, SettingsError


def test_missing_settings_are_named(monkeypatch, tmp_path):
    for var in ("CDS_DVC_BASE_URL", "CDS_DVC_CLIENT_ID", "CDS_DVC_CLIENT_SECRET", "CDS_PII_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("CDS_DVC_BASE_URL", "http://127.0.0.1:1")
    settings = Settings.load(env_file=tmp_path / "absent.env")
    with pytest.raises(SettingsError) as err:
        settings.require(*SOURCE_REQUIREMENTS["dvc"])
    message = str(err.value)
    assert "CDS_DVC_CLIENT_ID" in message and "CDS_PII_KEY" in message
    assert "CDS_DVC_BASE_URL" not in message


def test_environment_wins_over_dotenv(monkeypatch, tmp_path):
    env = tmp_path / ".env"
    env.write_text("CDS_WAREHOUSE=from-file.duckdb\nCDS_QLVB_URL=sqlite:///file.db\n")
    monkeypatch.setenv("CDS_WAREHOUSE", "from-env.duckdb")
    monkeypatch.delenv("CDS_QLVB_URL", raising=False)
    settings = Settings.load(env_file=env)
    assert settings.warehouse == "from-env.duckdb"
    assert settings.qlvb_url == "sqlite:///file.db"


def test_secrets_are_not_in_repr():
    settings = Settings(dvc_client_secret="s3cr3t-value", pii_key="k3y-value")
    assert "s3cr3t-value" not in repr(settings) and "k3y-value" not in repr(settings)


def _cds(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", *args], capture_output=True, text=True
    )


def test_simulate_help_documents_every_option():
    out = _cds("simulate", "--help").stdout
    for option in ("--out", "--seed", "--scale", "--start", "--end", "--qlvb-url", "--clean"):
        assert option in out
    serve = _cds("simulate", "serve", "--help").stdout
    for option in ("--data", "--port", "--rate-limit", "--error-rate", "--slow-seconds"):
        assert option in serve


def test_bad_date_is_a_clear_error():
    result = _cds("simulate", "--end", "2025-13-01")
    assert result.returncode != 0
    assert "2025-13-01" in result.stderr and "YYYY-MM-DD" in result.stderr
