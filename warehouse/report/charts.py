"""Charts of the report as inline SVG, generated here: no script, no network, prints well.

Every chart scales with the page (`viewBox`, width 100%), carries an accessible label, and
gives each mark a `<title>` so hovering shows the exact figure.
"""

from __future__ import annotations

from html import escape

from warehouse.report import labels
from warehouse.report.data import RankingRow, TerritoryRow

MET, NOT_MET, NO_TARGET, NO_DATA = "#2e7d32", "#d84315", "#3f6fb5", "#9aa5b1"
STATUS_COLORS = {
    "dat": MET,
    "chua_dat": NOT_MET,
    "chua_co_muc_tieu": NO_TARGET,
    "khong_co_du_lieu": NO_DATA,
}
GROUP_COLORS = {"SO_NGANH": "#1f5fa8", "UBND_HUYEN": "#7b3fa0", "UBND_XA": "#0f8a8a"}
GRID = "#dde3ea"
INK = "#1f2933"
MUTED = "#616e7c"
WIDTH = 1060  # the inner width of a report section, so wide charts render at scale 1


def _svg(width: int, height: int, label: str, body: str, css_class: str = "chart") -> str:
    return (
        f'<svg class="{css_class}" viewBox="0 0 {width} {height}" width="100%" '
        f'preserveAspectRatio="xMinYMin meet" role="img" aria-label="{escape(label)}" '
        f'xmlns="http://www.w3.org/2000/svg" style="max-width:{width}px">{body}</svg>'
    )


def _clip(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[: chars - 1].rstrip() + "…"


def anchor_id(code: str) -> str:
    return "cq-" + "".join(c if c.isalnum() else "-" for c in code)


def _stripes(count: int, top: int, row_h: int, width: int) -> str:
    """Alternate row backgrounds, drawn first so grid lines and marks stay on top."""
    return "".join(
        f'<rect x="0" y="{top + i * row_h}" width="{width}" height="{row_h}" fill="#f5f7fa"/>'
        for i in range(1, count, 2)
    )


def ranking_chart(rows: list[RankingRow], group: str) -> str:
    """One row per agency, in rank order: rank, name, index bar (0–100), change."""
    color = GROUP_COLORS.get(group, "#1f5fa8")
    row_h, top, width = 24, 30, WIDTH
    x_rank, x_name, x0, span, x_change = 34, 46, 420, 460, WIDTH - 8
    height = top + row_h * len(rows) + 8
    parts = [_stripes(len(rows), top, row_h, width)]
    for tick in range(0, 101, 20):
        x = x0 + span * tick / 100
        parts.append(
            f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{height - 6}" '
            f'stroke="{GRID}" stroke-width="1"/>'
            f'<text x="{x:.1f}" y="{top - 12}" text-anchor="middle" class="axis">{tick}</text>'
        )
    parts.append(
        f'<text x="{x_rank}" y="{top - 12}" text-anchor="end" class="axis">Hạng</text>'
        f'<text x="{x_name}" y="{top - 12}" class="axis">Cơ quan</text>'
        f'<text x="{x_change}" y="{top - 12}" text-anchor="end" class="axis">'
        "So với năm trước</text>"
    )
    for i, row in enumerate(rows):
        y = top + i * row_h
        mid = y + row_h / 2 + 4
        rank = str(row.rank) if row.rank is not None else "–"
        status = labels.INDEX_STATUSES.get(row.status, row.status)
        if row.index_score is not None:
            title = f"{row.agency_name}: {labels.number(row.index_score, 2)} điểm"
            bar_w = max(span * min(max(row.index_score, 0.0), 100.0) / 100, 1.0)
            bar = (
                f'<rect class="bar" x="{x0}" y="{y + 5}" width="{bar_w:.1f}" '
                f'height="{row_h - 10}" rx="2" fill="{color}"/>'
                f'<text x="{x0 + bar_w + 6:.1f}" y="{mid}" class="value">'
                f"{labels.number(row.index_score, 2)}</text>"
            )
        else:
            title = f"{row.agency_name}: {status}"
            bar = (
                f'<text x="{x0 + 4}" y="{mid}" class="muted" font-style="italic">'
                f"{escape(status)}</text>"
            )
        change = row.change
        if change is None:
            change_text, change_color = ("mới" if row.index_score is not None else ""), MUTED
        else:
            arrow = "▲ " if change > 0.005 else "▼ " if change < -0.005 else ""
            change_text = arrow + labels.signed(change)
            change_color = MET if change > 0.005 else NOT_MET if change < -0.005 else MUTED
        parts.append(
            f'<a href="#{anchor_id(row.agency_code)}"><title>{escape(title)}</title>'
            f'<rect x="0" y="{y}" width="{width}" height="{row_h}" fill="transparent"/>'
            f'<text x="{x_rank}" y="{mid}" text-anchor="end" class="rank">{rank}</text>'
            f'<text x="{x_name}" y="{mid}" class="name">{escape(_clip(row.agency_name, 46))}</text>'
            f"{bar}"
            f'<text x="{x_change}" y="{mid}" text-anchor="end" fill="{change_color}" '
            f'class="change">{escape(change_text)}</text></a>'
        )
    label = f"Xếp hạng chỉ số chính quyền số — {labels.GROUPS.get(group, group)}"
    return _svg(width, height, label, "".join(parts))


def bullet(value: float | None, target: float | None, status: str) -> str:
    """A small bar of a percentage with a tick at its target."""
    if value is None:
        return ""
    width, height = 120, 16
    clamp = min(max(value, 0.0), 100.0)
    body = (
        f'<rect x="0" y="3" width="{width}" height="10" rx="2" fill="#e8ecf1"/>'
        f'<rect class="bar" x="0" y="3" width="{max(width * clamp / 100, 1):.1f}" height="10" '
        f'rx="2" fill="{STATUS_COLORS.get(status, NO_TARGET)}"/>'
    )
    if target is not None:
        x = width * min(max(target, 0.0), 100.0) / 100
        x = min(max(x, 1.0), width - 1.0)
        body += (
            f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height}" stroke="{INK}" '
            'stroke-width="2"/>'
        )
    label = f"{labels.percent(value)}" + (
        f", mục tiêu {labels.percent(target)}" if target is not None else ""
    )
    return _svg(width, height, label, f"<title>{escape(label)}</title>{body}", "bullet")


def status_strip(counts: dict[str, int]) -> str:
    """How many indicators are met, not met, without target, without data: one stacked bar."""
    total = sum(counts.values()) or 1
    width, height, x = WIDTH, 34, 0.0
    parts = []
    for status in ("dat", "chua_dat", "chua_co_muc_tieu", "khong_co_du_lieu"):
        n = counts.get(status, 0)
        if not n:
            continue
        w = width * n / total
        label = f"{labels.STATUSES[status]}: {n}"
        parts.append(
            f'<g><title>{escape(label)}</title><rect class="bar" x="{x:.1f}" y="0" '
            f'width="{w:.1f}" height="{height}" fill="{STATUS_COLORS[status]}"/>'
            + (
                f'<text x="{x + w / 2:.1f}" y="{height / 2 + 5}" text-anchor="middle" '
                f'class="strip">{escape(label) if w > 9 * len(label) else n}</text>'
                if w > 24
                else ""
            )
            + "</g>"
        )
        x += w
    return _svg(width, height, "Tình hình thực hiện các chỉ tiêu", "".join(parts), "chart strip")


def meets_target(value: float | None, target: tuple[str | None, float | None]) -> bool | None:
    op, level = target
    if value is None or level is None:
        return None
    return value > level if op == ">" else value >= level


def territory_scatter(
    rows: list[TerritoryRow], targets: dict[str, tuple[str | None, float | None]]
) -> str:
    """Communes placed by fiber share (x) and smartphone share (y), with the target lines."""
    width, height = 720, 470
    left, right, top, bottom = 64, 24, 20, 56
    plot_w, plot_h = width - left - right, height - top - bottom

    def sx(v: float) -> float:
        return left + plot_w * min(max(v, 0.0), 100.0) / 100

    def sy(v: float) -> float:
        return top + plot_h * (1 - min(max(v, 0.0), 100.0) / 100)

    parts = [f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#fbfcfd"/>']
    for tick in range(0, 101, 20):
        parts.append(
            f'<line x1="{sx(tick):.1f}" y1="{top}" x2="{sx(tick):.1f}" y2="{top + plot_h}" '
            f'stroke="{GRID}"/><text x="{sx(tick):.1f}" y="{top + plot_h + 18}" '
            f'text-anchor="middle" class="axis">{tick}%</text>'
            f'<line x1="{left}" y1="{sy(tick):.1f}" x2="{left + plot_w}" y2="{sy(tick):.1f}" '
            f'stroke="{GRID}"/><text x="{left - 8}" y="{sy(tick) + 4:.1f}" text-anchor="end" '
            f'class="axis">{tick}%</text>'
        )
    fiber_target = targets.get("HT-02", (None, None))
    phone_target = targets.get("HT-05", (None, None))
    if fiber_target[1] is not None:
        x = sx(fiber_target[1])
        parts.append(
            f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + plot_h}" stroke="{INK}" '
            f'stroke-dasharray="6 4"/><text x="{x + 4:.1f}" y="{top + 14}" class="muted">'
            f"mục tiêu {escape(labels.target_text(*fiber_target, '%'))}</text>"
        )
    if phone_target[1] is not None:
        y = sy(phone_target[1])
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="{INK}" '
            f'stroke-dasharray="6 4"/><text x="{left + 6}" y="{y - 6:.1f}" class="muted">'
            f"mục tiêu {escape(labels.target_text(*phone_target, '%'))}</text>"
        )
    for row in rows:
        if row.fiber is None or row.smartphone is None:
            continue
        met = [meets_target(row.fiber, fiber_target), meets_target(row.smartphone, phone_target)]
        color = MET if all(met) else NOT_MET if not any(met) else "#e0a100"
        title = (
            f"{row.name}: cáp quang {labels.percent(row.fiber)}, "
            f"điện thoại thông minh {labels.percent(row.smartphone)}"
        )
        parts.append(
            f'<circle class="point" cx="{sx(row.fiber):.1f}" cy="{sy(row.smartphone):.1f}" r="6" '
            f'fill="{color}" fill-opacity="0.85" stroke="#fff" stroke-width="1.5">'
            f"<title>{escape(title)}</title></circle>"
        )
    parts.append(
        f'<text x="{left + plot_w / 2}" y="{height - 12}" text-anchor="middle" class="axis-title">'
        "Tỷ lệ hộ gia đình sử dụng cáp quang (HT-02)</text>"
        f'<text transform="translate(16 {top + plot_h / 2}) rotate(-90)" text-anchor="middle" '
        'class="axis-title">Tỷ lệ người dân dùng điện thoại thông minh (HT-05)</text>'
    )
    return _svg(
        width, height, "Các xã theo tỷ lệ cáp quang và điện thoại thông minh", "".join(parts)
    )


def territory_bars(
    rows: list[TerritoryRow], targets: dict[str, tuple[str | None, float | None]]
) -> str:
    """Communes sorted by fiber share, with the fiber and smartphone bars side by side."""
    row_h, top, width, span = 20, 44, WIDTH, 300
    x_name = 4
    panels = ((310, "HT-02", "Hộ dùng cáp quang"), (690, "HT-05", "Dùng điện thoại thông minh"))
    height = top + row_h * len(rows) + 10
    parts = [_stripes(len(rows), top, row_h, width)]
    for x0, code, title in panels:
        parts.append(f'<text x="{x0}" y="14" class="axis-title">{escape(title)} ({code})</text>')
        for tick in range(0, 101, 25):
            x = x0 + span * tick / 100
            parts.append(
                f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{height - 6}" '
                f'stroke="{GRID}"/><text x="{x:.1f}" y="{top - 10}" text-anchor="middle" '
                f'class="axis">{tick}%</text>'
            )
        level = targets.get(code, (None, None))[1]
        if level is not None:
            x = x0 + span * min(max(level, 0.0), 100.0) / 100
            parts.append(
                f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - 6}" '
                f'stroke="{INK}" stroke-width="1.5" stroke-dasharray="5 3"/>'
            )
    parts.append(f'<text x="{x_name}" y="{top - 10}" class="axis">Xã, phường</text>')
    for i, row in enumerate(rows):
        y = top + i * row_h
        mid = y + row_h / 2 + 4
        parts.append(
            f'<text x="{x_name}" y="{mid}" class="name">{escape(_clip(row.name, 34))}</text>'
        )
        for (x0, code, _), value in zip(panels, (row.fiber, row.smartphone), strict=True):
            if value is None:
                parts.append(f'<text x="{x0 + 4}" y="{mid}" class="muted">không có số liệu</text>')
                continue
            met = meets_target(value, targets.get(code, (None, None)))
            color = MET if met else NOT_MET if met is False else NO_TARGET
            w = max(span * min(max(value, 0.0), 100.0) / 100, 1.0)
            parts.append(
                f'<rect class="bar" x="{x0}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" '
                f'rx="2" fill="{color}"><title>{escape(row.name)}: '
                f"{labels.percent(value)}</title></rect>"
                f'<text x="{x0 + w + 5:.1f}" y="{mid}" class="value">{labels.percent(value)}</text>'
            )
    return _svg(width, height, "Tỷ lệ cáp quang và điện thoại thông minh theo xã", "".join(parts))


def quality_bar(passed: int, warning: int, blocking: int) -> str:
    total = passed + warning + blocking
    if not total:
        return ""
    width, height, x, parts = 120, 14, 0.0, []
    for n, color in ((passed, MET), (warning, "#e0a100"), (blocking, NOT_MET)):
        if n:
            w = width * n / total
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="1" width="{w:.1f}" height="12" fill="{color}"/>'
            )
            x += w
    label = f"{passed} đạt, {warning} cảnh báo, {blocking} lỗi chặn"
    return _svg(width, height, label, f"<title>{label}</title>" + "".join(parts), "bullet")
