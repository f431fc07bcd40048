"""After a run: route the problems to their owners, hold back what they already know, send.

`send_digests` is called once after each run, `send_run_failure` when a run failed. Neither
raises: a channel that is down is retried, recorded in `quality.alerts` as failed, and the
pipeline carries on.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from expectations.alerts.channels import (
    ChannelError,
    Delivery,
    RetryPolicy,
    parse_smtp_url,
    post_webhook,
    redact,
    send_email,
    write_outbox,
)
from expectations.alerts.problems import (
    AgencyContact,
    CheckRow,
    Problem,
    failure_problems,
    load_contacts,
    merge_contacts,
    problems_of_run,
)
from expectations.alerts.render import (
    VIETNAM,
    Digest,
    RecipientLine,
    RunOverview,
    email_message,
    subject,
    text,
    webhook_payload,
)
from expectations.alerts.suppression import DEFAULT_SUPPRESSION, Decision, Item, decide
from warehouse.alerts_log import AlertAttempt, problem_history, record_attempt

log = logging.getLogger(__name__)

DEFAULT_OUTBOX = Path("warehouse/outbox")
NO_FALLBACK = "no recipient: CDS_ALERT_FALLBACK_TO is not set"


class AlertSettings(Protocol):
    """The settings alerts read (`orchestration.settings.Settings` has them all)."""

    alert_smtp_url: str | None
    alert_from: str
    alert_webhook_url: str | None
    alert_fallback_to: str | None


@dataclass(frozen=True)
class SentDigest:
    recipient: str | None
    subject: str
    new: int
    reminder: int
    resolved: int
    deliveries: tuple[Delivery, ...]

    @property
    def delivered(self) -> bool:
        return any(d.delivered for d in self.deliveries)


@dataclass
class AlertSummary:
    """What the alerts of one run did, for the run's output and for tests."""

    run_id: str
    problems: int = 0
    suppressed: int = 0
    digests: list[SentDigest] = field(default_factory=list)
    error: str | None = None  # an unexpected failure of the alerting itself (never raised)

    @property
    def delivered(self) -> int:
        return sum(1 for d in self.digests if d.delivered)

    @property
    def failed(self) -> int:
        return sum(1 for d in self.digests if not d.delivered)

    @property
    def outbox_files(self) -> list[Path]:
        return [x.path for d in self.digests for x in d.deliveries if x.path is not None]

    def lines(self) -> list[str]:
        out = [
            f"Alerts: {len(self.digests)} digest(s), {self.delivered} delivered, "
            f"{self.failed} failed; {self.problems} open problem(s), "
            f"{self.suppressed} suppressed (already told)"
        ]
        for d in self.digests:
            channels = ", ".join(
                f"{x.channel} {'ok' if x.delivered else 'FAILED: ' + (x.error or '')}"
                for x in d.deliveries
            )
            out.append(f"  {d.recipient or '(no fallback mailbox)'}: {d.subject} [{channels}]")
        out += [f"  outbox: {path}" for path in self.outbox_files]
        if self.error:
            out.append(f"  alerting error: {self.error}")
        return out


def vietnam_now() -> datetime:
    """Now, as the warehouse stores time: naive Vietnam local time."""
    return datetime.now(VIETNAM).replace(tzinfo=None)


def _window(settings: AlertSettings, window: timedelta | None) -> timedelta:
    if window is not None:
        return window
    days = getattr(settings, "alert_suppression_days", None)
    return timedelta(days=float(days)) if days else DEFAULT_SUPPRESSION


def _secrets(settings: AlertSettings) -> list[str | None]:
    secrets: list[str | None] = [
        getattr(settings, name, None) for name in ("dvc_client_secret", "pii_key")
    ]
    if settings.alert_smtp_url:
        try:
            secrets.append(parse_smtp_url(settings.alert_smtp_url).password)
        except ChannelError:
            secrets.append(settings.alert_smtp_url)
    return secrets


def _slug(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", value).strip("_") or "x"


def deliver(
    conn: Any,
    settings: AlertSettings,
    digest: Digest,
    *,
    outbox: Path = DEFAULT_OUTBOX,
    retry: RetryPolicy | None = None,
) -> SentDigest:
    """Send one digest on every configured channel and record each attempt."""
    retry = retry or RetryPolicy()
    title, body = subject(digest), text(digest)
    deliveries: list[Delivery] = []
    message = email_message(digest, settings.alert_from)
    if settings.alert_smtp_url:
        if digest.recipient is None:
            deliveries.append(Delivery("email", False, NO_FALLBACK, 0))
        else:
            try:
                target = parse_smtp_url(settings.alert_smtp_url)
            except ChannelError as exc:
                deliveries.append(Delivery("email", False, str(exc), 0))
            else:
                deliveries.append(send_email(target, message, retry))
    else:
        name = (
            f"{digest.created_at:%Y%m%d-%H%M%S}_{_slug(digest.run_id)[:12]}_"
            f"{digest.kind}_{_slug(digest.recipient or 'fallback')}"
        )
        deliveries.append(write_outbox(outbox, name, message))
    if settings.alert_webhook_url:
        deliveries.append(post_webhook(settings.alert_webhook_url, webhook_payload(digest), retry))

    secrets = _secrets(settings)
    for delivery in deliveries:
        attempt = AlertAttempt(
            run_id=digest.run_id,
            recipient=digest.recipient,
            channel=delivery.channel,
            subject=title,
            body=body,
            delivered=delivery.delivered,
            error=redact(delivery.error, secrets) if delivery.error else None,
            problem_keys=digest.entries(),
            created_at=digest.created_at,
        )
        if conn is not None:
            try:
                record_attempt(conn, attempt)
            except Exception:  # noqa: BLE001 - the alert itself matters more than its log
                log.exception("could not record an alert attempt in quality.alerts")
    counts = defaultdict(int)
    for item in digest.items:
        counts[item.state] += 1
    return SentDigest(
        digest.recipient,
        title,
        counts["new"],
        counts["reminder"],
        counts["resolved"],
        tuple(deliveries),
    )


def _agencies(conn: Any, contacts: Mapping[str, str | AgencyContact] | None) -> dict:
    try:
        known = load_contacts(conn)
    except Exception:  # noqa: BLE001 - no reference data yet: only passed-in contacts
        log.warning("raw.ref_co_quan not readable; routing with the given contacts only")
        known = {}
    return merge_contacts(known, contacts)


def _route(
    problems: list[Problem], agencies: Mapping[str, AgencyContact], fallback: str | None
) -> dict[str | None, list[Problem]]:
    """Each agency's contact gets its own problems; the fallback mailbox gets the rest."""
    routed: dict[str | None, list[Problem]] = defaultdict(list)
    for problem in problems:
        contact = agencies.get(problem.agency_code or "")
        routed[contact.email if contact and contact.email else fallback].append(problem)
    return dict(routed)


def _evaluator(conn: Any, run_id: str, checks: list[CheckRow]) -> Callable[[str, str], bool]:
    """Whether this run evaluated a (dataset, check): the check ran, or — for a dataset with
    no checks, whose problems come from the quarantine — the source was read successfully."""
    try:
        rows = conn.execute(
            "SELECT DISTINCT source FROM ops.run_log WHERE run_id = ? AND status = 'succeeded'",
            [run_id],
        ).fetchall()
    except Exception:  # noqa: BLE001 - without a run log only the checks tell
        rows = []
    read = {source for (source,) in rows}
    pairs = {(c.dataset, c.check_name) for c in checks}
    checked = {c.dataset for c in checks}

    def evaluated(dataset: str, check_name: str) -> bool:
        return (dataset, check_name) in pairs or (dataset not in checked and dataset in read)

    return evaluated


def send_digests(
    conn: Any,
    settings: AlertSettings,
    run_id: str,
    *,
    now: datetime | None = None,
    outbox: Path = DEFAULT_OUTBOX,
    contacts: Mapping[str, str | AgencyContact] | None = None,
    window: timedelta | None = None,
    retry: RetryPolicy | None = None,
) -> AlertSummary:
    """Send this run's digests: one per recipient, suppressed and resolved as they should be.

    Reads the run's `quality.check_results` and `quality.quarantine`, routes each problem to
    its agency's `email_dau_moi` (latest `raw.ref_co_quan`, or `contacts`: agency code →
    e-mail or `AgencyContact`) or to `CDS_ALERT_FALLBACK_TO`, and records every attempt in
    `quality.alerts`. Never raises.
    """
    summary = AlertSummary(run_id)
    try:
        _send_digests(conn, settings, run_id, summary, now, outbox, contacts, window, retry)
    except Exception as exc:  # noqa: BLE001 - alerting must never fail the run
        log.exception("alerting failed for run %s", run_id)
        summary.error = redact(f"{type(exc).__name__}: {exc}", _secrets(settings))
    return summary


def _send_digests(
    conn: Any,
    settings: AlertSettings,
    run_id: str,
    summary: AlertSummary,
    now: datetime | None,
    outbox: Path,
    contacts: Mapping[str, str | AgencyContact] | None,
    window: timedelta | None,
    retry: RetryPolicy | None,
) -> None:
    now = now or vietnam_now()
    window = _window(settings, window)
    agencies = _agencies(conn, contacts)
    problems, checks, quarantined = problems_of_run(conn, run_id, agencies)
    # A check's observed/expected text is shown to engineers: keep any configured secret out.
    secrets = _secrets(settings)
    problems = [
        replace(
            p,
            observed=redact(p.observed, secrets) if p.observed else p.observed,
            expected=redact(p.expected, secrets) if p.expected else p.expected,
        )
        for p in problems
    ]
    fallback = settings.alert_fallback_to
    routed = _route(problems, agencies, fallback)
    decisions = decide(
        routed,
        problem_history(conn),
        evaluated=_evaluator(conn, run_id, checks),
        now=now,
        window=window,
    )
    summary.problems = len(problems)
    summary.suppressed = sum(len(d.suppressed) for d in decisions.values())
    days = max(1, round(window.total_seconds() / 86400))

    def digest(recipient: str | None, decision: Decision, is_fallback: bool) -> Digest:
        return Digest(
            run_id,
            recipient,
            now,
            _ordered(decision.items),
            agencies,
            fallback=is_fallback,
            suppressed=len(decision.suppressed),
            window_days=days,
        )

    digests = [
        digest(r, d, False)
        for r, d in sorted(decisions.items(), key=lambda kv: kv[0] or "")
        if r != fallback and d.items
    ]
    own = decisions.get(fallback, Decision())
    if digests or own.items:
        summary_digest = digest(fallback, own, True)
        lines = [
            RecipientLine(
                d.recipient,
                d.audience,
                *(sum(1 for i in d.items if i.state == s) for s in ("new", "reminder", "resolved")),
                d.suppressed,
            )
            for d in [*digests, summary_digest]
        ]
        summary_digest.overview = RunOverview(checks, quarantined, lines)
        digests.append(summary_digest)
    for d in digests:
        summary.digests.append(deliver(conn, settings, d, outbox=outbox, retry=retry))


_STATE_ORDER = {"new": 0, "reminder": 1, "resolved": 2}
_SEVERITY_ORDER = {"blocking": 0, "warning": 1}


def _ordered(items: list[Item]) -> list[Item]:
    """Blocking first, then new before reminders, then by agency, dataset and check."""
    return sorted(
        items,
        key=lambda i: (
            _STATE_ORDER.get(i.state, 3),
            _SEVERITY_ORDER.get(i.problem.severity, 2),
            i.problem.agency_code or "~",
            i.problem.dataset,
            i.problem.check_name,
        ),
    )


def send_run_failure(
    settings: AlertSettings,
    conn: Any,
    run_id: str,
    failures: list[str],
    *,
    now: datetime | None = None,
    outbox: Path = DEFAULT_OUTBOX,
    retry: RetryPolicy | None = None,
) -> AlertSummary:
    """Tell the fallback mailbox that a run failed (`failures`: "step: message" lines).

    Sent every time (a failed night is always news). `conn` may be None when the warehouse
    itself could not be opened: the message is then sent but not recorded. Never raises.
    """
    summary = AlertSummary(run_id)
    try:
        secrets = _secrets(settings)
        problems = failure_problems(redact(f, secrets) for f in failures or ["run failed"])
        digest = Digest(
            run_id,
            settings.alert_fallback_to,
            now or vietnam_now(),
            [Item(p, "new") for p in problems],
            {},
            fallback=True,
            kind="run_failure",
        )
        summary.problems = len(problems)
        summary.digests.append(deliver(conn, settings, digest, outbox=outbox, retry=retry))
    except Exception as exc:  # noqa: BLE001 - alerting must never fail the run
        log.exception("could not send the run-failure alert of run %s", run_id)
        summary.error = redact(f"{type(exc).__name__}: {exc}", _secrets(settings))
    return summary
