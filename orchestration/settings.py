"""The pipeline's settings (pipeline-interface.md): environment variables, then `.env`.

Real environment variables win over `.env`. One declarative table (`SETTINGS`) says what
each setting is, whether the run needs it and what a well-formed value looks like;
`Settings.check` names every missing or malformed one in one message before anything is
read or created. Secrets are never printed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

DEFAULT_WAREHOUSE = "warehouse/cds.duckdb"
DEFAULT_REPORTS_DUE = "11-15"


class SettingsError(RuntimeError):
    """A required setting is missing or malformed."""


# What each source needs before it is read.
SOURCE_REQUIREMENTS: dict[str, tuple[str, ...]] = {
    "dvc": ("CDS_DVC_BASE_URL", "CDS_DVC_CLIENT_ID", "CDS_DVC_CLIENT_SECRET", "CDS_PII_KEY"),
    "qlvb": ("CDS_QLVB_URL",),
    "telecom": ("CDS_TELECOM_DIR", "CDS_REFERENCE_DIR"),
    "reference": ("CDS_REFERENCE_DIR",),
}
# The nightly run reads every source, so it needs what any of them needs.
_RUN_REQUIRES = frozenset(v for needs in SOURCE_REQUIREMENTS.values() for v in needs)


@dataclass(frozen=True)
class Setting:
    """One CDS_* variable: the attribute it fills, its kind, whether the run needs it."""

    variable: str
    attribute: str
    kind: str  # text | secret | url | smtp | sqlalchemy | folder | warehouse | month_day

    @property
    def required(self) -> bool:
        return self.variable in _RUN_REQUIRES


SETTINGS: tuple[Setting, ...] = (
    Setting("CDS_WAREHOUSE", "warehouse", "warehouse"),
    Setting("CDS_DVC_BASE_URL", "dvc_base_url", "url"),
    Setting("CDS_DVC_CLIENT_ID", "dvc_client_id", "text"),
    Setting("CDS_DVC_CLIENT_SECRET", "dvc_client_secret", "secret"),
    Setting("CDS_QLVB_URL", "qlvb_url", "sqlalchemy"),
    Setting("CDS_TELECOM_DIR", "telecom_dir", "folder"),
    Setting("CDS_REFERENCE_DIR", "reference_dir", "folder"),
    Setting("CDS_PII_KEY", "pii_key", "secret"),
    Setting("CDS_ALERT_SMTP_URL", "alert_smtp_url", "smtp"),
    Setting("CDS_ALERT_FROM", "alert_from", "text"),
    Setting("CDS_ALERT_WEBHOOK_URL", "alert_webhook_url", "url"),
    Setting("CDS_ALERT_FALLBACK_TO", "alert_fallback_to", "text"),
    Setting("CDS_REPORTS_DIR", "reports_dir", "folder"),
    Setting("CDS_REPORTS_DUE", "reports_due", "month_day"),
)
_ATTRIBUTE = {s.variable: s.attribute for s in SETTINGS}


def _environment(env_file: Path | None) -> dict[str, str]:
    path = env_file if env_file is not None else Path.cwd() / ".env"
    from_file = {k: v for k, v in dotenv_values(path).items() if v is not None}
    return {**from_file, **os.environ}


def _url_problem(value: str, schemes: tuple[str, ...]) -> str | None:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        return "is not a valid URL"
    if parts.scheme not in schemes or not parts.hostname:
        return f"must be a URL of the form {schemes[0]}://host[:port]/..."
    return None


def _warehouse_problem(value: str) -> str | None:
    if "://" in value:
        return _url_problem(value, ("postgresql", "postgres"))
    path = Path(value)
    if path.is_dir() or value.endswith(("/", os.sep)):
        return f"must be a DuckDB file path or a postgresql:// URL, not the folder {value}"
    return None


def _month_day_problem(value: str) -> str | None:
    try:
        valid = bool(re.fullmatch(r"\d\d-\d\d", value)) and date.fromisoformat(f"2024-{value}")
    except ValueError:
        valid = False
    if not valid:
        return f"must be a date of the year as MM-DD (e.g. {DEFAULT_REPORTS_DUE}), not {value!r}"
    return None


def problem_of(setting: Setting, value: str) -> str | None:
    """Why `value` is not a well-formed value of `setting`, or None. Never quotes a secret."""
    kind = setting.kind
    if kind == "url":
        return _url_problem(value, ("https", "http"))
    if kind == "smtp":
        return _url_problem(value, ("smtp", "smtps"))
    if kind == "sqlalchemy":
        return None if re.match(r"^[a-z][a-z0-9+]*://", value) else "is not a SQLAlchemy URL"
    if kind == "folder":
        return None if Path(value).is_dir() else f"is not an existing folder: {value}"
    if kind == "warehouse":
        return _warehouse_problem(value)
    if kind == "month_day":
        return _month_day_problem(value)
    return None


@dataclass(frozen=True)
class Settings:
    warehouse: str = DEFAULT_WAREHOUSE
    dvc_base_url: str | None = None
    dvc_client_id: str | None = None
    dvc_client_secret: str | None = field(default=None, repr=False)
    qlvb_url: str | None = field(default=None, repr=False)
    telecom_dir: str | None = None
    reference_dir: str | None = None
    pii_key: str | None = field(default=None, repr=False)
    alert_smtp_url: str | None = field(default=None, repr=False)
    alert_from: str = "cds-alerts@localhost"
    alert_webhook_url: str | None = field(default=None, repr=False)
    alert_fallback_to: str | None = None
    reports_dir: str | None = None
    reports_due: str = DEFAULT_REPORTS_DUE

    @classmethod
    def load(cls, env_file: Path | None = None) -> Settings:
        env = _environment(env_file)
        values = {s.attribute: env.get(s.variable, "").strip() for s in SETTINGS}
        return cls(**{k: v for k, v in values.items() if v})

    def problems(self) -> list[str]:
        """Every missing or malformed setting, one `VARIABLE: why` each, in table order."""
        found = []
        for setting in SETTINGS:
            value = getattr(self, setting.attribute)
            if value is None:
                if setting.required:
                    found.append(f"{setting.variable}: missing")
            elif (problem := problem_of(setting, value)) is not None:
                found.append(f"{setting.variable}: {problem}")
        return found

    def check(self) -> None:
        """Fail, naming every missing or malformed setting at once, before anything starts."""
        found = self.problems()
        if found:
            raise SettingsError(
                f"{len(found)} setting(s) missing or malformed "
                "(set them in the environment or in .env; see pipeline-interface.md):\n  "
                + "\n  ".join(found)
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
