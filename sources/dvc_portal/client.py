"""Client of the public-service portal API v1 (contracts/dvc-portal-api.md), on `requests`.

Reads the three list endpoints page by page and yields one `Batch` per page. Every call has
connect and read timeouts; transient failures (connection errors, timeouts, 5xx, an
unreadable body) are retried with exponential backoff and full jitter; `429` waits for
`Retry-After`; `401` fetches a new token and retries the call once; `410` (expired page
token) restarts the listing from the last committed watermark; anything else in 4xx
(notably `400`) is permanent. When the retries are spent a `PortalError` names the
endpoint, the last status and the number of attempts — never the secret or the token.

How this client reads the contract where it leaves room:
- Timestamps without an offset are Vietnam local time already; `Z` and other offsets are
  converted to +07:00 and made naive. `updated_since` is sent with an explicit `+07:00`.
- The watermark of a batch is the newest `updated_at` of every item read so far in this
  listing (rejected items count when their `updated_at` parses: they went to quarantine,
  and re-reading them every night would only repeat that). `updated_since` is inclusive,
  so the next run re-reads the boundary items; landing by (key, version) makes that
  harmless.
- Latest version wins within one listing: an item older than a version already read for
  its key is dropped, and so is the same version read again with the same content (after
  a restart); within one page only the newest version of a key is kept. The same version
  with *different* content cannot be ordered: the second one is rejected as `duplicate`.
- `null` is accepted only where the text allows it: `han_xu_ly`, `ngay_hoan_thanh`,
  `ngay_tra_ket_qua` of a dossier, and a procedure's `ma_co_quan` when `cap_thuc_hien` is
  `HUYEN` or `XA`. An absent field counts as `null`. Anything else null or absent is a
  `wrong_type` rejection; numbers are not coerced to strings, nor 0/1 to booleans.
- Logical rules between fields (finished before received, a rating of an unknown dossier)
  are not decided here: they are data-quality checks on the landed rows.
- `total` is an estimate and is not used. A `401` from the token endpoint itself means
  wrong credentials: permanent.
- The portal's rate limit (10 requests a second) is left to the server: a `429` is waited
  out (`Retry-After`, capped by `max_retry_after`) and does not use up the retries for
  errors, but at most `max_rate_limited` times per call.
- Personal data: `nguoi_nop` is pseudonymised into `applicant_key` and dropped, and so is
  any field (also an unknown one, in any dataset) whose name denotes personal data, before
  validation; server error bodies are never quoted beyond a short error code.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import orjson
import requests

from sources.batch import Batch, Rejected
from sources.dvc_portal.records import (
    DOSSIER_SPEC,
    PROCEDURE_SPEC,
    RATING_SPEC,
    RecordSpec,
    record_key,
    validate,
    version_of,
)
from sources.pii import drop_personal, scrub_dossier
from sources.timeutil import format_timestamp, parse_timestamp, to_wire

log = logging.getLogger(__name__)

TOKEN_PATH = "/api/v1/auth/token"
PROCEDURES_PATH = "/api/v1/procedures"
DOSSIERS_PATH = "/api/v1/dossiers"
RATINGS_PATH = "/api/v1/ratings"
HEALTH_PATH = "/api/v1/health"

# Renew a token a little before the portal says it expires (a tenth of its life, at most 30 s),
# so that a page request does not race the expiry; a 401 is still handled.
_TOKEN_MARGIN_S = 30.0
_TOKEN_MARGIN_SHARE = 0.1
_ERROR_CODE = re.compile(r"^[A-Za-z0-9_.\-]{1,60}$")
_TRANSIENT_EXCEPTIONS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


class PortalError(RuntimeError):
    """The portal could not be read: permanent error, or retries spent.

    `endpoint` is the path (e.g. `/api/v1/dossiers`), `status` the last HTTP status (None
    when the last attempt got no response), `attempts` how many requests were made.
    """

    def __init__(self, endpoint: str, status: int | None, attempts: int, detail: str) -> None:
        self.endpoint = endpoint
        self.status = status
        self.attempts = attempts
        self.detail = detail
        shown = status if status is not None else "no response"
        super().__init__(
            f"portal {endpoint}: {detail} (last status {shown}, {attempts} attempt(s))"
        )


def _duplicate(spec: RecordSpec, row: dict[str, Any]) -> str:
    return (
        f"duplicate: {spec.key}={row[spec.key]!r} served twice with "
        f"updated_at={row['updated_at'].isoformat()} and different content; the first was kept"
    )


class _PageTokenExpired(Exception):
    """410: the listing must restart from its last committed watermark."""


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:  # the HTTP-date form
        when = parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _error_code(response: requests.Response) -> str:
    """The short `error` code of an error body, or '' — never free text from the server."""
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return ""
    code = body.get("error") if isinstance(body, dict) else None
    return code if isinstance(code, str) and _ERROR_CODE.match(code) else ""


class PortalClient:
    """Reads the portal's catalogue, dossiers and ratings as `Batch`es, one per page."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        page_size: int = 1000,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        max_retries: int = 6,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        max_retry_after: float = 120.0,
        max_rate_limited: int = 20,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
    ) -> None:
        if not 1 <= page_size <= 1000:
            raise ValueError(f"page_size must be within 1..1000 (contract), got {page_size}")
        self.base_url = base_url.rstrip("/")
        self._client_id = client_id
        self._secret = client_secret
        self.page_size = page_size
        self.timeout = (connect_timeout, read_timeout)
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_retry_after = max_retry_after
        self.max_rate_limited = max_rate_limited
        self._sleep = sleep
        self._session = session or requests.Session()
        self._token: str | None = None
        self._token_deadline = 0.0

    def __repr__(self) -> str:  # never the secret nor the token
        return f"PortalClient({self.base_url!r}, client_id={self._client_id!r})"

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> PortalClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- public reads ---------------------------------------------------------------------
    def health(self) -> bool:
        """Whether `/api/v1/health` answers `{"status": "ok"}` (no authentication)."""
        body = self._call("GET", HEALTH_PATH, auth=False)
        return isinstance(body, dict) and body.get("status") == "ok"

    def read_procedures(self) -> Iterator[Batch]:
        """The whole catalogue (dataset `dvc_procedures`); batches carry no watermark."""
        return self._listing(PROCEDURES_PATH, PROCEDURE_SPEC, None, self._plain, incremental=False)

    def read_dossiers(self, since: str | None, pii_key: bytes) -> Iterator[Batch]:
        """Dossiers with `updated_at >= since` (all when None), personal data pseudonymised."""
        if not pii_key:
            raise ValueError("a non-empty pii_key is required to read dossiers (CDS_PII_KEY)")

        def prepare(item: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
            scrubbed = scrub_dossier(item, pii_key)
            return scrubbed, {"applicant_key": scrubbed["applicant_key"]}

        return self._listing(DOSSIERS_PATH, DOSSIER_SPEC, since, prepare, incremental=True)

    def read_ratings(self, since: str | None) -> Iterator[Batch]:
        """Ratings with `updated_at >= since` (all when None)."""
        return self._listing(RATINGS_PATH, RATING_SPEC, since, self._plain, incremental=True)

    # -- listing --------------------------------------------------------------------------
    @staticmethod
    def _plain(item: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        return drop_personal(item), {}

    def _listing(
        self,
        path: str,
        spec: RecordSpec,
        since: str | None,
        prepare: Callable[[dict[str, Any]], tuple[dict[str, Any], dict[str, Any]]],
        *,
        incremental: bool,
    ) -> Iterator[Batch]:
        watermark: datetime | None = parse_timestamp(since) if since else None
        seen: dict[str, tuple[datetime, int]] = {}  # key -> (newest version, content hash)
        stalled_restarts = 0
        while True:
            start_watermark = watermark
            params: dict[str, Any] = {"page_size": self.page_size}
            if incremental and watermark is not None:
                params["updated_since"] = to_wire(watermark)
            page_token: str | None = None
            try:
                while True:
                    page = dict(params)
                    if page_token is not None:
                        page["page_token"] = page_token
                    items, page_token = self._page(path, page)
                    if items:
                        batch, newest = self._batch(spec, items, prepare, seen)
                        if incremental and newest is not None:
                            watermark = newest if watermark is None else max(watermark, newest)
                            batch.watermark = format_timestamp(watermark)
                            _forget_before(seen, watermark)
                        yield batch  # the consumer commits it before asking for more
                    if page_token is None:
                        return
            except _PageTokenExpired:
                progressed = incremental and watermark != start_watermark
                stalled_restarts = 0 if progressed else stalled_restarts + 1
                if stalled_restarts > self.max_retries:
                    raise PortalError(
                        path, 410, stalled_restarts, "page tokens keep expiring without progress"
                    ) from None
                log.warning(
                    "portal %s: page token expired; restarting from watermark %s",
                    path,
                    format_timestamp(watermark) if watermark else "(start)",
                )

    def _page(self, path: str, params: dict[str, Any]) -> tuple[list[Any], str | None]:
        body = self._call("GET", path, params=params)
        items = body.get("items") if isinstance(body, dict) else None
        token = body.get("next_page_token") if isinstance(body, dict) else None
        if not isinstance(items, list) or not (token is None or isinstance(token, str)):
            raise PortalError(path, 200, 1, "the answer is not a page ({items, next_page_token})")
        return items, token or None

    @staticmethod
    def _batch(
        spec: RecordSpec,
        items: list[Any],
        prepare: Callable[[dict[str, Any]], tuple[dict[str, Any], dict[str, Any]]],
        seen: dict[str, tuple[datetime, int]],
    ) -> tuple[Batch, datetime | None]:
        rows: dict[str, dict[str, Any]] = {}
        rejected: list[Rejected] = []
        newest: datetime | None = None
        for raw in items:
            if not isinstance(raw, dict):
                reason = "wrong_type: item is not an object"
                rejected.append(Rejected(None, reason, {"item": drop_personal(raw)}))
                continue
            item, derived = prepare(raw)  # personal data is gone before anything else
            version = version_of(item)
            if version is not None and (newest is None or version > newest):
                newest = version
            row, problems = validate(spec, item, derived)
            if row is None:
                rejected.append(Rejected(record_key(spec, item), "; ".join(problems), item))
                continue
            key = row[spec.key]
            content = hash(orjson.dumps(row, option=orjson.OPT_SORT_KEYS))
            previous = seen.get(key)
            if previous is not None:
                if previous[0] > row["updated_at"]:
                    continue  # an older version after a newer one: the latest wins
                if previous[0] == row["updated_at"]:
                    if previous[1] != content:
                        rejected.append(Rejected(key, _duplicate(spec, row), item))
                    continue  # the same version again (e.g. after a restart): already read
            seen[key] = (row["updated_at"], content)
            rows[key] = row  # a newer version later on the same page replaces the older
        return Batch(spec.dataset, list(rows.values()), rejected), newest

    # -- HTTP -----------------------------------------------------------------------------
    def _auth_header(self) -> dict[str, str]:
        if self._token is None or time.monotonic() >= self._token_deadline:
            self._renew_token()
        return {"Authorization": f"Bearer {self._token}"}

    def _renew_token(self) -> None:
        self._token = None
        body = self._call(
            "POST",
            TOKEN_PATH,
            json={"client_id": self._client_id, "client_secret": self._secret},
            auth=False,
        )
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise PortalError(TOKEN_PATH, 200, 1, "the token answer has no access_token")
        expires_in = body.get("expires_in")
        lifetime = float(expires_in) if isinstance(expires_in, int | float) else 3600.0
        self._token = token
        margin = min(_TOKEN_MARGIN_S, lifetime * _TOKEN_MARGIN_SHARE)
        self._token_deadline = time.monotonic() + max(0.0, lifetime - margin)

    def _backoff(self, failures: int) -> float:
        ceiling = min(self.backoff_max, self.backoff_base * 2 ** (failures - 1))
        return random.uniform(0.0, ceiling)  # full jitter: clients do not retry in step

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        auth: bool = True,
    ) -> Any:
        """One API call with its retries; returns the parsed JSON body of a 200."""
        url = self.base_url + path
        attempts = failures = rate_limited = 0
        renewed = False
        while True:
            attempts += 1
            status: int | None = None
            try:
                headers = self._auth_header() if auth else {}
                response = self._session.request(
                    method, url, params=params, json=json, headers=headers, timeout=self.timeout
                )
                status = response.status_code
                problem = ""
                if status == 200:
                    try:
                        return orjson.loads(response.content)
                    except orjson.JSONDecodeError:
                        problem = "unreadable JSON body"
                elif status == 401:
                    if not auth:
                        raise PortalError(path, status, attempts, "credentials refused")
                    if renewed:
                        raise PortalError(path, status, attempts, "token refused after renewal")
                    renewed = True
                    self._token = None  # next attempt fetches a new one
                    continue
                elif status == 429:
                    rate_limited += 1
                    if rate_limited > self.max_rate_limited:
                        raise PortalError(path, status, attempts, "still rate limited")
                    wait = _retry_after(response)
                    if wait is None:
                        wait = self._backoff(rate_limited)
                    wait = min(wait, self.max_retry_after)
                    log.info("portal %s: 429, waiting %.2fs (Retry-After)", path, wait)
                    self._sleep(wait)
                    continue
                elif status == 410:
                    raise _PageTokenExpired()
                elif status >= 500:
                    problem = f"server error {status}"
                else:
                    code = _error_code(response)
                    detail = f"permanent error {status}" + (f" ({code})" if code else "")
                    raise PortalError(path, status, attempts, detail)
            except _TRANSIENT_EXCEPTIONS as exc:
                problem = type(exc).__name__
            failures += 1
            if failures > self.max_retries:
                raise PortalError(path, status, attempts, f"retries spent; last: {problem}")
            wait = self._backoff(failures)
            if status is not None and status >= 500:
                after = _retry_after(response)
                if after is not None:
                    wait = max(wait, min(after, self.max_retry_after))
            log.warning(
                "portal %s: %s (attempt %d/%d); retrying in %.2fs",
                path,
                problem,
                attempts,
                self.max_retries + 1,
                wait,
            )
            self._sleep(wait)


def _forget_before(seen: dict[str, tuple[datetime, int]], watermark: datetime) -> None:
    """Keep only versions at the watermark or later: items are served in (updated_at, id)
    order and a restart re-reads from the watermark, so an older version cannot come again.
    This keeps memory flat however long the listing is."""
    for key in [k for k, (version, _) in seen.items() if version < watermark]:
        del seen[key]
