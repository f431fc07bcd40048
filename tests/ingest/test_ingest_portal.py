"""Portal → warehouse through `ingest_portal`, against the simulated portal on loopback.

Each bad input of the ingestion issue (429 bursts, 5xx, a hanging response, an expired token,
an expired page token, records changing while paging, wrong types, unknown enums, unknown
fields, a portal that stays down): afterwards every valid record of the store is landed
exactly once at its latest version and every invalid one is in `quality.quarantine`.
"""

from __future__ import annotations

import json
import socket
import sqlite3
from pathlib import Path
from typing import Any

import orjson
import pytest
from ingest_support import (
    committed_pages,
    expected_portal,
    landed_latest,
    local,
    quarantined,
    raw_rows,
    run_log,
    settings_for,
    store_items,
    use_portal_client,
    versions,
)

from orchestration.ingest import PORTAL_DATASETS, PortalOptions, ingest_portal
from sources.dvc_portal import PortalError
from sources.simulator.portal_server import PortalFaults, PortalServer
from warehouse.landing import Lander

DOSSIERS = "dvc_dossiers"


def assert_store_landed(conn: Any, store: Path, dataset: str, generated: Any) -> set[str]:
    """Every record of the store at its latest version, each version once, unless it is a
    planted invalid one in quarantine; returns the quarantined keys."""
    held = {key for key, _, _ in quarantined(conn, dataset)}
    twins = generated.planted(dataset, {"duplicate"})  # the first copy lands, the second not
    must = generated.rejected(dataset)
    assert must | twins <= held <= must | twins | generated.questionable(dataset)
    assert landed_latest(conn, dataset) == expected_portal(store, dataset, held - twins)
    pairs = versions(conn, dataset)
    assert len(pairs) == len(set(pairs)), "a version landed twice"
    return held


def test_clean_ingest_lands_the_store_and_quarantines_the_planted_records(
    generated, wh, monkeypatch
) -> None:
    """Wrong types and unknown enum values (planted in the store) are quarantined with a
    reason naming the field; the procedure served twice lands once; every other record is
    landed."""
    store = generated.demo.portal_store
    lander = Lander(wh, "run-clean")
    with PortalServer(store) as server:
        settings = settings_for(generated.demo, portal_url=server.base_url)
        for dataset in PORTAL_DATASETS:
            ingest_portal(settings, lander, dataset, PortalOptions(page_size=250))
    for dataset in PORTAL_DATASETS:
        assert_store_landed(wh, store, dataset, generated)
        entries = {key: reason for key, reason, _ in quarantined(wh, dataset)}
        for anomaly in generated.manifest.anomalies:
            if anomaly.dataset != dataset or anomaly.kind not in ("enum", "wrong_type"):
                continue
            reason = entries[anomaly.record_key]
            field = anomaly.detail.split()[0]  # e.g. "kenh_nop 'FAX' is not ..."
            rules = {"enum": ("enum:",), "wrong_type": ("wrong_type:", "unparseable_date:")}
            assert reason.startswith(rules[anomaly.kind]) and field in reason, reason
        for key in generated.planted(dataset, {"duplicate"}):
            assert entries[key].startswith("duplicate:")
        (log,) = run_log(wh, dataset)
        assert log["status"] == "succeeded" and log["error"] is None
        assert log["rows_landed"] == len(raw_rows(wh, dataset))
        assert log["rows_quarantined"] == len(quarantined(wh, dataset))


def test_429_bursts_are_waited_out(generated, wh, monkeypatch) -> None:
    exchanges = use_portal_client(monkeypatch)
    faults = PortalFaults(rate_limit=True, rate_limit_per_second=3)
    with PortalServer(generated.demo.portal_store, faults=faults) as server:
        settings = settings_for(generated.demo, portal_url=server.base_url)
        ingest_portal(settings, Lander(wh, "run-429"), DOSSIERS, PortalOptions(page_size=100))
    assert any(status == 429 for _, _, status in exchanges)
    assert_store_landed(wh, generated.demo.portal_store, DOSSIERS, generated)
    assert run_log(wh, DOSSIERS)[-1]["status"] == "succeeded"


def test_server_errors_are_retried(generated, wh, monkeypatch) -> None:
    exchanges = use_portal_client(monkeypatch, backoff_base=0.02)
    faults = PortalFaults(error_rate=0.3, seed=5)
    with PortalServer(generated.demo.portal_store, faults=faults) as server:
        settings = settings_for(generated.demo, portal_url=server.base_url)
        ingest_portal(settings, Lander(wh, "run-5xx"), DOSSIERS, PortalOptions(page_size=60))
    statuses = [status for _, _, status in exchanges]
    assert 503 in statuses or any(isinstance(s, int) and s >= 500 for s in statuses)
    assert_store_landed(wh, generated.demo.portal_store, DOSSIERS, generated)


def test_hanging_response_times_out_and_is_retried(generated, wh, monkeypatch) -> None:
    exchanges = use_portal_client(monkeypatch, read_timeout=0.3, backoff_base=0.02)
    faults = PortalFaults(slow_rate=0.3, slow_seconds=1.5, seed=2)
    with PortalServer(generated.demo.portal_store, faults=faults) as server:
        settings = settings_for(generated.demo, portal_url=server.base_url)
        ingest_portal(settings, Lander(wh, "run-hang"), DOSSIERS, PortalOptions(page_size=60))
    assert "ReadTimeout" in [status for _, _, status in exchanges]
    assert_store_landed(wh, generated.demo.portal_store, DOSSIERS, generated)


def test_expired_token_mid_listing_is_renewed(generated, wh, monkeypatch) -> None:
    # A slow consumer: the token expires between pages (the client believes it for a second).
    exchanges = use_portal_client(monkeypatch, pause=0.15)
    faults = PortalFaults(token_ttl_s=0.1)
    with PortalServer(generated.demo.portal_store, faults=faults) as server:
        settings = settings_for(generated.demo, portal_url=server.base_url)
        ingest_portal(settings, Lander(wh, "run-401"), DOSSIERS, PortalOptions(page_size=100))
    assert ("GET", "/api/v1/dossiers", 401) in exchanges
    assert sum(method == "POST" for method, _, _ in exchanges) >= 2
    assert_store_landed(wh, generated.demo.portal_store, DOSSIERS, generated)


def test_expired_page_token_restarts_from_the_committed_watermark(
    generated, wh, monkeypatch
) -> None:
    exchanges = use_portal_client(monkeypatch, pause=0.15)  # past the page token's life
    faults = PortalFaults(page_token_ttl_s=0.1)
    store = generated.demo.portal_store
    with PortalServer(store, faults=faults) as server:
        settings = settings_for(generated.demo, portal_url=server.base_url)
        ingest_portal(settings, Lander(wh, "run-410"), DOSSIERS, PortalOptions(page_size=100))
    assert sum(status == 410 for _, _, status in exchanges) >= 2
    assert_store_landed(wh, store, DOSSIERS, generated)
    newest = max(local(item["updated_at"]) for item in store_items(store, DOSSIERS))
    assert run_log(wh, DOSSIERS)[-1]["watermark_after"] == newest.isoformat()


def test_records_updated_while_paging_land_every_version_once(
    generated, wh, own_store, monkeypatch
) -> None:
    faults = PortalFaults(mutate_while_paging=0.5, seed=7)
    with PortalServer(own_store, faults=faults) as server:
        settings = settings_for(generated.demo, portal_url=server.base_url)
        ingest_portal(settings, Lander(wh, "run-mut"), DOSSIERS, PortalOptions(page_size=50))
    # The store now holds the changed records at their new version: that one must win.
    assert_store_landed(wh, own_store, DOSSIERS, generated)
    pairs = versions(wh, DOSSIERS)
    changed = {key for key, _ in pairs if sum(k == key for k, _ in pairs) > 1}
    assert changed, "some records were served again with a newer version while paging"


def _edit_payload(store: Path, table: str, record_id: str, **fields: Any) -> None:
    connection = sqlite3.connect(store)
    with connection:
        (payload,) = connection.execute(
            f"SELECT payload FROM {table} WHERE id = ?", [record_id]
        ).fetchone()
        item = {**orjson.loads(payload), **fields}
        connection.execute(
            f"UPDATE {table} SET payload = ? WHERE id = ?", [orjson.dumps(item), record_id]
        )
    connection.close()


def test_extra_unknown_fields_are_kept_in_extra_not_fatal(
    generated, wh, own_store, monkeypatch
) -> None:
    dossier = next(
        d
        for d in store_items(own_store, DOSSIERS)
        if d["ma_ho_so"] not in generated.planted(DOSSIERS)
    )
    procedure = store_items(own_store, "dvc_procedures")[5]
    _edit_payload(
        own_store,
        "dossiers",
        dossier["ma_ho_so"],
        kenh_thanh_toan="VNPAY",
        ho_so_lien_quan=["A-1", "A-2"],
        email_nguoi_nop="nguoi.nop@example.vn",  # personal: dropped, not kept
    )
    _edit_payload(own_store, "procedures", procedure["ma_thu_tuc"], phi={"muc": 50000})
    lander = Lander(wh, "run-extra")
    with PortalServer(own_store) as server:
        settings = settings_for(generated.demo, portal_url=server.base_url)
        for dataset in PORTAL_DATASETS:
            ingest_portal(settings, lander, dataset)
    for dataset in PORTAL_DATASETS:
        assert_store_landed(wh, own_store, dataset, generated)
        assert run_log(wh, dataset)[-1]["status"] == "succeeded"
    (row,) = raw_rows(wh, DOSSIERS, f"WHERE ma_ho_so = '{dossier['ma_ho_so']}'")
    assert json.loads(row["_extra"]) == {
        "ho_so_lien_quan": ["A-1", "A-2"],
        "kenh_thanh_toan": "VNPAY",
    }
    (row,) = raw_rows(wh, "dvc_procedures", f"WHERE ma_thu_tuc = '{procedure['ma_thu_tuc']}'")
    assert json.loads(row["_extra"]) == {"phi": {"muc": 50000}}
    others = raw_rows(wh, DOSSIERS, f"WHERE ma_ho_so <> '{dossier['ma_ho_so']}'")
    assert all(r["_extra"] is None for r in others)


def test_portal_down_mid_listing_fails_clearly_and_lands_only_whole_pages(
    generated, wh, monkeypatch
) -> None:
    """The portal answers 5xx to everything after three pages: the run fails naming the
    endpoint, is logged as failed, and raw holds whole pages only (those committed, with
    their watermark); once the portal is back, the next run completes from the watermark
    with nothing twice."""
    store = generated.demo.portal_store
    page = 60
    with PortalServer(store) as server:

        def portal_goes_down(n: int) -> None:
            if n == 3:
                server.faults.error_rate = 1.0

        use_portal_client(monkeypatch, on_page=portal_goes_down, max_retries=3, backoff_base=0.01)
        settings = settings_for(generated.demo, portal_url=server.base_url)
        with pytest.raises(PortalError, match="/api/v1/dossiers") as failure:
            ingest_portal(settings, Lander(wh, "run-down"), DOSSIERS, PortalOptions(page))
        assert "retries spent" in str(failure.value) and failure.value.status >= 500

        (log,) = run_log(wh, DOSSIERS)
        assert log["status"] == "failed" and "/api/v1/dossiers" in log["error"]
        assert committed_pages(wh, store, DOSSIERS, page, most=3) <= 3

        server.faults = PortalFaults()  # back up
        ingest_portal(settings, Lander(wh, "run-after"), DOSSIERS, PortalOptions(page))
    assert_store_landed(wh, store, DOSSIERS, generated)
    assert [r["status"] for r in run_log(wh, DOSSIERS)] == ["failed", "succeeded"]


def test_unreachable_portal_fails_naming_the_endpoint_and_lands_nothing(
    generated, wh, monkeypatch
) -> None:
    use_portal_client(monkeypatch, max_retries=2, backoff_base=0.01, connect_timeout=0.5)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    settings = settings_for(generated.demo, portal_url=closed)
    with pytest.raises(PortalError, match=r"/api/v1/auth/token: retries spent") as failure:
        ingest_portal(settings, Lander(wh, "run-unreachable"), DOSSIERS)
    assert failure.value.status is None and "no response" in str(failure.value)
    (log,) = run_log(wh, DOSSIERS)
    assert log["status"] == "failed" and "/api/v1/auth/token" in log["error"]
    assert log["rows_landed"] == 0
    assert raw_rows(wh, DOSSIERS) == [] and quarantined(wh, DOSSIERS) == []
    assert Lander(wh, "x").watermark(DOSSIERS) is None
