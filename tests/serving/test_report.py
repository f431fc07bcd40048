"""`cds report`: the HTML scorecard and the workbook, checked against the warehouse."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook

from warehouse.report import build_report, default_year, labels
from warehouse.report.data import ReportError

from .marts_fixture import (
    AGENCY_COUNTS,
    AWARDS,
    COMMUNES_FULL,
    FULL,
    INDICATORS,
    NAMES,
    PREV,
    THIS_YEAR,
    cds,
)

SHEETS = [
    "Chỉ tiêu của tỉnh",
    "Xếp hạng",
    "Chi tiết chỉ số",
    "Đề xuất khen thưởng",
    "Hạ tầng theo xã",
    "Chất lượng dữ liệu",
    "Kết quả kiểm tra",
    "Thông tin",
]


@pytest.fixture
def report_files(published: Path, tmp_path: Path) -> tuple[Path, Path, Path]:
    out = tmp_path / "reports"
    done = cds(["report", "--out", str(out)], published, tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"Scorecard {FULL}:" in done.stdout
    html, xlsx = (
        out / f"bao-cao-chuyen-doi-so-{FULL}.html",
        out / f"bao-cao-chuyen-doi-so-{FULL}.xlsx",
    )
    assert sorted(out.iterdir()) == sorted([html, xlsx])
    return published, html, xlsx


def _fetch(warehouse: Path, sql: str) -> list[tuple]:
    conn = duckdb.connect(str(warehouse), read_only=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _rows(ws) -> list[dict]:  # noqa: ANN001 - an openpyxl worksheet
    header = [c.value for c in ws[1]]
    return [
        dict(zip(header, row, strict=True)) for row in ws.iter_rows(min_row=2, values_only=True)
    ]


def test_workbook_sheets_format_and_values(report_files: tuple[Path, Path, Path]) -> None:
    warehouse, _, xlsx = report_files
    wb = load_workbook(xlsx)
    assert wb.sheetnames == SHEETS
    for ws in wb:
        assert ws.freeze_panes == "A2", ws.title
        header = ws[1]
        assert all(c.font.b for c in header) and header[0].fill.fgColor.rgb.endswith("17375E")
        assert all(ws.column_dimensions[c.column_letter].width >= 8 for c in header)

    # The ranking: every agency of the year, indices equal to marts.agency_index.
    ranking = {r["Mã cơ quan"]: r for r in _rows(wb["Xếp hạng"])}
    expected = _fetch(
        warehouse,
        f"SELECT agency_code, index_score, rank FROM marts.agency_index WHERE year = {FULL}",
    )
    assert set(ranking) == {code for code, _, _ in expected}
    for code, score, rank in expected:
        assert ranking[code]["Chỉ số " + str(FULL)] == score
        assert ranking[code]["Hạng"] == rank
        assert ranking[code]["Cơ quan"] == NAMES[code]
    assert ranking["000.00.12.H23"]["Thay đổi (điểm)"] == pytest.approx(96.75 - 90.10)
    assert ranking["000.00.21.H23"]["Trạng thái"] == "Không đủ dữ liệu"

    # The breakdown: percentages stored as fractions with a percentage format.
    ws = wb["Chi tiết chỉ số"]
    header = [c.value for c in ws[1]]
    breakdown = {(r["Mã cơ quan"], r["Mã chỉ tiêu"]): r for r in _rows(ws)}
    assert len(breakdown) == 4 * len(AGENCY_COUNTS)
    for code, indicator, value, score, contribution in _fetch(
        warehouse,
        "SELECT agency_code, indicator_code, value, score, contribution "
        f"FROM marts.agency_index_breakdown WHERE year = {FULL}",
    ):
        row = breakdown[(code, indicator)]
        assert row["Giá trị"] == (None if value is None else pytest.approx(value / 100))
        assert row["Điểm"] == score and row["Đóng góp"] == pytest.approx(contribution)
    value_cell = ws.cell(row=2, column=header.index("Giá trị") + 1)
    assert value_cell.number_format == "0.0%"

    # The province against its targets: one row per indicator of the catalogue.
    targets = {r["Mã chỉ tiêu"]: r for r in _rows(wb["Chỉ tiêu của tỉnh"])}
    assert set(targets) == {i[0] for i in INDICATORS}
    ((fiber, gap),) = _fetch(
        warehouse,
        "SELECT value, gap_pp FROM marts.fct_indicator_values WHERE indicator_code = 'HT-02' "
        f"AND unit_code = '11' AND period_grain = 'year' AND year(period_start) = {FULL}",
    )
    assert targets["HT-02"][f"Giá trị năm {FULL}"] == pytest.approx(fiber / 100)
    assert targets["HT-02"]["Mục tiêu"] == pytest.approx(0.60)
    assert targets["HT-02"]["Khoảng cách (điểm %)"] == pytest.approx(gap)
    assert targets["HT-02"]["Đánh giá"] == "Đạt"
    assert targets["HT-01"]["Đánh giá"] == "Chưa đạt"
    assert targets["HT-04"]["Đánh giá"] == "Chưa có mục tiêu"
    assert targets["KT-01"]["Đánh giá"] == "Không có dữ liệu"
    assert targets["KT-01"]["Mục tiêu"] == pytest.approx(0.10)  # from the catalogue seeds
    # CQ-01 has no province row in the marts: rolled up from the agencies' counts.
    num = sum(c["CQ-01"][0] for c in AGENCY_COUNTS.values())
    den = sum(c["CQ-01"][1] for c in AGENCY_COUNTS.values())
    assert targets["CQ-01"]["Tử số"] == num and targets["CQ-01"]["Mẫu số"] == den
    assert targets["CQ-01"][f"Giá trị năm {FULL}"] == pytest.approx(num / den)

    communes = {r["Mã đơn vị hành chính"]: r for r in _rows(wb["Hạ tầng theo xã"])}
    assert set(communes) == set(COMMUNES_FULL)  # the communes in force at the end of FULL
    assert communes["03510"]["Hộ dùng cáp quang (HT-02)"] == pytest.approx(0.912)

    awards = _rows(wb["Đề xuất khen thưởng"])
    assert [(a["Đợt khen thưởng"], a["Mã cơ quan"]) for a in awards] == [
        (labels.award_round_label(r), a) for r, _, a, _ in AWARDS if r in (str(FULL), "phase_1")
    ]
    quality = {r["Mã dữ liệu"]: r for r in _rows(wb["Chất lượng dữ liệu"])}
    assert quality["dvc_dossiers"]["Cách ly (lần chạy)"] == 7
    assert quality["telecom_coverage"]["Lỗi chặn"] == 1
    assert quality["telecom_coverage"]["Cách ly (lần chạy)"] == 0
    assert quality["telecom_coverage"]["Cách ly (tổng)"] == 1


def test_html_is_self_contained_vietnamese_and_complete(
    report_files: tuple[Path, Path, Path],
) -> None:
    _, html_path, _ = report_files
    html = html_path.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and '<html lang="vi">' in html
    # No network: no script, no external style sheet, image or font.
    assert "<script" not in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "@import" not in html and "url(http" not in html
    # Every indicator of the catalogue, every group, every agency, the shortlist's reasons.
    for code, *_ in INDICATORS:
        assert f">{code}<" in html
    for group in ("Sở, ngành", "UBND cấp huyện", "UBND cấp xã"):
        assert group in html
    for name in NAMES.values():
        assert name in html
    for award_round, _, _, reason in AWARDS:
        if award_round in (str(FULL), "phase_1"):
            assert reason in html
    assert html.count("<details") == len(AGENCY_COUNTS)
    assert "Không đủ dữ liệu" in html and "Không có dữ liệu" in html
    # Numbers in Vietnamese format: decimal comma, thousands dot.
    assert "96,75" in html and "96.75" not in html
    assert "89.400/134.000" in html
    assert "> 60%" in html.replace("&gt;", ">")
    assert html.count('class="point"') == len(COMMUNES_FULL)
    assert "Lỗi chặn" in html and "carrier_months_complete" in html


def test_a_year_without_data_fails_in_one_line_and_writes_nothing(
    published: Path, tmp_path: Path
) -> None:
    out = tmp_path / "reports"
    done = cds(["report", "--year", "2019", "--out", str(out)], published, tmp_path)
    assert done.returncode != 0 and done.stdout == ""
    assert done.stderr.strip() == (
        f"cds: error: no data for 2019 in the published warehouse "
        f"(marts.agency_index has {PREV}, {FULL}, {THIS_YEAR})"
    )
    assert not out.exists()


def test_no_published_warehouse_yet(tmp_path: Path) -> None:
    done = cds(["report"], tmp_path / "warehouse" / "cds.duckdb", tmp_path)
    assert done.returncode != 0 and len(done.stderr.splitlines()) == 1
    assert "run `cds demo` or `cds run` first" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_other_years_and_the_provisional_current_year(published: Path, tmp_path: Path) -> None:
    previous = build_report(str(published), PREV, tmp_path / "a")
    assert previous.year == PREV and not previous.data.provisional
    assert all(r.change is None for rows in previous.data.rankings.values() for r in rows)
    current = build_report(str(published), THIS_YEAR, tmp_path / "b")
    assert current.data.provisional
    assert "Số liệu tạm tính" in current.html.read_text(encoding="utf-8")
    assert [a.award_round for a in current.data.awards] == [str(THIS_YEAR), "phase_1"]
    with pytest.raises(ReportError, match="no data for 1999"):
        build_report(str(published), 1999, tmp_path / "c")
    assert not (tmp_path / "c").exists()


def test_default_year_is_the_latest_full_year() -> None:
    today = date(2026, 3, 1)
    assert default_year([2023, 2024, 2025, 2026], today) == 2025
    assert default_year([2024, 2025], today) == 2025
    assert default_year([2026], today) == 2026  # only the current year has data


def test_vietnamese_number_formats() -> None:
    assert labels.number(1234567.891, 1) == "1.234.567,9"
    assert labels.number(-0.04, 1) == "0,0"
    assert labels.percent(66.71) == "66,7%"
    assert labels.integer(89400) == "89.400"
    assert labels.signed(-1.1) == "−1,10" and labels.signed(2) == "+2,00"
    assert labels.target_text(">", 60.0, "%") == "> 60%"
    assert labels.target_text(">=", 50.0, "người") == "≥ 50 người"
    assert labels.gap_text(12.34, "%") == "còn thiếu 12,3 điểm %"
    assert labels.gap_text(-6.7, "%") == "vượt 6,7 điểm %"
