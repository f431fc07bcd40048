"""The simulated province: administrative units, agencies, villages and their population.

`build_world(seed)` returns the same `World` for the same seed (a private `random.Random`,
no global state, only ordered containers), independent of any scale knob: every generator
draws its records for these units, agencies and villages.

The administrative structure follows Điện Biên: ten districts and 129 communes (115 xã,
9 phường, 5 thị trấn) until 30 June 2025, then 45 communes (42 xã, 3 phường) directly under
the province. The seed only changes villages, population figures and agency performance.

Agency codes follow the national identifier scheme `<level 4>.<level 3>.<level 2>.<province>`:
departments `000.00.01.H23`..`000.00.21.H23`, district committees `000.00.31.H23`..
`000.00.40.H23`, old commune committees `000.<nn>.<district segment>.H23`, new commune
committees (directly under the province) `000.00.51.H23`..`000.00.95.H23`.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass, field
from datetime import date

from sources.simulator.names import ascii_slug, village_names

PROVINCE_CODE = "11"
PROVINCE_NAME = "Tỉnh Điện Biên"
PROVINCE_AGENCY_SUFFIX = "H23"
EMAIL_DOMAIN = "dienbien.gov.vn"
ESTABLISHED = date(2004, 1, 1)  # Lai Châu was split into Điện Biên and Lai Châu on this day
REORGANISATION = date(2025, 7, 1)
LAST_OLD_DAY = date(2025, 6, 30)
DEPARTMENT_MERGER = date(2025, 3, 1)
LAST_PRE_MERGER_DAY = date(2025, 2, 28)
FIGURE_YEARS = tuple(range(2022, 2027))
REMOTE_DISTRICTS = ("096", "103")


@dataclass(frozen=True)
class AdminUnit:
    code: str
    name: str
    level: str  # TINH | HUYEN | XA
    kind: str  # tinh | thanh_pho | thi_xa | huyen | phuong | xa | thi_tran
    parent_code: str | None
    valid_from: date
    valid_to: date | None

    def in_force(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True)
class Lineage:
    old_code: str
    new_code: str
    effective: date
    population_share: float


@dataclass(frozen=True)
class Agency:
    code: str
    name: str
    group: str  # SO_NGANH | UBND_HUYEN | UBND_XA
    admin_unit_code: str
    valid_from: date
    valid_to: date | None
    contact_email: str
    performance: float  # 0 laggard .. 1 leader, shared by every generator

    def in_force(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True)
class Village:
    code: str
    name: str
    old_commune_code: str
    new_commune_code: str
    remote: bool
    town: bool


@dataclass(frozen=True)
class VillageFigures:
    village_code: str
    year: int
    commune_code: str  # the commune in force on 1 January of `year`
    households: int
    population: int
    population_15plus: int


# --- The administrative structure -------------------------------------------------------
# Per district: code, name, kind, and its new communes, each with the old communes that
# form it (old communes are listed in this order, which also gives their codes).
_DISTRICTS: tuple[tuple[str, str, str, tuple[tuple[str, tuple[str, ...]], ...]], ...] = (
    ("094", "Thành phố Điện Biên Phủ", "thanh_pho", (
        ("Phường Điện Biên Phủ",
         ("Phường Him Lam", "Phường Noong Bua", "Phường Tân Thanh", "Xã Thanh Minh")),
        ("Phường Mường Thanh",
         ("Phường Mường Thanh", "Phường Nam Thanh", "Phường Thanh Bình", "Phường Thanh Trường")),
        ("Xã Mường Phăng", ("Xã Mường Phăng", "Xã Pá Khoang", "Xã Nà Nhạn")),
        ("Xã Nà Tấu", ("Xã Nà Tấu", "Xã Tà Lèng")),
    )),
    ("095", "Thị xã Mường Lay", "thi_xa", (
        ("Phường Mường Lay", ("Phường Na Lay", "Phường Sông Đà", "Xã Lay Nưa")),
    )),
    ("096", "Huyện Mường Nhé", "huyen", (
        ("Xã Mường Nhé", ("Xã Mường Nhé", "Xã Nậm Vì", "Xã Huổi Lếch")),
        ("Xã Sín Thầu", ("Xã Sín Thầu", "Xã Sen Thượng", "Xã Leng Su Sìn")),
        ("Xã Mường Toong", ("Xã Mường Toong",)),
        ("Xã Nậm Kè", ("Xã Nậm Kè", "Xã Pá Mỳ")),
        ("Xã Quảng Lâm", ("Xã Quảng Lâm", "Xã Chung Chải")),
    )),
    ("097", "Huyện Mường Chà", "huyen", (
        ("Xã Mường Chà", ("Thị trấn Mường Chà", "Xã Sa Lông", "Xã Huổi Lèng")),
        ("Xã Na Sang", ("Xã Na Sang", "Xã Ma Thì Hồ", "Xã Sá Tổng")),
        ("Xã Mường Tùng", ("Xã Mường Tùng", "Xã Hừa Ngài", "Xã Huổi Mí")),
        ("Xã Pa Ham", ("Xã Pa Ham", "Xã Nậm Nèn", "Xã Mường Mươn")),
    )),
    ("098", "Huyện Tủa Chùa", "huyen", (
        ("Xã Tủa Chùa", ("Thị trấn Tủa Chùa", "Xã Mường Báng", "Xã Mường Đun")),
        ("Xã Sín Chải", ("Xã Sín Chải", "Xã Tả Sìn Thàng", "Xã Lao Xả Phình")),
        ("Xã Sính Phình", ("Xã Sính Phình", "Xã Trung Thu", "Xã Tả Phìn")),
        ("Xã Tủa Thàng", ("Xã Tủa Thàng", "Xã Huổi Só", "Xã Xá Nhè")),
    )),
    ("099", "Huyện Tuần Giáo", "huyen", (
        ("Xã Tuần Giáo", ("Thị trấn Tuần Giáo", "Xã Quài Cang", "Xã Quài Nưa")),
        ("Xã Quài Tở", ("Xã Quài Tở", "Xã Tỏa Tình", "Xã Tênh Phông")),
        ("Xã Mường Mùn", ("Xã Mường Mùn", "Xã Pú Xi", "Xã Mùn Chung")),
        ("Xã Chiềng Sinh",
         ("Xã Chiềng Sinh", "Xã Chiềng Đông", "Xã Phình Sáng", "Xã Rạng Đông")),
        ("Xã Pú Nhung", ("Xã Pú Nhung", "Xã Ta Ma")),
        ("Xã Nà Tòng", ("Xã Nà Tòng", "Xã Mường Thín", "Xã Mường Khong", "Xã Nà Sáy")),
    )),
    ("100", "Huyện Điện Biên", "huyen", (
        ("Xã Thanh Nưa", ("Xã Thanh Nưa", "Xã Hua Thanh", "Xã Thanh Luông")),
        ("Xã Thanh Yên", ("Xã Thanh Yên", "Xã Thanh Chăn", "Xã Thanh Hưng")),
        ("Xã Thanh An", ("Xã Thanh An", "Xã Thanh Xương", "Xã Noong Hẹt")),
        ("Xã Sam Mứn", ("Xã Sam Mứn", "Xã Pom Lót", "Xã Noong Luống")),
        ("Xã Núa Ngam", ("Xã Núa Ngam", "Xã Na Ư")),
        ("Xã Mường Nhà", ("Xã Mường Nhà", "Xã Phu Luông")),
        ("Xã Mường Lói", ("Xã Mường Lói", "Xã Pa Thơm")),
        ("Xã Mường Pồn", ("Xã Mường Pồn", "Xã Na Tông")),
    )),
    ("101", "Huyện Điện Biên Đông", "huyen", (
        ("Xã Điện Biên Đông", ("Thị trấn Điện Biên Đông", "Xã Na Son", "Xã Keo Lôm")),
        ("Xã Mường Luân", ("Xã Mường Luân", "Xã Chiềng Sơ", "Xã Luân Giói")),
        ("Xã Pú Nhi", ("Xã Pú Nhi", "Xã Nong U", "Xã Xa Dung")),
        ("Xã Phình Giàng", ("Xã Phình Giàng", "Xã Pú Hồng", "Xã Tìa Dình")),
        ("Xã Háng Lìa", ("Xã Háng Lìa", "Xã Phì Nhừ")),
    )),
    ("102", "Huyện Mường Ảng", "huyen", (
        ("Xã Mường Ảng", ("Thị trấn Mường Ảng", "Xã Ẳng Tở", "Xã Ẳng Nưa", "Xã Ẳng Cang")),
        ("Xã Búng Lao", ("Xã Búng Lao", "Xã Xuân Lao", "Xã Mường Đăng")),
        ("Xã Mường Lạn", ("Xã Mường Lạn", "Xã Nặm Lịch", "Xã Ngối Cáy")),
    )),
    ("103", "Huyện Nậm Pồ", "huyen", (
        ("Xã Nà Hỳ", ("Xã Nà Hỳ", "Xã Nà Khoa", "Xã Nậm Tin")),
        ("Xã Nà Bủng", ("Xã Nà Bủng", "Xã Vàng Đán", "Xã Na Cô Sa")),
        ("Xã Chà Tở", ("Xã Chà Tở", "Xã Nậm Khăn", "Xã Chà Cang")),
        ("Xã Nậm Nhừ", ("Xã Nậm Nhừ", "Xã Nậm Chua", "Xã Pa Tần")),
        ("Xã Si Pa Phìn", ("Xã Si Pa Phìn", "Xã Phìn Hồ", "Xã Chà Nưa")),
    )),
)  # fmt: skip

# Old communes split between two new communes: (district, old name) -> (the other new
# commune, share kept by the new commune the old one is listed under). Shares are chosen so
# that share + (1 - share) == 1.0 exactly in binary floating point.
_SPLITS: dict[tuple[str, str], tuple[str, float]] = {
    ("099", "Xã Tênh Phông"): ("Xã Mường Mùn", 0.6),
    ("100", "Xã Noong Hẹt"): ("Xã Sam Mứn", 0.7),
    ("101", "Xã Luân Giói"): ("Xã Pú Nhi", 0.8),
    ("103", "Xã Nậm Tin"): ("Xã Nà Bủng", 0.55),
}

_KIND_OF_PREFIX = (("Thị trấn ", "thi_tran"), ("Phường ", "phuong"), ("Xã ", "xa"))
_COMMITTEE_PREFIX = {
    "thanh_pho": "UBND thành phố ",
    "thi_xa": "UBND thị xã ",
    "huyen": "UBND huyện ",
    "phuong": "UBND phường ",
    "xa": "UBND xã ",
    "thi_tran": "UBND thị trấn ",
}

# Provincial departments: (name, valid_from, valid_to, predecessor whose performance the
# department inherits, or None). On 1 March 2025 departments merged; where the merged
# department kept its name it keeps its code and simply absorbed the others.
_DEPARTMENTS: tuple[tuple[str, date, date | None, str | None], ...] = (
    ("Văn phòng UBND tỉnh", ESTABLISHED, None, None),
    ("Sở Nội vụ", ESTABLISHED, None, None),
    ("Sở Tư pháp", ESTABLISHED, None, None),
    ("Sở Kế hoạch và Đầu tư", ESTABLISHED, LAST_PRE_MERGER_DAY, None),
    ("Sở Tài chính", ESTABLISHED, None, None),
    ("Sở Công Thương", ESTABLISHED, None, None),
    ("Sở Nông nghiệp và Phát triển nông thôn", ESTABLISHED, LAST_PRE_MERGER_DAY, None),
    ("Sở Tài nguyên và Môi trường", ESTABLISHED, LAST_PRE_MERGER_DAY, None),
    ("Sở Giao thông vận tải", ESTABLISHED, LAST_PRE_MERGER_DAY, None),
    ("Sở Xây dựng", ESTABLISHED, None, None),
    ("Sở Thông tin và Truyền thông", ESTABLISHED, LAST_PRE_MERGER_DAY, None),
    ("Sở Khoa học và Công nghệ", ESTABLISHED, None, None),
    ("Sở Lao động – Thương binh và Xã hội", ESTABLISHED, LAST_PRE_MERGER_DAY, None),
    ("Sở Giáo dục và Đào tạo", ESTABLISHED, None, None),
    ("Sở Y tế", ESTABLISHED, None, None),
    ("Sở Văn hóa, Thể thao và Du lịch", ESTABLISHED, None, None),
    ("Thanh tra tỉnh", ESTABLISHED, None, None),
    ("Ban Dân tộc", ESTABLISHED, LAST_PRE_MERGER_DAY, None),
    ("Sở Ngoại vụ", ESTABLISHED, LAST_PRE_MERGER_DAY, None),
    (
        "Sở Nông nghiệp và Môi trường",
        DEPARTMENT_MERGER,
        None,
        "Sở Nông nghiệp và Phát triển nông thôn",
    ),
    ("Sở Dân tộc và Tôn giáo", DEPARTMENT_MERGER, None, "Ban Dân tộc"),
)

# Which department absorbed which on 1 March 2025 (documentation for other generators,
# e.g. to move a ceased department's procedures to its successor).
DEPARTMENT_SUCCESSORS: dict[str, str] = {
    "Sở Kế hoạch và Đầu tư": "Sở Tài chính",
    "Sở Nông nghiệp và Phát triển nông thôn": "Sở Nông nghiệp và Môi trường",
    "Sở Tài nguyên và Môi trường": "Sở Nông nghiệp và Môi trường",
    "Sở Giao thông vận tải": "Sở Xây dựng",
    "Sở Thông tin và Truyền thông": "Sở Khoa học và Công nghệ",
    "Sở Lao động – Thương binh và Xã hội": "Sở Nội vụ",
    "Ban Dân tộc": "Sở Dân tộc và Tôn giáo",
    "Sở Ngoại vụ": "Văn phòng UBND tỉnh",
}


# --- The world ------------------------------------------------------------------------------
@dataclass(frozen=True)
class World:
    seed: int
    units: tuple[AdminUnit, ...]
    lineage: tuple[Lineage, ...]
    agencies: tuple[Agency, ...]
    villages: tuple[Village, ...]
    village_figures: tuple[VillageFigures, ...]
    _units_by_code: dict[str, AdminUnit] = field(init=False, repr=False, compare=False)
    _agencies_by_code: dict[str, Agency] = field(init=False, repr=False, compare=False)
    _villages_by_code: dict[str, Village] = field(init=False, repr=False, compare=False)
    _figures_by_year: dict[int, tuple[VillageFigures, ...]] = field(
        init=False, repr=False, compare=False
    )
    _figures_by_key: dict[tuple[str, int], VillageFigures] = field(
        init=False, repr=False, compare=False
    )
    _committees: dict[str, tuple[Agency, ...]] = field(init=False, repr=False, compare=False)
    _years: tuple[int, ...] = field(init=False, repr=False, compare=False)

    __hash__ = object.__hash__  # identity: the indexes are dicts

    def __post_init__(self) -> None:
        by_year: dict[int, list[VillageFigures]] = {}
        for f in self.village_figures:
            by_year.setdefault(f.year, []).append(f)
        committees: dict[str, list[Agency]] = {}
        for a in self.agencies:
            if a.group != "SO_NGANH":
                committees.setdefault(a.admin_unit_code, []).append(a)
        object.__setattr__(self, "_units_by_code", {u.code: u for u in self.units})
        object.__setattr__(self, "_agencies_by_code", {a.code: a for a in self.agencies})
        object.__setattr__(self, "_villages_by_code", {v.code: v for v in self.villages})
        object.__setattr__(self, "_figures_by_year", {y: tuple(fs) for y, fs in by_year.items()})
        object.__setattr__(
            self, "_figures_by_key", {(f.village_code, f.year): f for f in self.village_figures}
        )
        object.__setattr__(self, "_committees", {k: tuple(v) for k, v in committees.items()})
        object.__setattr__(self, "_years", tuple(sorted(by_year)))

    # Units
    def unit(self, code: str) -> AdminUnit:
        return self._units_by_code[code]

    @property
    def districts(self) -> tuple[AdminUnit, ...]:
        return tuple(u for u in self.units if u.level == "HUYEN")

    @property
    def old_communes(self) -> tuple[AdminUnit, ...]:
        return tuple(u for u in self.units if u.level == "XA" and u.valid_to is not None)

    @property
    def new_communes(self) -> tuple[AdminUnit, ...]:
        return tuple(u for u in self.units if u.level == "XA" and u.valid_from >= REORGANISATION)

    def communes_in_force(self, day: date) -> tuple[AdminUnit, ...]:
        return tuple(u for u in self.units if u.level == "XA" and u.in_force(day))

    def district_of(self, old_commune_code: str) -> str:
        """The district code of an old commune (new communes have no district)."""
        parent = self._units_by_code[old_commune_code].parent_code
        if parent is None or parent == PROVINCE_CODE:
            raise KeyError(f"{old_commune_code} is not a commune of a district")
        return parent

    def successors(self, old_commune_code: str) -> tuple[Lineage, ...]:
        """The lineage rows of an old commune (one, or two for a split commune)."""
        return tuple(li for li in self.lineage if li.old_code == old_commune_code)

    # Agencies
    def agency(self, code: str) -> Agency:
        return self._agencies_by_code[code]

    def agencies_in_force(self, day: date) -> tuple[Agency, ...]:
        return tuple(a for a in self.agencies if a.in_force(day))

    def agency_for_commune(self, commune_code: str, day: date) -> Agency:
        """The people's committee of a commune code in force on `day` (KeyError if none)."""
        for a in self._committees.get(commune_code, ()):
            if a.group == "UBND_XA" and a.in_force(day):
                return a
        raise KeyError(f"no commune committee for {commune_code} on {day.isoformat()}")

    def district_committee(self, district_code: str) -> Agency:
        for a in self._committees.get(district_code, ()):
            if a.group == "UBND_HUYEN":
                return a
        raise KeyError(f"no district committee for {district_code}")

    # Villages
    def village(self, code: str) -> Village:
        return self._villages_by_code[code]

    def figures_for(self, year: int) -> tuple[VillageFigures, ...]:
        """Figures of `year`, or of the latest earlier year that has some.

        A year before the first year with figures takes the first year (the population
        register is the best estimate available then).
        """
        return self._figures_by_year[self._figure_year(year)]

    def figures(self, village_code: str, year: int) -> VillageFigures:
        """One village's figures for `year` (same fallback as `figures_for`)."""
        return self._figures_by_key[(village_code, self._figure_year(year))]

    def _figure_year(self, year: int) -> int:
        earlier = [y for y in self._years if y <= year]
        return earlier[-1] if earlier else self._years[0]


def _kind_of(name: str) -> str:
    for prefix, kind in _KIND_OF_PREFIX:
        if name.startswith(prefix):
            return kind
    raise ValueError(f"cannot tell the kind of {name!r}")


def _committee_name(unit_name: str, kind: str) -> str:
    bare = unit_name
    for prefix in ("Thành phố ", "Thị xã ", "Huyện ", "Thị trấn ", "Phường ", "Xã "):
        if bare.startswith(prefix):
            bare = bare[len(prefix) :]
            break
    return _COMMITTEE_PREFIX[kind] + bare


class _Emails:
    """Unique ASCII contact mailboxes (homonymous old and new communes get the unit code)."""

    def __init__(self) -> None:
        self._used: set[str] = set()

    def make(self, name: str, unit_code: str) -> str:
        local = "cds." + ascii_slug(name.replace("UBND ", ""))
        if local in self._used:
            local = f"{local}.{unit_code}"
        self._used.add(local)
        return f"{local}@{EMAIL_DOMAIN}"


def _performance(rng: random.Random, n: int) -> list[float]:
    """`n` performances: a few clear leaders, a few laggards, most in between."""
    n_edge = max(1, round(n * 0.08))
    values = (
        [rng.uniform(0.9, 0.98) for _ in range(n_edge)]
        + [rng.uniform(0.08, 0.2) for _ in range(n_edge)]
        + [0.25 + 0.6 * rng.betavariate(2.2, 2.2) for _ in range(n - 2 * n_edge)]
    )
    rng.shuffle(values)
    return [round(v, 3) for v in values]


def _near(rng: random.Random, value: float) -> float:
    return round(min(1.0, max(0.0, value + rng.uniform(-0.04, 0.04))), 3)


@functools.lru_cache(maxsize=8)
def build_world(seed: int = 2158) -> World:
    rng = random.Random(seed)
    units: list[AdminUnit] = [
        AdminUnit(PROVINCE_CODE, PROVINCE_NAME, "TINH", "tinh", None, ESTABLISHED, None)
    ]
    new_units: list[AdminUnit] = []
    lineage: list[Lineage] = []
    # old commune code -> [(new code, share)], in listing order
    shares: dict[str, list[tuple[str, float]]] = {}
    old_index = 0
    new_codes: dict[str, str] = {}
    for _, _, _, groups in _DISTRICTS:
        for new_name, _ in groups:
            code = f"{3610 + 3 * len(new_codes):05d}"
            new_codes[new_name] = code
            new_units.append(
                AdminUnit(
                    code, new_name, "XA", _kind_of(new_name), PROVINCE_CODE, REORGANISATION, None
                )
            )
    old_by_district: dict[str, list[AdminUnit]] = {}
    for d_code, d_name, d_kind, groups in _DISTRICTS:
        units.append(
            AdminUnit(d_code, d_name, "HUYEN", d_kind, PROVINCE_CODE, ESTABLISHED, LAST_OLD_DAY)
        )
        for new_name, old_names in groups:
            for old_name in old_names:
                code = f"{3127 + 3 * old_index:05d}"
                old_index += 1
                unit = AdminUnit(
                    code, old_name, "XA", _kind_of(old_name), d_code, ESTABLISHED, LAST_OLD_DAY
                )
                old_by_district.setdefault(d_code, []).append(unit)
                split = _SPLITS.get((d_code, old_name))
                if split is None:
                    shares[code] = [(new_codes[new_name], 1.0)]
                else:
                    other, share = split
                    rest = round(1.0 - share, 6)  # 1.0 - 0.7 is 0.30000000000000004
                    shares[code] = [(new_codes[new_name], share), (new_codes[other], rest)]
    for d_code, *_ in _DISTRICTS:
        units.extend(old_by_district[d_code])
    units.extend(new_units)
    for old_code, parts in shares.items():
        for new_code, share in parts:
            lineage.append(Lineage(old_code, new_code, REORGANISATION, share))

    villages, figures = _villages(rng, units, shares)
    agencies = _agencies(rng, units, shares, figures)
    return World(
        seed=seed,
        units=tuple(units),
        lineage=tuple(lineage),
        agencies=tuple(agencies),
        villages=tuple(villages),
        village_figures=tuple(figures),
    )


def _villages(
    rng: random.Random, units: list[AdminUnit], shares: dict[str, list[tuple[str, float]]]
) -> tuple[list[Village], list[VillageFigures]]:
    villages: list[Village] = []
    figures: list[VillageFigures] = []
    # Base-year (2022) figures are drawn, then scaled so the province totals about
    # 127,500 households and 637,000 people in 2022 (~130,000 / 650,000 by 2024).
    drafts: list[tuple[Village, float, float, float, float, float]] = []
    for unit in units:
        if unit.level != "XA" or unit.valid_to is None:
            continue
        town = unit.kind in ("phuong", "thi_tran")
        remote = unit.parent_code in REMOTE_DISTRICTS
        count = rng.randint(7, 13) if town else rng.randint(8, 17)
        names = village_names(rng, count, town=town)
        commune_drafts = []
        for i, name in enumerate(names, start=1):
            households = rng.lognormvariate(4.7 if town else 4.3, 0.35)
            size = rng.uniform(3.6, 4.2) if town else rng.uniform(4.6, 5.6)
            share15 = rng.uniform(0.69, 0.74) if town else rng.uniform(0.65, 0.71)
            h_growth = rng.uniform(0.004, 0.016)
            p_growth = rng.uniform(0.004, 0.016)
            commune_drafts.append(
                (f"{unit.code}{i:03d}", name, households, size, share15, h_growth, p_growth)
            )
        # A split commune's villages go, in order, to its first new commune until that one
        # holds about its population share, the rest to the second.
        parts = shares[unit.code]
        total_people = sum(d[2] * d[3] for d in commune_drafts)
        running = 0.0
        for code, name, households, size, share15, h_growth, p_growth in commune_drafts:
            new_code = parts[0][0]
            if len(parts) > 1 and running + households * size / 2 > parts[0][1] * total_people:
                new_code = parts[1][0]
            running += households * size
            village = Village(code, name, unit.code, new_code, remote, town)
            drafts.append((village, households, size, share15, h_growth, p_growth))
    raw_households = sum(d[1] for d in drafts)
    raw_people = sum(d[1] * d[2] for d in drafts)
    h_scale = 127_500 / raw_households
    p_scale = 637_000 / raw_people
    for village, households, size, share15, h_growth, p_growth in drafts:
        villages.append(village)
        for year in FIGURE_YEARS:
            t = year - FIGURE_YEARS[0]
            hh = max(5, round(households * h_scale * (1 + h_growth) ** t))
            pop = max(hh + 2, round(households * size * p_scale * (1 + p_growth) ** t))
            pop15 = min(pop, round(pop * (share15 + 0.002 * t)))
            # Figures of a year carry the code in force on 1 January of that year.
            commune = (
                village.old_commune_code
                if year <= REORGANISATION.year
                else village.new_commune_code
            )
            figures.append(VillageFigures(village.code, year, commune, hh, pop, pop15))
    return villages, figures


def _agencies(
    rng: random.Random,
    units: list[AdminUnit],
    shares: dict[str, list[tuple[str, float]]],
    figures: list[VillageFigures],
) -> list[Agency]:
    emails = _Emails()
    agencies: list[Agency] = []

    departments = [d for d in _DEPARTMENTS if d[3] is None]
    perf = _performance(rng, len(departments))
    dept_perf: dict[str, float] = {}
    for number, (name, start, end, predecessor) in enumerate(_DEPARTMENTS, start=1):
        if predecessor is None:
            dept_perf[name] = perf.pop(0)
        else:
            dept_perf[name] = _near(rng, dept_perf[predecessor])
        agencies.append(
            Agency(
                f"000.00.{number:02d}.{PROVINCE_AGENCY_SUFFIX}",
                name,
                "SO_NGANH",
                PROVINCE_CODE,
                start,
                end,
                emails.make(name, PROVINCE_CODE),
                dept_perf[name],
            )
        )

    districts = [u for u in units if u.level == "HUYEN"]
    district_segment: dict[str, int] = {}
    for number, (unit, p) in enumerate(
        zip(districts, _performance(rng, len(districts)), strict=True), start=31
    ):
        district_segment[unit.code] = number
        name = _committee_name(unit.name, unit.kind)
        agencies.append(
            Agency(
                f"000.00.{number:02d}.{PROVINCE_AGENCY_SUFFIX}",
                name,
                "UBND_HUYEN",
                unit.code,
                unit.valid_from,
                unit.valid_to,
                emails.make(name, unit.code),
                p,
            )
        )

    old = [u for u in units if u.level == "XA" and u.valid_to is not None]
    new = [u for u in units if u.level == "XA" and u.valid_to is None]
    commune_perf: dict[str, float] = {}
    within: dict[str, int] = {}
    for unit, p in zip(old, _performance(rng, len(old)), strict=True):
        district = unit.parent_code or ""
        within[district] = within.get(district, 0) + 1
        commune_perf[unit.code] = p
        name = _committee_name(unit.name, unit.kind)
        agencies.append(
            Agency(
                f"000.{within[district]:02d}.{district_segment[district]:02d}."
                f"{PROVINCE_AGENCY_SUFFIX}",
                name,
                "UBND_XA",
                unit.code,
                unit.valid_from,
                unit.valid_to,
                emails.make(name, unit.code),
                p,
            )
        )

    # A new commune's committee carries on the work of its most populous predecessor.
    people_2025: dict[str, float] = {}
    for f in figures:
        if f.year == REORGANISATION.year:
            people_2025[f.commune_code] = people_2025.get(f.commune_code, 0) + f.population
    main_predecessor: dict[str, tuple[float, str]] = {}
    for old_code, parts in shares.items():
        for new_code, share in parts:
            weight = people_2025.get(old_code, 0) * share
            best = main_predecessor.get(new_code)
            if best is None or weight > best[0]:
                main_predecessor[new_code] = (weight, old_code)
    for number, unit in enumerate(new, start=51):
        name = _committee_name(unit.name, unit.kind)
        p = _near(rng, commune_perf[main_predecessor[unit.code][1]])
        agencies.append(
            Agency(
                f"000.00.{number:02d}.{PROVINCE_AGENCY_SUFFIX}",
                name,
                "UBND_XA",
                unit.code,
                unit.valid_from,
                unit.valid_to,
                emails.make(name, unit.code),
                p,
            )
        )
    return agencies
