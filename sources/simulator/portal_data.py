"""The simulated public-service portal's own data: procedures, dossiers and ratings.

`write_portal_store` generates the portal's records into a SQLite file that
`portal_server.PortalServer` serves as the API of `dvc-portal-api.md`. Each table holds one
row per record: `id`, `updated_at` (naive Vietnam local time, `YYYY-MM-DDTHH:MM:SS`, so it
sorts as text), and `payload`, the record's JSON exactly as the API serves it.

How the data behaves (all deterministic from `seed`):
- Dossiers are generated day by day, each day from its own random stream, so a dossier
  (id, content and whole lifecycle) depends on the seed, the scale and its day only, never on
  `end`. The store holds each record as it stands at the end of `end`: events after it are
  not visible yet and `updated_at` is the time of the last visible event. Generating again
  with a later `end` yields the same dossiers, advanced in time, plus new ones.
- Procedures are a catalogue with a history (published before 2023; some become fully
  online later, a few are abolished; on 1 March 2025 the procedures of departments that
  ceased in the merger move to their successor). The store holds the catalogue as of `end`.
- Handling agency: a `TINH` procedure's dossier goes to the procedure's department in
  force on the day; a `XA` procedure's to the committee of the commune where it is filed
  (old communes until 30 June 2025, new ones after). A `HUYEN` procedure's dossier goes to
  the district committee until 30 June 2025. From 1 July 2025, when districts ceased,
  most district-level procedures were devolved to the new communes (their committees
  handle them); about one in six of them (52 of 300 for the default seed, in fields with a
  provincial department: construction, transport, finance, business, education, health,
  environment, labour; none of the high-volume ones) went to that department instead. The
  catalogue keeps `cap_thuc_hien` `HUYEN` for them, as published, so district-level
  indicators for the first half of 2025 still find their procedures.
- `ma_dvhc` is the unit where the dossier was filed, in the codes of that day: the commune
  for `XA` procedures, the district for `HUYEN` and `TINH` procedures until 30 June 2025,
  and the (new) commune for every dossier after.
- Timestamps are served with `+07:00`, except about 1% of the records (chosen from their
  id) whose timestamps are all converted to UTC and served with `Z`.
- Ids: a dossier is `<ma_co_quan>-<yymmdd>-<nnnn>` (agency, day of reception, that
  agency's sequence of the day); a rating is `DG-<ma_ho_so>`.
- Planted (recorded in the manifest, source `dvc`): one agency's week at ~2% of its usual
  volume (`volume_collapse`, a district committee in spring 2025, or a commune committee
  in 2026 when the range starts later); and, with `plant_anomalies`, a procedure served
  twice (`duplicate`), dossiers finished before received (`date_order`), with an unknown
  `ma_co_quan` (`unknown_code`), with `kenh_nop` `FAX` (`enum`), with `ngay_tiep_nhan`
  `31/02/YYYY` and with `so_hoa_ho_so` the number 1 (`wrong_type`), a rating `TUYET_VOI`
  (`enum`) and a rating of no dossier (`unknown_code`). The invalid records sit three
  weeks after `start`, and are planted only when the range is at least about 75 days
  long (they must be finished and visible), so a later `end` keeps them unchanged.
"""

from __future__ import annotations

import bisect
import hashlib
import heapq
import math
import os
import random
import sqlite3
import zlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import orjson

from sources.batch import Progress, no_progress
from sources.simulator.manifest import Manifest
from sources.simulator.world import (
    DEPARTMENT_MERGER,
    DEPARTMENT_SUCCESSORS,
    REORGANISATION,
    Agency,
    World,
)

SOURCE = "dvc"
TABLES = ("procedures", "dossiers", "ratings")
DATASET_OF_TABLE = {
    "procedures": "dvc_procedures",
    "dossiers": "dvc_dossiers",
    "ratings": "dvc_ratings",
}

DOSSIERS_PER_YEAR = 400_000  # at scale 1
# Tết (Lunar New Year's day) of the years the demo covers.
TET = {
    2022: date(2022, 2, 1),
    2023: date(2023, 1, 22),
    2024: date(2024, 2, 10),
    2025: date(2025, 1, 29),
    2026: date(2026, 2, 17),
    2027: date(2027, 2, 6),
}
# Other public holidays (month, day): Reunification, Labour Day, National Day.
HOLIDAYS = ((4, 30), (5, 1), (9, 1), (9, 2))

KENH_NOP = ("TRUC_TUYEN", "TRUC_TIEP", "BUU_CHINH")
TRANG_THAI = (
    "MOI_TIEP_NHAN",
    "DANG_XU_LY",
    "CHO_BO_SUNG",
    "DA_HOAN_THANH",
    "DA_TRA_KET_QUA",
    "TU_CHOI",
    "DA_RUT",
)
FINAL_STATES = frozenset({"DA_HOAN_THANH", "DA_TRA_KET_QUA", "TU_CHOI", "DA_RUT"})
MUC_DO_THU_TUC = ("TOAN_TRINH", "MOT_PHAN", "KHONG")
MUC_DO_DANH_GIA = ("RAT_HAI_LONG", "HAI_LONG", "BINH_THUONG", "KHONG_HAI_LONG")
UNKNOWN_AGENCY = "000.00.99.H23"  # a code no reference file knows (planted anomalies)

# Times are whole seconds since 2000-01-01 00:00 local time (naive Vietnam time).
_EPOCH = date(2000, 1, 1)
_EPOCH_ORDINAL = _EPOCH.toordinal()
_DAY = 86_400
_HOUR = 3_600
_UTC_OFFSET = 7 * _HOUR
_CHUNK = 5_000  # rows buffered before a write: bounds memory at any scale


# --- Time helpers ---------------------------------------------------------------------------
def _day_index(day: date) -> int:
    return day.toordinal() - _EPOCH_ORDINAL


def _weekday(day_index: int) -> int:
    """Monday 0 .. Sunday 6 (2000-01-01 was a Saturday)."""
    return (day_index + 5) % 7


class _DayTexts(dict):
    """Day index -> `YYYY-MM-DDT`, computed once per day."""

    def __missing__(self, day_index: int) -> str:
        text = date.fromordinal(day_index + _EPOCH_ORDINAL).isoformat() + "T"
        self[day_index] = text
        return text


_DAY_TEXTS = _DayTexts()
# Second of the day -> `HH:MM:SS` (formatting is the generator's hottest path).
_SOD_TEXTS = tuple(f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(_DAY))


def _day_text(day_index: int) -> str:
    return _DAY_TEXTS[day_index][:-1]


def local_key(t: int) -> str:
    """The sortable local-time text of a time in seconds: `YYYY-MM-DDTHH:MM:SS`."""
    return _DAY_TEXTS[t // _DAY] + _SOD_TEXTS[t % _DAY]


def _served(t: int, utc: bool) -> str:
    if utc:
        t -= _UTC_OFFSET
        return _DAY_TEXTS[t // _DAY] + _SOD_TEXTS[t % _DAY] + "Z"
    return _DAY_TEXTS[t // _DAY] + _SOD_TEXTS[t % _DAY] + "+07:00"


def serve_timestamp(key: str, *, utc: bool) -> str:
    """A local-time key as the API serves it: `+07:00`, or converted to UTC with `Z`."""
    if not utc:
        return key + "+07:00"
    moment = datetime.fromisoformat(key) - timedelta(seconds=_UTC_OFFSET)
    return moment.isoformat(timespec="seconds") + "Z"


def _seconds(moment: datetime) -> int:
    return (
        _day_index(moment.date()) * _DAY + moment.hour * _HOUR + moment.minute * 60 + moment.second
    )


def _add_working_days(day_index: int, days: int) -> int:
    """`days` working days (Monday–Friday) after `day_index`; holidays are approximated away."""
    weeks, rest = divmod(days, 5)
    day = day_index + 7 * weeks
    while rest:
        day += 1
        if _weekday(day) < 5:
            rest -= 1
    return day


def _next_working_day(day_index: int) -> int:
    while _weekday(day_index) >= 5:
        day_index += 1
    return day_index


def _utc_record(record_id: str) -> bool:
    """About 1% of records serve their timestamps in UTC (`Z`), chosen from the id."""
    return zlib.crc32(record_id.encode()) % 100 == 7


def _rng(seed: int, *parts: object) -> random.Random:
    digest = hashlib.blake2b(repr((seed, *parts)).encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


def _clamp(value: float, low: float = 0.0, high: float = 1.0) -> float:
    return low if value < low else high if value > high else value


def _progress_share(day_index: int) -> float:
    """0 at the start of 2023, 1 at the end of 2026: drives the rising shares."""
    return _clamp((day_index - _day_index(date(2023, 1, 1))) / 1460.0, -0.5, 1.25)


# --- Procedure catalogue --------------------------------------------------------------------
# Department name fragment -> fields its procedures belong to.
_DEPARTMENT_FIELDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Văn phòng UBND", ("Tổng hợp", "Kiểm soát thủ tục hành chính")),
    ("Nội vụ", ("Tổ chức – Biên chế", "Công chức, viên chức", "Thi đua – Khen thưởng",
                "Tín ngưỡng, tôn giáo", "Văn thư và Lưu trữ")),
    ("Tư pháp", ("Hộ tịch", "Lý lịch tư pháp", "Công chứng", "Luật sư", "Đấu giá tài sản",
                 "Trợ giúp pháp lý", "Quốc tịch", "Nuôi con nuôi")),
    ("Kế hoạch và Đầu tư", ("Kinh doanh", "Thành lập và hoạt động doanh nghiệp",
                            "Đầu tư tại Việt Nam", "Hợp tác xã")),
    ("Tài chính", ("Tài chính", "Quản lý công sản", "Giá")),
    ("Công Thương", ("Lưu thông hàng hóa trong nước", "Điện", "Hóa chất", "An toàn thực phẩm",
                     "Kinh doanh khí", "Xúc tiến thương mại")),
    ("Nông nghiệp", ("Trồng trọt", "Chăn nuôi", "Thú y", "Lâm nghiệp", "Thủy lợi", "Thủy sản")),
    ("Tài nguyên", ("Đất đai", "Môi trường", "Tài nguyên nước", "Khoáng sản",
                    "Đo đạc và bản đồ")),
    ("Giao thông", ("Giao thông vận tải", "Đường bộ", "Đường thủy nội địa")),
    ("Xây dựng", ("Xây dựng", "Nhà ở", "Quy hoạch – Kiến trúc", "Kinh doanh bất động sản")),
    ("Thông tin", ("Báo chí", "Xuất bản, In và Phát hành", "Bưu chính",
                   "Viễn thông và Internet")),
    ("Khoa học", ("Hoạt động khoa học và công nghệ", "Tiêu chuẩn đo lường chất lượng",
                  "Sở hữu trí tuệ", "An toàn bức xạ và hạt nhân")),
    ("Lao động", ("Lao động", "Việc làm", "Người có công", "Bảo trợ xã hội",
                  "Giáo dục nghề nghiệp", "An toàn, vệ sinh lao động")),
    ("Giáo dục", ("Giáo dục và Đào tạo", "Văn bằng, chứng chỉ", "Thi, tuyển sinh")),
    ("Y tế", ("Y tế", "Khám bệnh, chữa bệnh", "Dược phẩm", "Y tế dự phòng",
              "Trang thiết bị y tế")),
    ("Văn hóa", ("Văn hóa", "Thể dục thể thao", "Du lịch", "Di sản văn hóa", "Gia đình")),
    ("Thanh tra", ("Giải quyết khiếu nại", "Giải quyết tố cáo", "Tiếp công dân")),
    ("Dân tộc", ("Công tác dân tộc",)),
    ("Ngoại vụ", ("Ngoại vụ",)),
)  # fmt: skip

_HUYEN_FIELDS = (
    "Hộ tịch", "Chứng thực", "Đất đai", "Xây dựng", "Giáo dục và Đào tạo", "Y tế",
    "Người có công", "Bảo trợ xã hội", "Kinh doanh", "Tài chính", "Giao thông vận tải",
    "Nông nghiệp", "Văn hóa", "Môi trường", "Tư pháp", "Lao động",
)  # fmt: skip
_XA_FIELDS = (
    "Hộ tịch", "Chứng thực", "Đất đai", "Bảo trợ xã hội", "Người có công", "Nông nghiệp",
    "Văn hóa", "Thi đua – Khen thưởng", "Tín ngưỡng, tôn giáo", "Hòa giải cơ sở",
    "Giáo dục và Đào tạo", "Y tế", "Tư pháp",
)  # fmt: skip
# District-level fields whose procedures a provincial department took over on 1 July 2025.
_HUYEN_FIELD_DEPARTMENT = {
    "Xây dựng": "Xây dựng",
    "Giao thông vận tải": "Xây dựng",
    "Tài chính": "Tài chính",
    "Kinh doanh": "Tài chính",
    "Giáo dục và Đào tạo": "Giáo dục",
    "Y tế": "Y tế",
    "Môi trường": "Nông nghiệp và Môi trường",
    "Lao động": "Nội vụ",
}
_BUSINESS_FIELDS = frozenset(
    {"Kinh doanh", "Thành lập và hoạt động doanh nghiệp", "Đầu tư tại Việt Nam", "Hợp tác xã",
     "Xây dựng", "Lưu thông hàng hóa trong nước", "Điện", "Hóa chất", "An toàn thực phẩm",
     "Kinh doanh khí", "Dược phẩm", "Kinh doanh bất động sản", "Giao thông vận tải",
     "Đường bộ", "Xúc tiến thương mại", "Khoáng sản", "Môi trường", "Tài nguyên nước"}
)  # fmt: skip

_VERBS = (
    "Cấp", "Cấp lại", "Cấp đổi", "Gia hạn", "Điều chỉnh", "Thu hồi", "Đăng ký", "Thẩm định",
    "Công nhận", "Xác nhận", "Phê duyệt", "Thông báo",
)  # fmt: skip
_OBJECTS = (
    "giấy phép hoạt động", "giấy chứng nhận đủ điều kiện", "chứng chỉ hành nghề",
    "hồ sơ đề nghị hỗ trợ", "văn bản chấp thuận", "giấy xác nhận", "quyết định công nhận",
    "thông tin đăng ký", "kế hoạch", "phương án", "danh mục", "hồ sơ điều chỉnh",
)  # fmt: skip

# The procedures that carry most of the volume: (level, field, name, weight, legal days,
# fee, eligible for fully online). Weights are relative within a level.
_POPULAR: tuple[tuple[str, str, str, float, int | None, bool, bool], ...] = (
    ("XA", "Chứng thực", "Chứng thực bản sao từ bản chính giấy tờ, văn bản", 30, 1, True, False),
    ("XA", "Hộ tịch", "Đăng ký khai sinh", 22, 1, False, True),
    ("XA", "Chứng thực", "Chứng thực chữ ký trong các giấy tờ, văn bản", 9, 1, True, False),
    ("XA", "Hộ tịch", "Cấp Giấy xác nhận tình trạng hôn nhân", 9, 3, False, True),
    ("XA", "Hộ tịch", "Đăng ký kết hôn", 6, 1, False, True),
    ("XA", "Hộ tịch", "Đăng ký khai tử", 5, 1, False, True),
    ("XA", "Hộ tịch", "Cấp bản sao trích lục hộ tịch", 5, 1, True, True),
    ("XA", "Bảo trợ xã hội", "Trợ cấp xã hội hằng tháng đối với đối tượng bảo trợ xã hội",
     4, 10, False, True),
    ("XA", "Đất đai", "Hòa giải tranh chấp đất đai", 2, 30, False, False),
    ("HUYEN", "Đất đai", "Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền "
     "với đất", 30, 10, True, True),
    ("HUYEN", "Đất đai", "Cấp Giấy chứng nhận quyền sử dụng đất, quyền sở hữu tài sản gắn liền "
     "với đất lần đầu", 16, 20, True, False),
    ("HUYEN", "Kinh doanh", "Đăng ký thành lập hộ kinh doanh", 12, 3, True, True),
    ("HUYEN", "Xây dựng", "Cấp giấy phép xây dựng nhà ở riêng lẻ", 6, 15, True, True),
    ("HUYEN", "Chứng thực", "Chứng thực bản sao từ bản chính giấy tờ do cơ quan nước ngoài cấp",
     6, 1, True, False),
    ("HUYEN", "Giáo dục và Đào tạo", "Chuyển trường đối với học sinh trung học cơ sở",
     4, 3, False, True),
    ("HUYEN", "Hộ tịch", "Đăng ký kết hôn có yếu tố nước ngoài", 1, 10, True, False),
    ("TINH", "Lý lịch tư pháp", "Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam",
     14, 10, True, True),
    ("TINH", "Thành lập và hoạt động doanh nghiệp", "Đăng ký thành lập doanh nghiệp tư nhân",
     6, 3, False, True),
    ("TINH", "Thành lập và hoạt động doanh nghiệp", "Đăng ký thay đổi nội dung đăng ký "
     "doanh nghiệp", 8, 3, True, True),
    ("TINH", "Đường bộ", "Đổi giấy phép lái xe do ngành Giao thông vận tải cấp", 12, 5, True, True),
    ("TINH", "Khám bệnh, chữa bệnh", "Cấp giấy phép hành nghề khám bệnh, chữa bệnh",
     4, 20, True, True),
    ("TINH", "An toàn thực phẩm", "Cấp Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm",
     4, 20, True, True),
    ("TINH", "Đất đai", "Đăng ký biến động quyền sử dụng đất đối với tổ chức", 4, 10, True, True),
    ("TINH", "Văn bằng, chứng chỉ", "Cấp bản sao văn bằng, chứng chỉ từ sổ gốc", 5, 3, True, True),
    ("TINH", "Lao động", "Cấp giấy phép lao động cho người nước ngoài", 1, 5, True, True),
)  # fmt: skip

PROCEDURE_COUNTS = {"TINH": 1450, "HUYEN": 300, "XA": 150}
LEVEL_SHARES = (("XA", 0.47), ("HUYEN", 0.33), ("TINH", 0.20))
_LEGAL_DAYS = {
    "XA": (1, 1, 2, 3, 3, 5, 5, 7, 10, 15),
    "HUYEN": (3, 5, 5, 7, 10, 10, 15, 20, 30),
    "TINH": (3, 5, 7, 7, 10, 15, 15, 20, 30, 45),
}


@dataclass
class Procedure:
    code: str
    name: str
    field: str
    level: str
    weight: float  # relative dossier volume within its level
    legal_days: int | None
    fee: bool
    eligible: bool
    created: int  # published (seconds)
    agency: str | None  # department of a TINH procedure when published
    successor: str | None = None  # department it moves to on the merger day
    muc_do_before: str = "MOT_PHAN"
    muc_do: str = "MOT_PHAN"
    upgraded: int | None = None  # when it became fully online (None: was from the start)
    abolished: int | None = None
    to_department: str | None = None  # HUYEN: department that took it over on 1 July 2025

    def state(self, t: int) -> tuple[str | None, str, bool]:
        """(ma_co_quan, muc_do, hieu_luc) at time `t`."""
        agency = self.agency
        if self.successor is not None and t >= _MERGER_T:
            agency = self.successor
        muc_do = self.muc_do if self.upgraded is None or t >= self.upgraded else self.muc_do_before
        return agency, muc_do, self.abolished is None or t < self.abolished

    def updated(self, t: int) -> int:
        """Time of the last change visible at `t`."""
        changes = [self.created]
        if self.successor is not None and t >= _MERGER_T:
            changes.append(_MERGER_T)
        if self.upgraded is not None and t >= self.upgraded:
            changes.append(self.upgraded)
        if self.abolished is not None and t >= self.abolished:
            changes.append(self.abolished)
        return max(changes)

    def payload(self, t: int) -> dict:
        agency, muc_do, in_force = self.state(t)
        utc = _utc_record(self.code)
        return {
            "ma_thu_tuc": self.code,
            "ten_thu_tuc": self.name,
            "linh_vuc": self.field,
            "ma_co_quan": agency if self.level == "TINH" else None,
            "cap_thuc_hien": self.level,
            "du_dieu_kien_toan_trinh": self.eligible,
            "muc_do": muc_do,
            "co_phi": self.fee,
            "hieu_luc": in_force,
            "updated_at": _served(self.updated(t), utc),
        }


_MERGER_T = _day_index(DEPARTMENT_MERGER) * _DAY
_REORG_DAY = _day_index(REORGANISATION)


def _department_fields(name: str) -> tuple[str, ...]:
    for fragment, fields in _DEPARTMENT_FIELDS:
        if fragment in name:
            return fields
    return ("Tổng hợp",)


def _department_by_fragment(departments: Iterable[Agency], fragment: str) -> Agency | None:
    for agency in departments:
        if fragment in agency.name:
            return agency
    return None


def build_catalogue(world: World, seed: int) -> list[Procedure]:
    """The procedure catalogue with its history, independent of scale and dates."""
    rng = _rng(seed, "procedures")
    departments = [a for a in world.agencies if a.group == "SO_NGANH"]
    original = [a for a in departments if a.valid_from < DEPARTMENT_MERGER]
    after_merger = [a for a in departments if a.in_force(DEPARTMENT_MERGER)]
    by_name = {a.name: a for a in departments}
    successor_of: dict[str, str] = {}
    for old_name, new_name in DEPARTMENT_SUCCESSORS.items():
        if old_name in by_name and new_name in by_name:
            successor_of[by_name[old_name].code] = by_name[new_name].code
    used_codes: set[str] = set()

    def new_code() -> str:
        while True:
            number = rng.randrange(1, 14_000)
            code = f"1.{number:06d}" if rng.random() < 0.85 else f"2.{number:06d}.000.00.00.H23"
            if code not in used_codes:
                used_codes.add(code)
                return code

    def published() -> int:
        return _seconds(datetime(2021, 1, 4, 8) + timedelta(days=rng.randrange(0, 700)))

    procedures: list[Procedure] = []
    # Volume carriers first, then the long tail of each level.
    for level, fld, name, weight, days, fee, eligible in _POPULAR:
        agency = None
        if level == "TINH":
            owner = next((d for d in original if fld in _department_fields(d.name)), original[0])
            agency = owner.code
        procedures.append(
            Procedure(
                new_code(), name, fld, level, weight, days, fee, eligible, published(), agency
            )
        )
    popular_weight = {
        lvl: sum(p.weight for p in procedures if p.level == lvl) for lvl in PROCEDURE_COUNTS
    }
    # Department sizes: a few large departments hold most provincial procedures.
    dept_sizes = [(d, len(_department_fields(d.name)) * rng.uniform(0.6, 1.6)) for d in original]
    size_total = sum(s for _, s in dept_sizes)
    for level, count in PROCEDURE_COUNTS.items():
        tail = count - sum(1 for p in procedures if p.level == level)
        owners: list[tuple[Agency | None, str]] = []
        if level == "TINH":
            for dept, size in dept_sizes:
                n = round(tail * size / size_total)
                fields = _department_fields(dept.name)
                owners.extend((dept, fields[i % len(fields)]) for i in range(n))
            owners = owners[:tail]
            while len(owners) < tail:
                dept = dept_sizes[len(owners) % len(dept_sizes)][0]
                owners.append((dept, _department_fields(dept.name)[0]))
        else:
            fields = _HUYEN_FIELDS if level == "HUYEN" else _XA_FIELDS
            owners = [(None, fields[i % len(fields)]) for i in range(tail)]
        names_used = {p.name for p in procedures}
        # The tail shares a third of the level's volume, unevenly (log-normal weights).
        raw = [rng.lognormvariate(0, 1.2) for _ in owners]
        tail_total = sum(raw) or 1.0
        for (dept, fld), w in zip(owners, raw, strict=True):
            while True:
                name = f"{rng.choice(_VERBS)} {rng.choice(_OBJECTS)} lĩnh vực {fld.lower()}"
                if name not in names_used:
                    break
                name = f"{name} ({rng.randrange(2, 99)})"
                if name not in names_used:
                    break
            names_used.add(name)
            days = None if rng.random() < 0.05 else rng.choice(_LEGAL_DAYS[level])
            procedures.append(
                Procedure(
                    new_code(),
                    name,
                    fld,
                    level,
                    popular_weight[level] * 0.5 * w / tail_total,
                    days,
                    rng.random() < 0.35,
                    rng.random() < 0.6,
                    published(),
                    dept.code if dept else None,
                )
            )

    perf = {a.code: a.performance for a in departments}
    devolved_share = 0.2
    start_2023 = _day_index(date(2023, 1, 1)) * _DAY
    for p in procedures:
        if p.level == "TINH" and p.agency in successor_of:
            p.successor = successor_of[p.agency]
        if p.eligible:
            # Leading departments have every eligible procedure fully online; most don't.
            level_perf = perf.get(p.agency or "", 0.6)
            share = 1.0 if level_perf >= 0.8 else 0.45 + 0.5 * level_perf
            if rng.random() < share:
                p.muc_do = "TOAN_TRINH"
                if rng.random() < 0.4:
                    p.upgraded = start_2023 + rng.randrange(30, 1360) * _DAY + 8 * _HOUR
            else:
                p.muc_do = p.muc_do_before = "MOT_PHAN"
        elif p.weight >= 1:
            p.muc_do = p.muc_do_before = "MOT_PHAN"  # popular: at least partly online
        else:
            p.muc_do = p.muc_do_before = "MOT_PHAN" if rng.random() < 0.6 else "KHONG"
        if rng.random() < 0.04 and p.weight < 0.5:
            # Abolished, some before the demo period, some during it.
            p.abolished = p.created + rng.randrange(60, 2000) * _DAY
        if (
            p.level == "HUYEN"
            and p.weight < 1
            and p.field in _HUYEN_FIELD_DEPARTMENT
            and rng.random() < devolved_share * 2
        ):
            dept = _department_by_fragment(after_merger, _HUYEN_FIELD_DEPARTMENT[p.field])
            p.to_department = dept.code if dept else None
    return procedures


# --- Applicants -----------------------------------------------------------------------------
_KINH_SURNAMES = ("Nguyễn", "Nguyễn", "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng",
                  "Bùi", "Đỗ", "Ngô", "Dương", "Phan", "Đinh", "Hà")  # fmt: skip
_KINH_MALE = ("Văn", "Đức", "Minh", "Quang", "Hữu", "Công", "Xuân", "Thanh")
_KINH_FEMALE = ("Thị", "Thị", "Thu", "Ngọc", "Thanh", "Minh", "Hồng", "Phương")
_KINH_GIVEN_MALE = ("Hùng", "Dũng", "Tuấn", "Nam", "Long", "Sơn", "Thắng", "Cường", "Hải",
                    "Trung", "Hiếu", "Quân", "Đạt", "Phong", "Tùng", "Bình")  # fmt: skip
_KINH_GIVEN_FEMALE = ("Hương", "Lan", "Mai", "Hoa", "Hạnh", "Trang", "Linh", "Thảo", "Nga",
                      "Huyền", "Yến", "Thủy", "Hằng", "Oanh", "Dung", "Vân")  # fmt: skip
_THAI_SURNAMES = ("Lò", "Lò", "Lường", "Quàng", "Cầm", "Tòng", "Lù", "Điêu", "Vì", "Khoàng",
                  "Cà", "Lèo")  # fmt: skip
_THAI_GIVEN = ("Thanh", "Inh", "Xôm", "Ánh", "Pọm", "Phanh", "Khằm", "Ơn", "Chăn", "Pấng",
               "Hoan", "Ngọc", "Thoan", "Bun", "Xuân", "Tiên", "Sương", "Ín")  # fmt: skip
_HMONG_SURNAMES = ("Giàng", "Thào", "Sùng", "Vàng", "Mùa", "Lầu", "Hờ", "Cứ", "Lý", "Tráng",
                   "Hạng", "Chá")  # fmt: skip
_HMONG_MALE_MIDDLE = ("A", "A", "Seo", "Chứ", "Văn")
_HMONG_GIVEN = ("Páo", "Chua", "Dình", "Sì", "Pó", "Của", "Dế", "Mỷ", "Xúa", "Say", "Chồng",
                "Lử", "Chư", "Sua", "Nhà", "Sinh", "Tủa", "Vư")  # fmt: skip
_BUSINESS_KINDS = ("Công ty TNHH", "Công ty TNHH", "Công ty Cổ phần", "Hợp tác xã",
                   "Doanh nghiệp tư nhân")  # fmt: skip
_BUSINESS_TRADES = ("Xây dựng", "Thương mại", "Vận tải", "Nông sản", "Du lịch", "Dịch vụ",
                    "Thương mại và Xây dựng", "Đầu tư", "Cà phê", "Dược phẩm")  # fmt: skip
_BUSINESS_NAMES = ("Hoàng Long", "Mường Thanh", "Điện Biên", "Tây Bắc", "Pha Đin", "Him Lam",
                   "Hồng Cúm", "Nậm Rốm", "Sông Đà", "Trường Sơn", "Thành Đạt", "Phú Cường",
                   "An Phát", "Minh Khang", "Hoa Ban", "Pú Nhi")  # fmt: skip
_BIRTH_PROVINCES = ("011", "011", "011", "011", "011", "011", "001", "035", "030", "036",
                    "038", "040", "012", "014")  # fmt: skip
PERSON_POOL = 700_000
BUSINESS_POOL = 9_000


def _pick(sequence: tuple[str, ...], value: int) -> str:
    return sequence[value % len(sequence)]


_MASK64 = (1 << 64) - 1


def _mix(x: int) -> int:
    """splitmix64: a cheap, well-spread 64-bit hash of an integer."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


@lru_cache(maxsize=4096)
def _person(seed: int, index: int) -> dict:
    """A citizen of the pool: the same index is the same person in every dossier."""
    h = _mix(seed * 1_000_003 + index)
    g = _mix(h ^ 0x5DEECE66D)
    ethnic, h = h % 100, h // 100
    female, h = h % 2 == 1, h // 2
    a, h = h % 997, h // 997
    b, h = h % 991, h // 991
    c, h = h % 983, h // 983
    if ethnic < 38:
        surname, given = _pick(_THAI_SURNAMES, a), _pick(_THAI_GIVEN, c)
        middle = "Thị" if female else "Văn"
    elif ethnic < 73:
        surname, given = _pick(_HMONG_SURNAMES, a), _pick(_HMONG_GIVEN, c)
        middle = "Thị" if female else _pick(_HMONG_MALE_MIDDLE, b)
    else:
        surname = _pick(_KINH_SURNAMES, a)
        middle = _pick(_KINH_FEMALE if female else _KINH_MALE, b)
        given = _pick(_KINH_GIVEN_FEMALE if female else _KINH_GIVEN_MALE, c)
    birth_year = 1945 + h % 62
    province = _pick(_BIRTH_PROVINCES, g % 101)
    g //= 101
    # Citizen id: birth province, century-and-sex digit, year of birth, six digits.
    century = (0 if birth_year < 2000 else 2) + (1 if female else 0)
    serial, g = g % 1_000_000, g // 1_000_000
    phone = g % 100_000_000
    return {
        "ho_ten": f"{surname} {middle} {given}",
        "so_dinh_danh": f"{province}{century}{birth_year % 100:02d}{serial:06d}",
        "so_dien_thoai": f"09{phone:08d}",
    }


@lru_cache(maxsize=16_384)
def _business(seed: int, index: int) -> dict:
    h = _mix(seed * 7_000_003 + index + (1 << 40))
    g = _mix(h ^ 0x2545F4914F6CDD1D)
    kind, h = _pick(_BUSINESS_KINDS, h % 97), h // 97
    trade, h = _pick(_BUSINESS_TRADES, h % 89), h // 89
    name, h = _pick(_BUSINESS_NAMES, h % 83), h // 83
    tax, g = 5_600_000_000 + g % 400_000, g // 400_000
    branch, g = g % 10, g // 10
    phone = g % 100_000_000
    # Branches have a 13-digit tax code: the parent's ten digits and three more.
    tax_code = f"{tax}{branch:03d}" if branch in (1, 2) else str(tax)
    return {
        "ho_ten": f"{kind} {trade} {name}",
        "so_dinh_danh": tax_code,
        "so_dien_thoai": f"09{phone:08d}",
    }


# --- Places and agencies --------------------------------------------------------------------
@dataclass
class _Places:
    """Where dossiers are filed: communes weighted by population, old and new codes."""

    old_codes: list[str]
    old_cum: list[float]
    new_codes: list[str]
    new_cum: list[float]
    old_committee: dict[str, Agency]
    new_committee: dict[str, Agency]
    district_of: dict[str, str]
    district_committee: dict[str, Agency]
    # Per old commune: its new communes and cumulative population shares.
    old_to_new: dict[str, tuple[list[str], list[float]]] = field(default_factory=dict)


def _cumulative(weights: list[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


def _places(world: World) -> _Places:
    people_old: dict[str, float] = {}
    people_new: dict[str, float] = {}
    for figures in world.figures_for(2024):
        village = world.village(figures.village_code)
        # Towns file more dossiers per head (businesses, land, services nearby).
        weight = figures.population * (1.6 if village.town else 1.0)
        people_old[village.old_commune_code] = people_old.get(village.old_commune_code, 0) + weight
        people_new[village.new_commune_code] = people_new.get(village.new_commune_code, 0) + weight
    old_codes = [u.code for u in world.old_communes if u.code in people_old]
    new_codes = [u.code for u in world.new_communes if u.code in people_new]
    places = _Places(
        old_codes=old_codes,
        old_cum=_cumulative([people_old[c] for c in old_codes]),
        new_codes=new_codes,
        new_cum=_cumulative([people_new[c] for c in new_codes]),
        old_committee={c: world.agency_for_commune(c, date(2025, 6, 30)) for c in old_codes},
        new_committee={c: world.agency_for_commune(c, REORGANISATION) for c in new_codes},
        district_of={c: world.district_of(c) for c in old_codes},
        district_committee={d.code: world.district_committee(d.code) for d in world.districts},
    )
    for code in old_codes:
        rows = world.successors(code)
        places.old_to_new[code] = (
            [r.new_code for r in rows],
            _cumulative([r.population_share for r in rows]),
        )
    return places


def _choose(rng: random.Random, codes: list[str], cum: list[float]) -> str:
    return codes[bisect.bisect_right(cum, rng.random() * cum[-1])]


# --- Volume -------------------------------------------------------------------------------
def _day_factor(day: date) -> float:
    """Relative volume of a day: weekends, Tết and public holidays are quiet."""
    weekday = day.weekday()
    factor = 1.0 if weekday < 5 else (0.12 if weekday == 5 else 0.04)
    tet = TET.get(day.year) if day.month <= 3 else None
    if tet is not None:
        offset = (day - tet).days
        if -2 <= offset <= 5:
            factor *= 0.03  # the holiday itself: only a few online filings
        elif -7 <= offset <= -3 or 6 <= offset <= 9:
            factor *= 0.45  # the weeks around it: offices half empty
    if (day.month, day.day) in HOLIDAYS:
        factor *= 0.05
    return factor


# Weekly sum of factors: 5 working days + Saturday + Sunday.
_MEAN_WORKDAY = DOSSIERS_PER_YEAR / (365.25 / 7) / (5 + 0.12 + 0.04) / 0.975


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 40:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, prod = math.exp(-mean), 0, rng.random()
    while prod > limit:
        k += 1
        prod *= rng.random()
    return k


# --- Planted anomalies ------------------------------------------------------------------------
@dataclass
class VolumeCollapse:
    agency: str
    first_day: date
    last_day: date

    def applies(self, agency: str, day: date) -> bool:
        return agency == self.agency and self.first_day <= day <= self.last_day


# Share of its usual dossiers the collapsed agency still receives during the planted week.
COLLAPSE_KEPT = 0.02


def volume_collapse(world: World, seed: int, start: date) -> VolumeCollapse:
    """One agency receives ~2% of its usual dossiers for one week (seed and start only)."""
    rng = _rng(seed, "collapse")
    first = date(2025, 3, 3) + timedelta(weeks=rng.randrange(0, 15))
    # The most populous unit's committee files the most dossiers: even at a small demo
    # scale its usual week is large enough for a collapse to stand out from chance.
    population: dict[str, int] = defaultdict(int)
    if start <= first:
        for figures in world.figures_for(first.year):
            population[world.district_of(figures.commune_code)] += figures.population
        agency = world.district_committee(max(population, key=population.__getitem__))
    else:
        first = max(date(2026, 3, 2), start + timedelta(days=(7 - start.weekday()) % 7 + 28))
        first += timedelta(weeks=rng.randrange(0, 8))
        for figures in world.figures_for(first.year):
            population[figures.commune_code] += figures.population
        communes = [c for c in population if world.unit(c).in_force(first)]
        agency = world.agency_for_commune(max(communes, key=population.__getitem__), first)
    return VolumeCollapse(agency.code, first, first + timedelta(days=6))


@dataclass
class _Plants:
    """The invalid records to plant: each kind on the first eligible record from its day."""

    days: dict[str, int]  # kind -> first day index it may be planted on
    done: dict[str, str] = field(default_factory=dict)  # kind -> record key


_DOSSIER_PLANTS = ("date_order", "unknown_code", "enum", "wrong_type_date", "wrong_type_bool")
_RATING_PLANTS = ("rating_enum", "rating_unknown")


def _plan_plants(start: date, end: date) -> _Plants | None:
    base = _day_index(start) + 21
    kinds = _DOSSIER_PLANTS + _RATING_PLANTS
    if base + len(kinds) + 45 > _day_index(end):
        return None  # too short a range for the planted records to be finished and visible
    return _Plants({kind: base + i for i, kind in enumerate(kinds)})


# --- Dossiers -------------------------------------------------------------------------------
@dataclass
class _Catalogue:
    """The procedures that can be filed on a day, per level, with cumulative weights.

    Rebuilt only when a procedure is abolished, so a day costs nothing otherwise.
    """

    procedures: list[Procedure]
    valid_until: int = -1  # the table below holds until this time (exclusive)
    levels: dict[str, tuple[list[Procedure], list[float]]] = field(default_factory=dict)

    def for_day(self, day_index: int) -> dict[str, tuple[list[Procedure], list[float]]]:
        t = day_index * _DAY + 12 * _HOUR
        if t >= self.valid_until or not self.levels:
            levels: dict[str, list[Procedure]] = {"TINH": [], "HUYEN": [], "XA": []}
            next_change = 1 << 62
            for p in self.procedures:
                if p.abolished is None or p.abolished > t:
                    levels[p.level].append(p)
                    if p.abolished is not None:
                        next_change = min(next_change, p.abolished)
            self.levels = {
                level: (ps, _cumulative([p.weight for p in ps])) for level, ps in levels.items()
            }
            self.valid_until = next_change - 12 * _HOUR
        return self.levels


def _on_time_probability(performance: float) -> float:
    """Most agencies finish 90–99% on time; the few laggards 70–80%."""
    if performance < 0.13:
        return 0.70 + 0.10 * _clamp((performance - 0.07) / 0.06)
    return 0.90 + 0.09 * _clamp((performance - 0.13) / 0.85)


def _reception_time(rng: random.Random, day_index: int, channel: str) -> int:
    base = day_index * _DAY
    if channel == "TRUC_TUYEN":
        roll = rng.random()
        if roll < 0.78:
            return base + rng.randrange(7 * _HOUR, 17 * _HOUR + 1800)
        if roll < 0.95:
            return base + rng.randrange(17 * _HOUR + 1800, 23 * _HOUR + 3000)
        return base + rng.randrange(0, 7 * _HOUR)
    if rng.random() < 0.6 or _weekday(day_index) == 5:
        return base + rng.randrange(7 * _HOUR + 1800, 11 * _HOUR + 1800)
    return base + rng.randrange(13 * _HOUR + 1800, 17 * _HOUR)


def _office_time(t: int, rng: random.Random) -> int:
    """`t`, or the start of the next working day's office hours when `t` is outside them."""
    day, sod = divmod(t, _DAY)
    if _weekday(day) < 5 and 7 * _HOUR + 1800 <= sod <= 17 * _HOUR:
        return t
    if sod > 17 * _HOUR or _weekday(day) >= 5:
        day = _next_working_day(day + 1)
    return day * _DAY + 7 * _HOUR + 1800 + rng.randrange(0, 2 * _HOUR)


def _working_hours(t: int, earliest: int) -> int:
    """Move a time outside office hours into the same day's hours, never before `earliest`."""
    sod = t % _DAY
    if sod < 7 * _HOUR + 1800:
        moved = t - sod + 7 * _HOUR + 1800 + (sod % 3600)
    elif sod > 17 * _HOUR + 1800:
        moved = t - sod + 16 * _HOUR + (sod % 3600)
    else:
        return t
    return moved if moved >= earliest else t


@dataclass
class _Dossier:
    """A dossier's whole life, as drawn; `visible` renders it as of a cut-off."""

    key: str
    procedure: Procedure
    agency: str
    unit: str
    channel: str
    received: int
    deadline: int | None
    events: list[tuple[int, str]]  # (time, status), in order
    finished: int | None
    returned: int | None
    paid_online: bool
    inputs_digitised: bool
    result_digitised: bool
    applicant: dict
    rating: tuple[int, str] | None  # (time, muc_do)


def _draw_dossier(
    rng: random.Random,
    seed: int,
    day_index: int,
    procedure: Procedure,
    agency: Agency,
    unit: str,
) -> _Dossier:
    perf = agency.performance
    progress = _progress_share(day_index)
    t_noon = day_index * _DAY + 12 * _HOUR
    _, muc_do, _ = procedure.state(t_noon)
    weekend = _weekday(day_index) >= 5
    # Online share rises from ~30% (2023) to ~70% (2026); leaders far above, laggards below.
    online_share = _clamp(0.20 + 0.60 * progress + 0.55 * (perf - 0.5), 0.03, 0.97)
    if muc_do == "KHONG":
        online_share = 0.0  # not offered online at all
    elif weekend:
        online_share = max(online_share, 0.85)  # offices are closed, the portal is not
    roll = rng.random()
    if roll < online_share:
        channel = "TRUC_TUYEN"
    elif roll < online_share + (1 - online_share) * 0.03:
        channel = "BUU_CHINH"
    else:
        channel = "TRUC_TIEP"
    received = _reception_time(rng, day_index, channel)

    deadline = None
    if procedure.legal_days is not None:
        # Legal days are working days counted from the day of reception (the next working
        # day for a filing on a weekend); the deadline is the end of the last one.
        first = _next_working_day(day_index)
        deadline = _add_working_days(first, procedure.legal_days) * _DAY + 17 * _HOUR

    # Processing starts in office hours: a filing made at night waits for the morning.
    t1 = _office_time(received + 600 + int(rng.expovariate(1 / (2 * _HOUR))), rng)
    events: list[tuple[int, str]] = [(received, "MOI_TIEP_NHAN"), (t1, "DANG_XU_LY")]
    outcome = rng.random()
    on_time = rng.random() < _on_time_probability(perf)
    if deadline is None:
        finish = t1 + rng.randrange(_HOUR, 15 * _DAY)
    elif on_time:
        span = max(deadline - t1, 1800)
        finish = t1 + int(span * rng.random() ** 1.4)
        finish = min(_working_hours(finish, t1 + 60), deadline)
        if finish <= t1:
            finish = t1 + 60
    else:
        late = (
            rng.expovariate(1 / (4 * _DAY)) if rng.random() < 0.93 else rng.uniform(20, 150) * _DAY
        )
        finish = deadline + 1800 + int(late)
        finish = max(_working_hours(finish, deadline + 60), deadline + 60)
    if rng.random() < 0.07:
        # Waiting for the applicant to complete the dossier, then processing again.
        t2 = t1 + int((finish - t1) * rng.uniform(0.1, 0.4)) + 1
        t3 = t2 + int((finish - t2) * rng.uniform(0.2, 0.8)) + 1
        events.append((t2, "CHO_BO_SUNG"))
        if outcome < 0.015:
            # Never completed: the applicant withdraws it.
            events.append((t2 + int(rng.uniform(5, 30) * _DAY), "DA_RUT"))
            finish = None
        else:
            events.append((min(t3, finish - 1), "DANG_XU_LY"))
    elif outcome < 0.012:
        events.append((t1 + int(rng.uniform(0.5, 20) * _DAY), "DA_RUT"))
        finish = None
    returned = None
    if finish is not None:
        if outcome > 0.975:
            events.append((finish, "TU_CHOI"))
        else:
            events.append((finish, "DA_HOAN_THANH"))
            if rng.random() < 0.96:
                returned = finish + 600 + int(rng.expovariate(1 / (1.5 * _DAY)))
                returned = _working_hours(returned, finish + 60)
                events.append((returned, "DA_TRA_KET_QUA"))

    fee = procedure.fee
    online = channel == "TRUC_TUYEN"
    pay_share = (0.15 + 0.6 * progress if online else 0.03 + 0.12 * progress) + 0.3 * (perf - 0.5)
    paid_online = fee and rng.random() < _clamp(pay_share, 0.0, 0.97)
    inputs_digitised = online or rng.random() < _clamp(0.25 + 0.6 * progress + 0.3 * (perf - 0.5))
    result_digitised = rng.random() < _clamp(0.30 + 0.6 * progress + 0.3 * (perf - 0.5))

    business_share = 0.55 if procedure.field in _BUSINESS_FIELDS else 0.03
    if rng.random() < business_share:
        applicant = _business(seed, rng.randrange(BUSINESS_POOL))
    else:
        applicant = _person(seed, rng.randrange(PERSON_POOL))

    rating = None
    final = events[-1][1]
    if final in ("DA_HOAN_THANH", "DA_TRA_KET_QUA") and rng.random() < 0.2:
        assert finish is not None
        after = returned if returned is not None else finish
        rated = after + 300 + int(rng.expovariate(1 / (1.2 * _DAY)))
        late = deadline is not None and finish > deadline
        satisfied = _clamp(0.80 + 0.18 * perf - (0.3 if late else 0.0), 0.2, 0.995)
        roll = rng.random()
        if roll < satisfied:
            level = "RAT_HAI_LONG" if rng.random() < 0.62 else "HAI_LONG"
        else:
            level = "BINH_THUONG" if rng.random() < 0.7 else "KHONG_HAI_LONG"
        rating = (rated, level)
    return _Dossier(
        key="",
        procedure=procedure,
        agency=agency.code,
        unit=unit,
        channel=channel,
        received=received,
        deadline=deadline,
        events=events,
        finished=finish,
        returned=returned,
        paid_online=paid_online,
        inputs_digitised=inputs_digitised,
        result_digitised=result_digitised,
        applicant=applicant,
        rating=rating,
    )


def _dossier_payload(d: _Dossier, cutoff: int) -> tuple[dict, int]:
    """The dossier as of `cutoff` (its last visible event) and its updated_at."""
    last = 0
    for i, (t, _) in enumerate(d.events):
        if t <= cutoff:
            last = i
    updated, status = d.events[last]
    utc = _utc_record(d.key)
    finished = d.finished is not None and d.finished <= cutoff
    returned = d.returned is not None and d.returned <= cutoff
    return (
        {
            "ma_ho_so": d.key,
            "ma_thu_tuc": d.procedure.code,
            "ma_co_quan": d.agency,
            "ma_dvhc": d.unit,
            "kenh_nop": d.channel,
            "ngay_tiep_nhan": _served(d.received, utc),
            "han_xu_ly": _served(d.deadline, utc) if d.deadline is not None else None,
            "ngay_hoan_thanh": _served(d.finished, utc) if finished else None,  # type: ignore[arg-type]
            "ngay_tra_ket_qua": _served(d.returned, utc) if returned else None,  # type: ignore[arg-type]
            "trang_thai": status,
            "thanh_toan_truc_tuyen": d.paid_online,
            "so_hoa_ho_so": d.inputs_digitised,
            "so_hoa_ket_qua": d.result_digitised and finished,
            "nguoi_nop": d.applicant,
            "updated_at": _served(updated, utc),
        },
        updated,
    )


def _rating_payload(rating_id: str, dossier_id: str, t: int, level: str) -> dict:
    utc = _utc_record(rating_id)
    return {
        "ma_danh_gia": rating_id,
        "ma_ho_so": dossier_id,
        "muc_do": level,
        "ngay_danh_gia": _served(t, utc),
        "updated_at": _served(t, utc),
    }


# --- The store ------------------------------------------------------------------------------
_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE procedures (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, updated_at TEXT NOT NULL,
                         payload BLOB NOT NULL);
CREATE TABLE dossiers (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, updated_at TEXT NOT NULL,
                       payload BLOB NOT NULL);
CREATE TABLE ratings (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, updated_at TEXT NOT NULL,
                      payload BLOB NOT NULL);
"""
# Indexes are built after the bulk load (one sort instead of a million random inserts).
_INDEXES = [
    f"CREATE INDEX {table}_{name} ON {table} ({columns})"
    for table in TABLES
    for name, columns in (("order", "updated_at, id"), ("id", "id"))
]


class _Writer:
    """Writes rows in serving order, `(updated_at, id)`, in bounded chunks.

    Rows wait in a heap until no later row can sort before them: dossiers are generated day
    by day and every time of a dossier is at or after its reception, so once day D starts,
    the rows updated before D are final. Few rows wait long (only dossiers still open), and
    rows stored in serving order make a page one contiguous read instead of a thousand
    random ones.
    """

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self.waiting: dict[str, list[tuple[str, str, bytes]]] = {t: [] for t in TABLES}
        self.buffers: dict[str, list[tuple[str, str, bytes]]] = {t: [] for t in TABLES}
        self.counts: dict[str, int] = dict.fromkeys(TABLES, 0)

    def add(self, table: str, record_id: str, updated: str, payload: dict) -> None:
        heapq.heappush(self.waiting[table], (updated, record_id, orjson.dumps(payload)))

    def release(self, table: str, before: str | None = None) -> None:
        """Write the waiting rows updated before `before` (all of them when None)."""
        waiting, buffer = self.waiting[table], self.buffers[table]
        while waiting and (before is None or waiting[0][0] < before):
            buffer.append(heapq.heappop(waiting))
            if len(buffer) >= _CHUNK:
                self.flush(table)

    def flush(self, table: str) -> None:
        buffer = self.buffers[table]
        if buffer:
            self.connection.executemany(
                f"INSERT INTO {table} (updated_at, id, payload) VALUES (?, ?, ?)", buffer
            )
            self.counts[table] += len(buffer)
            buffer.clear()

    def close(self) -> None:
        for table in TABLES:
            self.release(table)
            self.flush(table)


def write_portal_store(
    world: World,
    path: Path,
    *,
    seed: int,
    scale: float,
    start: date,
    end: date | datetime,
    manifest: Manifest,
    plant_anomalies: bool = True,
    progress: Progress = no_progress,
) -> dict[str, int]:
    """Generate the portal's procedures, dossiers and ratings into the SQLite file `path`.

    The store holds every record as it stands at the end of day `end` (or at `end` itself
    when it is a `datetime`). The file is written beside `path` and moved into place at the
    end, so a server reading the old file is never disturbed. Returns the row counts.
    """
    if isinstance(end, datetime):
        cutoff = _seconds(end)
        last_day = end.date()
    else:
        cutoff = (_day_index(end) + 1) * _DAY - 1
        last_day = end
    if last_day < start:
        raise ValueError(f"end {last_day} is before start {start}")
    if scale <= 0:
        raise ValueError(f"scale must be positive, not {scale}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    connection = sqlite3.connect(tmp, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode = OFF")
        connection.execute("PRAGMA synchronous = OFF")
        connection.execute("PRAGMA page_size = 8192")
        connection.executescript(_SCHEMA)
        connection.execute("BEGIN")
        writer = _Writer(connection)
        catalogue = build_catalogue(world, seed)
        _write_procedures(writer, catalogue, cutoff, manifest, plant_anomalies)
        collapse = volume_collapse(world, seed, start)
        plants = _plan_plants(start, last_day) if plant_anomalies else None
        _write_dossiers(
            writer,
            world,
            catalogue,
            seed=seed,
            scale=scale,
            start=start,
            last_day=last_day,
            cutoff=cutoff,
            collapse=collapse,
            plants=plants,
            progress=progress,
        )
        writer.close()
        connection.execute("COMMIT")
        progress("portal indexes", 0, None)
        for statement in _INDEXES:
            connection.execute(statement)
        if start <= collapse.first_day and collapse.last_day <= last_day:
            manifest.add(
                SOURCE,
                "dvc_dossiers",
                "volume_collapse",
                collapse.agency,
                f"agency {collapse.agency} received about {COLLAPSE_KEPT:.0%} of its usual "
                f"dossiers from {collapse.first_day.isoformat()} to "
                f"{collapse.last_day.isoformat()}",
            )
        if plants is not None:
            _record_plants(manifest, plants)
        max_updated = {
            table: connection.execute(f"SELECT max(updated_at) FROM {table}").fetchone()[0]
            for table in TABLES
        }
        meta = {
            "seed": str(seed),
            "scale": repr(float(scale)),
            "start": start.isoformat(),
            "end": last_day.isoformat(),
            "cutoff": local_key(cutoff),
            **{f"count_{t}": str(n) for t, n in writer.counts.items()},
            **{f"max_updated_at_{t}": v or "" for t, v in max_updated.items()},
        }
        connection.executemany("INSERT INTO meta VALUES (?, ?)", sorted(meta.items()))
        connection.execute("ANALYZE")
    except BaseException:
        connection.close()
        tmp.unlink(missing_ok=True)  # never leave a half-written store behind
        raise
    connection.close()
    os.replace(tmp, path)
    return dict(writer.counts)


def _write_procedures(
    writer: _Writer,
    catalogue: list[Procedure],
    cutoff: int,
    manifest: Manifest,
    plant_anomalies: bool,
) -> None:
    for p in catalogue:
        writer.add("procedures", p.code, local_key(p.updated(cutoff)), p.payload(cutoff))
    if plant_anomalies:
        # The same procedure twice, same updated_at, different content: the portal's export
        # kept a stale copy of the row.
        twin = catalogue[len(catalogue) // 3]
        payload = twin.payload(cutoff)
        payload["ten_thu_tuc"] = payload["ten_thu_tuc"] + " (bản cũ)"
        payload["co_phi"] = not payload["co_phi"]
        writer.add("procedures", twin.code, local_key(twin.updated(cutoff)), payload)
        manifest.add(
            SOURCE,
            "dvc_procedures",
            "duplicate",
            twin.code,
            f"procedure {twin.code} is served twice with the same updated_at and different "
            "ten_thu_tuc/co_phi",
        )


def _write_dossiers(
    writer: _Writer,
    world: World,
    catalogue: list[Procedure],
    *,
    seed: int,
    scale: float,
    start: date,
    last_day: date,
    cutoff: int,
    collapse: VolumeCollapse,
    plants: _Plants | None,
    progress: Progress,
) -> None:
    places = _places(world)
    agencies = {a.code: a for a in world.agencies}
    procedures = _Catalogue(catalogue)
    level_names = [lvl for lvl, _ in LEVEL_SHARES]
    level_cum = _cumulative([share for _, share in LEVEL_SHARES])
    first, last = _day_index(start), _day_index(last_day)
    total_days = last - first + 1
    for day_index in range(first, last + 1):
        day = date.fromordinal(day_index + _EPOCH_ORDINAL)
        writer.release("dossiers", _DAY_TEXTS[day_index])
        writer.release("ratings", _DAY_TEXTS[day_index])
        if plants is not None and plants.days.get("rating_unknown") == day_index:
            _plant_ghost_rating(writer, plants, day_index)
        rng = _rng(seed, "dossiers", repr(float(scale)), day_index)
        mean = _MEAN_WORKDAY * scale * _day_factor(day) * (1 + 0.03 * (day.year - 2023))
        count = _poisson(rng, mean)
        levels = procedures.for_day(day_index)
        reorganised = day_index >= _REORG_DAY
        yymmdd = day.strftime("%y%m%d")
        sequence: dict[str, int] = {}
        for _ in range(count):
            level = _choose(rng, level_names, level_cum)
            candidates, cum = levels[level]
            procedure = candidates[bisect.bisect_right(cum, rng.random() * cum[-1])]
            if reorganised:
                commune = _choose(rng, places.new_codes, places.new_cum)
                unit = commune
                committee = places.new_committee[commune]
            else:
                commune = _choose(rng, places.old_codes, places.old_cum)
                district = places.district_of[commune]
                unit = commune if level == "XA" else district
                committee = places.old_committee[commune]
            if level == "TINH":
                agency = agencies[procedure.state(day_index * _DAY + 12 * _HOUR)[0] or ""]
            elif level == "HUYEN" and not reorganised:
                agency = places.district_committee[district]
            elif level == "HUYEN" and procedure.to_department is not None:
                agency = agencies[procedure.to_department]
            else:
                agency = committee
            dossier = _draw_dossier(rng, seed, day_index, procedure, agency, unit)
            if collapse.applies(agency.code, day) and rng.random() > COLLAPSE_KEPT:
                continue
            number = sequence.get(agency.code, 0) + 1
            sequence[agency.code] = number
            dossier.key = f"{agency.code}-{yymmdd}-{number:04d}"
            if dossier.received > cutoff:
                continue  # filed later on the last day
            _emit(writer, dossier, cutoff, day_index, plants)
        if (day_index - first) % 30 == 0 or day_index == last:
            progress("portal dossiers", day_index - first + 1, total_days)


def _plant_ghost_rating(writer: _Writer, plants: _Plants, day_index: int) -> None:
    """A rating of a dossier the portal does not have (deleted after it was rated)."""
    t = day_index * _DAY + 15 * _HOUR + 1234
    ghost = f"{UNKNOWN_AGENCY}-{_day_text(day_index)[2:].replace('-', '')}-0001"
    rating_id = f"DG-{ghost}"
    writer.add("ratings", rating_id, local_key(t), _rating_payload(rating_id, ghost, t, "HAI_LONG"))
    plants.done["rating_unknown"] = rating_id


def _emit(
    writer: _Writer, dossier: _Dossier, cutoff: int, day_index: int, plants: _Plants | None
) -> None:
    payload, updated = _dossier_payload(dossier, cutoff)
    rating = dossier.rating
    rating_visible = rating is not None and rating[0] <= cutoff
    if plants is not None:
        _plant_dossier(plants, dossier, payload, day_index)
    writer.add("dossiers", dossier.key, local_key(updated), payload)
    if rating_visible:
        assert rating is not None
        rating_id = f"DG-{dossier.key}"
        level = rating[1]
        if (
            plants is not None
            and "rating_enum" not in plants.done
            and day_index >= plants.days["rating_enum"]
            and rating[0] - dossier.received < 25 * _DAY
        ):
            level = "TUYET_VOI"
            plants.done["rating_enum"] = rating_id
        writer.add(
            "ratings",
            rating_id,
            local_key(rating[0]),
            _rating_payload(rating_id, dossier.key, rating[0], level),
        )


def _plant_dossier(plants: _Plants, dossier: _Dossier, payload: dict, day_index: int) -> None:
    """Turn this dossier into a planted invalid record if one is due (one kind at most)."""
    quick_finish = (
        dossier.finished is not None
        and dossier.finished - dossier.received < 20 * _DAY
        and payload["ngay_hoan_thanh"] is not None
    )
    for kind in _DOSSIER_PLANTS:
        if kind in plants.done or day_index < plants.days[kind]:
            continue
        if kind == "date_order":
            if not quick_finish:
                continue
            moment = dossier.received - 2 * _DAY - 3 * _HOUR
            payload["ngay_hoan_thanh"] = _served(moment, _utc_record(dossier.key))
        elif kind == "unknown_code":
            payload["ma_co_quan"] = UNKNOWN_AGENCY
        elif kind == "enum":
            payload["kenh_nop"] = "FAX"
        elif kind == "wrong_type_date":
            payload["ngay_tiep_nhan"] = f"31/02/{_day_text(day_index)[:4]}"
        elif kind == "wrong_type_bool":
            payload["so_hoa_ho_so"] = 1
        plants.done[kind] = dossier.key
        return


_PLANT_DETAILS = {
    "date_order": ("dvc_dossiers", "date_order", "ngay_hoan_thanh is before ngay_tiep_nhan"),
    "unknown_code": ("dvc_dossiers", "unknown_code", f"ma_co_quan {UNKNOWN_AGENCY!r} is unknown"),
    "enum": ("dvc_dossiers", "enum", "kenh_nop 'FAX' is not a channel of the contract"),
    "wrong_type_date": ("dvc_dossiers", "wrong_type", "ngay_tiep_nhan is '31/02/YYYY'"),
    "wrong_type_bool": ("dvc_dossiers", "wrong_type", "so_hoa_ho_so is the number 1"),
    "rating_enum": ("dvc_ratings", "enum", "muc_do 'TUYET_VOI' is not a contract level"),
    "rating_unknown": ("dvc_ratings", "unknown_code", "ma_ho_so names no dossier"),
}


def _record_plants(manifest: Manifest, plants: _Plants) -> None:
    for kind, key in plants.done.items():
        dataset, anomaly, detail = _PLANT_DETAILS[kind]
        manifest.add(SOURCE, dataset, anomaly, key, detail)


def store_meta(path: Path) -> dict[str, str]:
    """The store's metadata (seed, scale, dates, counts), e.g. for the CLI to print."""
    connection = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)
    try:
        return dict(connection.execute("SELECT key, value FROM meta").fetchall())
    finally:
        connection.close()


def iter_payloads(path: Path, table: str) -> Iterable[dict]:
    """Every record of a table in serving order (tests and inspection)."""
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}")
    connection = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)
    try:
        for (payload,) in connection.execute(
            f"SELECT payload FROM {table} ORDER BY updated_at, id, seq"
        ):
            yield orjson.loads(payload)
    finally:
        connection.close()


__all__ = [
    "DATASET_OF_TABLE",
    "TABLES",
    "Procedure",
    "VolumeCollapse",
    "build_catalogue",
    "iter_payloads",
    "local_key",
    "serve_timestamp",
    "store_meta",
    "volume_collapse",
    "write_portal_store",
]
