"""Timestamps and dates as the warehouse stores them: naive Vietnam local time.

Every source is in Vietnam (Asia/Ho_Chi_Minh, UTC+7 all year: no daylight saving), but the
wire formats differ: the portal writes ISO 8601 with `+07:00` or `Z`, databases return
naive `datetime`s (already local), files carry plain dates. One set of functions turns all
of them into naive local `datetime` / `date`, so that no connector compares an aware value
with a naive one or shifts a date by seven hours.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

VIETNAM = timezone(timedelta(hours=7), "ICT")


def to_local_naive(value: datetime) -> datetime:
    """An aware datetime converted to +07:00 then made naive; a naive one is local already."""
    if value.tzinfo is None or value.utcoffset() is None:
        return value
    return value.astimezone(VIETNAM).replace(tzinfo=None)


def parse_timestamp(value: object) -> datetime:
    """Parse an ISO 8601 timestamp (or take a `datetime`) into naive local time.

    Raises `TypeError` for a value that is not text or a datetime (a `date` alone is not a
    timestamp), `ValueError` for text that is not ISO 8601.
    """
    if isinstance(value, datetime):
        return to_local_naive(value)
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO 8601 string, got {type(value).__name__}")
    return to_local_naive(datetime.fromisoformat(value.strip()))


def parse_date(value: object) -> date:
    """Parse 'YYYY-MM-DD' (or take a `date`); a timestamp at midnight is accepted as its date."""
    if isinstance(value, datetime):
        local = to_local_naive(value)
        if local.time() != datetime.min.time():
            raise ValueError(f"expected a date, got a timestamp with a time: {value!r}")
        return local.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise TypeError(f"expected a 'YYYY-MM-DD' string, got {type(value).__name__}")
    text = value.strip()
    if len(text) == 10:
        return date.fromisoformat(text)
    # Some databases write a DATE column as a midnight timestamp ('2024-05-01 00:00:00').
    return parse_date(datetime.fromisoformat(text))


def format_timestamp(value: datetime) -> str:
    """The ISO text of a naive local timestamp, as used in watermarks ('2024-05-01T08:30:00')."""
    return to_local_naive(value).isoformat()


def to_wire(value: datetime) -> str:
    """The ISO text of a naive local timestamp with its explicit +07:00 offset, for APIs."""
    return to_local_naive(value).replace(tzinfo=VIETNAM).isoformat()
