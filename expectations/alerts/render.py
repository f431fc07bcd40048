"""A digest — everything one recipient is told after one run — as text, HTML, e-mail and JSON.

The first part is for officials, in Vietnamese: what is wrong, in which data, how many
records, three example keys, what it affects, what to do. A technical part for engineers
follows (check names, observed against expected, run id). Only keys, counts and check
results appear: never a value of a record.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, make_msgid
from typing import Any
from zoneinfo import ZoneInfo

from expectations.alerts.catalogue import SEVERITY_LABELS, dataset_label
from expectations.alerts.problems import AgencyContact, CheckRow, Problem
from expectations.alerts.suppression import Item

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
PREFIX = "[CĐS Điện Biên]"
FALLBACK_AUDIENCE = "Tổng hợp kỹ thuật"
RULE = "-" * 72


@dataclass
class RecipientLine:
    """One line of the run overview: what a recipient is told in this run."""

    recipient: str | None
    audience: str
    new: int
    reminder: int
    resolved: int
    suppressed: int


@dataclass
class RunOverview:
    """The run summary the fallback mailbox gets."""

    checks: list[CheckRow] = field(default_factory=list)
    quarantined: dict[str, int] = field(default_factory=dict)
    recipients: list[RecipientLine] = field(default_factory=list)


@dataclass
class Digest:
    run_id: str
    recipient: str | None
    created_at: datetime
    items: list[Item]
    agencies: Mapping[str, AgencyContact]
    fallback: bool = False
    kind: str = "quality"  # "quality" or "run_failure"
    suppressed: int = 0
    window_days: int = 7
    overview: RunOverview | None = None

    @property
    def open_items(self) -> list[Item]:
        return [i for i in self.items if i.state != "resolved"]

    @property
    def resolved_items(self) -> list[Item]:
        return [i for i in self.items if i.state == "resolved"]

    @property
    def audience(self) -> str:
        if self.fallback:
            return FALLBACK_AUDIENCE
        codes = sorted({i.problem.agency_code for i in self.items if i.problem.agency_code})
        names = [self.agency_name(c) for c in codes]
        if len(names) <= 2:
            return ", ".join(names) or FALLBACK_AUDIENCE
        return f"{len(names)} cơ quan"

    def agency_name(self, code: str | None) -> str:
        if code is None:
            return "chưa xác định cơ quan phụ trách"
        contact = self.agencies.get(code)
        return contact.name if contact else code

    def entries(self) -> list[dict[str, str]]:
        return [i.entry() for i in self.items]


# -- text pieces ------------------------------------------------------------------------------


def _day(value: datetime | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def subject(digest: Digest) -> str:
    opened, resolved = len(digest.open_items), len(digest.resolved_items)
    if digest.kind == "run_failure":
        return f"{PREFIX} Lỗi lần chạy dữ liệu hằng đêm — {opened} lỗi"
    if opened:
        extra = f", {resolved} đã khắc phục" if resolved else ""
        return f"{PREFIX} Cảnh báo chất lượng dữ liệu — {digest.audience} — {opened} vấn đề{extra}"
    if resolved:
        return f"{PREFIX} Dữ liệu đã được khắc phục — {digest.audience} — {resolved} vấn đề"
    return (
        f"{PREFIX} Tổng hợp kiểm tra chất lượng dữ liệu — lần chạy ngày {_day(digest.created_at)}"
    )


def _state_label(item: Item) -> str:
    if item.state == "new":
        return "Mới"
    since = f" — chưa khắc phục từ {_day(item.opened_at)}" if item.opened_at else ""
    if item.escalated:
        return f"Nhắc lại, mức độ tăng lên nghiêm trọng{since}"
    return f"Nhắc lại{since}"


def _count(problem: Problem) -> tuple[str, str]:
    """(label, value) of how many records (or days, villages, files...) failed."""
    label = "Số bản ghi không đạt" if problem.kind.counts_records else "Số mục không đạt"
    if problem.failed_rows is None:
        return label, "chưa xác định được"
    return label, f"{problem.failed_rows:,}".replace(",", ".")  # Vietnamese thousands: 1.234


def _where(digest: Digest, problem: Problem) -> str:
    owner = ""
    if problem.agency_code:
        owner = f" — {digest.agency_name(problem.agency_code)}"
        contact = digest.agencies.get(problem.agency_code)
        if digest.fallback and (contact is None or not contact.email):
            owner += " (cơ quan chưa có đầu mối nhận cảnh báo)"
    return f"{dataset_label(problem.dataset)}{owner}"


def _item_lines(digest: Digest, item: Item) -> list[tuple[str, str]]:
    """(label, value) lines of one open item, for the officials' part."""
    problem = item.problem
    lines = [("Dữ liệu", _where(digest, problem))]
    if problem.origin == "run":
        lines.append(("Bước bị lỗi", problem.check_name))
    else:
        lines.append(_count(problem))
        examples = ", ".join(problem.example_keys) or "không có (lỗi ở mức toàn bộ dữ liệu)"
        lines.append(("Ví dụ mã bản ghi", examples))
    affects = problem.affects()
    if affects:
        lines.append(("Ảnh hưởng đến", "; ".join(affects)))
    lines.append(("Việc cần làm", problem.kind.todo))
    lines.append(("Mức độ", SEVERITY_LABELS.get(problem.severity, problem.severity)))
    return lines


def _resolved_line(digest: Digest, item: Item) -> str:
    since = f" (phát hiện từ {_day(item.opened_at)})" if item.opened_at else ""
    return (
        f"{item.problem.kind.what.rstrip('.')} — {_where(digest, item.problem)}{since}: "
        f"đã được khắc phục, kiểm tra ngày {_day(digest.created_at)} đạt."
    )


def _greeting(digest: Digest) -> str:
    if digest.fallback:
        return "Kính gửi: Tổ kỹ thuật chuyển đổi số tỉnh Điện Biên"
    return f"Kính gửi: Đầu mối dữ liệu của {digest.audience}"


def _intro(digest: Digest) -> str:
    day = _day(digest.created_at)
    if digest.kind == "run_failure":
        return (
            f"Lần chạy dữ liệu hằng đêm ngày {day} bị lỗi ({len(digest.open_items)} lỗi). "
            "Số liệu của lần chạy này có thể chưa được cập nhật hoặc chưa đầy đủ."
        )
    opened, resolved = len(digest.open_items), len(digest.resolved_items)
    parts = [
        f"Hệ thống dữ liệu chuyển đổi số tỉnh Điện Biên đã kiểm tra chất lượng dữ liệu trong "
        f"lần chạy ngày {day}."
    ]
    whose = (
        "không có cơ quan phụ trách hoặc cơ quan chưa có đầu mối nhận cảnh báo"
        if digest.fallback
        else "của đơn vị"
    )
    if opened:
        parts.append(f"Có {opened} vấn đề cần khắc phục trong dữ liệu {whose}.")
    if resolved:
        parts.append(f"{resolved} vấn đề đã báo trước đây nay đã được khắc phục.")
    if not opened and not resolved:
        parts.append("Không có vấn đề mới cần báo trong phần dữ liệu này.")
    return " ".join(parts)


def _footer(digest: Digest) -> list[str]:
    lines = []
    if digest.suppressed:
        lines.append(
            f"Ngoài ra còn {digest.suppressed} vấn đề đã báo trước đây vẫn chưa khắc phục; "
            f"chúng sẽ được nhắc lại sau {digest.window_days} ngày kể từ lần báo gần nhất."
        )
    lines.append(
        "Đây là thư tự động của hệ thống dữ liệu chuyển đổi số tỉnh Điện Biên. Mỗi vấn đề "
        f"chỉ được báo một lần và nhắc lại sau {digest.window_days} ngày nếu chưa khắc phục. "
        "Thư không chứa thông tin cá nhân: bản ghi chỉ được nêu bằng mã."
    )
    return lines


def _overview_lines(overview: RunOverview) -> list[str]:
    lines = ["TỔNG HỢP LẦN CHẠY"]
    per_dataset: dict[str, list[int]] = {}
    for check in overview.checks:
        counts = per_dataset.setdefault(check.dataset, [0, 0])
        counts[0 if check.passed else 1] += 1
    for dataset in sorted(set(per_dataset) | set(overview.quarantined)):
        passed, failed = per_dataset.get(dataset, [0, 0])
        quarantined = overview.quarantined.get(dataset, 0)
        lines.append(
            f"- {dataset_label(dataset)}: {passed} kiểm tra đạt, {failed} không đạt, "
            f"{quarantined} bản ghi bị cách ly trong lần chạy này"
        )
    if overview.recipients:
        lines.append("Thư cảnh báo của lần chạy này:")
        for r in overview.recipients:
            lines.append(
                f"- {r.audience} <{r.recipient or 'chưa đặt CDS_ALERT_FALLBACK_TO'}>: "
                f"{r.new} mới, {r.reminder} nhắc lại, {r.resolved} đã khắc phục, "
                f"{r.suppressed} tạm không gửi lại"
            )
    return lines


def _technical_lines(digest: Digest) -> list[str]:
    lines = [
        "PHẦN KỸ THUẬT (dành cho cán bộ kỹ thuật)",
        f"run_id: {digest.run_id}",
        f"created_at: {digest.created_at.isoformat(sep=' ', timespec='seconds')} (UTC+7)",
        "(observed/expected are the whole check's; failed_rows and keys the recipient's share)",
    ]
    for item in digest.items:
        p = item.problem
        parts = [
            f"dataset={p.dataset}",
            f"check={p.check_name}",
            f"severity={p.severity}",
            f"agency={p.agency_code or '-'}",
            f"failed_rows={p.failed_rows if p.failed_rows is not None else '-'}",
        ]
        if p.observed is not None:
            parts.append(f"observed={p.observed}")
        if p.expected is not None:
            parts.append(f"expected={p.expected}")
        if p.fields:
            parts.append(f"fields={','.join(p.fields)}")
        if p.example_keys:
            parts.append(f"keys={','.join(p.example_keys)}")
        parts.append(f"problem_key={p.key}")
        lines.append(f"- [{item.state}] " + " | ".join(parts))
    return lines


# -- renderings -------------------------------------------------------------------------------


def text(digest: Digest) -> str:
    out = [_greeting(digest), "", _intro(digest), ""]
    if digest.open_items:
        out += ["LỖI CẦN XỬ LÝ" if digest.kind == "run_failure" else "VẤN ĐỀ CẦN KHẮC PHỤC", ""]
        for number, item in enumerate(digest.open_items, start=1):
            out.append(f"{number}. [{_state_label(item)}] {item.problem.kind.what}")
            out += [f"   {label}: {value}" for label, value in _item_lines(digest, item)]
            out.append("")
    if digest.resolved_items:
        out += ["ĐÃ ĐƯỢC KHẮC PHỤC", ""]
        out += [f"- {_resolved_line(digest, item)}" for item in digest.resolved_items]
        out.append("")
    if digest.overview is not None:
        out += [*_overview_lines(digest.overview), ""]
    out += [*_footer(digest), "", RULE, *_technical_lines(digest), ""]
    return "\n".join(out)


def _h(value: Any) -> str:
    return html.escape(str(value), quote=True)


def html_body(digest: Digest) -> str:
    e = _h
    parts = [
        "<!DOCTYPE html>",
        '<html lang="vi"><head><meta charset="utf-8">',
        f"<title>{e(subject(digest))}</title></head>",
        '<body style="font-family: Arial, sans-serif; font-size: 14px; color: #222;">',
        f"<p>{e(_greeting(digest))}</p>",
        f"<p>{e(_intro(digest))}</p>",
    ]
    if digest.open_items:
        heading = "Lỗi cần xử lý" if digest.kind == "run_failure" else "Vấn đề cần khắc phục"
        parts.append(f"<h2>{e(heading)}</h2><ol>")
        for item in digest.open_items:
            color = "#b00020" if item.problem.severity == "blocking" else "#8a6d00"
            parts.append(
                f'<li><p><strong style="color: {color}">[{e(_state_label(item))}]</strong> '
                f"<strong>{e(item.problem.kind.what)}</strong></p><ul>"
            )
            parts += [
                f"<li><strong>{e(label)}:</strong> {e(value)}</li>"
                for label, value in _item_lines(digest, item)
            ]
            parts.append("</ul></li>")
        parts.append("</ol>")
    if digest.resolved_items:
        parts.append(f"<h2>{e('Đã được khắc phục')}</h2><ul>")
        parts += [f"<li>{e(_resolved_line(digest, i))}</li>" for i in digest.resolved_items]
        parts.append("</ul>")
    if digest.overview is not None:
        title, *rows = _overview_lines(digest.overview)
        parts.append(f"<h2>{e(title.capitalize())}</h2><ul>")
        parts += [f"<li>{e(row.removeprefix('- '))}</li>" for row in rows]
        parts.append("</ul>")
    parts += [f'<p style="color: #555;">{e(line)}</p>' for line in _footer(digest)]
    title, *tech = _technical_lines(digest)
    parts.append(f'<hr><h3 style="color: #555;">{e(title)}</h3>')
    parts.append('<pre style="font-size: 12px; white-space: pre-wrap;">')
    parts.append(e("\n".join(tech)))
    parts.append("</pre></body></html>")
    return "\n".join(parts)


def email_message(digest: Digest, sender: str) -> Message:
    """A multipart/alternative message (plain text, then HTML), UTF-8 throughout.

    Built with the compat32 classes and an explicit `Header`: the modern policy's folding
    of long encoded subjects can drop a space between encoded words (CPython 3.11), which
    would garble the Vietnamese subject in every mail client.
    """
    msg = MIMEMultipart("alternative")
    msg["Subject"] = Header(subject(digest), "utf-8")
    msg["From"] = sender
    if digest.recipient:
        msg["To"] = digest.recipient
    local = digest.created_at
    if local.tzinfo is None:
        local = local.replace(tzinfo=VIETNAM)
    msg["Date"] = format_datetime(local)
    domain = sender.rpartition("@")[2] or "localhost"
    msg["Message-ID"] = make_msgid("cds-alert", domain=domain)
    msg["Content-Language"] = "vi"
    # RFC 3834: an automatic message; well-behaved servers do not auto-reply to it.
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-CDS-Run-Id"] = digest.run_id
    # UTF-8 bodies in base64: safe on any 7-bit hop.
    msg.attach(MIMEText(text(digest), "plain", "utf-8"))
    msg.attach(MIMEText(html_body(digest), "html", "utf-8"))
    return msg


def webhook_payload(digest: Digest) -> dict[str, Any]:
    """The digest as JSON for the webhook: the same facts, structured."""

    def item_json(item: Item) -> dict[str, Any]:
        p = item.problem
        return {
            "key": p.key,
            "state": item.state,
            "escalated": item.escalated,
            "opened_at": item.opened_at.isoformat() if item.opened_at else None,
            "dataset": p.dataset,
            "dataset_label": dataset_label(p.dataset),
            "check_name": p.check_name,
            "severity": p.severity,
            "agency_code": p.agency_code,
            "agency_name": digest.agency_name(p.agency_code) if p.agency_code else None,
            "failed_rows": p.failed_rows,
            "example_keys": list(p.example_keys),
            "affected_indicators": list(p.affected_indicators),
            "affects_ranking": p.affects_ranking,
            "what": p.kind.what,
            "todo": p.kind.todo,
            "observed": p.observed,
            "expected": p.expected,
        }

    overview = None
    if digest.overview is not None:
        overview = {
            "checks": [
                {"dataset": c.dataset, "check_name": c.check_name, "passed": c.passed}
                for c in digest.overview.checks
            ],
            "quarantined": digest.overview.quarantined,
            "recipients": [vars(r) for r in digest.overview.recipients],
        }
    return {
        "type": "cds.alert_digest",
        "version": 1,
        "kind": digest.kind,
        "run_id": digest.run_id,
        "created_at": digest.created_at.isoformat(),
        "recipient": digest.recipient,
        "audience": digest.audience,
        "fallback": digest.fallback,
        "subject": subject(digest),
        "items": [item_json(i) for i in digest.items],
        "suppressed": digest.suppressed,
        "overview": overview,
        "text": text(digest),
    }
