"""Progress on the terminal for long steps: one line per label, rewritten in place."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class TerminalProgress:
    """A `sources.batch.Progress` printing counters to stderr: in place on a terminal,
    otherwise one line when a step starts, every few seconds, and when it ends."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self._tty = stream.isatty()
        self._interval_s = 0.25 if self._tty else 5.0
        self._label: str | None = None
        self._last = 0.0

    def __call__(self, label: str, done: int, total: int | None) -> None:
        now = time.monotonic()
        finished = total is not None and done >= total
        new_step = label != self._label
        if not (new_step or finished or now - self._last >= self._interval_s):
            return
        if new_step and self._label is not None and self._tty:
            self.stream.write("\n")
        self._label, self._last = label, now
        count = f"{done:,}/{total:,} ({100 * done / total:.0f}%)" if total else f"{done:,}"
        if self._tty:
            self.stream.write(f"\r  {label}: {count}   " + ("\n" if finished else ""))
        else:
            self.stream.write(f"  {label}: {count}\n")
        if finished:
            self._label = None
        self.stream.flush()
