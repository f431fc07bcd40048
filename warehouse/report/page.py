"""The officials' scorecard as one self-contained HTML page in Vietnamese.

No script, no external style sheet, font or image: the page opens offline from a USB stick
or an e-mail attachment, and prints. Charts are inline SVG (charts.py).
"""

from __future__ import annotations

from collections import Counter
from html import escape

from warehouse.report import charts, labels
from warehouse.report.data import BreakdownRow, RankingRow, ReportData, TargetRow

CSS = """
:root { --ink:#1f2933; --muted:#616e7c; --line:#d9e0e8; --bg:#f4f6f9; --brand:#17375e;
  --accent:#b71c1c; --met:#2e7d32; --notmet:#d84315; --notarget:#3f6fb5; --nodata:#9aa5b1; }
* { box-sizing: border-box; }
html { background: var(--bg); }
body { margin: 0; color: var(--ink); font: 15px/1.5 "Segoe UI", Roboto, "Helvetica Neue", Arial,
  "Liberation Sans", "DejaVu Sans", sans-serif; }
.masthead { background: var(--brand); color: #fff; padding: 28px 0 22px;
  border-bottom: 5px solid var(--accent); }
.wrap { max-width: 1160px; margin: 0 auto; padding: 0 24px; }
.org { text-transform: uppercase; letter-spacing: .06em; font-size: 13px; opacity: .85; }
h1 { font-size: 30px; margin: 6px 0 6px; line-height: 1.25; }
.lead { margin: 0; font-size: 16px; opacity: .92; max-width: 900px; }
.meta { margin: 12px 0 0; font-size: 13px; opacity: .8; }
.flag { display: inline-block; background: #ffca28; color: #3e2723; font-weight: 700;
  padding: 2px 10px; border-radius: 12px; font-size: 13px; margin-left: 6px; }
nav { background: #fff; border-bottom: 1px solid var(--line); position: sticky; top: 0;
  z-index: 2; }
nav .wrap { display: flex; flex-wrap: wrap; gap: 4px 22px; padding-top: 10px;
  padding-bottom: 10px; }
nav a { color: var(--brand); text-decoration: none; font-weight: 600; font-size: 14px; }
nav a:hover { text-decoration: underline; }
main { padding: 8px 0 40px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px;
  padding: 22px 26px; margin: 22px 0; }
h2 { font-size: 22px; color: var(--brand); margin: 0 0 6px; }
h3 { font-size: 17px; margin: 22px 0 8px; color: var(--ink); }
h3 .count { color: var(--muted); font-weight: 400; font-size: 14px; }
p.note { color: var(--muted); margin: 4px 0 14px; font-size: 14px; max-width: 960px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 14px;
  margin-top: 6px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px;
  border-top: 5px solid var(--brand); }
.card .big { font-size: 30px; font-weight: 700; line-height: 1.1; }
.card .label { font-size: 13.5px; margin-top: 4px; font-weight: 600; }
.card .sub { margin-top: 2px; }
.card.met { border-top-color: var(--met); } .card.met .big { color: var(--met); }
.card.notmet { border-top-color: var(--notmet); } .card.notmet .big { color: var(--notmet); }
.card.nodata { border-top-color: var(--nodata); } .card.nodata .big { color: #52606d; }
table { border-collapse: collapse; width: 100%; font-size: 14px; margin: 6px 0 10px; }
th { text-align: left; background: #eef2f7; color: #33414e; font-weight: 600; padding: 8px 10px;
  border-bottom: 2px solid var(--line); vertical-align: bottom; }
td { padding: 7px 10px; border-bottom: 1px solid #edf0f4; vertical-align: top; }
tr:hover td { background: #fafbfd; }
td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.code { white-space: nowrap; color: var(--muted); font-size: 13px; }
td small, .sub { color: var(--muted); font-size: 12.5px; }
.badge { display: inline-block; padding: 2px 9px; border-radius: 11px; font-size: 12.5px;
  font-weight: 600; white-space: nowrap; color: #fff; }
.b-dat { background: var(--met); } .b-chua_dat { background: var(--notmet); }
.b-chua_co_muc_tieu { background: var(--notarget); }
.b-khong_co_du_lieu { background: var(--nodata); }
.b-warn { background: #e0a100; } .b-block { background: var(--notmet); }
.b-ok { background: var(--met); }
.legend { display: flex; flex-wrap: wrap; gap: 8px 18px; font-size: 13px; color: var(--muted);
  margin: 8px 0 4px; }
.legend span::before { content: ""; display: inline-block; width: 12px; height: 12px;
  border-radius: 2px; margin-right: 6px; vertical-align: -1px; background: var(--c); }
svg.chart { display: block; height: auto; margin: 8px 0 4px; }
svg.bullet { display: block; width: 120px; height: 16px; }
svg text { font-size: 13px; fill: var(--ink); }
svg text.axis { font-size: 12px; fill: var(--muted); }
svg text.axis-title { font-size: 13px; font-weight: 600; fill: #33414e; }
svg text.muted { font-size: 12px; fill: var(--muted); }
svg text.rank { font-weight: 700; }
svg text.value { font-size: 12.5px; font-weight: 600; paint-order: stroke; stroke: #fff;
  stroke-width: 3px; stroke-linejoin: round; }
svg text.change { font-size: 12.5px; font-weight: 600; }
svg text.strip { fill: #fff; font-weight: 700; font-size: 14px; }
svg a:hover text.name { text-decoration: underline; fill: var(--brand); }
details { border: 1px solid var(--line); border-radius: 6px; margin: 6px 0; background: #fff; }
details[open] { box-shadow: 0 1px 4px rgba(0,0,0,.06); }
summary { cursor: pointer; padding: 9px 14px; display: flex; gap: 14px; align-items: baseline;
  list-style: none; }
summary::-webkit-details-marker { display: none; }
summary::before { content: "▸"; color: var(--muted); width: 10px; }
details[open] > summary::before { content: "▾"; }
table.breakdown { table-layout: fixed; }
table.breakdown th:not(:first-child), table.breakdown td:not(:first-child) { width: 92px; }
summary .rank { font-weight: 700; min-width: 64px; color: var(--muted); }
summary .name { font-weight: 600; flex: 1; }
summary .score { font-weight: 700; font-variant-numeric: tabular-nums; }
details > div { padding: 0 14px 10px; overflow-x: auto; }
table.targets { table-layout: fixed; }
td.gap { white-space: nowrap; font-size: 13.5px; }
tr.total td { font-weight: 700; border-top: 2px solid var(--line); }
tr.na td { color: var(--muted); }
.reason { max-width: 520px; }
.two { display: grid; grid-template-columns: 3fr 2fr; gap: 24px; align-items: start; }
@media (max-width: 900px) { .two { grid-template-columns: 1fr; } }
footer { color: var(--muted); font-size: 13px; padding: 10px 0 40px; }
@media print { nav { display: none; } section { break-inside: avoid-page; border: none; }
  html, body { background: #fff; } .masthead { -webkit-print-color-adjust: exact;
  print-color-adjust: exact; } }
"""


def _badge(status: str) -> str:
    return f'<span class="badge b-{status}">{escape(labels.STATUSES[status])}</span>'


def _legend(items: list[tuple[str, str]]) -> str:
    spans = "".join(f'<span style="--c:{color}">{escape(text)}</span>' for text, color in items)
    return f'<div class="legend">{spans}</div>'


def _header(data: ReportData) -> str:
    flag = '<span class="flag">Số liệu tạm tính</span>' if data.provisional else ""
    when = data.generated_at.strftime("%d/%m/%Y %H:%M")
    source = escape(data.source.rsplit("/", 1)[-1]) if data.source else "kho dữ liệu"
    return f"""
<header class="masthead"><div class="wrap">
  <div class="org">Ủy ban nhân dân tỉnh Điện Biên · Kế hoạch 2158/KH-UBND ngày 26/5/2023</div>
  <h1>Kết quả Chuyển đổi số năm {data.year} {flag}</h1>
  <p class="lead">Phong trào thi đua Chuyển đổi số giai đoạn 2023–2030: tỉnh so với các chỉ tiêu
  của Kế hoạch, xếp hạng chỉ số chính quyền số của các cơ quan, đề xuất khen thưởng, hạ tầng số
  theo xã và chất lượng dữ liệu.</p>
  <p class="meta">Lập lúc {when} · Nguồn: bản công bố {source} của kho dữ liệu CĐS</p>
</div></header>
<nav><div class="wrap">
  <a href="#chi-tieu">1. Chỉ tiêu của tỉnh</a><a href="#xep-hang">2. Xếp hạng</a>
  <a href="#chi-tiet">3. Chi tiết từng cơ quan</a><a href="#khen-thuong">4. Đề xuất khen thưởng</a>
  <a href="#ha-tang">5. Hạ tầng số theo xã</a><a href="#chat-luong">6. Chất lượng dữ liệu</a>
</div></nav>"""


def _summary(data: ReportData) -> str:
    counts = Counter(t.status for t in data.targets)
    ranked = sum(1 for rows in data.rankings.values() for r in rows if r.rank is not None)
    agencies = sum(len(rows) for rows in data.rankings.values())
    checks_ok = sum(q.passed for q in data.quality)
    checks = sum(q.checks for q in data.quality)
    quarantined = sum(q.quarantined_total for q in data.quality)
    with_target = counts["dat"] + counts["chua_dat"]
    quarantined_run = sum(q.quarantined_run for q in data.quality)
    cards = [
        ("met", f"{counts['dat']}/{with_target}", "chỉ tiêu đạt mục tiêu",
         "trong số chỉ tiêu đã có số liệu và mục tiêu"),
        ("notmet", str(counts["chua_dat"]), "chỉ tiêu chưa đạt", "xem khoảng cách ở mục 1"),
        ("nodata", str(counts["khong_co_du_lieu"]), "chỉ tiêu chưa có số liệu",
         "nguồn báo cáo chưa được tích hợp"),
        ("", f"{ranked}/{agencies}", "cơ quan được xếp hạng", "còn lại: không đủ dữ liệu"),
        ("met" if checks_ok == checks else "notmet", f"{checks_ok}/{checks}",
         "kiểm tra dữ liệu đạt", "của lần chạy gần nhất"),
        ("", labels.integer(quarantined), "bản ghi bị cách ly",
         f"{labels.integer(quarantined_run)} trong lần chạy gần nhất"),
    ]  # fmt: skip
    html = "".join(
        f'<div class="card {cls}"><div class="big">{escape(big)}</div>'
        f'<div class="label">{escape(text)}</div><div class="sub">{escape(sub)}</div></div>'
        for cls, big, text, sub in cards
    )
    return (
        f'<section id="tong-quan"><h2>Tổng quan năm {data.year}</h2>'
        f'<div class="cards">{html}</div></section>'
    )


def _targets(data: ReportData) -> str:
    counts = Counter(t.status for t in data.targets)
    legend = _legend([(labels.STATUSES[s], charts.STATUS_COLORS[s]) for s in labels.STATUSES])
    out = [
        '<section id="chi-tieu"><h2>1. Tỉnh so với các chỉ tiêu của Kế hoạch</h2>',
        '<p class="note">Mỗi chỉ tiêu của Kế hoạch 2158/KH-UBND (mục III.2.2) và các chỉ tiêu '
        f"dịch vụ (mục III.1.3, III.1.5), giá trị toàn tỉnh năm {data.year} so với mục tiêu năm "
        f"{2025 if data.year <= 2025 else 2030}. Khoảng cách = mục tiêu − giá trị, tính bằng điểm "
        "phần trăm. Vạch đen trên thanh là mức mục tiêu.</p>",
        charts.status_strip(dict(counts)),
        legend,
    ]
    by_pillar: dict[str, list[TargetRow]] = {}
    for row in data.targets:
        by_pillar.setdefault(row.pillar, []).append(row)
    for pillar, rows in by_pillar.items():
        out.append(f"<h3>{escape(labels.PILLARS.get(pillar, pillar or 'Khác'))}</h3>")
        out.append(
            '<table class="targets"><colgroup><col style="width:62px"><col>'
            '<col style="width:80px"><col style="width:80px"><col style="width:76px">'
            '<col style="width:134px"><col style="width:146px"><col style="width:142px">'
            "</colgroup><thead><tr><th>Mã</th><th>Chỉ tiêu</th>"
            f'<th class="num">Năm {data.year - 1}</th><th class="num">Năm {data.year}</th>'
            '<th class="num">Mục tiêu</th><th>So với mục tiêu</th><th>Khoảng cách</th>'
            "<th>Đánh giá</th></tr></thead><tbody>"
        )
        for t in rows:
            detail = escape(labels.SOURCES.get(t.source, t.source))
            if t.note:
                detail = escape(t.note)
            if t.value is not None and t.denominator:
                detail += f" · {labels.integer(t.numerator)}/{labels.integer(t.denominator)}"
            bullet = charts.bullet(t.value, t.target, t.status) if t.unit == "%" else ""
            out.append(
                f'<tr><td class="code">{escape(t.indicator_code)}</td>'
                f"<td>{escape(t.name)}<br><small>{detail}</small></td>"
                f'<td class="num">{labels.with_unit(t.previous_value, t.unit)}</td>'
                f'<td class="num"><b>{labels.with_unit(t.value, t.unit)}</b></td>'
                f'<td class="num">{escape(labels.target_text(t.target_op, t.target, t.unit))}</td>'
                f'<td>{bullet}</td><td class="gap">{escape(labels.gap_text(t.gap_pp, t.unit))}</td>'
                f"<td>{_badge(t.status)}</td></tr>"
            )
        out.append("</tbody></table>")
    out.append("</section>")
    return "".join(out)


def _rankings(data: ReportData) -> str:
    out = [
        '<section id="xep-hang"><h2>2. Xếp hạng chỉ số chính quyền số</h2>',
        '<p class="note">Chỉ số (0–100 điểm) là tổng có trọng số của điểm từng chỉ tiêu: điểm = '
        "100 × giá trị ÷ mục tiêu (tối đa 100), hoặc chính giá trị khi chỉ tiêu chưa có mục tiêu. "
        "Chỉ tiêu không áp dụng với cơ quan được bỏ ra và trọng số còn lại được quy đổi về 100; "
        "cơ quan thiếu quá nửa trọng số được ghi “không đủ dữ liệu”. Bấm vào tên cơ quan để xem "
        "chi tiết.</p>",
    ]
    if not data.rankings:
        out.append("<p>Chưa có kết quả xếp hạng cho năm này.</p>")
    for group, rows in data.rankings.items():
        ranked = sum(1 for r in rows if r.rank is not None)
        out.append(
            f"<h3>{escape(labels.GROUPS.get(group, group))} "
            f'<span class="count">— {ranked} cơ quan được xếp hạng'
            + (f", {len(rows) - ranked} không đủ dữ liệu" if len(rows) > ranked else "")
            + "</span></h3>"
        )
        out.append(charts.ranking_chart(rows, group))
    out.append("</section>")
    return "".join(out)


def _breakdown_table(rows: list[BreakdownRow]) -> str:
    head = (
        "<table class='breakdown'><thead><tr><th>Chỉ tiêu</th><th class='num'>Tử số</th>"
        "<th class='num'>Mẫu số</th>"
        "<th class='num'>Giá trị</th><th class='num'>Mục tiêu</th><th class='num'>Điểm</th>"
        "<th class='num'>Trọng số</th><th class='num'>Trọng số hiệu dụng</th>"
        "<th class='num'>Đóng góp</th></tr></thead><tbody>"
    )
    body = []
    for b in rows:
        applicable = bool(b.denominator)
        body.append(
            f'<tr class="{"" if applicable else "na"}"><td>{escape(b.indicator_name)} '
            f"<small>({escape(b.indicator_code)})</small></td>"
            f'<td class="num">{labels.integer(b.numerator)}</td>'
            f'<td class="num">{labels.integer(b.denominator)}</td>'
            f'<td class="num">{labels.percent(b.value) if applicable else "không áp dụng"}</td>'
            f'<td class="num">{labels.percent(b.target)}</td>'
            f'<td class="num">{labels.number(b.score, 2)}</td>'
            f'<td class="num">{labels.number(b.weight, 0)}</td>'
            f'<td class="num">{labels.number(b.effective_weight, 2)}</td>'
            f'<td class="num">{labels.number(b.contribution, 2)}</td></tr>'
        )
    total = sum(b.contribution or 0.0 for b in rows)
    body.append(
        '<tr class="total"><td colspan="8">Chỉ số (tổng đóng góp)</td>'
        f'<td class="num">{labels.number(total, 2)}</td></tr>'
    )
    return head + "".join(body) + "</tbody></table>"


def _summary_line(row: RankingRow) -> str:
    rank = f"Hạng {row.rank}" if row.rank is not None else "Chưa xếp hạng"
    score = (
        f"{labels.number(row.index_score, 2)} điểm"
        if row.index_score is not None
        else labels.INDEX_STATUSES.get(row.status, row.status)
    )
    change = (
        f' <span class="sub">({labels.signed(row.change)})</span>' if row.change is not None else ""
    )
    return (
        f'<summary><span class="rank">{rank}</span><span class="name">{escape(row.agency_name)}'
        f' <span class="sub">{escape(row.agency_code)}</span></span>'
        f'<span class="score">{score}{change}</span></summary>'
    )


def _breakdowns(data: ReportData) -> str:
    out = [
        '<section id="chi-tiet"><h2>3. Chi tiết chỉ số của từng cơ quan</h2>',
        '<p class="note">Mỗi chỉ số đều giải thích được: với từng chỉ tiêu có tử số, mẫu số, giá '
        "trị, mục tiêu, điểm, trọng số, trọng số hiệu dụng (sau khi bỏ chỉ tiêu không áp dụng) và "
        "phần đóng góp vào chỉ số. Bấm vào từng cơ quan để mở.</p>",
    ]
    for group, rows in data.rankings.items():
        out.append(f"<h3>{escape(labels.GROUPS.get(group, group))}</h3>")
        for row in rows:
            table = _breakdown_table(data.breakdowns.get(row.agency_code, []))
            out.append(
                f'<details id="{charts.anchor_id(row.agency_code)}">{_summary_line(row)}'
                f"<div>{table}</div></details>"
            )
    out.append("</section>")
    return "".join(out)


def _awards(data: ReportData) -> str:
    out = [
        '<section id="khen-thuong"><h2>4. Đề xuất khen thưởng</h2>',
        '<p class="note">Theo mục IV.3 của Kế hoạch: hằng năm tối đa 5 tập thể được đề nghị tặng '
        "Bằng khen của Chủ tịch UBND tỉnh; kết thúc giai đoạn I tối đa 5, giai đoạn II tối đa 10. "
        "Danh sách là đề xuất để Hội đồng thi đua – khen thưởng xem xét; cơ quan có dữ liệu không "
        "qua kiểm tra chặn hoặc không đủ dữ liệu không được đề xuất.</p>",
    ]
    if not data.awards:
        out.append("<p>Chưa có đề xuất khen thưởng cho năm này.</p>")
    rounds: dict[str, list] = {}
    for award in data.awards:
        rounds.setdefault(award.award_round, []).append(award)
    for award_round, rows in rounds.items():
        out.append(f"<h3>{escape(labels.award_round_label(award_round))}</h3>")
        out.append(
            "<table><thead><tr><th class='num'>Vị trí</th><th>Cơ quan</th><th>Nhóm</th>"
            "<th class='num'>Chỉ số</th><th>Lý do đề xuất</th></tr></thead><tbody>"
        )
        for a in rows:
            out.append(
                f'<tr><td class="num">{a.position}</td>'
                f'<td><a href="#{charts.anchor_id(a.agency_code)}">{escape(a.agency_name)}</a></td>'
                f"<td>{escape(labels.GROUPS.get(a.group, a.group))}</td>"
                f'<td class="num"><b>{labels.number(a.index_score, 2)}</b></td>'
                f'<td class="reason">{escape(a.reason)}</td></tr>'
            )
        out.append("</tbody></table>")
    out.append("</section>")
    return "".join(out)


def _territory(data: ReportData) -> str:
    rows = data.territory
    out = ['<section id="ha-tang"><h2>5. Hạ tầng số theo xã</h2>']
    if not rows:
        out.append("<p>Chưa có số liệu cáp quang và điện thoại thông minh theo xã cho năm này.</p>")
        return "".join(out) + "</section>"
    fiber_t = data.territory_targets.get("HT-02", (None, None))
    phone_t = data.territory_targets.get("HT-05", (None, None))
    both = sum(
        1
        for r in rows
        if charts.meets_target(r.fiber, fiber_t) and charts.meets_target(r.smartphone, phone_t)
    )
    none = sum(
        1
        for r in rows
        if charts.meets_target(r.fiber, fiber_t) is False
        and charts.meets_target(r.smartphone, phone_t) is False
    )
    out.append(
        f'<p class="note">{len(rows)} xã, phường có hiệu lực cuối năm {data.year}: tỷ lệ hộ '
        "gia đình sử dụng cáp quang (HT-02) và tỷ lệ người dân sử dụng điện thoại thông minh "
        "(HT-05), theo số liệu của các nhà mạng. Đường nét đứt là mục tiêu.</p>"
    )
    bullets = (
        f"<ul><li><b>{both}</b> xã đạt cả hai mục tiêu</li>"
        f"<li><b>{none}</b> xã chưa đạt mục tiêu nào</li>"
        f"<li><b>{len(rows) - both - none}</b> xã đạt một trong hai mục tiêu</li></ul>"
    )
    lowest = sorted((r for r in rows if r.fiber is not None), key=lambda r: r.fiber or 0.0)[:5]
    low = "".join(
        f"<li>{escape(r.name)}: {labels.percent(r.fiber)} cáp quang, "
        f"{labels.percent(r.smartphone)} điện thoại thông minh</li>"
        for r in lowest
    )
    legend = _legend(
        [
            ("Đạt cả hai mục tiêu", charts.MET),
            ("Đạt một mục tiêu", "#e0a100"),
            ("Chưa đạt mục tiêu nào", charts.NOT_MET),
        ]
    )
    out.append(
        f'<div class="two"><div>{charts.territory_scatter(rows, data.territory_targets)}'
        f"{legend}</div><div><h3>Tóm tắt</h3>{bullets}"
        f"<h3>Các xã có tỷ lệ cáp quang thấp nhất</h3><ol>{low}</ol></div></div>"
    )
    out.append("<h3>Các xã, xếp theo tỷ lệ hộ dùng cáp quang</h3>")
    out.append(charts.territory_bars(rows, data.territory_targets))
    out.append("</section>")
    return "".join(out)


def _quality(data: ReportData) -> str:
    out = ['<section id="chat-luong"><h2>6. Chất lượng dữ liệu của lần chạy</h2>']
    if data.run_id is None:
        out.append("<p>Chưa có kết quả kiểm tra chất lượng dữ liệu.</p></section>")
        return "".join(out)
    when = data.run_at.strftime("%d/%m/%Y %H:%M") if data.run_at else ""
    out.append(
        f'<p class="note">Lần chạy <code>{escape(data.run_id)}</code> lúc {when}. Bản ghi '
        "không hợp lệ được cách ly (không dùng để tính chỉ tiêu) và thông báo cho đầu mối của cơ "
        "quan; một lỗi chặn làm dữ liệu liên quan không được dùng để xếp hạng và khen thưởng.</p>"
    )
    out.append(
        "<table><thead><tr><th>Dữ liệu</th><th class='num'>Số kiểm tra</th>"
        "<th class='num'>Đạt</th><th class='num'>Cảnh báo</th><th class='num'>Lỗi chặn</th>"
        "<th>Tỷ lệ đạt</th><th class='num'>Cách ly (lần chạy)</th>"
        "<th class='num'>Cách ly (tổng)</th>"
        "</tr></thead><tbody>"
    )
    for q in data.quality:
        out.append(
            f"<tr><td>{escape(labels.dataset_label(q.dataset))}<br><small>{escape(q.dataset)}</small></td>"
            f'<td class="num">{q.checks}</td><td class="num">{q.passed}</td>'
            f'<td class="num">{q.failed_warning or "–"}</td>'
            f'<td class="num">{q.failed_blocking or "–"}</td>'
            f"<td>{charts.quality_bar(q.passed, q.failed_warning, q.failed_blocking)}</td>"
            f'<td class="num">{labels.integer(q.quarantined_run)}</td>'
            f'<td class="num">{labels.integer(q.quarantined_total)}</td></tr>'
        )
    out.append("</tbody></table>")
    failed = [c for c in data.checks if not c.passed]
    if failed:
        out.append("<h3>Các kiểm tra không đạt</h3>")
        out.append(
            "<table><thead><tr><th>Dữ liệu</th><th>Kiểm tra</th><th>Mức độ</th>"
            "<th>Quan sát</th><th>Yêu cầu</th><th class='num'>Số dòng lỗi</th></tr></thead><tbody>"
        )
        for c in failed:
            badge = (
                '<span class="badge b-block">Lỗi chặn</span>'
                if c.severity == "blocking"
                else '<span class="badge b-warn">Cảnh báo</span>'
            )
            out.append(
                f"<tr><td>{escape(labels.dataset_label(c.dataset))}</td>"
                f"<td>{escape(c.check_name)}</td><td>{badge}</td>"
                f"<td>{escape(c.observed)}</td><td>{escape(c.expected)}</td>"
                f'<td class="num">{labels.integer(c.failed_rows)}</td></tr>'
            )
        out.append("</tbody></table>")
    else:
        out.append('<p><span class="badge b-ok">Tất cả kiểm tra đều đạt</span></p>')
    out.append("</section>")
    return "".join(out)


def render_html(data: ReportData) -> str:
    """The whole page."""
    body = "".join(
        [
            _summary(data),
            _targets(data),
            _rankings(data),
            _breakdowns(data),
            _awards(data),
            _territory(data),
            _quality(data),
        ]
    )
    title = f"Kết quả Chuyển đổi số tỉnh Điện Biên năm {data.year}"
    return (
        '<!DOCTYPE html>\n<html lang="vi"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<link rel="icon" href="data:,"><title>{escape(title)}</title>'
        f"<style>{CSS}</style></head><body>{_header(data)}"
        f'<main><div class="wrap">{body}</div></main>'
        '<footer><div class="wrap">Báo cáo do hệ thống dữ liệu chuyển đổi số (cds) lập tự động từ '
        "kho dữ liệu đã công bố. Chỉ tiêu, mục tiêu và trọng số theo danh mục chỉ tiêu của Kế "
        "hoạch 2158/KH-UBND; số liệu theo giờ Việt Nam (UTC+7). Bảng tính Excel đi kèm có cùng "
        "các bảng số liệu.</div></footer></body></html>\n"
    )
