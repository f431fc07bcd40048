"""Delivery channels: SMTP e-mail, a JSON webhook and an outbox folder of .eml files.

Each function tries a few times with a short backoff and returns a `Delivery`; none raises,
so a mail server that is down never fails the pipeline run. Error texts never carry the
SMTP password (nor the URL it is written in).
"""

from __future__ import annotations

import re
import smtplib
import ssl
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.message import Message
from email.policy import compat32
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import requests


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3
    backoff_s: float = 0.5  # doubled after each failed attempt
    timeout_s: float = 10.0


@dataclass(frozen=True)
class Delivery:
    channel: str  # "email", "webhook" or "outbox"
    delivered: bool
    error: str | None = None
    attempts: int = 1
    path: Path | None = None


# How a message is written to an .eml file: as it would travel, with CRLF line ends.
_WIRE = compat32.clone(linesep="\r\n")


class ChannelError(ValueError):
    """A channel setting that cannot be used (e.g. a malformed SMTP URL)."""


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    ssl: bool = False  # smtps://: TLS from the first byte
    starttls: bool = False  # smtp://…?starttls=1: upgrade the plain connection
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.password,) if s)


def parse_smtp_url(url: str) -> SmtpTarget:
    """`smtp://host:port`, `smtps://user:pass@host:port` (optionally `?starttls=1`)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ChannelError("CDS_ALERT_SMTP_URL must look like smtp://host:port or smtps://…")
    try:
        port = parts.port
    except ValueError:
        raise ChannelError("CDS_ALERT_SMTP_URL has an invalid port") from None
    secure = parts.scheme == "smtps"
    query = parse_qs(parts.query)
    starttls = not secure and query.get("starttls", ["0"])[0].lower() in ("1", "true", "yes")
    return SmtpTarget(
        host=parts.hostname,
        port=port or (465 if secure else 25),
        ssl=secure,
        starttls=starttls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def redact(message: str, secrets: Iterable[str | None]) -> str:
    """The message with every secret (and any URL userinfo) blanked out."""
    for secret in secrets:
        if secret:
            message = message.replace(secret, "***")
    return re.sub(r"(\w+://)[^/@\s]+@", r"\1***@", message)


def _transient_smtp(exc: Exception) -> bool:
    """Worth another try: connection trouble, timeouts and 4xx replies, not 5xx refusals."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(400 <= code < 500 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    return isinstance(exc, OSError | smtplib.SMTPServerDisconnected)


class _HttpStatusError(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"HTTP {status} {reason}")
        self.status = status


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)


def _describe(exc: Exception) -> str:
    if isinstance(exc, _HttpStatusError):
        return str(exc)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = "; ".join(
            f"{rcpt}: {code} {_text(reply)}" for rcpt, (code, reply) in exc.recipients.items()
        )
        return f"SMTPRecipientsRefused: {refused}"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{type(exc).__name__}: {exc.smtp_code} {_text(exc.smtp_error)}"
    return f"{type(exc).__name__}: {exc}"


def _retry(
    channel: str,
    attempt: Callable[[], None],
    transient: Callable[[Exception], bool],
    retry: RetryPolicy,
    secrets: Iterable[str | None],
    sleep: Callable[[float], None] = time.sleep,
) -> Delivery:
    delay = retry.backoff_s
    error = "not attempted"
    for number in range(1, max(1, retry.attempts) + 1):
        try:
            attempt()
            return Delivery(channel, True, None, number)
        except Exception as exc:  # noqa: BLE001 - every failure is recorded, none raises
            error = redact(_describe(exc), secrets)
            if not transient(exc) or number >= retry.attempts:
                return Delivery(channel, False, error, number)
        sleep(delay)
        delay *= 2
    return Delivery(channel, False, error, retry.attempts)


def send_email(
    target: SmtpTarget, message: Message, retry: RetryPolicy = RetryPolicy()
) -> Delivery:
    """Send one message over SMTP (with timeouts), retrying transient failures."""

    def attempt() -> None:
        context = ssl.create_default_context()
        if target.ssl:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                target.host, target.port, timeout=retry.timeout_s, context=context
            )
        else:
            client = smtplib.SMTP(target.host, target.port, timeout=retry.timeout_s)
        with client:
            client.ehlo()
            if target.starttls:
                client.starttls(context=context)
                client.ehlo()
            if target.username:
                client.login(target.username, target.password or "")
            client.send_message(message)

    return _retry("email", attempt, _transient_smtp, retry, target.secrets)


def _transient_http(exc: Exception) -> bool:
    if isinstance(exc, _HttpStatusError):
        return exc.status >= 500 or exc.status == 429
    return isinstance(exc, requests.RequestException)


def post_webhook(url: str, payload: dict[str, Any], retry: RetryPolicy = RetryPolicy()) -> Delivery:
    """POST the payload as UTF-8 JSON; a 2xx answer is a delivery."""

    def attempt() -> None:
        response = requests.post(
            url,
            json=payload,
            timeout=retry.timeout_s,
            headers={"User-Agent": "cds-alerts/1", "Accept": "application/json"},
        )
        if not 200 <= response.status_code < 300:
            raise _HttpStatusError(response.status_code, response.reason or "")

    password = urlsplit(url).password
    return _retry("webhook", attempt, _transient_http, retry, [password, url])


def write_outbox(folder: Path, name: str, message: Message) -> Delivery:
    """Write the message as an .eml file (what `cds demo` shows when no SMTP server is set)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.eml"
        tmp = path.with_suffix(".eml.tmp")
        tmp.write_bytes(message.as_bytes(policy=_WIRE))
        tmp.replace(path)
        return Delivery("outbox", True, None, 1, path)
    except OSError as exc:
        return Delivery("outbox", False, f"{type(exc).__name__}: {exc}", 1)
