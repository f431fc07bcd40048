"""The carriers' feed readers on the simulator's files, with every planted fault."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from sources.simulator.manifest import Manifest
from sources.telecom import (
    FeedFile,
    FeedFileError,
    newest_per_carrier_month,
    read_feed,
    scan_folder,
)
from sources.telecom.readers import COLUMNS, VTL_HEADER

BOM = "\ufeff"


def _planted(manifest: Manifest, kind: str) -> list:
    return [a for a in manifest.anomalies if a.source == "telecom" and a.kind == kind]


def _by_name(folder: Path) -> dict[str, FeedFile]:
    return {f.name: f for f in scan_folder(folder)}


def _one(folder: Path, name: str) -> FeedFile:
    return _by_name(folder)[name]


def _clean(telecom_feeds, carrier: str, skip: int = 0) -> FeedFile:
    """A feed of `carrier` that carries no planted fault (the `skip`-th such file)."""
    folder, manifest = telecom_feeds
    faulty: set[tuple[str | None, str | None] | str] = set()
    for a in manifest.anomalies:
        if a.record_key and "|" in a.record_key:
            faulty.add(tuple(a.record_key.split("|")[:2]))
        elif a.record_key:
            faulty.add(a.record_key)
    clean = [
        f
        for f in scan_folder(folder)
        if f.carrier == carrier and f.name not in faulty and (f.carrier, f.period) not in faulty
    ]
    return clean[skip]


def _vtl(folder: Path, name: str, lines: list[str], *, bom: bool = True) -> FeedFile:
    text = (BOM if bom else "") + "".join(line + "\n" for line in lines)
    (folder / name).write_text(text, encoding="utf-8")
    return _one(folder, name)


HEADER = ";".join(VTL_HEADER)


# -- the folder --------------------------------------------------------------------------------
def test_scan_lists_every_file_and_flags_what_is_not_a_feed(telecom_feeds) -> None:
    folder, manifest = telecom_feeds
    files = scan_folder(folder)
    names = sorted(p.name for p in folder.iterdir() if p.is_file())
    assert [f.name for f in files] == names
    stray = {a.record_key for a in _planted(manifest, "stray_file")}
    assert stray == {"ghi_chu.txt", "vtl_2025-13.csv"}
    for f in files:
        assert f.size == (folder / f.name).stat().st_size and len(f.sha256) == 64
        assert isinstance(f.mtime, datetime) and f.mtime.tzinfo is None
        if f.name in stray:
            assert f.problem is not None and f.problem.startswith("not_a_feed: ")
            assert f.carrier is None and f.period is None
            with pytest.raises(FeedFileError, match="not_a_feed"):
                read_feed(f)
        else:
            assert f.problem is None and f.name == f"{f.carrier}_{f.period}.{f.path.suffix[1:]}"
    # Delivered on the 5th of the next month, 09:00 Vietnam time (naive local mtime).
    assert _one(folder, "vtl_2025-01.csv").mtime == datetime(2025, 2, 5, 9, 0)


@pytest.mark.parametrize(
    "name",
    [
        "vtl_2025-01.xlsx",
        "VTL_2025-01.csv",
        "abc_2025-01.csv",
        "vnp_2025-00.xlsx",
        "mbf_202501.jsonl",
        "vtl_2025-01.csv.part",
        ".vtl_2025-01.csv",
    ],
)
def test_names_that_are_not_feeds(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text("x")
    (f,) = scan_folder(tmp_path)
    assert f.problem and f.problem.startswith("not_a_feed: ")


# -- every format, clean ----------------------------------------------------------------------
def test_vtl_csv_rows_match_the_file(telecom_feeds) -> None:
    folder, _ = telecom_feeds
    f = _clean(telecom_feeds, "vtl")
    batch = read_feed(f)
    with (folder / f.name).open(encoding="utf-8-sig", newline="") as fh:
        lines = list(csv.reader(fh, delimiter=";"))[1:]
    assert batch.dataset == "telecom_coverage" and batch.rejected == []
    assert len(batch.rows) == len(lines)
    for row, cells in zip(batch.rows, lines, strict=True):
        assert list(row) == list(COLUMNS)
        assert row["ma_thon"] == cells[1] and row["ky_bao_cao"] == f.period
        assert row["co_cap_quang"] is (cells[2] == "1") and row["phu_song_5g"] is (cells[5] == "1")
        assert row["so_thue_bao"] == int(cells[6])
        assert (row["nha_mang"], row["file_name"], row["file_sha256"]) == ("vtl", f.name, f.sha256)
    assert [r["row_number"] for r in batch.rows] == list(range(2, len(lines) + 2))


def test_vnp_xlsx_rows_add_up_to_the_totals_row(telecom_feeds) -> None:
    folder, _ = telecom_feeds
    f = _clean(telecom_feeds, "vnp")
    batch = read_feed(f)
    assert batch.rejected == [] and len(batch.rows) > 100
    book = openpyxl.load_workbook(folder / f.name, read_only=True)
    last = list(book["BaoCao"].iter_rows(values_only=True))[-1]
    book.close()
    assert last[0] == "Tổng cộng"
    assert sum(r["co_cap_quang"] for r in batch.rows) == last[1]
    assert sum(r["so_ho_cap_quang"] for r in batch.rows) == last[2]
    assert sum(r["phu_song_4g"] for r in batch.rows) == last[3]
    assert sum(r["so_thue_bao"] for r in batch.rows) == last[5]
    assert sum(r["so_thue_bao_smartphone"] for r in batch.rows) == last[6]
    assert batch.rows[0]["row_number"] == 4 and {r["nha_mang"] for r in batch.rows} == {"vnp"}
    assert all(r["ma_thon"] != "Tổng cộng" for r in batch.rows)


def test_mbf_jsonl_rows_match_the_file(telecom_feeds) -> None:
    folder, _ = telecom_feeds
    f = _clean(telecom_feeds, "mbf")
    batch = read_feed(f)
    objects = [json.loads(line) for line in (folder / f.name).read_text().splitlines()]
    assert batch.rejected == [] and len(batch.rows) == len(objects)
    for row, obj in zip(batch.rows, objects, strict=True):
        assert row["ma_thon"] == obj["village_code"]
        assert row["co_cap_quang"] is obj["fiber"]
        assert row["so_ho_cap_quang"] == obj["fiber_households"]
        assert (row["phu_song_4g"], row["phu_song_5g"]) == (
            obj["coverage"]["4g"],
            obj["coverage"]["5g"],
        )
        assert row["so_thue_bao"] == obj["subscribers"]["total"]
        assert row["so_thue_bao_smartphone"] == obj["subscribers"]["smartphone"]


def test_the_three_carriers_report_the_same_villages_shape(telecom_feeds) -> None:
    for carrier in ("vtl", "vnp", "mbf"):
        rows = read_feed(_clean(telecom_feeds, carrier, 1)).rows
        assert rows and all(r["so_thue_bao_smartphone"] <= r["so_thue_bao"] for r in rows)
        assert all(isinstance(r["co_cap_quang"], bool) for r in rows)
        assert len({r["ma_thon"] for r in rows}) == len(rows)


# -- planted faults ----------------------------------------------------------------------------
def test_truncated_file_is_unreadable(telecom_feeds) -> None:
    folder, manifest = telecom_feeds
    (planted,) = _planted(manifest, "truncated_file")
    with pytest.raises(FeedFileError, match=r"truncated: line \d+") as err:
        read_feed(_one(folder, planted.record_key))
    assert err.value.file_name == planted.record_key and planted.record_key in str(err.value)


def test_legacy_encoding_is_unreadable(telecom_feeds) -> None:
    folder, manifest = telecom_feeds
    (planted,) = _planted(manifest, "legacy_encoding")
    with pytest.raises(FeedFileError, match="encoding: not UTF-8"):
        read_feed(_one(folder, planted.record_key))


def test_negative_count_is_rejected_with_its_key(telecom_feeds) -> None:
    folder, manifest = telecom_feeds
    (planted,) = _planted(manifest, "negative_count")
    carrier, period, village = planted.record_key.split("|")
    name = next(f.name for f in scan_folder(folder) if (f.carrier, f.period) == (carrier, period))
    batch = read_feed(_one(folder, name))
    (rejected,) = batch.rejected
    assert rejected.record_key == planted.record_key
    assert rejected.reason.startswith("negative_count: so_thue_bao_smartphone=-")
    assert rejected.payload["file_name"] == name and rejected.payload["ma_thon"] == village
    assert village not in {r["ma_thon"] for r in batch.rows}


def test_unknown_village_is_kept_for_the_quality_step(telecom_feeds) -> None:
    folder, manifest = telecom_feeds
    (planted,) = _planted(manifest, "unknown_village")
    carrier, period, village = planted.record_key.split("|")
    name = next(f.name for f in scan_folder(folder) if (f.carrier, f.period) == (carrier, period))
    batch = read_feed(_one(folder, name))
    assert village in {r["ma_thon"] for r in batch.rows} and batch.rejected == []


def test_missing_carrier_month_has_no_file(telecom_feeds) -> None:
    folder, manifest = telecom_feeds
    (planted,) = _planted(manifest, "missing_carrier_month")
    winners = newest_per_carrier_month(scan_folder(folder))
    carrier, period = planted.record_key.split(".")[0].split("_")
    assert (carrier, period) not in winners
    assert any(c == carrier for c, _ in winners)  # its other months are there


def test_resend_with_newer_mtime_wins(telecom_feeds, tmp_path: Path) -> None:
    folder, manifest = telecom_feeds
    (planted,) = _planted(manifest, "late_correction")
    name = planted.record_key
    original = folder.parent / "telecom_resend" / f"{name}.orig"
    drop = tmp_path / "drop"
    drop.mkdir()
    shutil.copy2(original, drop / name)  # the first delivery, with its mtime
    first = _one(drop, name)
    shutil.copy2(folder / name, drop / name)  # the correction replaces it
    second = _one(drop, name)
    assert second.mtime > first.mtime and second.sha256 != first.sha256
    # The registry holds both versions; the newest modification time wins, in any order.
    for files in ([first, second], [second, first]):
        assert newest_per_carrier_month(files)[(second.carrier, second.period)] is second
    # Reading the first version after it was replaced is refused: its bytes are gone.
    with pytest.raises(FeedFileError, match="changed"):
        read_feed(first)
    corrected = read_feed(second).rows
    shutil.copy2(original, tmp_path / name)
    before = read_feed(_one(tmp_path, name)).rows
    assert len(before) == len(corrected)
    assert [r["so_thue_bao"] for r in before] != [r["so_thue_bao"] for r in corrected]


# -- broken files written by the test -----------------------------------------------------------
@pytest.mark.parametrize("name", ["vtl_2025-01.csv", "vnp_2025-01.xlsx", "mbf_2025-01.jsonl"])
def test_empty_file(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_bytes(b"")
    with pytest.raises(FeedFileError, match="empty_file"):
        read_feed(_one(tmp_path, name))


def test_header_only_vtl_is_empty(tmp_path: Path) -> None:
    with pytest.raises(FeedFileError, match="empty_file"):
        read_feed(_vtl(tmp_path, "vtl_2025-01.csv", [HEADER]))


def test_wrong_vtl_headers(tmp_path: Path) -> None:
    header = HEADER.replace("so_thue_bao_smartphone", "smartphone")
    f = _vtl(tmp_path, "vtl_2025-01.csv", [header, "2025-01;03127001;1;5;1;0;20;10"])
    with pytest.raises(
        FeedFileError,
        match=r"wrong_headers.*missing \['so_thue_bao_smartphone'\], "
        r"extra \['smartphone'\]",
    ):
        read_feed(f)


def test_wrong_vnp_headers(telecom_feeds, tmp_path: Path) -> None:
    book = openpyxl.load_workbook(_clean(telecom_feeds, "vnp").path)
    book["BaoCao"]["B3"] = "Cáp quang (có/không)"
    book.save(tmp_path / "vnp_2025-01.xlsx")
    with pytest.raises(FeedFileError, match=r"wrong_headers: row 3 missing \['Cáp quang'\]"):
        read_feed(_one(tmp_path, "vnp_2025-01.xlsx"))


def test_truncated_xlsx_is_unreadable(telecom_feeds, tmp_path: Path) -> None:
    data = _clean(telecom_feeds, "vnp").path.read_bytes()
    (tmp_path / "vnp_2025-01.xlsx").write_bytes(data[: len(data) // 2])
    with pytest.raises(FeedFileError, match="unreadable"):
        read_feed(_one(tmp_path, "vnp_2025-01.xlsx"))


def test_period_inside_differs_from_the_name(telecom_feeds, tmp_path: Path) -> None:
    for carrier in ("vtl", "vnp", "mbf"):
        source = _clean(telecom_feeds, carrier)
        renamed = source.name.replace(source.period, "2019-12")
        shutil.copy(source.path, tmp_path / renamed)
        with pytest.raises(
            FeedFileError, match=rf"period_mismatch: .*'{source.period}'.*'2019-12'"
        ):
            read_feed(_one(tmp_path, renamed))


def test_vtl_last_line_without_line_end_is_truncated(tmp_path: Path) -> None:
    path = tmp_path / "vtl_2025-01.csv"
    path.write_text(f"{BOM}{HEADER}\n2025-01;03127001;1;5;1;0;20;10\n2025-01;03127002;1;5;1;0;2")
    with pytest.raises(FeedFileError, match=r"truncated: line 3"):
        read_feed(_one(tmp_path, path.name))


def test_vtl_bad_rows_are_rejected_and_good_rows_kept(tmp_path: Path) -> None:
    f = _vtl(
        tmp_path,
        "vtl_2025-01.csv",
        [
            HEADER,
            "2025-01;03127001;1;1.234;1;0;2.000;1.500,0",  # grouped thousands, decimal comma
            "2025-01;03127002;1;12;1;0;20;30",  # smartphones > subscribers
            "2025-01;03127003;1;abc;1;0;20;10",  # unparseable number
            "2025-01;;1;5;1;0;20;10",  # no village code
            "2025-01;03127005;2;5;1;0;20;10",  # a flag that is not 0/1
            "2025-01;03127006;1;5,5;1;0;20;10",  # half a household
            "2025-01;03127007;1;5;1;0;20",  # a field short
            "2025-01;03127008;0;0;1;1;-4;0",  # negative count
        ],
    )
    batch = read_feed(f)
    assert [r["ma_thon"] for r in batch.rows] == ["03127001"]
    assert batch.rows[0]["so_ho_cap_quang"] == 1234 and batch.rows[0]["so_thue_bao"] == 2000
    assert batch.rows[0]["so_thue_bao_smartphone"] == 1500
    reasons = {r.record_key: r.reason for r in batch.rejected}
    assert reasons == {
        "vtl|2025-01|03127002": "smartphone_exceeds_subscribers: so_thue_bao_smartphone=30 > "
        "so_thue_bao=20",
        "vtl|2025-01|03127003": "unparseable_number: so_ho_cap_quang='abc'",
        "vtl|2025-01|": "missing_key: ma_thon=''",
        "vtl|2025-01|03127005": "wrong_type: co_cap_quang='2' not in ['0', '1']",
        "vtl|2025-01|03127006": "unparseable_number: so_ho_cap_quang='5,5' is not a whole number",
        "vtl|2025-01|03127007": "malformed_row: line 8 has 7 fields, not 8",
        "vtl|2025-01|03127008": "negative_count: so_thue_bao=-4",
    }
    assert {r.payload["row_number"] for r in batch.rejected} == set(range(3, 10))


def test_vtl_without_bom_is_read(tmp_path: Path) -> None:
    f = _vtl(tmp_path, "vtl_2025-01.csv", [HEADER, "2025-01;03127001;1;5;1;0;20;10"], bom=False)
    assert len(read_feed(f).rows) == 1


def test_mbf_bad_rows_and_invalid_middle_line(tmp_path: Path) -> None:
    good = {
        "period": "2025-01",
        "village_code": "03127001",
        "fiber": True,
        "fiber_households": 4,
        "coverage": {"4g": True, "5g": False},
        "subscribers": {"total": 9, "smartphone": 7},
    }
    wrong = {
        **good,
        "village_code": "03127002",
        "fiber": "yes",
        "subscribers": {"total": 9, "smartphone": "7"},
    }
    path = tmp_path / "mbf_2025-01.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps(wrong) + "\n")
    batch = read_feed(_one(tmp_path, path.name))
    assert len(batch.rows) == 1
    (rejected,) = batch.rejected
    assert rejected.reason == (
        "wrong_type: fiber='yes' is not a JSON boolean; "
        "wrong_type: subscribers.smartphone='7' is not a JSON number"
    )
    path.write_text(json.dumps(good) + "\n{not json\n" + json.dumps(good) + "\n")
    with pytest.raises(FeedFileError, match="invalid_json: line 2"):
        read_feed(_one(tmp_path, path.name))


def test_vnp_written_by_hand_skips_blank_and_total_rows(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "BaoCao"
    sheet.append(["BÁO CÁO HẠ TẦNG THÁNG 01/2025"])
    sheet.append([])
    sheet.append(
        [
            "Mã thôn",
            "Cáp quang",
            "Số hộ dùng cáp quang",
            "Sóng 4G",
            "Sóng 5G",
            "Thuê bao di động",
            "Thuê bao smartphone",
        ]
    )
    sheet.append(["03127001", "Có", 10, "Có", "Không", 100, 80])
    sheet.append([None] * 7)
    sheet.append(["03127002", "Co", "12", "Có", "Không", 100.0, 80])
    sheet.append(["Tổng cộng", 1, 22, 2, 0, 200, 160])
    buffer = io.BytesIO()
    book.save(buffer)
    (tmp_path / "vnp_2025-01.xlsx").write_bytes(buffer.getvalue())
    batch = read_feed(_one(tmp_path, "vnp_2025-01.xlsx"))
    assert [(r["ma_thon"], r["row_number"]) for r in batch.rows] == [("03127001", 4)]
    (rejected,) = batch.rejected
    assert rejected.reason == "wrong_type: co_cap_quang='Co' not in ['Có', 'Không']"
    assert rejected.payload["row_number"] == 6


def test_newest_per_carrier_month_ignores_non_feeds(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    a = _vtl(tmp_path, "vtl_2025-01.csv", [HEADER, "2025-01;03127001;1;5;1;0;20;10"])
    os.utime(a.path, (1_700_000_000, 1_700_000_000))
    files = scan_folder(tmp_path)
    assert list(newest_per_carrier_month(files)) == [("vtl", "2025-01")]
