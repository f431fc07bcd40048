"""The pipeline's settings (pipeline-interface.md): environment variables, then `.env`.

Real environment variables win over `.env`. A missing required setting stops the run before
anything is read, with a message that names the variable. Secrets are never printed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

DEFAULT_WAREHOUSE = "warehouse/cds.duckdb"
SECRET_VARIABLES = frozenset({"CDS_DVC_CLIENT_SECRET", "CDS_PII_KEY"})


class SettingsError(RuntimeError):
    """A required setting is missing or malformed."""


def _environment(env_file: Path | None) -> dict[str, str]:
    path = env_file if env_file is not None else Path.cwd() / ".env"
    from_file = {k: v for k, v in dotenv_values(path).items() if v is not None}
    return {**from_file, **os.environ}


@dataclass(frozen=True)
class Settings:
    warehouse: str = DEFAULT_WAREHOUSE
    dvc_base_url: str | None = None
    dvc_client_id: str | None = None
    dvc_client_secret: str | None = field(default=None, repr=False)
    qlvb_url: str | None = None
    telecom_dir: str | None = None
    reference_dir: str | None = None
    pii_key: str | None = field(default=None, repr=False)
    alert_smtp_url: str | None = field(default=None, repr=False)
    alert_from: str = "cds-alerts@localhost"
    alert_webhook_url: str | None = None
    alert_fallback_to: str | None = None

    @classmethod
    def load(cls, env_file: Path | None = None) -> Settings:
        env = _environment(env_file)

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        return cls(
            warehouse=get("CDS_WAREHOUSE") or DEFAULT_WAREHOUSE,
            dvc_base_url=get("CDS_DVC_BASE_URL"),
            dvc_client_id=get("CDS_DVC_CLIENT_ID"),
            dvc_client_secret=get("CDS_DVC_CLIENT_SECRET"),
            qlvb_url=get("CDS_QLVB_URL"),
            telecom_dir=get("CDS_TELECOM_DIR"),
            reference_dir=get("CDS_REFERENCE_DIR"),
            pii_key=get("CDS_PII_KEY"),
            alert_smtp_url=get("CDS_ALERT_SMTP_URL"),
            alert_from=get("CDS_ALERT_FROM") or "cds-alerts@localhost",
            alert_webhook_url=get("CDS_ALERT_WEBHOOK_URL"),
            alert_fallback_to=get("CDS_ALERT_FALLBACK_TO"),
        )

    def require(self, *variables: str) -> None:
        """Fail, naming every missing variable, before anything is read."""
        missing = [v for v in variables if getattr(self, _ATTRIBUTE[v]) is None]
        if missing:
            raise SettingsError(
                "missing required setting(s): "
                + ", ".join(missing)
                + " (set them in the environment or in .env; see pipeline-interface.md)"
            )

    def as_environment(self) -> dict[str, str]:
        """The settings as CDS_* variables, for child processes (dbt, Dagster)."""
        return {var: value for var, attr in _ATTRIBUTE.items() if (value := getattr(self, attr))}


_ATTRIBUTE = {
    "CDS_WAREHOUSE": "warehouse",
    "CDS_DVC_BASE_URL": "dvc_base_url",
    "CDS_DVC_CLIENT_ID": "dvc_client_id",
    "CDS_DVC_CLIENT_SECRET": "dvc_client_secret",
    "CDS_QLVB_URL": "qlvb_url",
    "CDS_TELECOM_DIR": "telecom_dir",
    "CDS_REFERENCE_DIR": "reference_dir",
    "CDS_PII_KEY": "pii_key",
    "CDS_ALERT_SMTP_URL": "alert_smtp_url",
    "CDS_ALERT_FROM": "alert_from",
    "CDS_ALERT_WEBHOOK_URL": "alert_webhook_url",
    "CDS_ALERT_FALLBACK_TO": "alert_fallback_to",
}

# What each source needs before it is read.
SOURCE_REQUIREMENTS: dict[str, tuple[str, ...]] = {
    "dvc": ("CDS_DVC_BASE_URL", "CDS_DVC_CLIENT_ID", "CDS_DVC_CLIENT_SECRET", "CDS_PII_KEY"),
    "qlvb": ("CDS_QLVB_URL",),
    "telecom": ("CDS_TELECOM_DIR", "CDS_REFERENCE_DIR"),
    "reference": ("CDS_REFERENCE_DIR",),
}
