"""What officials read in an alert: datasets, rule kinds and indicators in Vietnamese.

The indicator names and weights come from the catalogue seed (`dbt_project/seeds/indicators.csv`),
the single source of truth; this module only knows which dataset feeds which indicator.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

INDICATOR_SEED = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "indicators.csv"

# The dataset a problem is reported against is a raw dataset, a staging model or `run`.
DATASET_LABELS: dict[str, str] = {
    "dvc_procedures": "Danh mục thủ tục hành chính (Cổng dịch vụ công)",
    "dvc_dossiers": "Hồ sơ thủ tục hành chính (Cổng dịch vụ công)",
    "dvc_ratings": "Đánh giá mức độ hài lòng (Cổng dịch vụ công)",
    "qlvb_don_vi": "Danh mục đơn vị (Hệ thống quản lý văn bản)",
    "qlvb_van_ban": "Văn bản đi, đến (Hệ thống quản lý văn bản)",
    "qlvb_ho_so_cong_viec": "Hồ sơ công việc (Hệ thống quản lý văn bản)",
    "qlvb_cuoc_hop": "Cuộc họp (Hệ thống quản lý văn bản)",
    "telecom_coverage": "Báo cáo hạ tầng và phủ sóng của nhà mạng",
    "telecom_files": "Tệp báo cáo của nhà mạng",
    "ref_don_vi_hanh_chinh": "Danh mục đơn vị hành chính",
    "ref_sap_xep_dvhc": "Danh mục sắp xếp đơn vị hành chính",
    "ref_co_quan": "Danh mục cơ quan",
    "ref_thon_ban": "Danh mục thôn, bản và dân số",
    "run": "Lần chạy dữ liệu hằng đêm",
}

_TELECOM = ("HT-01", "HT-02", "HT-03", "HT-04", "HT-05")
_DVC_FLOWS = ("CQ-06", "CQ-07", "CQ-08", "CQ-09", "CQ-10")
_AGENCY_INDICATORS = ("CQ-01", "CQ-02", "CQ-03", "CQ-05", *_DVC_FLOWS)

# Which indicators of indicators.csv each dataset feeds (ratings hang off dossiers, so a bad
# dossier also moves CQ-10; the fee flag of a procedure moves CQ-08).
AFFECTS: dict[str, tuple[str, ...]] = {
    "dvc_procedures": ("CQ-05", "CQ-08"),
    "dvc_dossiers": _DVC_FLOWS,
    "dvc_ratings": ("CQ-10",),
    "qlvb_don_vi": ("CQ-01", "CQ-02", "CQ-03", "CQ-04"),
    "qlvb_van_ban": ("CQ-01", "CQ-02"),
    "qlvb_ho_so_cong_viec": ("CQ-03",),
    "qlvb_cuoc_hop": ("CQ-04",),
    "telecom_coverage": _TELECOM,
    "telecom_files": _TELECOM,
    "ref_don_vi_hanh_chinh": _TELECOM,
    "ref_sap_xep_dvhc": _TELECOM,
    "ref_thon_ban": _TELECOM,
    "ref_co_quan": _AGENCY_INDICATORS,
}

# Staging models (and a few other names a suite may use) mapped to the dataset they rename.
DATASET_ALIASES: dict[str, str] = {
    "stg_dvc__procedures": "dvc_procedures",
    "stg_dvc__dossiers": "dvc_dossiers",
    "stg_dvc__ratings": "dvc_ratings",
    "stg_qlvb__units": "qlvb_don_vi",
    "stg_qlvb__documents": "qlvb_van_ban",
    "stg_qlvb__work_files": "qlvb_ho_so_cong_viec",
    "stg_qlvb__meetings": "qlvb_cuoc_hop",
    "stg_telecom__coverage": "telecom_coverage",
    "stg_reference__admin_units": "ref_don_vi_hanh_chinh",
    "stg_reference__lineage": "ref_sap_xep_dvhc",
    "stg_reference__agencies": "ref_co_quan",
    "stg_reference__villages": "ref_thon_ban",
}


def base_dataset(dataset: str) -> str:
    """The raw dataset a (possibly staging) dataset name stands for."""
    if dataset in DATASET_ALIASES:
        return DATASET_ALIASES[dataset]
    # `raw.dvc_dossiers` or `stg_dvc__dossiers_v2`: fall back to the closest known name.
    name = dataset.split(".")[-1]
    return DATASET_ALIASES.get(name, name)


def dataset_label(dataset: str) -> str:
    base = base_dataset(dataset)
    return DATASET_LABELS.get(base, f"Dữ liệu {dataset}")


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str
    weight: float


@cache
def indicators(seed: Path = INDICATOR_SEED) -> dict[str, Indicator]:
    """The indicator catalogue (code → name, weight); empty when the seed is not there."""
    if not seed.exists():
        return {}
    with seed.open(encoding="utf-8", newline="") as f:
        return {
            row["ma_chi_tieu"]: Indicator(
                row["ma_chi_tieu"], row["ten"], float(row["trong_so"] or 0)
            )
            for row in csv.DictReader(f)
        }


def affected_indicators(dataset: str) -> tuple[str, ...]:
    return AFFECTS.get(base_dataset(dataset), ())


def affects_ranking(dataset: str) -> bool:
    """True when the dataset feeds a weighted indicator of the agencies' index."""
    catalogue = indicators()
    codes = affected_indicators(dataset)
    if not catalogue:
        return any(code.startswith("CQ-") and code != "CQ-04" for code in codes)
    return any(catalogue[c].weight > 0 for c in codes if c in catalogue)


# -- rule kinds -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleKind:
    name: str
    # What is wrong, for an official (one sentence, Vietnamese).
    what: str
    # What to do about it (Vietnamese instruction).
    todo: str
    # How failed_rows is counted: records, or items (days, villages, files...).
    counts_records: bool = True


KINDS: dict[str, RuleKind] = {
    k.name: k
    for k in (
        RuleKind(
            "invalid_share",
            "Tỷ lệ bản ghi không hợp lệ vượt ngưỡng cho phép.",
            "Khẩn trương rà soát và sửa các bản ghi lỗi trên hệ thống nguồn. Trong thời gian "
            "này số liệu liên quan tạm không được công bố và không dùng để xét khen thưởng.",
        ),
        RuleKind(
            "schema",
            "Cấu trúc dữ liệu thay đổi hoặc không đọc được (thiếu cột, sai tên cột, sai kiểu).",
            "Đề nghị đơn vị quản lý hệ thống nguồn kiểm tra thay đổi cấu trúc dữ liệu gần đây "
            "và thông báo cho tổ kỹ thuật chuyển đổi số của tỉnh.",
            counts_records=False,
        ),
        RuleKind(
            "missing_key",
            "Bản ghi thiếu mã định danh nên không thể sử dụng.",
            "Bổ sung mã cho các bản ghi còn thiếu trên hệ thống nguồn và cập nhật lại.",
        ),
        RuleKind(
            "not_null",
            "Thiếu thông tin bắt buộc.",
            "Bổ sung các trường bắt buộc còn để trống trong các bản ghi nêu trên.",
        ),
        RuleKind(
            "wrong_type",
            "Giá trị sai kiểu dữ liệu hoặc để trống ở trường bắt buộc.",
            "Kiểm tra và nhập lại đúng định dạng (ngày, số, có/không) cho các bản ghi nêu trên.",
        ),
        RuleKind(
            "unparseable",
            "Ngày tháng hoặc số liệu không đọc được.",
            "Nhập lại ngày tháng theo dạng năm-tháng-ngày và số liệu bằng chữ số.",
        ),
        RuleKind(
            "enum",
            "Giá trị không thuộc danh mục cho phép.",
            "Sửa các trường có giá trị ngoài danh mục quy định trên hệ thống nguồn (theo các mã "
            "bản ghi ví dụ) và cập nhật lại.",
        ),
        RuleKind(
            "duplicate",
            "Bản ghi bị trùng mã.",
            "Rà soát các bản ghi trùng mã trên hệ thống nguồn, giữ lại một bản ghi đúng.",
        ),
        RuleKind(
            "date_order",
            "Ngày tháng không hợp lý (ví dụ: ngày hoàn thành trước ngày tiếp nhận).",
            "Đối chiếu và sửa lại ngày tiếp nhận, ngày hoàn thành, ngày trả kết quả của các bản "
            "ghi nêu trên.",
        ),
        RuleKind(
            "range",
            "Số liệu nằm ngoài khoảng hợp lệ (ví dụ: số âm, số thuê bao điện thoại thông minh "
            "lớn hơn tổng số thuê bao, tỷ lệ vượt 100%).",
            "Kiểm tra lại số liệu đã nhập hoặc đã báo cáo và sửa các giá trị sai.",
        ),
        RuleKind(
            "unknown_village",
            "Mã thôn, bản không có trong danh mục thôn, bản.",
            "Đối chiếu mã thôn, bản với danh mục thôn, bản hiện hành và gửi lại báo cáo.",
        ),
        RuleKind(
            "unknown_code",
            "Mã cơ quan hoặc mã đơn vị hành chính không có trong danh mục dùng chung.",
            "Kiểm tra mã cơ quan, mã đơn vị hành chính đã khai báo; nếu là đơn vị mới hoặc đã "
            "sắp xếp lại, đề nghị cập nhật danh mục dùng chung của tỉnh.",
        ),
        RuleKind(
            "volume",
            "Số lượng bản ghi cập nhật tăng hoặc giảm bất thường so với các tuần trước.",
            "Xác nhận việc cập nhật dữ liệu lên hệ thống có bị gián đoạn không; nếu có, cập nhật "
            "bổ sung dữ liệu còn thiếu.",
            counts_records=False,
        ),
        RuleKind(
            "freshness",
            "Dữ liệu không được cập nhật đúng hạn.",
            "Kiểm tra việc cập nhật, đồng bộ dữ liệu của hệ thống nguồn và cập nhật dữ liệu mới "
            "nhất.",
            counts_records=False,
        ),
        RuleKind(
            "completeness",
            "Thiếu dữ liệu báo cáo (ví dụ: thôn, bản hoặc cơ quan không có số liệu trong kỳ).",
            "Gửi bổ sung số liệu còn thiếu của kỳ báo cáo.",
            counts_records=False,
        ),
        RuleKind(
            "file",
            "Tệp dữ liệu bị hỏng, rỗng, cắt cụt, sai bảng mã ký tự hoặc sai tên tệp.",
            "Gửi lại tệp báo cáo đúng quy định (CSV mã hóa UTF-8, đúng mẫu và đúng tên tệp).",
            counts_records=False,
        ),
        RuleKind(
            "quarantined",
            "Bản ghi bị loại khi nạp dữ liệu vì không hợp lệ và chưa được gửi lại bản đúng.",
            "Rà soát và sửa các bản ghi nêu trên trên hệ thống nguồn; bản ghi đã sửa được nạp "
            "lại tự động trong lần chạy sau.",
        ),
        RuleKind(
            "reference_missing",
            "Bản ghi tham chiếu tới một bản ghi không có trên hệ thống (ví dụ: đánh giá của một "
            "hồ sơ không tồn tại).",
            "Kiểm tra việc đồng bộ các bản ghi liên quan lên hệ thống và bổ sung bản ghi còn "
            "thiếu.",
        ),
        RuleKind(
            "consistency",
            "Thông tin mâu thuẫn giữa các trường (ví dụ: văn bản giấy nhưng được ghi là đã ký số).",
            "Đối chiếu và sửa lại các trường mâu thuẫn của các bản ghi nêu trên.",
        ),
        RuleKind(
            "contact",
            "Cơ quan chưa có địa chỉ thư điện tử của đầu mối dữ liệu trong danh mục cơ quan.",
            "Bổ sung địa chỉ thư điện tử đầu mối (email_dau_moi) cho cơ quan trong danh mục cơ "
            "quan để cơ quan nhận được cảnh báo về dữ liệu của mình.",
            counts_records=False,
        ),
        RuleKind(
            "late_correction",
            "Bản ghi được sửa sau khi kỳ báo cáo đã kết thúc.",
            "Không cần xử lý ngay; đề nghị cập nhật dữ liệu kịp thời trong kỳ.",
        ),
        RuleKind(
            "run_failure",
            "Lần chạy dữ liệu hằng đêm bị lỗi: không đọc được nguồn hoặc một bước xử lý bị dừng.",
            "Tổ kỹ thuật kiểm tra kết nối tới nguồn dữ liệu và nhật ký lần chạy, khắc phục rồi "
            "chạy lại.",
            counts_records=False,
        ),
        RuleKind(
            "generic",
            "Dữ liệu không đạt kiểm tra chất lượng.",
            "Rà soát các bản ghi ví dụ và sửa trên hệ thống nguồn; liên hệ tổ kỹ thuật chuyển "
            "đổi số của tỉnh nếu cần hỗ trợ.",
        ),
    )
}

# First match wins: (pattern on the lower-cased check or rule name, kind).
_KIND_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"invalid|threshold|rejected_share", "invalid_share"),
    (r"schema|header|malformed|columns_to_match|column_to_exist|table_columns", "schema"),
    (r"quarantine", "quarantined"),
    (r"late_correction", "late_correction"),
    (r"fresh|stale|recency", "freshness"),
    (r"volume|row_count|collapse|baseline", "volume"),
    (r"contact", "contact"),
    (r"key_present|missing_key", "missing_key"),
    (r"duplicate|unique|once_per", "duplicate"),
    (
        r"missing_carrier|complete|coverage_gap|missing_month|every_|_present|registered",
        "completeness",
    ),
    (r"village|ma_thon", "unknown_village"),
    (r"empty_file|truncat|encoding|stray|not_a_feed|unreadable|file|period_mismatch", "file"),
    (r"date_order|pair_values|greater_than|_order\b|before|after", "date_order"),
    (r"exists|orphan", "reference_missing"),
    (r"unknown_code|referential|foreign|integrity|_known|valid_at|ref_|_ref\b", "unknown_code"),
    (r"only_if|consisten", "consistency"),
    (r"negative|range|between|exceed|within|out_of|min_|max_", "range"),
    (r"enum|in_set|allowed|value_set", "enum"),
    (r"parseable", "unparseable"),
    (r"wrong_type|type|format", "wrong_type"),
    (r"not_null|null|missing_value|required|has_", "not_null"),
    (r"run_failure|step_failure", "run_failure"),
)


def rule_kind(check_name: str) -> RuleKind:
    """The kind of a check or quarantine rule, from its name (`<dataset>.<rule>` or `<rule>`)."""
    name = check_name.lower().rsplit(".", 1)[-1]
    for pattern, kind in _KIND_PATTERNS:
        if re.search(pattern, name):
            return KINDS[kind]
    return KINDS["generic"]


SEVERITY_LABELS = {
    "blocking": "Nghiêm trọng — số liệu liên quan tạm không được công bố và không dùng để xét "
    "khen thưởng cho đến khi khắc phục",
    "warning": "Cảnh báo — số liệu vẫn được tính, cần khắc phục sớm",
}

RANKING_LABEL = "Chỉ số chính quyền số và xếp hạng các cơ quan (xét khen thưởng)"
