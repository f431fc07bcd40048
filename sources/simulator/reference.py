"""Write the four reference CSV files of `reference-data.md` from a `World`.

Byte-deterministic: UTF-8 without BOM, `,` separator, `\\n` line ends, ISO dates (empty for
"still in force"), rows in the world's own order.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path

from sources.simulator.world import World

DVHC_COLUMNS = (
    "ma_dvhc",
    "ten",
    "cap",
    "loai",
    "ma_dvhc_cha",
    "hieu_luc_tu",
    "hieu_luc_den",
)
LINEAGE_COLUMNS = ("ma_dvhc_cu", "ma_dvhc_moi", "ngay_hieu_luc", "ty_le_dan_so")
AGENCY_COLUMNS = (
    "ma_co_quan",
    "ten",
    "nhom",
    "ma_dvhc",
    "hieu_luc_tu",
    "hieu_luc_den",
    "email_dau_moi",
)
VILLAGE_COLUMNS = ("ma_thon", "ten", "ma_dvhc", "nam", "so_ho", "dan_so", "dan_so_tu_15")

FILES = {
    "don_vi_hanh_chinh.csv": DVHC_COLUMNS,
    "sap_xep_dvhc.csv": LINEAGE_COLUMNS,
    "co_quan.csv": AGENCY_COLUMNS,
    "thon_ban.csv": VILLAGE_COLUMNS,
}


def _day(value: date | None) -> str:
    return "" if value is None else value.isoformat()


def _share(value: float) -> str:
    # "1", "0.6", "0.55": the shortest text that reads back as the same float.
    return f"{value:g}"


def _write(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter=",", lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


def write_reference(world: World, out_dir: Path) -> dict[str, int]:
    """Write the reference files into `out_dir` (created if needed); rows written per file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    names = {v.code: v.name for v in world.villages}
    tables: dict[str, Iterable[Sequence[object]]] = {
        "don_vi_hanh_chinh.csv": (
            (
                u.code,
                u.name,
                u.level,
                u.kind,
                u.parent_code or "",
                _day(u.valid_from),
                _day(u.valid_to),
            )
            for u in world.units
        ),
        "sap_xep_dvhc.csv": (
            (li.old_code, li.new_code, _day(li.effective), _share(li.population_share))
            for li in world.lineage
        ),
        "co_quan.csv": (
            (
                a.code,
                a.name,
                a.group,
                a.admin_unit_code,
                _day(a.valid_from),
                _day(a.valid_to),
                a.contact_email,
            )
            for a in world.agencies
        ),
        "thon_ban.csv": (
            (
                f.village_code,
                names[f.village_code],
                f.commune_code,
                f.year,
                f.households,
                f.population,
                f.population_15plus,
            )
            for f in world.village_figures
        ),
    }
    return {name: _write(out_dir / name, FILES[name], tables[name]) for name in FILES}
