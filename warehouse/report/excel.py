"""The report's tables as an Excel workbook: one sheet per table, formatted for reading.

Percentages are stored as fractions with a percentage format (so Excel computes with them),
points and counts as numbers; Excel shows them in the reader's own locale.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from warehouse.report import labels
from warehouse.report.charts import meets_target
from warehouse.report.data import ReportData

PCT, POINTS, COUNT, PP, TEXT, WEIGHT = "0.0%", "0.00", "#,##0", "0.0", "@", "0.##"
HEADER_FILL = PatternFill("solid", fgColor="17375E")
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_BORDER = Border(bottom=Side(style="medium", color="B71C1C"))


@dataclass(frozen=True)
class Col:
    header: str
    fmt: str | None = None
    width: int | None = None  # fixed width for long text columns (wrapped)


@dataclass(frozen=True)
class Cell:
    """A value whose number format differs from its column's (e.g. a count among percents)."""

    value: Any
    fmt: str


def _pct(value: float | None) -> float | None:
    return None if value is None else value / 100


def _measure(value: Any, unit: str) -> Any:
    """A value in its indicator's unit: percentages as fractions, other units as numbers."""
    if value is None:
        return None
    return _pct(value) if unit == "%" else Cell(value, "#,##0.0")


def _sheet(wb: Workbook, title: str, columns: list[Col], rows: list[list[Any]]) -> Worksheet:
    ws = wb.create_sheet(title)
    ws.append([c.header for c in columns])
    for cell in ws[1]:
        cell.font, cell.fill, cell.border = HEADER_FONT, HEADER_FILL, HEADER_BORDER
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    ws.row_dimensions[1].height = 34
    widths = [min(max(len(c.header) * 0.9, 8), 30) for c in columns]
    for r, row in enumerate(rows, start=2):
        for c, (col, value) in enumerate(zip(columns, row, strict=True), start=1):
            fmt = col.fmt
            if isinstance(value, Cell):
                value, fmt = value.value, value.fmt
            cell = ws.cell(row=r, column=c, value=value)
            if fmt and value is not None:
                cell.number_format = fmt
            if col.width:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            else:
                cell.alignment = Alignment(vertical="top")
            shown = len(str(value)) if value is not None else 0
            widths[c - 1] = max(widths[c - 1], min(shown + 2, 60))
    for c, col in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(c)].width = col.width or max(widths[c - 1], 9)
    ws.freeze_panes = "A2"
    if rows:
        ws.auto_filter.ref = ws.dimensions
    return ws


def build_workbook(data: ReportData) -> bytes:
    """The workbook's bytes (written by the caller, only once everything succeeded)."""
    wb = Workbook()
    wb.remove(wb.active)
    y = data.year
    _sheet(
        wb,
        "Chỉ tiêu của tỉnh",
        [
            Col("Mã chỉ tiêu"),
            Col("Trụ cột"),
            Col("Chỉ tiêu", width=55),
            Col("Đơn vị tính"),
            Col("Nguồn số liệu", width=26),
            Col("Tử số", COUNT),
            Col("Mẫu số", COUNT),
            Col(f"Giá trị năm {y - 1}", PCT),
            Col(f"Giá trị năm {y}", PCT),
            Col("Toán tử"),
            Col("Mục tiêu", PCT),
            Col("Khoảng cách (điểm %)", PP),
            Col("Đánh giá"),
            Col("Ghi chú", width=40),
        ],
        [
            [
                t.indicator_code,
                labels.PILLARS.get(t.pillar, t.pillar),
                t.name,
                t.unit,
                labels.SOURCES.get(t.source, t.source),
                t.numerator,
                t.denominator,
                _measure(t.previous_value, t.unit),
                _measure(t.value, t.unit),
                labels.OPERATORS.get(t.target_op or "", t.target_op),
                _measure(t.target, t.unit),
                t.gap_pp,
                labels.STATUSES[t.status],
                t.note,
            ]
            for t in data.targets
        ],
    )
    ranking_rows = [
        [
            labels.GROUPS.get(r.group, r.group),
            r.rank,
            r.agency_code,
            r.agency_name,
            r.index_score,
            r.previous_score,
            r.change,
            labels.INDEX_STATUSES.get(r.status, r.status),
        ]
        for rows in data.rankings.values()
        for r in rows
    ]
    _sheet(
        wb,
        "Xếp hạng",
        [
            Col("Nhóm"),
            Col("Hạng", COUNT),
            Col("Mã cơ quan"),
            Col("Cơ quan", width=40),
            Col(f"Chỉ số {y}", POINTS),
            Col(f"Chỉ số {y - 1}", POINTS),
            Col("Thay đổi (điểm)", "+0.00;-0.00;0.00"),
            Col("Trạng thái"),
        ],
        ranking_rows,
    )
    names = {r.agency_code: r.agency_name for rows in data.rankings.values() for r in rows}
    _sheet(
        wb,
        "Chi tiết chỉ số",
        [
            Col("Nhóm"),
            Col("Mã cơ quan"),
            Col("Cơ quan", width=34),
            Col("Mã chỉ tiêu"),
            Col("Chỉ tiêu", width=48),
            Col("Tử số", COUNT),
            Col("Mẫu số", COUNT),
            Col("Giá trị", PCT),
            Col("Mục tiêu", PCT),
            Col("Điểm", POINTS),
            Col("Trọng số", WEIGHT),
            Col("Trọng số hiệu dụng", POINTS),
            Col("Đóng góp", POINTS),
        ],
        [
            [
                labels.GROUPS.get(data.agency_groups.get(code, ""), data.agency_groups.get(code)),
                code,
                names.get(code, code),
                b.indicator_code,
                b.indicator_name,
                b.numerator,
                b.denominator,
                _pct(b.value),
                _pct(b.target),
                b.score,
                b.weight,
                b.effective_weight,
                b.contribution,
            ]
            for rows in data.rankings.values()
            for code in (r.agency_code for r in rows)
            for b in data.breakdowns.get(code, [])
        ],
    )
    _sheet(
        wb,
        "Đề xuất khen thưởng",
        [
            Col("Đợt khen thưởng"),
            Col("Vị trí", COUNT),
            Col("Mã cơ quan"),
            Col("Cơ quan", width=36),
            Col("Nhóm"),
            Col("Chỉ số", POINTS),
            Col("Lý do đề xuất", width=70),
        ],
        [
            [
                labels.award_round_label(a.award_round),
                a.position,
                a.agency_code,
                a.agency_name,
                labels.GROUPS.get(a.group, a.group),
                a.index_score,
                a.reason,
            ]
            for a in data.awards
        ],
    )
    fiber_t = data.territory_targets.get("HT-02", (None, None))
    phone_t = data.territory_targets.get("HT-05", (None, None))

    def met(value: float | None, target: tuple[str | None, float | None]) -> str:
        verdict = meets_target(value, target)
        return "" if verdict is None else ("Đạt" if verdict else "Chưa đạt")

    _sheet(
        wb,
        "Hạ tầng theo xã",
        [
            Col("Mã đơn vị hành chính"),
            Col("Xã, phường", width=30),
            Col("Hộ dùng cáp quang (HT-02)", PCT),
            Col("Mục tiêu HT-02"),
            Col("Dùng điện thoại thông minh (HT-05)", PCT),
            Col("Mục tiêu HT-05"),
        ],
        [
            [
                t.admin_unit_code,
                t.name,
                _pct(t.fiber),
                met(t.fiber, fiber_t),
                _pct(t.smartphone),
                met(t.smartphone, phone_t),
            ]
            for t in data.territory
        ],
    )
    _sheet(
        wb,
        "Chất lượng dữ liệu",
        [
            Col("Dữ liệu", width=40),
            Col("Mã dữ liệu"),
            Col("Số kiểm tra", COUNT),
            Col("Đạt", COUNT),
            Col("Cảnh báo", COUNT),
            Col("Lỗi chặn", COUNT),
            Col("Cách ly (lần chạy)", COUNT),
            Col("Cách ly (tổng)", COUNT),
        ],
        [
            [
                labels.dataset_label(q.dataset),
                q.dataset,
                q.checks,
                q.passed,
                q.failed_warning,
                q.failed_blocking,
                q.quarantined_run,
                q.quarantined_total,
            ]
            for q in data.quality
        ],
    )
    _sheet(
        wb,
        "Kết quả kiểm tra",
        [
            Col("Mã dữ liệu"),
            Col("Kiểm tra", width=36),
            Col("Mức độ"),
            Col("Đạt"),
            Col("Quan sát", width=30),
            Col("Yêu cầu", width=30),
            Col("Số dòng lỗi", COUNT),
        ],
        [
            [
                c.dataset,
                c.check_name,
                "Lỗi chặn" if c.severity == "blocking" else "Cảnh báo",
                "Đạt" if c.passed else "Không đạt",
                c.observed,
                c.expected,
                c.failed_rows,
            ]
            for c in data.checks
        ],
    )
    _sheet(
        wb,
        "Thông tin",
        [Col("Mục", width=28), Col("Giá trị", width=70)],
        [
            ["Báo cáo", f"Kết quả Chuyển đổi số tỉnh Điện Biên năm {y}"],
            ["Căn cứ", "Kế hoạch 2158/KH-UBND ngày 26/5/2023"],
            ["Năm số liệu", Cell(y, "0")],
            ["Số liệu tạm tính", "Có" if data.provisional else "Không"],
            ["Lập lúc", data.generated_at.strftime("%d/%m/%Y %H:%M")],
            ["Nguồn", data.source],
            ["Lần chạy kiểm tra", data.run_id or ""],
        ],
    )
    wb.properties.title = f"Kết quả Chuyển đổi số tỉnh Điện Biên năm {y}"
    wb.properties.creator = "cds"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
