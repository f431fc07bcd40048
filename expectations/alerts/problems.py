"""Problems: what a run found wrong, one per dataset, check and owning agency.

The problems are the run's failing rows of `quality.check_results`, each split by owner:
the suite's own per-agency count (`breakdown`), the agencies a blocking check blocked
(`quality.blocked_agencies`), or the failing keys (agency codes in a key, or the record a key
names in the raw table or the quarantine). The run's `quality.quarantine` becomes problems of
its own only for a dataset no check looked at. A problem carries keys and counts only —
never a payload value — so nothing personal can reach a message.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from expectations.alerts.breakdown import AgencyShare, breakdown
from expectations.alerts.catalogue import (
    RANKING_LABEL,
    RuleKind,
    affected_indicators,
    affects_ranking,
    base_dataset,
    indicators,
    rule_kind,
)
from warehouse.dialect import dialect_of, first_values, json_text, json_valid
from warehouse.schema import RAW_TABLES

MAX_EXAMPLES = 3
RUN_DATASET = "run"
NO_AGENCY = "*"


@dataclass(frozen=True)
class AgencyContact:
    code: str
    name: str
    email: str | None


@dataclass(frozen=True)
class Problem:
    """One failing check (or quarantine rule, or run failure) for one owner."""

    dataset: str
    check_name: str
    severity: str  # "blocking" or "warning"
    agency_code: str | None
    failed_rows: int | None
    example_keys: tuple[str, ...] = ()
    observed: str | None = None
    expected: str | None = None
    # Columns the rule named (for engineers), never their values.
    fields: tuple[str, ...] = ()
    origin: str = "check"  # "check", "quarantine" (dataset without checks) or "run"

    @property
    def key(self) -> str:
        """Stable across runs: dataset, check name and owning agency."""
        return problem_key(self.dataset, self.check_name, self.agency_code)

    @property
    def kind(self) -> RuleKind:
        return rule_kind("run_failure" if self.origin == "run" else self.check_name)

    @property
    def affected_indicators(self) -> tuple[str, ...]:
        return affected_indicators(self.dataset)

    @property
    def affects_ranking(self) -> bool:
        return affects_ranking(self.dataset)

    def affects(self) -> list[str]:
        """What it affects, in Vietnamese: indicators by code and name, and the ranking."""
        catalogue = indicators()
        parts = [
            f"{code} {catalogue[code].name}" if code in catalogue else code
            for code in self.affected_indicators
        ]
        if self.affects_ranking:
            parts.append(RANKING_LABEL)
        return parts


def problem_key(dataset: str, check_name: str, agency_code: str | None) -> str:
    return f"{dataset}|{check_name}|{agency_code or NO_AGENCY}"


def parse_problem_key(key: str) -> tuple[str, str, str | None]:
    """(dataset, check name, agency code or None) of a key made by `problem_key`."""
    dataset, _, rest = key.partition("|")
    check_name, _, agency = rest.rpartition("|")
    return dataset, check_name, None if agency in ("", NO_AGENCY) else agency


# -- agencies ---------------------------------------------------------------------------------


def load_contacts(conn: Any) -> dict[str, AgencyContact]:
    """Every agency of the latest loaded `raw.ref_co_quan` row per agency code."""
    rows = conn.execute(
        "SELECT ma_co_quan, ten, email_dau_moi FROM (SELECT ma_co_quan, ten, email_dau_moi, "
        "row_number() OVER (PARTITION BY ma_co_quan "
        "ORDER BY _loaded_at DESC NULLS LAST, hieu_luc_tu DESC NULLS LAST) AS newest "
        "FROM raw.ref_co_quan) AS latest WHERE newest = 1"
    ).fetchall()
    return {
        code: AgencyContact(code, name or code, (email or "").strip() or None)
        for code, name, email in rows
        if code
    }


def merge_contacts(
    known: Mapping[str, AgencyContact], given: Mapping[str, str | AgencyContact] | None
) -> dict[str, AgencyContact]:
    """Contacts passed in by the caller win over the reference data's."""
    merged = dict(known)
    for code, value in (given or {}).items():
        if isinstance(value, AgencyContact):
            merged[code] = value
        else:
            name = known[code].name if code in known else code
            merged[code] = AgencyContact(code, name, (value or "").strip() or None)
    return merged


# Where a raw dataset's records name their agency, and how a key finds the record.
_AGENCY_COLUMN = {
    "dvc_procedures": "ma_co_quan",
    "dvc_dossiers": "ma_co_quan",
    "qlvb_don_vi": "ma_don_vi",
    "qlvb_van_ban": "ma_don_vi",
    "qlvb_ho_so_cong_viec": "ma_don_vi",
    "qlvb_cuoc_hop": "ma_don_vi_chu_tri",
    "ref_co_quan": "ma_co_quan",
}
_PAYLOAD_AGENCY_FIELDS = ("ma_co_quan", "ma_don_vi", "ma_don_vi_chu_tri")
_KEY_SEPARATORS = re.compile(r"[|/,;@\s]+")


class _AgencyResolver:
    """Finds the owning agency of record keys, with a few small queries per run."""

    def __init__(self, conn: Any, agencies: Mapping[str, AgencyContact]) -> None:
        self.conn = conn
        self.agencies = agencies

    def known(self, code: Any) -> str | None:
        # An unknown code is not an owner (and is never shown: it may be anything).
        return code if isinstance(code, str) and code in self.agencies else None

    def in_key(self, key: str) -> str | None:
        """An agency code written in the key itself (`000.00.01.H23`, `…|2025-03-04`)."""
        for token in [key, *_KEY_SEPARATORS.split(key)]:
            if self.known(token):
                return token
        return None

    def of_records(self, dataset: str, keys: Iterable[str]) -> dict[str, str]:
        """key → agency for the keys found in the dataset's raw table (latest version)."""
        dataset = base_dataset(dataset)
        keys = sorted(set(keys))
        if not keys or dataset not in RAW_TABLES:
            return {}
        table = RAW_TABLES[dataset]
        key_column = table.key[0]
        if dataset == "dvc_ratings":
            rows = self._query(
                "SELECT CAST(r.ma_danh_gia AS VARCHAR), d.ma_co_quan FROM raw.dvc_ratings r "
                "JOIN raw.dvc_dossiers d USING (ma_ho_so) "
                "WHERE CAST(r.ma_danh_gia AS VARCHAR) IN (SELECT unnest(?))",
                keys,
            )
        elif dataset in _AGENCY_COLUMN and len(table.key) == 2:
            rows = self._query(
                f'SELECT CAST("{key_column}" AS VARCHAR), "{_AGENCY_COLUMN[dataset]}" '
                f"FROM {table.qualified} "
                f'WHERE CAST("{key_column}" AS VARCHAR) IN (SELECT unnest(?))',
                keys,
            )
        else:
            return {}
        found = {}
        for key, agency in rows:
            if (code := self.known(agency)) is not None:
                found[key] = code
        return found

    def of_dossiers(self, dossier_ids: Iterable[str]) -> dict[str, str]:
        return self.of_records("dvc_dossiers", dossier_ids)

    def _query(self, sql: str, keys: list[str], *params: Any) -> list[tuple[Any, Any]]:
        try:
            return self.conn.execute(sql, [keys, *params]).fetchall()
        except Exception:  # noqa: BLE001 - a missing table only means "owner unknown"
            return []

    def of_quarantined(self, dataset: str, keys: Iterable[str]) -> dict[str, str]:
        """key → agency named in the payload of a quarantined record with that key."""
        keys = sorted(set(keys))
        if not keys:
            return {}
        valid = json_valid("payload", dialect_of(self.conn))
        rows = self._query(
            f"SELECT record_key, CASE WHEN {valid} THEN coalesce({_payload_agency()}) END "
            "FROM quality.quarantine WHERE record_key IN (SELECT unnest(?)) AND dataset = ?",
            keys,
            base_dataset(dataset),
        )
        return {k: code for k, a in rows if (code := self.known(a)) is not None}

    def of_keys(self, dataset: str, keys: Iterable[str]) -> dict[str, str]:
        """key → agency, from the key itself, the record it names, or its quarantined copy."""
        keys = list(keys)
        found = {k: a for k in keys if (a := self.in_key(k)) is not None}
        found.update(self.of_records(dataset, [k for k in keys if k not in found]))
        found.update(self.of_quarantined(dataset, [k for k in keys if k not in found]))
        return found


# -- reading a run ------------------------------------------------------------------------


@dataclass
class CheckRow:
    dataset: str
    check_name: str
    severity: str
    passed: bool
    observed: str | None
    expected: str | None
    failed_rows: int | None
    failed_keys: str | None


@dataclass
class QuarantineGroup:
    """The records one rule rejected in one dataset, for one agency, in one run."""

    dataset: str
    rule: str
    agency_code: str | None
    count: int = 0
    keys: set[str] = field(default_factory=set)
    fields: set[str] = field(default_factory=set)


def read_checks(conn: Any, run_id: str) -> list[CheckRow]:
    rows = conn.execute(
        "SELECT dataset, check_name, severity, passed, observed, expected, failed_rows, "
        "failed_keys FROM quality.check_results WHERE run_id = ? "
        "ORDER BY dataset, check_name, checked_at",
        [run_id],
    ).fetchall()
    return [
        CheckRow(d, c, (s or "warning").lower(), bool(p), o, e, f, k)
        for d, c, s, p, o, e, f, k in rows
    ]


_RULE = r"^[a-z][a-z0-9_]*:"

# The run's quarantine grouped in the warehouse (a bad night can reject many thousand records):
# one row per (dataset, rule, agency named in the payload), with the count, a few keys and the
# identifiers the reasons mention. A reason `rule: msg; rule: msg` counts under each rule; a
# record whose reason names no rule counts as `rejected`. Ratings name their dossier, not their
# agency, so their dossiers are looked up.
_QUARANTINE_SQL = """
WITH q AS (
    SELECT row_number() OVER () AS rid, dataset, record_key, coalesce(reason, '') AS reason,
        CASE WHEN {valid} THEN coalesce({agency}) END AS agency,
        CASE WHEN dataset = 'dvc_ratings' AND {valid} THEN {dossier} END AS dossier
    FROM quality.quarantine WHERE run_id = ?
), d AS (
    SELECT ma_ho_so, min(ma_co_quan) AS agency FROM raw.dvc_dossiers
    WHERE ma_ho_so IN (SELECT dossier FROM q WHERE dossier IS NOT NULL) GROUP BY ma_ho_so
), parts AS (
    SELECT q.rid, q.dataset, q.record_key, coalesce(q.agency, d.agency) AS agency,
        q.reason ~ '(^|; ){rule}' AS has_rule,
        unnest(string_to_array(q.reason, '; ')) AS part
    FROM q LEFT JOIN d ON d.ma_ho_so = q.dossier
), named AS (
    SELECT dataset,
        CASE WHEN part ~ '{rule}' THEN split_part(part, ':', 1) ELSE 'rejected' END AS rule,
        agency, rid, record_key, part
    FROM parts WHERE part ~ '{rule}' OR NOT has_rule
)
SELECT dataset, rule, agency, count(DISTINCT rid), {keys}, array_agg(DISTINCT part)
FROM named GROUP BY 1, 2, 3
"""
_WORD = re.compile(r"[a-z_][a-z0-9_]*")


def _payload_agency() -> str:
    """The first agency field a quarantined payload names, as SQL."""
    return ", ".join(json_text("payload", f) for f in _PAYLOAD_AGENCY_FIELDS)


def read_quarantine(
    conn: Any, run_id: str, resolver: _AgencyResolver
) -> dict[tuple[str, str, str | None], QuarantineGroup]:
    """The run's quarantined records grouped by (dataset, rule, owning agency)."""
    sql = _QUARANTINE_SQL.format(
        valid=json_valid("payload", dialect_of(conn)),
        agency=_payload_agency(),
        dossier=json_text("payload", "ma_ho_so"),
        rule=_RULE,
        keys=first_values("record_key", 10),
    )
    groups: dict[tuple[str, str, str | None], QuarantineGroup] = {}
    for dataset, rule, named, count, keys, parts in conn.execute(sql, [run_id]).fetchall():
        # An unknown code is no owner: its records join the dataset's unowned group.
        owner = resolver.known(named)
        group = groups.setdefault((dataset, rule, owner), QuarantineGroup(dataset, rule, owner))
        group.count += int(count)
        group.keys |= {str(k) for k in keys or [] if k is not None}
        table = RAW_TABLES.get(base_dataset(dataset))
        if table is not None:
            words = {w for part in parts or [] if part for w in _WORD.findall(part)}
            group.fields |= words & set(table.column_names)
    return groups


def parse_failed_keys(raw: str | None) -> list[tuple[str, str | None]]:
    """(key, agency named with it or None) from `failed_keys`.

    Accepted: a JSON list of keys, of `{"key": ..., "agency_code": ...}` objects, a JSON object
    `{agency_code: [keys]}`, or plain text separated by commas or new lines.
    """
    if raw is None or not str(raw).strip():
        return []
    try:
        value = json.loads(raw)
    except ValueError:
        return [(k.strip(), None) for k in re.split(r"[,\n]", str(raw)) if k.strip()]
    out: list[tuple[str, str | None]] = []
    if isinstance(value, dict):
        for agency, keys in value.items():
            for key in keys if isinstance(keys, list) else [keys]:
                out.append((str(key), str(agency)))
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                key = item.get("key", item.get("record_key"))
                agency = item.get("agency_code", item.get("ma_co_quan", item.get("agency")))
                if key is not None:
                    out.append((str(key), str(agency) if agency is not None else None))
            elif item is not None:
                out.append((str(item), None))
    elif value is not None:
        out.append((str(value), None))
    return out


def _blocked_agencies(conn: Any, run_id: str) -> dict[tuple[str, str], set[str | None]]:
    """(dataset, check) → agencies a blocking check took out of the ranking (None: all)."""
    try:
        rows = conn.execute(
            "SELECT DISTINCT dataset, check_name, agency_code FROM quality.blocked_agencies "
            "WHERE run_id = ?",
            [run_id],
        ).fetchall()
    except Exception:  # noqa: BLE001 - an older warehouse without the table
        return {}
    out: dict[tuple[str, str], set[str | None]] = defaultdict(set)
    for dataset, check_name, agency in rows:
        out[(dataset, check_name)].add(agency or None)
    return out


def _examples(keys: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(keys))[:MAX_EXAMPLES])


def _split_check(
    check: CheckRow,
    resolver: _AgencyResolver,
    blocked: set[str | None],
    shares: list[AgencyShare] | None,
) -> list[Problem]:
    """One problem per owning agency of a failing check, plus one unowned if need be.

    The owners come, in this order, from the suite's own per-agency count (row rules and
    quarantined records: exact counts), from the agencies a blocking check blocked, or from
    the failing keys (agency codes in the key, or the records the keys name).
    """

    def problem(agency: str | None, rows: int | None, keys: Iterable[str]) -> Problem:
        return Problem(
            check.dataset,
            check.check_name,
            check.severity,
            agency,
            rows,
            _examples(keys),
            check.observed,
            check.expected,
        )

    if shares and sum(share.failed for share in shares) > 0:
        counted: dict[str | None, tuple[int, list[str]]] = {}
        for share in shares:
            owner = resolver.known(share.agency_code)  # unknown codes: nobody's, engineers'
            rows, keys = counted.get(owner, (0, []))
            counted[owner] = (rows + share.failed, keys + list(share.keys))
        return [
            problem(owner, rows, keys)
            for owner, (rows, keys) in sorted(counted.items(), key=lambda kv: kv[0] or "~")
            if rows > 0
        ]

    pairs = parse_failed_keys(check.failed_keys)
    keys = [k for k, _ in pairs]
    owners = {k: a for k, a in pairs if resolver.known(a)}
    owners.update(resolver.of_keys(check.dataset, [k for k in keys if k not in owners]))
    by_agency: dict[str | None, list[str]] = defaultdict(list)
    for key in keys:
        by_agency[owners.get(key)].append(key)
    complete = check.failed_rows is None or len(set(keys)) >= check.failed_rows

    named = sorted(a for a in blocked if resolver.known(a))
    if named:
        # The check says whom it blocks: each of those agencies hears about it, and the
        # engineers too when it blocks the whole dataset (or agencies nobody knows).
        whole = None in blocked or len(named) < len(blocked)
        alone = len(named) == 1 and not whole
        found = [
            problem(
                a,
                check.failed_rows if alone else len(set(by_agency[a])) if complete else None,
                by_agency.get(a, []),
            )
            for a in named
        ]
        if whole:
            found.append(problem(None, check.failed_rows, by_agency.get(None, [])))
        return found
    owned = sorted(a for a in by_agency if a is not None)
    if not owned:
        return [problem(None, check.failed_rows, keys)]
    if len(owned) == 1 and None not in by_agency:
        # Every failing key (or every sampled one) belongs to one agency.
        return [problem(owned[0], check.failed_rows, keys)]
    if complete:
        # The full list of failing keys: each agency gets its own share, exactly.
        return [
            problem(a, len(set(ks)), ks)
            for a, ks in sorted(by_agency.items(), key=lambda item: item[0] or "~")
        ]
    # Only a sample spanning several owners: the count per agency is unknown, so the problem
    # stays dataset-wide with the engineers.
    return [problem(None, check.failed_rows, keys)]


def _fold_quarantined(problems: list[Problem]) -> list[Problem]:
    """Drop `<dataset>.quarantined_records` where its records are already told by rule.

    The suites report a rejected record twice: under its rule (e.g. `enum_kenh_nop`) and in
    the dataset's `quarantined_records`. An official needs it once, under the rule that says
    what is wrong; the quarantine problem stays only for records no other problem explains.
    Sound on example keys: a key among the 3 smallest of all is among the 3 smallest of any
    problem that contains it.
    """
    grouped: dict[tuple[str, str | None], list[Problem]] = defaultdict(list)
    for problem in problems:
        grouped[(problem.dataset, problem.agency_code)].append(problem)
    kept = []
    for problem in problems:
        if problem.check_name.endswith("quarantined_records"):
            others = [
                o for o in grouped[(problem.dataset, problem.agency_code)] if o is not problem
            ]
            told = {k for o in others for k in o.example_keys}
            covered = sum(o.failed_rows or 0 for o in others)
            if (
                others
                and set(problem.example_keys) <= told
                and (problem.failed_rows or 0) <= (covered)
            ):
                continue
        kept.append(problem)
    return kept


def problems_of_run(
    conn: Any, run_id: str, agencies: Mapping[str, AgencyContact]
) -> tuple[list[Problem], list[CheckRow], dict[str, int]]:
    """(problems, all check rows, records quarantined in this run per dataset).

    The failing checks are the problems. The run's quarantine becomes problems of its own
    only for a dataset no check looked at in this run (the suites' `quarantined_records`
    and row-rule checks already count quarantined records, per agency).
    """
    resolver = _AgencyResolver(conn, agencies)
    checks = read_checks(conn, run_id)
    blocked = _blocked_agencies(conn, run_id)
    failing = {(c.dataset, c.check_name): c for c in checks if not c.passed}

    problems: list[Problem] = []
    for (dataset, check_name), check in sorted(failing.items()):
        shares = breakdown(conn, dataset, check_name)
        problems.extend(
            _split_check(check, resolver, blocked.get((dataset, check_name), set()), shares)
        )

    problems = _fold_quarantined(problems)

    checked = {c.dataset for c in checks}
    quarantine = read_quarantine(conn, run_id, resolver)
    for (dataset, rule, agency), group in sorted(
        quarantine.items(), key=lambda item: (item[0][0], item[0][1], item[0][2] or "~")
    ):
        if dataset in checked:
            continue
        problems.append(
            Problem(
                dataset,
                rule,
                "warning",
                agency,
                group.count,
                _examples(group.keys),
                fields=tuple(sorted(group.fields)),
                origin="quarantine",
            )
        )
    quarantined = dict(
        conn.execute(
            "SELECT dataset, count(*) FROM quality.quarantine WHERE run_id = ? GROUP BY dataset",
            [run_id],
        ).fetchall()
    )
    return problems, checks, quarantined


def failure_problems(failures: Iterable[str]) -> list[Problem]:
    """Run failures (`"step: message"`) as problems of the fallback mailbox."""
    problems = []
    for number, failure in enumerate(failures, start=1):
        step, sep, message = failure.partition(": ")
        name = step.strip() if sep and step.strip() else f"failure_{number}"
        problems.append(
            Problem(
                RUN_DATASET,
                name,
                "blocking",
                None,
                None,
                (),
                observed=(message if sep else failure).strip()[:2000],
                origin="run",
            )
        )
    return problems
