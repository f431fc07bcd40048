"""Vietnamese labels and number formats of the officials' report.

Labels only: targets, weights and formulas come from the warehouse (the catalogue seeds via
the marts), never from here.
"""

from __future__ import annotations

GROUPS: dict[str, str] = {
    "SO_NGANH": "Sở, ngành",
    "UBND_HUYEN": "UBND cấp huyện",
    "UBND_XA": "UBND cấp xã",
}
PILLARS: dict[str, str] = {
    "HA_TANG": "Hạ tầng số",
    "CHINH_QUYEN_SO": "Chính quyền số",
    "KINH_TE_SO": "Kinh tế số",
    "XA_HOI_SO": "Xã hội số",
}
SOURCES: dict[str, str] = {
    "dvc": "Cổng dịch vụ công",
    "qlvb": "Hệ thống quản lý văn bản",
    "telecom": "Số liệu nhà mạng",
    "bao_cao": "Báo cáo của cơ quan (chưa tích hợp)",
}
STATUSES: dict[str, str] = {
    "dat": "Đạt",
    "chua_dat": "Chưa đạt",
    "khong_co_du_lieu": "Không có dữ liệu",
    "chua_co_muc_tieu": "Chưa có mục tiêu",
}
INDEX_STATUSES: dict[str, str] = {"ranked": "Xếp hạng", "insufficient_data": "Không đủ dữ liệu"}
AWARD_ROUNDS: dict[str, str] = {
    "phase_1": "Giai đoạn I (2023–2025)",
    "phase_2": "Giai đoạn II (2026–2030)",
}
OPERATORS: dict[str, str] = {">": ">", ">=": "≥", "<": "<", "<=": "≤", "=": "="}


def award_round_label(award_round: str) -> str:
    if award_round.isdigit():
        return f"Năm {award_round}"
    return AWARD_ROUNDS.get(award_round, award_round)


def number(value: float | None, decimals: int = 1) -> str:
    """Vietnamese number format: `.` groups thousands, `,` marks decimals (1.234,5)."""
    if value is None:
        return "–"
    if round(value, decimals) == 0:
        value = 0.0  # never print "-0,0"
    text = f"{value:,.{decimals}f}"
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def integer(value: float | None) -> str:
    return number(value, 0)


def percent(value: float | None, decimals: int = 1) -> str:
    return "–" if value is None else f"{number(value, decimals)}%"


def signed(value: float | None, decimals: int = 2) -> str:
    """A change with its sign: +1,25 / −0,50 (a true minus sign reads better than a dash)."""
    if value is None:
        return "–"
    if round(value, decimals) == 0:
        return number(0, decimals)
    return ("+" if value > 0 else "−") + number(abs(value), decimals)


def with_unit(value: float | None, unit: str | None) -> str:
    if value is None:
        return "–"
    if unit in (None, "", "%"):
        return percent(value)
    if unit == "%/năm":
        return f"{number(value)}%/năm"
    decimals = 0 if float(value).is_integer() else 1
    return f"{number(value, decimals)} {unit}"


def target_text(op: str | None, target: float | None, unit: str | None) -> str:
    if target is None:
        return "–"
    if unit in (None, "", "%") and float(target).is_integer():
        shown = f"{number(target, 0)}%"  # targets are round numbers: "> 60%", not "> 60,0%"
    else:
        shown = with_unit(target, unit)
    return f"{OPERATORS.get(op or '', op or '')} {shown}".strip()


def gap_text(gap: float | None, unit: str | None) -> str:
    """The gap (target − value) in words: still short of the target, or above it."""
    if gap is None:
        return "–"
    suffix = " điểm %" if unit in (None, "", "%") else f" {unit}"
    if round(gap, 1) > 0:
        return f"còn thiếu {number(gap)}{suffix}"
    if round(gap, 1) < 0:
        return f"vượt {number(-gap)}{suffix}"
    return "bằng mục tiêu"


DATASETS: dict[str, str] = {
    "dvc_procedures": "Thủ tục hành chính (Cổng DVC)",
    "dvc_dossiers": "Hồ sơ thủ tục hành chính (Cổng DVC)",
    "dvc_ratings": "Đánh giá mức độ hài lòng (Cổng DVC)",
    "qlvb_don_vi": "Đơn vị (Hệ thống QLVB)",
    "qlvb_van_ban": "Văn bản (Hệ thống QLVB)",
    "qlvb_ho_so_cong_viec": "Hồ sơ công việc (Hệ thống QLVB)",
    "qlvb_cuoc_hop": "Cuộc họp (Hệ thống QLVB)",
    "telecom_coverage": "Cáp quang, phủ sóng, thuê bao (nhà mạng)",
    "ref_don_vi_hanh_chinh": "Danh mục đơn vị hành chính",
    "ref_sap_xep_dvhc": "Sắp xếp đơn vị hành chính",
    "ref_co_quan": "Danh mục cơ quan",
    "ref_thon_ban": "Danh mục thôn, bản và dân số",
}


def dataset_label(dataset: str) -> str:
    return DATASETS.get(dataset, dataset)
