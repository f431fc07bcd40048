"""The simulated public-service portal: the API of `dvc-portal-api.md` on a loopback port.

`PortalServer` serves a store written by `portal_data.write_portal_store`. It implements the
contract to the letter (bearer tokens, keyset paging by `(updated_at, id)`, `updated_since`,
`410` on an expired page token, `400` on malformed parameters) and, on demand, the faults a
real portal shows (`PortalFaults`): rate limiting, transient 5xx, slow or hanging responses,
expiring page tokens and access tokens, and records that change while a client pages.

Details a client author may rely on:
- Page tokens are opaque and signed; they carry the position, the `updated_since` of the
  first page and the `total` computed then. A token from another endpoint, or one that was
  not issued by a portal with the same credentials, answers `400`.
- `updated_since` must be a valid ISO 8601 date or timestamp, URL-encoded (a `+` of an
  offset sent unencoded arrives as a space and answers `400`). Times with an offset are
  converted to Vietnam local time; times without one are local time.
- `GET /api/v1/procedures` ignores `updated_since` (the contract says it has none).
- Unknown query parameters are ignored; repeated ones take their first value.
- Rate limiting counts the accepted requests of a client (by address) over the last second.
"""

from __future__ import annotations

import argparse
import base64
import collections
import contextlib
import dataclasses
import hashlib
import hmac
import math
import random
import secrets
import socket
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

from sources.simulator.portal_data import TABLES, serve_timestamp

API = "/api/v1"
LIST_PATHS = {f"{API}/{table}": table for table in TABLES}
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
VIETNAM = timezone(timedelta(hours=7))


@dataclass
class PortalFaults:
    """Faults to inject; all off by default (then the portal behaves as the contract says)."""

    rate_limit: bool = False  # 429 with Retry-After above `rate_limit_per_second`
    rate_limit_per_second: int = 10
    error_rate: float = 0.0  # share of API requests answered 500/502/503/504
    slow_rate: float = 0.0  # share of API requests delayed by `slow_seconds`
    slow_seconds: float = 0.0  # longer than a client's read timeout: a hanging response
    page_token_ttl_s: float = 900.0  # the contract's 15 minutes; small values expire tokens
    token_ttl_s: float = 3600.0  # access-token lifetime (`expires_in`)
    mutate_while_paging: float = 0.0  # per page: chance that served records change again
    seed: int = 0  # makes the fault decisions of a sequential client reproducible

    @classmethod
    def from_specs(cls, specs: list[str]) -> PortalFaults:
        """Faults from `name=value` strings (`rate_limit`, `error_rate=0.1`, ...), for CLIs."""
        faults = cls()
        types = {f.name: f.type for f in dataclasses.fields(cls)}
        for spec in specs:
            name, _, value = spec.partition("=")
            name = name.strip().replace("-", "_")
            if name not in types:
                raise ValueError(f"unknown fault {name!r}; known: {', '.join(types)}")
            kind = types[name]
            if kind in ("bool", bool):
                parsed: Any = value.strip().lower() not in ("0", "false", "no", "off")
            elif kind in ("int", int):
                parsed = int(value)
            else:
                parsed = float(value)
            setattr(faults, name, parsed)
        return faults

    def active(self) -> dict[str, Any]:
        """The settings that differ from the defaults."""
        default = PortalFaults()
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if getattr(self, f.name) != getattr(default, f.name)
        }


class _ApiError(Exception):
    def __init__(self, status: int, error: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.headers = headers or {}


def _local_key(moment: datetime) -> str:
    """A timestamp as the store's sortable local-time text."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(VIETNAM).replace(tzinfo=None)
    timespec = "seconds" if moment.microsecond == 0 else "microseconds"
    return moment.isoformat(timespec=timespec)


class PortalServer:
    """The portal API over a store, on `host:port` (port 0: any free port).

    Use as a context manager (`with PortalServer(path) as server: server.base_url`), or
    `start()`/`stop()`, or `serve_forever()` in the foreground.
    """

    def __init__(
        self,
        store_path: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        client_id: str = "cds",
        client_secret: str = "cds-secret",
        faults: PortalFaults | None = None,
    ) -> None:
        self.store_path = Path(store_path)
        if not self.store_path.exists():
            raise FileNotFoundError(f"portal store {self.store_path} does not exist")
        self.client_id = client_id
        self._client_secret = client_secret
        self.faults = faults or PortalFaults()
        self._fault_rng = random.Random(self.faults.seed)
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._tokens: dict[str, float] = {}  # access token -> expiry (monotonic)
        self._recent: dict[str, collections.deque[float]] = {}  # client -> request times
        # Page tokens are signed with a key derived from the credentials, so tokens survive
        # a restart of the same portal and cannot be forged.
        self._signing_key = hashlib.sha256(f"page:{client_id}:{client_secret}".encode()).digest()
        self._max_updated = self._read_max_updated()
        self._httpd = ThreadingHTTPServer((host, port), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.portal = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    # --- Life cycle -----------------------------------------------------------------------
    @property
    def host(self) -> str:
        return str(self._httpd.server_address[0])

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> PortalServer:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, name="portal-server", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def serve_forever(self) -> None:
        try:
            self._httpd.serve_forever()
        finally:
            self._httpd.server_close()

    def __enter__(self) -> PortalServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- What it serves -------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """What the portal serves (no secret): for the CLI to print."""
        connection = self._connect()
        try:
            meta = dict(connection.execute("SELECT key, value FROM meta").fetchall())
            counts = {
                t: connection.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES
            }
        finally:
            connection.close()
        return {
            "base_url": self.base_url,
            "endpoints": [f"{API}/auth/token", *LIST_PATHS, f"{API}/health"],
            "client_id": self.client_id,
            "store": str(self.store_path),
            "counts": counts,
            "data_from": meta.get("start"),
            "data_until": meta.get("cutoff"),
            "seed": meta.get("seed"),
            "scale": meta.get("scale"),
            "faults": self.faults.active(),
        }

    def describe(self) -> str:
        """A few human lines about what is served."""
        s = self.summary()
        counts = ", ".join(f"{n:,} {t}" for t, n in s["counts"].items())
        faults = ", ".join(f"{k}={v}" for k, v in s["faults"].items()) or "none"
        return (
            f"Portal API at {s['base_url']}{API} (client_id {s['client_id']!r})\n"
            f"  store {s['store']}: {counts}\n"
            f"  data from {s['data_from']} until {s['data_until']} "
            f"(seed {s['seed']}, scale {s['scale']})\n"
            f"  faults: {faults}"
        )

    # --- Request handling (called from handler threads) ------------------------------------
    def _connect(self) -> sqlite3.Connection:
        # One connection per request: cheap, and a regenerated store (moved into place)
        # is picked up by the next request.
        return sqlite3.connect(
            self.store_path, timeout=10, isolation_level=None, check_same_thread=False
        )

    def _read_max_updated(self) -> dict[str, str]:
        connection = self._connect()
        try:
            return {
                t: connection.execute(f"SELECT max(updated_at) FROM {t}").fetchone()[0] or ""
                for t in TABLES
            }
        finally:
            connection.close()

    def _chance(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self._lock:
            return self._fault_rng.random() < rate

    def _admit(self, client: str) -> None:
        """Rate limiting: 429 once a client made too many requests in the last second."""
        if not self.faults.rate_limit:
            return
        now = time.monotonic()
        with self._lock:
            window = self._recent.setdefault(client, collections.deque())
            while window and window[0] <= now - 1.0:
                window.popleft()
            if len(window) >= self.faults.rate_limit_per_second:
                wait = max(1, math.ceil(window[0] + 1.0 - now))
                raise _ApiError(429, "rate_limited", {"Retry-After": str(wait)})
            window.append(now)

    def _inject(self) -> None:
        """Transient server errors and slow responses."""
        if self._chance(self.faults.error_rate):
            with self._lock:
                status = self._fault_rng.choice((500, 502, 503, 504))
            raise _ApiError(status, HTTPStatus(status).phrase.lower().replace(" ", "_"))
        if self._chance(self.faults.slow_rate):
            time.sleep(self.faults.slow_seconds)

    def issue_token(self, body: bytes) -> dict[str, Any]:
        try:
            credentials = orjson.loads(body or b"null")
        except orjson.JSONDecodeError:
            raise _ApiError(400, "the body must be JSON") from None
        if not isinstance(credentials, dict):
            raise _ApiError(400, "the body must be a JSON object")
        client_id = credentials.get("client_id")
        client_secret = credentials.get("client_secret")
        if not isinstance(client_id, str) or not isinstance(client_secret, str):
            raise _ApiError(400, "client_id and client_secret are required")
        if not (
            hmac.compare_digest(client_id.encode(), self.client_id.encode())
            and hmac.compare_digest(client_secret.encode(), self._client_secret.encode())
        ):
            raise _ApiError(401, "invalid_client")
        token = secrets.token_urlsafe(24)
        ttl = self.faults.token_ttl_s
        with self._lock:
            now = time.monotonic()
            self._tokens = {t: e for t, e in self._tokens.items() if e > now}
            self._tokens[token] = now + ttl
        return {"access_token": token, "token_type": "Bearer", "expires_in": max(1, round(ttl))}

    def check_token(self, authorization: str | None) -> None:
        scheme, _, token = (authorization or "").partition(" ")
        with self._lock:
            expiry = self._tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if expiry is None or expiry <= time.monotonic():
            raise _ApiError(
                401, "invalid_token", {"WWW-Authenticate": 'Bearer error="invalid_token"'}
            )

    def _sign(self, data: bytes) -> str:
        return hmac.new(self._signing_key, data, hashlib.sha256).hexdigest()[:24]

    def _page_token(self, table: str, last: tuple[str, str, int], since: str, total: int) -> str:
        data = orjson.dumps([table, *last, since, total, time.time()])
        body = base64.urlsafe_b64encode(data).decode().rstrip("=")
        return f"{body}.{self._sign(data)}"

    def _read_page_token(self, table: str, token: str) -> tuple[tuple[str, str, int], str, int]:
        body, _, signature = token.partition(".")
        try:
            data = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            valid = hmac.compare_digest(signature, self._sign(data))
            fields = orjson.loads(data) if valid else None
        except (ValueError, orjson.JSONDecodeError):
            fields = None
        if not isinstance(fields, list) or len(fields) != 7 or fields[0] != table:
            raise _ApiError(400, "unknown page_token")
        _, updated, record_id, seq, since, total, issued = fields
        if time.time() - issued > self.faults.page_token_ttl_s:
            raise _ApiError(410, "page_token_expired")
        return (updated, record_id, seq), since, total

    def list_page(self, table: str, query: dict[str, list[str]]) -> bytes:
        """One page of a list endpoint, as the JSON bytes of the response body."""
        raw_size = (query.get("page_size") or [str(DEFAULT_PAGE_SIZE)])[0]
        if not raw_size.isdigit() or not 1 <= int(raw_size) <= MAX_PAGE_SIZE:
            raise _ApiError(400, f"page_size must be an integer from 1 to {MAX_PAGE_SIZE}")
        page_size = int(raw_size)
        since = ""
        raw_since = (query.get("updated_since") or [""])[0]
        if raw_since and table != "procedures":
            try:
                since = _local_key(datetime.fromisoformat(raw_since))
            except ValueError:
                raise _ApiError(400, f"updated_since is not ISO 8601: {raw_since!r}") from None
        raw_token = (query.get("page_token") or [""])[0]
        last: tuple[str, str, int] | None = None
        if raw_token:
            last, since, total = self._read_page_token(table, raw_token)
        where, args = "updated_at >= ?", [since]
        if last is not None:
            where, args = f"(updated_at, id, seq) > (?, ?, ?) AND {where}", [*last, since]
        order = "ORDER BY updated_at, id, seq"
        connection = self._connect()
        try:
            connection.execute("BEGIN")  # one snapshot for the page and its cursor
            if last is None:
                total = connection.execute(
                    f"SELECT count(*) FROM {table} WHERE {where}", args
                ).fetchone()[0]
            # Only the payloads (stored exactly as served) cross into Python: the cursor
            # comes from the index alone.
            cursor = connection.execute(
                f"SELECT payload FROM {table} WHERE {where} {order} LIMIT ?", (*args, page_size)
            )
            payloads = [payload for (payload,) in cursor]
            keys = []
            if len(payloads) == page_size:
                keys = connection.execute(
                    f"SELECT updated_at, id, seq FROM {table} WHERE {where} {order} "
                    "LIMIT 2 OFFSET ?",
                    (*args, page_size - 1),
                ).fetchall()
            connection.execute("COMMIT")
        finally:
            connection.close()
        next_token = None
        if len(keys) == 2:  # a row follows this page
            next_token = self._page_token(table, keys[0], since, total)
            if self._chance(self.faults.mutate_while_paging):
                self._mutate(table, where, args, page_size)
        return b"".join(
            (
                b'{"items":[',
                b",".join(payloads),
                b'],"next_page_token":',
                orjson.dumps(next_token),
                b',"total":',
                str(total).encode(),
                b"}",
            )
        )

    def _mutate(self, table: str, where: str, args: list, page_size: int) -> None:
        """A few records just served change again: newer updated_at (the server clock)."""
        with self._write_lock:
            connection = self._connect()
            try:
                connection.execute("BEGIN IMMEDIATE")
                rows = connection.execute(
                    f"SELECT seq, payload FROM {table} WHERE {where} "
                    "ORDER BY updated_at, id, seq LIMIT ?",
                    (*args, page_size),
                ).fetchall()
                with self._lock:
                    k = min(len(rows), self._fault_rng.randint(1, 3))
                    chosen = self._fault_rng.sample(rows, k=k)
                now = _local_key(datetime.now(VIETNAM).replace(microsecond=0))
                newest = self._max_updated.get(table, "")
                if now <= newest:
                    # The store may hold times ahead of the real clock (an `end` in the
                    # future): stay after everything so the records come back later.
                    moment = datetime.fromisoformat(newest[:19]) + timedelta(seconds=1)
                    now = moment.isoformat(timespec="seconds")
                self._max_updated[table] = now
                for seq, payload in chosen:
                    record = orjson.loads(payload)
                    utc = str(record.get("updated_at", "")).endswith("Z")
                    record["updated_at"] = serve_timestamp(now, utc=utc)
                    connection.execute(
                        f"UPDATE {table} SET updated_at = ?, payload = ? WHERE seq = ?",
                        (now, orjson.dumps(record), seq),
                    )
                connection.execute("COMMIT")
            finally:
                connection.close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: one connection serves a whole listing
    server_version = "DVC-Portal/1.0"
    sys_version = ""

    @property
    def portal(self) -> PortalServer:
        return self.server.portal  # type: ignore[attr-defined]

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle's algorithm and
        # delayed ACKs add ~40 ms to every response.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Quiet: the demo prints what it serves once, not every request."""

    def do_GET(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        if url.path == f"{API}/health":
            self._send(200, b'{"status":"ok"}')
            return
        table = LIST_PATHS.get(url.path)
        if table is None:
            self._send_error(_ApiError(404, "not_found"))
            return
        try:
            self.portal._admit(self.client_address[0])
            self.portal._inject()
            self.portal.check_token(self.headers.get("Authorization"))
            body = self.portal.list_page(table, parse_qs(url.query, keep_blank_values=True))
        except _ApiError as error:
            self._send_error(error)
            return
        except Exception as error:  # a bug or a store being replaced: answer, do not hang
            self._send_error(_ApiError(500, f"internal_error: {type(error).__name__}"))
            return
        self._send(200, body)

    def do_POST(self) -> None:  # noqa: N802
        length = self.headers.get("Content-Length") or "0"
        body = self.rfile.read(int(length)) if length.isdigit() and int(length) > 0 else b""
        if urlsplit(self.path).path != f"{API}/auth/token":
            self._send_error(_ApiError(404, "not_found"))
            return
        try:
            self.portal._admit(self.client_address[0])
            self.portal._inject()
            answer = self.portal.issue_token(body)
        except _ApiError as error:
            self._send_error(error)
            return
        self._send(200, orjson.dumps(answer))

    def _method_not_allowed(self) -> None:
        self._send_error(_ApiError(405, "method_not_allowed"))

    do_PUT = do_DELETE = do_PATCH = _method_not_allowed  # noqa: N815

    def _send_error(self, error: _ApiError) -> None:
        self._send(error.status, orjson.dumps({"error": error.error}), error.headers)

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (e.g. its read timeout passed during a slow response).
            self.close_connection = True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a portal store as the DVC portal API.")
    parser.add_argument("--store", type=Path, required=True, help="portal.sqlite to serve")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--client-id", default="cds")
    parser.add_argument("--client-secret", default="cds-secret")
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME[=VALUE]",
        help="e.g. rate_limit, error_rate=0.05, slow_rate=0.1, slow_seconds=30, "
        "page_token_ttl_s=5, token_ttl_s=10, mutate_while_paging=0.2, seed=1",
    )
    args = parser.parse_args(argv)
    server = PortalServer(
        args.store,
        host=args.host,
        port=args.port,
        client_id=args.client_id,
        client_secret=args.client_secret,
        faults=PortalFaults.from_specs(args.fault),
    )
    print(server.describe(), flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
