"""Which check finds which kind of planted anomaly of the demo data (simulator manifest).

`cds demo` and the end-to-end tests use it to show that every planted anomaly was caught by
a named check, and that every failed check is explained by one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from expectations.rules import CheckOutcome

# (dataset, kind) -> the checks that find it (the first is the one named for it).
FINDERS: dict[tuple[str, str], tuple[str, ...]] = {
    ("dvc_procedures", "duplicate"): ("dvc_procedures.key_version_unique",),
    ("dvc_dossiers", "date_order"): ("dvc_dossiers.date_order_finished_after_received",),
    ("dvc_dossiers", "unknown_code"): ("dvc_dossiers.agency_code_valid_at_date",),
    ("dvc_dossiers", "enum"): ("dvc_dossiers.enum_kenh_nop", "dvc_dossiers.enum_trang_thai"),
    ("dvc_dossiers", "wrong_type"): ("dvc_dossiers.values_parseable",),
    ("dvc_dossiers", "volume_collapse"): ("dvc_dossiers.volume_per_agency_weekly",),
    ("dvc_ratings", "enum"): ("dvc_ratings.enum_muc_do",),
    ("dvc_ratings", "unknown_code"): ("dvc_ratings.dossier_exists",),
    ("qlvb_van_ban", "unknown_code"): ("qlvb_van_ban.unit_code_valid_at_date",),
    ("qlvb_van_ban", "enum"): (
        "qlvb_van_ban.enum_chieu",
        "qlvb_van_ban.enum_hinh_thuc",
        "qlvb_van_ban.enum_do_mat",
    ),
    ("qlvb_ho_so_cong_viec", "date_order"): (
        "qlvb_ho_so_cong_viec.date_order_closed_after_opened",
    ),
    ("qlvb_cuoc_hop", "enum"): ("qlvb_cuoc_hop.enum_hinh_thuc",),
    ("telecom_coverage", "unknown_village"): ("telecom_coverage.village_code_known",),
    ("telecom_coverage", "negative_count"): ("telecom_coverage.counts_not_negative",),
    ("telecom_files", "legacy_encoding"): ("telecom_files.feed_files_readable",),
    ("telecom_files", "truncated_file"): ("telecom_files.feed_files_readable",),
    ("telecom_files", "empty_file"): ("telecom_files.feed_files_readable",),
    ("telecom_files", "stray_file"): ("telecom_files.no_stray_files",),
    ("telecom_files", "missing_carrier_month"): ("telecom_files.carrier_month_present",),
    ("telecom_files", "late_correction"): ("telecom_files.month_resent",),
}

# Checks that fail as a consequence of an anomaly another check is named for: quarantined
# records of a dataset, a file that lands nothing leaves villages unreported and a month
# without a readable file.
CONSEQUENCES: dict[str, tuple[str, ...]] = {
    "quarantined_records": (
        "date_order",
        "unknown_code",
        "enum",
        "wrong_type",
        "duplicate",
        "negative_count",
        "unknown_village",
    ),
    "telecom_coverage.every_village_reported_monthly": (
        "missing_carrier_month",
        "legacy_encoding",
        "truncated_file",
        "empty_file",
    ),
    "telecom_files.carrier_month_present": ("legacy_encoding", "truncated_file", "empty_file"),
}


@dataclass(frozen=True)
class Match:
    """A planted anomaly and the failed check that found it (None: not found)."""

    dataset: str
    kind: str
    record_key: str | None
    check_name: str | None


def _field(anomaly: Any, name: str) -> Any:
    return anomaly.get(name) if isinstance(anomaly, dict) else getattr(anomaly, name)


def _names_key(outcome: CheckOutcome, key: str | None) -> bool:
    if key is None or outcome.failed_rows > len(outcome.failed_keys):
        # No key to look for, or more failures than the sample shows: the check counts.
        return True
    return any(k == key or k.startswith(f"{key}|") for k in outcome.failed_keys)


def match_anomalies(outcomes: Iterable[CheckOutcome], anomalies: Iterable[Any]) -> list[Match]:
    """For each planted anomaly, the failed check named for its kind that lists its key."""
    failed = {o.check_name: o for o in outcomes if not o.passed}
    matches = []
    for anomaly in anomalies:
        dataset, kind = _field(anomaly, "dataset"), _field(anomaly, "kind")
        key = _field(anomaly, "record_key")
        found = next(
            (
                name
                for name in FINDERS.get((dataset, kind), ())
                if name in failed and _names_key(failed[name], key)
            ),
            None,
        )
        matches.append(Match(dataset, kind, key, found))
    return matches


def unexplained(outcomes: Iterable[CheckOutcome], anomalies: Iterable[Any]) -> list[CheckOutcome]:
    """Failed checks that no planted anomaly accounts for."""
    planted = [(_field(a, "dataset"), _field(a, "kind")) for a in anomalies]
    kinds = {kind for _, kind in planted}
    named = {name for pair in planted for name in FINDERS.get(pair, ())}
    out = []
    for o in outcomes:
        if o.passed or o.check_name in named:
            continue
        short = o.check_name.split(".", 1)[1]
        because = CONSEQUENCES.get(o.check_name) or CONSEQUENCES.get(short) or ()
        if short == "quarantined_records":
            if any(d == o.dataset and k in because for d, k in planted):
                continue
        elif any(k in kinds for k in because):
            continue
        out.append(o)
    return out
