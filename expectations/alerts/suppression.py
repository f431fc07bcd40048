"""Suppression, Elementary-style: tell a recipient about a problem once, remind, close.

A problem a recipient has not been told about (or was told was resolved) is `new`. While it
persists it is suppressed for a window (default 7 days) after the last time it was told, then
sent as a `reminder`. A problem that gets worse (warning → blocking) is sent at once. A
problem the recipient was told about that is now passing is announced once as `resolved`
— but only when this run evaluated it (its check ran; or, for a dataset without checks, the
source was read): a source that could not be read says nothing about whether its problems
are gone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from expectations.alerts.problems import RUN_DATASET, Problem, parse_problem_key
from warehouse.alerts_log import ProblemHistory

DEFAULT_SUPPRESSION = timedelta(days=7)


@dataclass(frozen=True)
class Item:
    """A problem as one digest tells it."""

    problem: Problem
    state: str  # new, reminder or resolved
    opened_at: datetime | None = None  # first announced (reminders and resolutions)
    escalated: bool = False  # severity rose since it was last told

    def entry(self) -> dict[str, str]:
        """Its entry in `quality.alerts.problem_keys`."""
        return {"key": self.problem.key, "state": self.state, "severity": self.problem.severity}


@dataclass
class Decision:
    """What one recipient is told in this run, and what is held back."""

    items: list[Item] = field(default_factory=list)
    suppressed: list[Problem] = field(default_factory=list)

    @property
    def open_items(self) -> list[Item]:
        return [i for i in self.items if i.state != "resolved"]

    @property
    def resolved_items(self) -> list[Item]:
        return [i for i in self.items if i.state == "resolved"]


_SEVERITY_RANK = {"warning": 0, "blocking": 1}


def _resolved_problem(history: ProblemHistory) -> Problem:
    dataset, check_name, agency = parse_problem_key(history.key)
    return Problem(dataset, check_name, history.severity or "warning", agency, 0)


def decide(
    routed: Mapping[str | None, list[Problem]],
    history: Mapping[tuple[str | None, str], ProblemHistory],
    *,
    evaluated: Callable[[str, str], bool],
    now: datetime,
    window: timedelta = DEFAULT_SUPPRESSION,
) -> dict[str | None, Decision]:
    """Per recipient: the items to send (new, reminder, resolved) and the suppressed problems.

    `routed` maps each recipient to its current problems; `history` is what recipients were
    told before (`warehouse.alerts_log.problem_history`); `evaluated(dataset, check_name)`
    says whether this run looked at that check at all (only then can a problem be resolved).
    """
    decisions: dict[str | None, Decision] = {}
    for recipient, problems in routed.items():
        decision = decisions.setdefault(recipient, Decision())
        for problem in problems:
            told = history.get((recipient, problem.key))
            if told is None or not told.is_open:
                decision.items.append(Item(problem, "new"))
                continue
            escalated = _SEVERITY_RANK.get(problem.severity, 0) > _SEVERITY_RANK.get(
                told.severity or "warning", 0
            )
            if escalated or now - told.notified_at >= window:
                decision.items.append(Item(problem, "reminder", told.opened_at, escalated))
            else:
                decision.suppressed.append(problem)

    current = {p.key for problems in routed.values() for p in problems}
    for (recipient, key), told in sorted(
        history.items(), key=lambda kv: (kv[0][0] or "", kv[0][1])
    ):
        if not told.is_open or key in current:
            continue
        dataset, check_name, _ = parse_problem_key(key)
        if dataset == RUN_DATASET or not evaluated(dataset, check_name):
            continue
        decision = decisions.setdefault(recipient, Decision())
        decision.items.append(Item(_resolved_problem(told), "resolved", told.opened_at))
    return decisions
