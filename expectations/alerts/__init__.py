"""Quality alerts: one digest per recipient after each run, routed by owner, suppressed.

The lead calls `send_digests(conn, settings, run_id)` after every run and
`send_run_failure(settings, conn, run_id, failures)` when a run failed; neither raises.
"""

from expectations.alerts.channels import Delivery, RetryPolicy, SmtpTarget, parse_smtp_url
from expectations.alerts.dispatch import (
    DEFAULT_OUTBOX,
    AlertSummary,
    SentDigest,
    send_digests,
    send_run_failure,
)
from expectations.alerts.problems import AgencyContact, Problem, load_contacts, problems_of_run
from expectations.alerts.suppression import DEFAULT_SUPPRESSION

__all__ = [
    "DEFAULT_OUTBOX",
    "DEFAULT_SUPPRESSION",
    "AgencyContact",
    "AlertSummary",
    "Delivery",
    "Problem",
    "RetryPolicy",
    "SentDigest",
    "SmtpTarget",
    "load_contacts",
    "parse_smtp_url",
    "problems_of_run",
    "send_digests",
    "send_run_failure",
]
