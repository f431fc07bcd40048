"""The reference CSV reader on the simulator's files, clean and broken."""

from __future__ import annotations

import csv
import hashlib
import shutil
from datetime import date
from pathlib import Path

import pytest

from sources.reference import ReferenceDataError, read_reference
from sources.reference.reader import FILES


@pytest.fixture
def folder(reference_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the generated reference files, free to break."""
    target = tmp_path / "reference"
    shutil.copytree(reference_dir, target)
    return target


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def _write(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def _edit(path: Path, row: int, column: str, value: str) -> None:
    """Set one cell; `row` counts like the reader's messages (the header is row 1)."""
    rows = _rows(path)
    rows[row - 1][rows[0].index(column)] = value
    _write(path, rows)


def test_simulator_files_read_clean_and_typed(reference_dir: Path, world) -> None:
    batches = read_reference(reference_dir)
    assert set(batches) == {f.dataset for f in FILES}
    for spec in FILES:
        batch = batches[spec.dataset]
        data = (reference_dir / spec.name).read_bytes()
        assert batch.rejected == []
        assert len(batch.rows) == len(_rows(reference_dir / spec.name)) - 1
        assert batch.watermark == hashlib.sha256(data).hexdigest()
        for row in batch.rows:
            assert list(row) == [*spec.column_names, "file_sha256"]
            assert row["file_sha256"] == batch.watermark
    units = {r["ma_dvhc"]: r for r in batches["ref_don_vi_hanh_chinh"].rows}
    assert units["11"]["ma_dvhc_cha"] is None and units["11"]["cap"] == "TINH"
    assert units["099"]["hieu_luc_den"] == date(2025, 6, 30)  # Tuần Giáo, abolished
    assert len(units) == len(world.units)
    shares = batches["ref_sap_xep_dvhc"].rows
    assert all(isinstance(r["ty_le_dan_so"], float) for r in shares)
    assert {r["ngay_hieu_luc"] for r in shares} == {date(2025, 7, 1)}
    villages = batches["ref_thon_ban"].rows
    assert all(isinstance(r[c], int) for r in villages for c in ("nam", "so_ho", "dan_so"))
    agencies = batches["ref_co_quan"].rows
    assert {r["nhom"] for r in agencies} == {"SO_NGANH", "UBND_HUYEN", "UBND_XA"}


def test_missing_column_names_file_and_column(folder: Path) -> None:
    path = folder / "co_quan.csv"
    rows = _rows(path)
    drop = rows[0].index("nhom")
    _write(path, [r[:drop] + r[drop + 1 :] for r in rows])
    with pytest.raises(ReferenceDataError, match=r"co_quan\.csv.*missing columns \['nhom'\]"):
        read_reference(folder)


def test_extra_column_is_a_wrong_header(folder: Path) -> None:
    path = folder / "thon_ban.csv"
    rows = _rows(path)
    _write(path, [[*rows[0], "ghi_chu"], *[[*r, ""] for r in rows[1:]]])
    with pytest.raises(ReferenceDataError, match=r"thon_ban\.csv.*extra columns \['ghi_chu'\]"):
        read_reference(folder)


def test_missing_file(folder: Path) -> None:
    (folder / "don_vi_hanh_chinh.csv").unlink()
    with pytest.raises(ReferenceDataError, match=r"don_vi_hanh_chinh\.csv: missing"):
        read_reference(folder)


def test_bad_date_rejects_the_row(folder: Path) -> None:
    _edit(folder / "co_quan.csv", 3, "hieu_luc_tu", "2025-02-30")
    batch = read_reference(folder)["ref_co_quan"]
    assert len(batch.rejected) == 1
    rejected = batch.rejected[0]
    assert rejected.reason.startswith("unparseable_date: co_quan.csv row 3: hieu_luc_tu=")
    assert rejected.payload["hieu_luc_tu"] == "2025-02-30"
    assert len(batch.rows) == len(_rows(folder / "co_quan.csv")) - 2


def test_enum_and_negative_count_reject_rows(folder: Path) -> None:
    _edit(folder / "don_vi_hanh_chinh.csv", 2, "cap", "QUAN")
    _edit(folder / "thon_ban.csv", 5, "so_ho", "-3")
    batches = read_reference(folder)
    (unit,) = batches["ref_don_vi_hanh_chinh"].rejected
    assert unit.reason.startswith("enum: don_vi_hanh_chinh.csv row 2: cap='QUAN'")
    (village,) = batches["ref_thon_ban"].rejected
    assert village.reason == "negative_count: thon_ban.csv row 5: so_ho=-3"


def test_duplicate_key_keeps_the_first_row(folder: Path) -> None:
    path = folder / "thon_ban.csv"
    rows = _rows(path)
    copy = list(rows[1])
    copy[rows[0].index("so_ho")] = "999"
    _write(path, [*rows, copy])
    batch = read_reference(folder)["ref_thon_ban"]
    (dup,) = batch.rejected
    assert dup.reason.startswith(f"duplicate: thon_ban.csv row {len(rows) + 1}: ma_thon=")
    assert dup.reason.endswith("already on row 2")
    first = next(
        r for r in batch.rows if r["ma_thon"] == rows[1][0] and r["nam"] == int(rows[1][3])
    )
    assert first["so_ho"] == int(rows[1][rows[0].index("so_ho")])


def test_shares_not_summing_to_one_name_the_commune(folder: Path) -> None:
    path = folder / "sap_xep_dvhc.csv"
    rows = _rows(path)
    share = rows[0].index("ty_le_dan_so")
    victim = rows[1]
    victim[share] = "0.8"
    _write(path, rows)
    with pytest.raises(ReferenceDataError, match=rf"old commune\(s\) {victim[0]} \(sum 0\.8\)"):
        read_reference(folder)


def test_share_outside_range_is_rejected_and_breaks_the_sum(folder: Path) -> None:
    path = folder / "sap_xep_dvhc.csv"
    rows = _rows(path)
    rows[1][rows[0].index("ty_le_dan_so")] = "0"
    _write(path, rows)
    with pytest.raises(ReferenceDataError, match=rows[1][0]):
        read_reference(folder)
