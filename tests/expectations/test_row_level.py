"""Row rules on connector batches before landing: failing rows become `Rejected`."""

from __future__ import annotations

from datetime import date, datetime

import quality_tables as qt

from expectations.reference import ReferenceSets, load_reference_sets
from expectations.row_level import validate_batch, validate_batches
from sources.batch import Batch, Rejected


def _refs() -> ReferenceSets:
    return load_reference_sets(qt.clean_warehouse())


def _dossier(key: str, **changes) -> dict:
    row = qt.clean_rows()["dvc_dossiers"][0]
    row.update(ma_ho_so=key, **changes)
    return row


def test_reference_sets_are_read_from_the_latest_files():
    conn = qt.clean_warehouse()
    newer = qt.reference_rows()["ref_co_quan"][0] | {"ma_co_quan": "NEW", "file_sha256": "sha-2"}
    qt.insert(conn, "ref_co_quan", [newer | {"_loaded_at": datetime(2024, 6, 1)}])
    refs = load_reference_sets(conn)
    assert set(refs.agencies) == {"NEW"}  # the older file's agencies are gone
    assert refs.admin_units["094"] == (date(2004, 1, 1), date(2025, 6, 30))
    assert refs.villages_of_year(2024) == {"03127001", "03127002"}
    assert refs.villages_of_year(2030) == refs.villages_of_year(2025)  # latest earlier year
    assert refs.villages_of_year(2001) == refs.villages_of_year(2024)  # else the first


def test_a_clean_batch_passes_whole():
    clean = qt.clean_rows()
    for dataset in ("dvc_dossiers", "dvc_ratings", "qlvb_van_ban", "telecom_coverage"):
        batch = Batch(dataset, clean[dataset], [], watermark="w1")
        out = validate_batch(batch, _refs())
        assert out.rows == clean[dataset] and out.rejected == [] and out.watermark == "w1"


def test_failing_rows_are_rejected_with_rule_and_field():
    earlier = Rejected("D-0", "wrong_type: so_hoa_ho_so=1 is not a boolean", {"ma_ho_so": "D-0"})
    rows = [
        _dossier("D-ok"),
        _dossier("D-fax", kenh_nop="FAX"),
        _dossier("D-late", ma_co_quan=qt.XA_NEW),
        _dossier("D-both", ngay_hoan_thanh=datetime(2024, 5, 1, 8, 0), ma_dvhc="03601"),
    ]
    out = validate_batch(Batch("dvc_dossiers", rows, [earlier], "w2"), _refs())
    assert [r["ma_ho_so"] for r in out.rows] == ["D-ok"]
    assert out.watermark == "w2"
    reasons = {r.record_key: r.reason for r in out.rejected}
    assert reasons["D-0"] == earlier.reason  # the connector's rejections are kept
    assert reasons["D-fax"] == (
        "dvc_dossiers.enum_kenh_nop: kenh_nop='FAX' not in [TRUC_TUYEN, TRUC_TIEP, BUU_CHINH]"
    )
    assert reasons["D-late"] == (
        f"dvc_dossiers.agency_code_valid_at_date: ma_co_quan='{qt.XA_NEW}' is not an agency "
        "(co_quan.csv) in force on 2024-05-06 (in force from 2025-07-01)"
    )
    both = reasons["D-both"].split("; ")
    assert [part.split(":")[0] for part in both] == [
        "dvc_dossiers.date_order_finished_after_received",
        "dvc_dossiers.admin_unit_code_valid_at_date",
    ]
    assert "ngay_hoan_thanh='2024-05-01T08:00:00' is before ngay_tiep_nhan" in both[0]
    payload = next(r.payload for r in out.rejected if r.record_key == "D-fax")
    assert payload["kenh_nop"] == "FAX" and "applicant_key" in payload  # pseudonym only


def test_document_system_and_telecom_rows():
    refs = _refs()
    work = qt.clean_rows()["qlvb_ho_so_cong_viec"][0]
    bad = work | {"id": 9, "ngay_dong": date(2024, 5, 1)}
    out = validate_batch(Batch("qlvb_ho_so_cong_viec", [work, bad]), refs)
    assert [r["id"] for r in out.rows] == [1]
    assert out.rejected[0].record_key == "9"
    assert out.rejected[0].reason.startswith(
        "qlvb_ho_so_cong_viec.date_order_closed_after_opened: ngay_dong='2024-05-01' is before"
    )
    row = qt.clean_rows()["telecom_coverage"][0]
    stray = row | {"ma_thon": "03127950", "row_number": 40}
    out = validate_batch(Batch("telecom_coverage", [row, stray]), refs)
    assert len(out.rows) == 1
    assert out.rejected[0].record_key == "vtl|2024-04|03127950"
    assert out.rejected[0].reason == (
        "telecom_coverage.village_code_known: ma_thon='03127950' is not in thon_ban.csv "
        "(file vtl_2024-04.csv, row 40)"
    )


def test_rules_needing_reference_data_wait_for_it():
    row = _dossier("D-any", ma_co_quan="999.X")
    out = validate_batch(Batch("dvc_dossiers", [row]), ReferenceSets())
    assert out.rows == [row]  # no reference loaded yet: the warehouse checks will judge it
    out = validate_batch(Batch("dvc_dossiers", [row | {"kenh_nop": "FAX"}]), ReferenceSets())
    assert out.rows == [] and "enum_kenh_nop" in out.rejected[0].reason


def test_reference_rows_are_checked_on_their_own():
    rows = qt.reference_rows()["ref_thon_ban"]
    bad = rows[0] | {"ma_thon": "V9", "dan_so_tu_15": 9999}
    out = validate_batch(Batch("ref_thon_ban", [*rows, bad], [], "sha"), ReferenceSets())
    assert len(out.rows) == len(rows)
    assert out.rejected[0].record_key == "V9|2024"
    assert out.rejected[0].reason == (
        "ref_thon_ban.adults_within_population: dan_so_tu_15=9999 exceeds dan_so=350"
    )


def test_small_batches_are_validated_together_with_the_last_watermark():
    refs = _refs()
    batches = [Batch("dvc_dossiers", [_dossier(f"D-{i}")], [], watermark=f"w{i}") for i in range(5)]
    batches[3].rows.append(_dossier("D-bad", kenh_nop="FAX"))
    batches[4].watermark = None  # e.g. a sweep batch outside the watermark order
    out = list(validate_batches(batches, refs, min_rows=3))
    assert [len(b.rows) for b in out] == [3, 2]
    assert [b.watermark for b in out] == ["w2", "w3"]
    assert [r.record_key for r in out[1].rejected] == ["D-bad"]
