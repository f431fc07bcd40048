"""Which agencies a failing check concerns, and how many of their records, by the suite's SQL.

`quality.check_results` holds one row per check, with a sample of failing keys that may span
many agencies. To tell each agency about its own records, the failing records of a row rule
(and of `<dataset>.quarantined_records`) are counted per agency with the same SQL fragments
the suite used (`expectations.registry` / `expectations.sql`), in one pass over the table and
one over the open quarantine. Anything else — a table rule, a dataset without agencies, a
suite that cannot be imported or run — gives `None`, and routing falls back to the keys.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from warehouse.dialect import hash_join_plans

log = logging.getLogger(__name__)
MAX_KEYS = 10


@dataclass(frozen=True)
class AgencyShare:
    agency_code: str | None  # as the data names it (may be unknown to the reference)
    failed: int
    keys: tuple[str, ...]


def _rows_sql(spec: Any, rule: Any | None) -> str:
    """Failing (agency, key) pairs: rows of the table breaking the rule, then open quarantine."""
    from expectations import sql as q
    from warehouse.dialect import first_values

    parts = []
    if rule is not None:
        parts.append(
            f"SELECT CAST({spec.agency_sql} AS VARCHAR) AS agency_code, "
            f"CAST({spec.key_sql} AS VARCHAR) AS k FROM {q.table_from(spec)}\n"
            f"{q.joins_of(spec, (rule,))}\nWHERE {rule.sql}"
        )
    where = q.reason_filter(rule) if rule is not None else "TRUE"
    parts.append(
        "SELECT q.agency_code, coalesce(q.record_key, '(no key)') AS k "
        f"FROM qopen AS q WHERE {where}"
    )
    union = "\nUNION ALL\n".join(f"({p})" for p in parts)
    return q.with_ctes(
        f"SELECT agency_code, count(*) AS failed, {first_values('k', MAX_KEYS)} AS keys "
        f"FROM ({union}) AS failing GROUP BY 1 ORDER BY 1 NULLS FIRST",
        q.open_quarantine(spec),
    )


def breakdown(conn: Any, dataset: str, check_name: str) -> list[AgencyShare] | None:
    """Failing records per agency for a row rule or `quarantined_records`; None otherwise."""
    try:
        from expectations.registry import SPECS
    except Exception:  # noqa: BLE001 - the suites are optional for alerting
        log.debug("suites not importable: no per-agency breakdown", exc_info=True)
        return None
    spec = SPECS.get(dataset)
    if spec is None or spec.agency_sql is None:
        return None
    rule = next((r for r in spec.row_rules if r.name == check_name), None)
    if rule is None and check_name != f"{dataset}.quarantined_records":
        return None
    try:
        with hash_join_plans(conn):
            rows = conn.execute(_rows_sql(spec, rule)).fetchall()
    except Exception:  # noqa: BLE001 - a breakdown that cannot run only loses precision
        log.warning("no per-agency breakdown of %s", check_name, exc_info=True)
        return None
    shares = []
    for agency, failed, keys in rows:
        unique = tuple(dict.fromkeys(str(k) for k in keys or [] if k is not None))
        shares.append(AgencyShare(agency, int(failed), unique))
    return shares
