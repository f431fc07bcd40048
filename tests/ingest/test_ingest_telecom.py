"""Carrier feeds → warehouse through `ingest_telecom`, with every fault the simulator plants.

Truncated file, legacy encoding, stray files, an unknown village, a negative count, a missing
carrier month, a late correction (its first delivery ingested first, then the correction),
plus an empty file and a file re-sent with identical bytes. Every file is in the registry
with its status; every row of a readable file is landed once or quarantined.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import time
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from ingest_support import quarantined, raw_rows, run_log, settings_for, warehouse

from orchestration.ingest import ingest_telecom
from sources.simulator.telecom import RESEND_DIR
from sources.telecom import newest_per_carrier_month, scan_folder
from warehouse.landing import Lander

DATASET = "telecom_coverage"
CORRECTED = "vtl_2025-03.csv"  # the month the simulator re-sends (see the manifest)


def records_in(path: Path) -> int:
    """Data records in a feed file, counted without the connector."""
    data = path.read_bytes()
    if path.suffix == ".csv":
        return sum(1 for line in data.decode("utf-8-sig").splitlines()[1:] if line.strip())
    if path.suffix == ".jsonl":
        return sum(1 for line in data.decode().splitlines() if line.strip())
    rows = openpyxl.load_workbook(io.BytesIO(data), read_only=True)["BaoCao"].iter_rows(
        min_row=4, values_only=True
    )
    return sum(1 for r in rows if r[0] is not None and not str(r[0]).startswith("Tổng cộng"))


def registry(conn: Any) -> list[dict[str, Any]]:
    cursor = conn.execute("SELECT * FROM raw.telecom_files ORDER BY file_name, modified_at")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def quarantined_per_file(conn: Any) -> dict[str, int]:
    return dict(
        conn.execute(
            "SELECT json_extract_string(payload, '$.file_name'), count(*) "
            "FROM quality.quarantine WHERE dataset = ? GROUP BY 1",
            [DATASET],
        ).fetchall()
    )


def rows_per_sha(conn: Any) -> dict[str, int]:
    return dict(
        conn.execute("SELECT file_sha256, count(*) FROM raw.telecom_coverage GROUP BY 1").fetchall()
    )


@pytest.fixture(scope="module")
def all_feeds(generated, reference_warehouse, tmp_path_factory) -> Any:
    """The whole generated feed folder ingested once (read-only for the tests below)."""
    path = tmp_path_factory.mktemp("feeds") / "w.duckdb"
    shutil.copy(reference_warehouse, path)
    with warehouse(path) as conn:
        ingest_telecom(settings_for(generated.demo), Lander(conn, "run-feeds"))
        yield conn


def faulty_files(generated, kind: str) -> set[str]:
    return generated.planted("telecom_files", {kind})


def test_every_file_is_registered_with_its_status(generated, all_feeds) -> None:
    entries = {e["file_name"]: e for e in registry(all_feeds)}
    assert set(entries) == {p.name for p in generated.demo.telecom_dir.iterdir()}
    expected_failures = {
        **dict.fromkeys(faulty_files(generated, "truncated_file"), "truncated"),
        **dict.fromkeys(faulty_files(generated, "legacy_encoding"), "encoding"),
    }
    stray = faulty_files(generated, "stray_file")
    assert len(expected_failures) == 2 and len(stray) == 2
    for name, entry in entries.items():
        if name in expected_failures:
            assert entry["status"] == "failed"
            assert expected_failures[name] in entry["error"] and name in entry["error"]
        elif name in stray:
            assert entry["status"] == "not_a_feed" and "not_a_feed" in entry["error"]
        else:
            assert entry["status"] == "loaded" and entry["error"] is None, entry
    (log,) = run_log(all_feeds, DATASET)
    assert log["status"] == "succeeded"


def test_unreadable_files_land_no_row(generated, all_feeds) -> None:
    landed = rows_per_sha(all_feeds)
    for entry in registry(all_feeds):
        if entry["status"] != "loaded":
            assert entry["sha256"] not in landed
            assert entry["rows_landed"] == entry["rows_quarantined"] == 0


def test_every_row_of_a_readable_file_is_landed_once_or_quarantined(generated, all_feeds) -> None:
    landed = rows_per_sha(all_feeds)
    held = quarantined_per_file(all_feeds)
    for entry in registry(all_feeds):
        if entry["status"] != "loaded":
            continue
        path = generated.demo.telecom_dir / entry["file_name"]
        assert landed[entry["sha256"]] + held.get(entry["file_name"], 0) == records_in(path)
        assert entry["rows_landed"] == landed[entry["sha256"]]
    keys = all_feeds.execute(
        "SELECT count(*), count(DISTINCT (file_sha256, row_number)) FROM raw.telecom_coverage"
    ).fetchall()[0]
    assert keys[0] == keys[1]


def test_unknown_village_and_negative_count_are_quarantined(generated, all_feeds) -> None:
    entries = {key: reason for key, reason, _ in quarantined(all_feeds, DATASET)}
    unknown = generated.planted(DATASET, {"unknown_village"})
    negative = generated.planted(DATASET, {"negative_count"})
    assert set(entries) == unknown | negative
    for key in unknown:  # the reason names the village and the list it is missing from
        village = key.split("|")[2]
        assert village in entries[key] and "thon_ban" in entries[key], entries[key]
    for key in negative:
        assert entries[key].startswith("negative_count: so_thue_bao_smartphone=-")
    for key in unknown | negative:
        carrier, period, village = key.split("|")
        assert not raw_rows(
            all_feeds,
            DATASET,
            f"WHERE nha_mang = '{carrier}' AND ky_bao_cao = '{period}' AND ma_thon = '{village}'",
        )


def test_missing_carrier_month_has_nothing(generated, all_feeds) -> None:
    (missing,) = faulty_files(generated, "missing_carrier_month")
    carrier, period = missing.split(".")[0].split("_")
    assert not [
        e for e in registry(all_feeds) if (e["nha_mang"], e["ky_bao_cao"]) == (carrier, period)
    ]
    assert not raw_rows(
        all_feeds, DATASET, f"WHERE nha_mang = '{carrier}' AND ky_bao_cao = '{period}'"
    )


# -- deliveries played by hand into a folder of the test's own --------------------------------
def deliver(
    source: Path, folder: Path, name: str | None = None, *, mtime: float | None = None
) -> Path:
    """Copy a feed file into the drop folder, keeping its modification time unless given."""
    folder.mkdir(exist_ok=True)
    target = folder / (name or source.name)
    shutil.copy2(source, target)
    if mtime is not None:
        os.utime(target, (mtime, mtime))
    return target


@pytest.mark.parametrize("order", ["first_delivery_first", "correction_first"])
def test_late_correction_keeps_both_versions_and_the_newest_mtime_wins(
    generated, wh, tmp_path: Path, order: str
) -> None:
    assert CORRECTED in faulty_files(generated, "late_correction")
    first = generated.demo.root / RESEND_DIR / f"{CORRECTED}.orig"
    correction = generated.demo.telecom_dir / CORRECTED
    folder = tmp_path / "drop"
    settings = settings_for(generated.demo, telecom_dir=folder)
    deliveries = [first, correction] if order == "first_delivery_first" else [correction, first]
    for n, source in enumerate(deliveries):
        deliver(source, folder, CORRECTED)
        ingest_telecom(settings, Lander(wh, f"run-{n}"))

    entries = registry(wh)
    assert [e["file_name"] for e in entries] == [CORRECTED, CORRECTED]
    assert [e["status"] for e in entries] == ["loaded", "loaded"]
    older, newer = entries  # ordered by modification time
    assert older["modified_at"] < newer["modified_at"]
    assert older["sha256"] == hashlib.sha256(first.read_bytes()).hexdigest() != newer["sha256"]
    # Both versions are in raw (history), each whole.
    landed = rows_per_sha(wh)
    assert landed == {e["sha256"]: records_in(correction) for e in entries}
    # The newest modification time wins, whatever the order of arrival.
    winner = wh.execute(
        "SELECT sha256 FROM raw.telecom_files WHERE file_name = ? "
        "ORDER BY modified_at DESC LIMIT 1",
        [CORRECTED],
    ).fetchall()[0][0]
    assert winner == newer["sha256"]
    assert (
        newest_per_carrier_month(scan_folder(generated.demo.telecom_dir))[("vtl", "2025-03")].sha256
        == winner
    )
    # The correction revised some villages' figures.
    figures = {
        sha: {
            r["ma_thon"]: (r["so_thue_bao"], r["so_thue_bao_smartphone"])
            for r in raw_rows(wh, DATASET, f"WHERE file_sha256 = '{sha}'")
        }
        for sha in landed
    }
    a, b = figures.values()
    assert a.keys() == b.keys() and a != b


def test_empty_files_are_recorded_as_failed_and_do_not_stop_the_others(
    generated, wh, tmp_path: Path
) -> None:
    folder = tmp_path / "drop"
    good = deliver(generated.demo.telecom_dir / "vtl_2025-02.csv", folder)
    for name in ("vtl_2025-05.csv", "mbf_2025-05.jsonl", "vnp_2025-05.xlsx"):
        (folder / name).write_bytes(b"")
    settings = settings_for(generated.demo, telecom_dir=folder)
    ingest_telecom(settings, Lander(wh, "run-empty"))
    entries = {e["file_name"]: e for e in registry(wh)}
    assert entries[good.name]["status"] == "loaded"
    for name in ("vtl_2025-05.csv", "mbf_2025-05.jsonl", "vnp_2025-05.xlsx"):
        assert entries[name]["status"] == "failed"
        assert entries[name]["error"].startswith(f"{name}: empty_file")
    assert rows_per_sha(wh) == {entries[good.name]["sha256"]: records_in(good)}
    before = wh.execute("SELECT count(*) FROM raw.telecom_files").fetchall()[0]
    ingest_telecom(settings, Lander(wh, "run-again"))
    assert wh.execute("SELECT count(*) FROM raw.telecom_files").fetchall()[0] == before
    assert rows_per_sha(wh) == {entries[good.name]["sha256"]: records_in(good)}


def test_file_resent_twice_with_identical_bytes_is_read_once(generated, wh, tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    source = generated.demo.telecom_dir / "vtl_2025-02.csv"
    settings = settings_for(generated.demo, telecom_dir=folder)
    deliver(source, folder)
    ingest_telecom(settings, Lander(wh, "run-0"))
    first = rows_per_sha(wh)
    for n in (1, 2):  # the carrier sends the same bytes again, later
        deliver(source, folder, mtime=time.time() + n)
        ingest_telecom(settings, Lander(wh, f"run-{n}"))
    assert rows_per_sha(wh) == first == {scan_folder(folder)[0].sha256: records_in(source)}
    assert len(registry(wh)) == 1
    assert [log["rows_read"] for log in run_log(wh, DATASET)] == [records_in(source), 0, 0]


@pytest.mark.xfail(
    strict=True,
    reason="BUG orchestration/ingest.py ingest_telecom (`if (feed.name, feed.sha256) in seen "
    "and not reread: continue`) skips a (name, sha256) already in "
    "raw.telecom_files without recording its new modification time, so when a carrier re-sends "
    "its first version after a correction (A, then B, then A again) the registry still dates A "
    "from its first delivery and B keeps winning, against telecom-feeds.md (newest mtime wins)",
)
def test_first_version_resent_after_its_correction_wins_again(
    generated, wh, tmp_path: Path
) -> None:
    first = generated.demo.root / RESEND_DIR / f"{CORRECTED}.orig"
    correction = generated.demo.telecom_dir / CORRECTED
    folder = tmp_path / "drop"
    settings = settings_for(generated.demo, telecom_dir=folder)
    deliver(first, folder, CORRECTED)
    ingest_telecom(settings, Lander(wh, "run-a"))
    deliver(correction, folder)
    ingest_telecom(settings, Lander(wh, "run-b"))
    later = correction.stat().st_mtime + 86_400  # the first version again, a day later
    deliver(first, folder, CORRECTED, mtime=later)
    ingest_telecom(settings, Lander(wh, "run-a-again"))
    on_disk = newest_per_carrier_month(scan_folder(folder))[("vtl", "2025-03")].sha256
    winner = wh.execute(
        "SELECT sha256 FROM raw.telecom_files WHERE file_name = ? "
        "ORDER BY modified_at DESC, registered_at DESC LIMIT 1",
        [CORRECTED],
    ).fetchall()[0][0]
    assert winner == on_disk


def test_full_reread_lands_nothing_new(generated, wh, tmp_path: Path) -> None:
    """The full re-load job (`reread`) reads every file again: raw and the quarantine do not
    change; the registry records a new registration of each file version, which
    `stg_telecom__files` reduces to the latest one."""
    folder = tmp_path / "drop"
    for name in ("vtl_2025-02.csv", "mbf_2025-03.jsonl", "vnp_2025-04.xlsx", "ghi_chu.txt"):
        deliver(generated.demo.telecom_dir / name, folder)
    settings = settings_for(generated.demo, telecom_dir=folder)
    ingest_telecom(settings, Lander(wh, "run-1"))

    def state() -> tuple:
        return (
            sorted(map(tuple, (r.values() for r in raw_rows(wh, DATASET)))),
            quarantined(wh, DATASET),
            sorted({(e["file_name"], e["sha256"], e["status"]) for e in registry(wh)}),
        )

    before = state()
    assert len(before[1]) == 2  # the unknown village and the negative count
    ingest_telecom(settings, Lander(wh, "run-2"), reread=True)
    assert state() == before
    assert len(registry(wh)) == 2 * len(before[2])
    (log,) = [log for log in run_log(wh, DATASET) if log["run_id"] == "run-2"]
    assert log["rows_read"] > 0 and log["rows_landed"] == 0
