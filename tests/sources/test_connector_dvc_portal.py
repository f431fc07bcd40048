"""The portal client against the simulated portal on loopback (real HTTP), clean and faulty."""

from __future__ import annotations

import hashlib
import hmac
import logging
import shutil
import sqlite3
import time
from collections.abc import Iterable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests

from sources.batch import Batch
from sources.dvc_portal import PortalClient, PortalError
from sources.dvc_portal.client import DOSSIERS_PATH
from sources.dvc_portal.records import DOSSIER_SPEC, PROCEDURE_SPEC, RATING_SPEC, RecordSpec
from sources.simulator.manifest import Manifest
from sources.simulator.portal_data import iter_payloads, write_portal_store
from sources.simulator.portal_server import PortalFaults, PortalServer

SEED = 2158
PII_KEY = b"test-pii-key"
SECRET = "cds-secret"
VN = timezone(timedelta(hours=7))
SPECS = {"procedures": PROCEDURE_SPEC, "dossiers": DOSSIER_SPEC, "ratings": RATING_SPEC}


@pytest.fixture(scope="module")
def store(world, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest]:
    path = tmp_path_factory.mktemp("portal") / "portal.sqlite"
    manifest = Manifest()
    write_portal_store(
        world,
        path,
        seed=SEED,
        scale=0.002,
        start=date(2024, 1, 1),
        end=date(2024, 3, 31),
        manifest=manifest,
    )
    return path, manifest


@pytest.fixture
def own_store(store, tmp_path: Path) -> Path:
    """A private copy of the store, for tests whose portal changes records."""
    target = tmp_path / "portal.sqlite"
    shutil.copy(store[0], target)
    return target


@pytest.fixture(scope="module")
def server(store):
    with PortalServer(store[0]) as srv:
        yield srv


class Waits(list):
    """A `sleep` that records what the client asked for and waits at most `cap` for real."""

    def __init__(self, cap: float = 0.0) -> None:
        super().__init__()
        self.cap = cap

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        if self.cap:
            time.sleep(min(seconds, self.cap))


class CountingSession(requests.Session):
    """A real session that remembers the (method, path, status) of every exchange."""

    def __init__(self) -> None:
        super().__init__()
        self.exchanges: list[tuple[str, str, int]] = []

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        response = super().request(method, url, *args, **kwargs)
        self.exchanges.append((method, requests.utils.urlparse(url).path, response.status_code))
        return response


def client(base_url: str, **kwargs: Any) -> PortalClient:
    kwargs.setdefault("sleep", Waits())
    return PortalClient(base_url, "cds", SECRET, **kwargs)


def local(text: str | None) -> datetime | None:
    """An ISO timestamp of the wire as naive Vietnam time (independently of the client)."""
    if text is None:
        return None
    moment = datetime.fromisoformat(text)
    return moment.astimezone(VN).replace(tzinfo=None) if moment.tzinfo else moment


def expected(path: Path, table: str, manifest: Manifest, pii_key: bytes = PII_KEY) -> dict:
    """What a clean read must give: each valid record once, at its latest version, as a row."""
    spec = SPECS[table]
    invalid = {
        a.record_key
        for a in manifest.anomalies
        if a.dataset == spec.dataset and a.kind in ("enum", "wrong_type")
    }
    latest: dict[str, dict] = {}
    for item in iter_payloads(path, table):
        key = item[spec.key]
        if key in invalid:
            continue
        if key not in latest or local(item["updated_at"]) > local(latest[key]["updated_at"]):
            latest[key] = item
    return {key: as_row(spec, item, pii_key) for key, item in latest.items()}


def as_row(spec: RecordSpec, item: dict, pii_key: bytes) -> dict:
    row = {}
    for f in spec.fields:
        row[f.name] = local(item.get(f.name)) if f.kind == "ts" else item.get(f.name)
    if spec is DOSSIER_SPEC:
        ident = item["nguoi_nop"].get("so_dinh_danh")
        row["applicant_key"] = (
            hmac.new(pii_key, ident.encode(), hashlib.sha256).hexdigest() if ident else None
        )
    row["_extra"] = None
    return {c: row[c] for c in spec.columns}


def collect(batches: Iterable[Batch]) -> tuple[list[Batch], list[dict], list]:
    batches = list(batches)
    return (
        batches,
        [r for b in batches for r in b.rows],
        [r for b in batches for r in b.rejected],
    )


def latest_by_key(rows: list[dict], key: str) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for row in rows:
        if row[key] not in out or row["updated_at"] >= out[row[key]]["updated_at"]:
            out[row[key]] = row
    return out


def personal_values(path: Path) -> set[str]:
    values = set()
    for item in iter_payloads(path, "dossiers"):
        for name in ("ho_ten", "so_dinh_danh", "so_dien_thoai"):
            if item["nguoi_nop"].get(name):
                values.add(str(item["nguoi_nop"][name]))
    return values


def read(c: PortalClient, table: str, since: str | None = None):
    if table == "procedures":
        return c.read_procedures()
    if table == "dossiers":
        return c.read_dossiers(since, PII_KEY)
    return c.read_ratings(since)


# -- clean reads --------------------------------------------------------------------------------
@pytest.mark.parametrize("table", ["procedures", "dossiers", "ratings"])
def test_clean_full_read_equals_the_store(server, store, table: str, caplog) -> None:
    path, manifest = store
    spec = SPECS[table]
    caplog.set_level(logging.DEBUG)
    batches, rows, rejected = collect(read(client(server.base_url, page_size=97), table))
    assert {b.dataset for b in batches} == {spec.dataset}
    assert all(len(b.rows) + len(b.rejected) <= 97 for b in batches)
    # Every valid record exactly once, at its latest version.
    assert len(rows) == len({r[spec.key] for r in rows})
    assert {r[spec.key]: r for r in rows} == expected(path, table, manifest)
    # The planted invalid records, and nothing else, are rejected (a date that is not ISO
    # 8601 is planted as `wrong_type`; the client calls it `unparseable_date`).
    planted = {
        (a.record_key, "unparseable_date" if "31/02" in a.detail else a.kind)
        for a in manifest.anomalies
        if a.dataset == spec.dataset and a.kind in ("enum", "wrong_type", "duplicate")
    }
    assert {(r.record_key, r.reason.split(":")[0]) for r in rejected} == planted
    if table == "procedures":
        assert {b.watermark for b in batches} == {None}
    else:
        marks = [b.watermark for b in batches]
        assert marks == sorted(marks)
        assert datetime.fromisoformat(marks[-1]) == max(
            local(i["updated_at"]) for i in iter_payloads(path, table)
        )
    # No personal data anywhere: rows, quarantine payloads, reasons, logs.
    if table == "dossiers":
        text = repr(rows) + repr([(r.reason, r.payload) for r in rejected]) + caplog.text
        assert "nguoi_nop" not in text and "ho_ten" not in text
        leaked = [v for v in personal_values(path) if v in text]
        assert leaked == []
        assert all(r.payload.get("applicant_key") for r in rejected)


def test_some_records_are_served_in_utc_and_converted(server, store) -> None:
    path, _ = store
    utc = [i for i in iter_payloads(path, "dossiers") if i["updated_at"].endswith("Z")]
    assert utc, "the simulator serves about 1% of the records in UTC"
    _, rows, _ = collect(client(server.base_url).read_dossiers(None, PII_KEY))
    by_key = {r["ma_ho_so"]: r for r in rows}
    for item in utc:
        if item["ma_ho_so"] in by_key:
            stamp = datetime.fromisoformat(item["updated_at"].replace("Z", "+00:00"))
            assert by_key[item["ma_ho_so"]]["updated_at"] == stamp.replace(tzinfo=None) + timedelta(
                hours=7
            )


def test_incremental_read_returns_only_records_from_the_watermark(server, store) -> None:
    path, manifest = store
    c = client(server.base_url, page_size=50)
    full, _, _ = collect(c.read_dossiers(None, PII_KEY))
    since = full[len(full) // 2 - 1].watermark
    _, rows, rejected = collect(c.read_dossiers(since, PII_KEY))
    boundary = datetime.fromisoformat(since)
    wanted = {
        k for k, r in expected(path, "dossiers", manifest).items() if r["updated_at"] >= boundary
    }
    assert {r["ma_ho_so"] for r in rows} == wanted
    assert 0 < len(wanted) < len(expected(path, "dossiers", manifest))
    assert all(r.payload["updated_at"] >= since[:10] for r in rejected)
    # From the last watermark: only the boundary records (inclusive) come back.
    _, again, _ = collect(c.read_dossiers(full[-1].watermark, PII_KEY))
    assert {r["updated_at"] for r in again} == {datetime.fromisoformat(full[-1].watermark)}


def test_health(server) -> None:
    assert client(server.base_url).health()


# -- faults --------------------------------------------------------------------------------------
@pytest.fixture
def faulty(server):
    """Turn faults on in the shared portal for one test (the portal reads them per request)."""

    def turn_on(**faults: Any) -> PortalServer:
        for name, value in faults.items():
            setattr(server.faults, name, value)
        return server

    yield turn_on
    server.faults = PortalFaults()


def test_rate_limit_bursts_wait_for_retry_after(store, faulty) -> None:
    path, manifest = store
    srv = faulty(rate_limit=True, rate_limit_per_second=4)
    waits = Waits(cap=0.3)
    session = CountingSession()
    c = client(srv.base_url, page_size=300, sleep=waits, session=session)
    _, rows, _ = collect(c.read_procedures())
    assert {r["ma_thu_tuc"] for r in rows} == set(expected(path, "procedures", manifest))
    throttled = [e for e in session.exchanges if e[2] == 429]
    assert throttled and len(waits) == len(throttled)
    assert all(w >= 1.0 and w == int(w) for w in waits)  # Retry-After, whole seconds


def test_transient_server_errors_are_retried_with_backoff(store, faulty) -> None:
    path, manifest = store
    srv = faulty(error_rate=0.3)
    waits = Waits()
    session = CountingSession()
    c = client(srv.base_url, page_size=10, sleep=waits, session=session, backoff_base=0.5)
    _, rows, _ = collect(c.read_dossiers(None, PII_KEY))
    assert latest_by_key(rows, "ma_ho_so") == expected(path, "dossiers", manifest)
    errors = [e for e in session.exchanges if e[2] >= 500]
    assert errors and len(waits) == len(errors)
    # Full jitter: each wait is drawn in [0, min(backoff_max, base * 2^(n-1))].
    assert all(0 <= w <= 30.0 for w in waits)


def test_hanging_response_times_out_and_is_retried(store, faulty) -> None:
    path, manifest = store
    srv = faulty(slow_rate=0.3, slow_seconds=1.0)
    waits = Waits()
    session = CountingSession()
    c = client(srv.base_url, page_size=10, read_timeout=0.2, sleep=waits, session=session)
    started = time.monotonic()
    _, rows, _ = collect(c.read_dossiers(None, PII_KEY))
    elapsed = time.monotonic() - started
    assert latest_by_key(rows, "ma_ho_so") == expected(path, "dossiers", manifest)
    hung = len(waits)  # every retry here followed a read timeout (no fault answers 5xx)
    assert hung and all(status == 200 for _, _, status in session.exchanges)
    assert elapsed < 1.0 * hung  # each hang was given up after the read timeout, not 1 s


def test_expired_token_mid_listing_is_renewed(store, faulty) -> None:
    path, manifest = store
    srv = faulty(token_ttl_s=0.1)
    session = CountingSession()
    c = client(srv.base_url, page_size=90, session=session)
    rows = []
    for batch in c.read_dossiers(None, PII_KEY):
        rows.extend(batch.rows)
        time.sleep(0.15)  # the consumer lands slowly: the token expires meanwhile
    assert latest_by_key(rows, "ma_ho_so") == expected(path, "dossiers", manifest)
    assert ("GET", DOSSIERS_PATH, 401) in session.exchanges
    assert sum(1 for e in session.exchanges if e[0] == "POST") >= 2


def test_expired_page_token_restarts_from_the_watermark(store, faulty) -> None:
    path, manifest = store
    srv = faulty(page_token_ttl_s=0.1)
    session = CountingSession()
    c = client(srv.base_url, page_size=60, session=session)
    batches = []
    for batch in c.read_dossiers(None, PII_KEY):
        batches.append(batch)
        time.sleep(0.15)  # past the page token's life
    rows = [r for b in batches for r in b.rows]
    assert latest_by_key(rows, "ma_ho_so") == expected(path, "dossiers", manifest)
    expired = [e for e in session.exchanges if e[2] == 410]
    assert len(expired) >= 2
    # The re-read boundary records are not yielded twice at the same version.
    versions = [(r["ma_ho_so"], r["updated_at"]) for r in rows]
    assert len(versions) == len(set(versions))


def test_page_tokens_that_keep_expiring_without_progress_give_up(faulty) -> None:
    srv = faulty(page_token_ttl_s=0.1)
    c = client(srv.base_url, page_size=100, max_retries=1)
    with pytest.raises(PortalError, match="page tokens keep expiring") as err:
        for _ in c.read_procedures():  # no watermark: a restart starts over
            time.sleep(0.12)
    assert err.value.status == 410 and err.value.endpoint == "/api/v1/procedures"


def test_record_updated_while_paging_latest_wins(store, own_store) -> None:
    faults = PortalFaults(mutate_while_paging=0.6, seed=11)
    with PortalServer(own_store, faults=faults) as srv:
        _, rows, _ = collect(client(srv.base_url, page_size=25).read_dossiers(None, PII_KEY))
    final = expected(own_store, "dossiers", store[1])  # the store as it is after the read
    got = latest_by_key(rows, "ma_ho_so")
    assert got == final
    changed = [k for k in final if sum(r["ma_ho_so"] == k for r in rows) > 1]
    assert changed, "some records were served again with a newer version"
    versions = [(r["ma_ho_so"], r["updated_at"]) for r in rows]
    assert len(versions) == len(set(versions))


def _insert(path: Path, table: str, record_id: str, sort_key: str, payload: dict) -> None:
    connection = sqlite3.connect(path)
    with connection:
        connection.execute(
            f"INSERT INTO {table} (id, updated_at, payload) VALUES (?, ?, ?)",
            (record_id, sort_key, orjson.dumps(payload)),
        )
    connection.close()


def test_wrong_type_unknown_enum_and_extra_fields(own_store) -> None:
    dossier = next(iter(iter_payloads(own_store, "dossiers")))
    procedure = next(iter(iter_payloads(own_store, "procedures")))
    rating = next(iter(iter_payloads(own_store, "ratings")))
    stamp, wire = "2024-04-02T08:00:00", "2024-04-02T08:00:00+07:00"
    _insert(
        own_store,
        "dossiers",
        "X-1",
        stamp,
        {**dossier, "ma_ho_so": "X-1", "so_hoa_ket_qua": "true", "updated_at": wire},
    )
    _insert(
        own_store,
        "dossiers",
        "X-2",
        stamp,
        {
            **dossier,
            "ma_ho_so": "X-2",
            "updated_at": wire,
            "kenh_goc": "ZALO",
            "email_nguoi_nop": "a@b.vn",
            "nguoi_nop": {"ho_ten": "Lò Văn A"},
        },
    )
    _insert(
        own_store,
        "dossiers",
        "X-3",
        stamp,
        {
            **dossier,
            "ma_ho_so": "X-3",
            "han_xu_ly": None,
            "ngay_hoan_thanh": None,
            "trang_thai": "DANG_XU_LY",
            "ma_dvhc": None,
            "updated_at": wire,
        },
    )
    _insert(
        own_store,
        "ratings",
        "X-4",
        stamp,
        {**rating, "ma_danh_gia": "X-4", "muc_do": "TUYET_VOI", "updated_at": wire},
    )
    _insert(
        own_store,
        "procedures",
        "X-5",
        "2030-01-01T00:00:00",
        {
            **procedure,
            "ma_thu_tuc": "X-5",
            "phi": {"muc": 50000, "don_vi": "VND"},
            "ghi_chu": "mới",
            "updated_at": "2030-01-01T00:00:00+07:00",
        },
    )
    _insert(
        own_store,
        "procedures",
        "X-6",
        "2030-01-01T00:00:00",
        {
            **procedure,
            "ma_thu_tuc": "X-6",
            "cap_thuc_hien": "TINH",
            "ma_co_quan": None,
            "updated_at": "2030-01-01T00:00:00+07:00",
        },
    )
    _insert(
        own_store,
        "procedures",
        "X-7",
        "2030-01-01T00:00:00",
        {
            **procedure,
            "ma_thu_tuc": "X-7",
            "cap_thuc_hien": "XA",
            "ma_co_quan": None,
            "updated_at": "2030-01-01T00:00:00+07:00",
        },
    )
    with PortalServer(own_store) as srv:
        c = client(srv.base_url)
        _, dossiers, bad_dossiers = collect(c.read_dossiers("2024-04-01T00:00:00", PII_KEY))
        _, _, bad_ratings = collect(c.read_ratings("2024-04-01T00:00:00"))
        _, procedures, bad_procedures = collect(c.read_procedures())
    assert [(r.record_key, r.reason) for r in bad_dossiers] == [
        ("X-1", "wrong_type: so_hoa_ket_qua='true' is not a boolean"),
        ("X-3", "wrong_type: ma_dvhc=null where the contract says it is never null"),
    ]
    (extra,) = [r for r in dossiers if r["ma_ho_so"] == "X-2"]
    assert extra["_extra"] == '{"kenh_goc":"ZALO"}'  # kept; the personal field is not
    assert extra["applicant_key"] is None  # nguoi_nop without so_dinh_danh
    assert [(r.record_key, r.reason.split(":")[0]) for r in bad_ratings] == [("X-4", "enum")]
    assert "TUYET_VOI" in bad_ratings[0].reason
    (five,) = [r for r in procedures if r["ma_thu_tuc"] == "X-5"]
    assert orjson.loads(five["_extra"]) == {
        "ghi_chu": "mới",
        "phi": {"don_vi": "VND", "muc": 50000},
    }
    assert five["_extra"].index("ghi_chu") < five["_extra"].index("phi")  # sorted keys
    assert [r.record_key for r in bad_procedures if r.record_key.startswith("X-")] == ["X-6"]
    assert any(r["ma_thu_tuc"] == "X-7" and r["ma_co_quan"] is None for r in procedures)
    for r in bad_dossiers:
        assert "nguoi_nop" not in r.payload and "applicant_key" in r.payload


def test_an_older_version_after_a_newer_one_is_dropped(own_store) -> None:
    newest = max(iter_payloads(own_store, "dossiers"), key=lambda i: local(i["updated_at"]))
    stale = {**newest, "trang_thai": "MOI_TIEP_NHAN", "updated_at": "2024-01-01T08:00:00+07:00"}
    _insert(own_store, "dossiers", newest["ma_ho_so"], "2099-01-01T00:00:00", stale)
    with PortalServer(own_store) as srv:
        _, rows, rejected = collect(client(srv.base_url).read_dossiers(None, PII_KEY))
    mine = [r for r in rows if r["ma_ho_so"] == newest["ma_ho_so"]]
    assert [r["updated_at"] for r in mine] == [local(newest["updated_at"])]
    assert newest["ma_ho_so"] not in {r.record_key for r in rejected}


def test_retries_exhausted_name_the_endpoint(server, store) -> None:
    waits = Waits()
    session = CountingSession()
    c = client(server.base_url, page_size=50, max_retries=3, sleep=waits, session=session)
    batches = c.read_dossiers(None, PII_KEY)
    next(batches)
    server.faults.error_rate = 1.0  # the portal goes down for maintenance mid-listing
    try:
        with pytest.raises(PortalError) as err:
            next(batches)
    finally:
        server.faults.error_rate = 0.0
    message = str(err.value)
    assert err.value.endpoint == DOSSIERS_PATH and DOSSIERS_PATH in message
    assert err.value.attempts == 4 and "4 attempt(s)" in message
    assert err.value.status in (500, 502, 503, 504) and str(err.value.status) in message
    assert len(waits) == 3
    assert SECRET not in message and "Bearer" not in message
    leaked = [v for v in personal_values(store[0]) if v in message]
    assert leaked == []


def test_unreachable_portal_and_wrong_credentials(server) -> None:
    with pytest.raises(PortalError, match=r"no response, 3 attempt\(s\)") as err:
        list(client("http://127.0.0.1:9", max_retries=2, connect_timeout=0.5).read_ratings(None))
    assert err.value.endpoint == "/api/v1/auth/token" and err.value.status is None
    wrong = PortalClient(server.base_url, "cds", "not-the-secret", sleep=Waits())
    with pytest.raises(PortalError, match="credentials refused") as err:
        list(wrong.read_ratings(None))
    assert err.value.status == 401 and "not-the-secret" not in str(err.value)
    assert "not-the-secret" not in repr(wrong)


def test_bad_request_is_permanent(server) -> None:
    waits = Waits()
    c = client(server.base_url, sleep=waits)
    with pytest.raises(PortalError, match=r"permanent error 400.*1 attempt\(s\)") as err:
        c._call("GET", DOSSIERS_PATH, params={"page_size": 5000})
    assert err.value.status == 400 and waits == []
