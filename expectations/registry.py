"""Every suite, by dataset name (the raw dataset names of the warehouse, plus `telecom_files`)."""

from __future__ import annotations

from expectations.rules import DatasetSpec, Rule
from expectations.suites import (
    dvc_dossiers,
    dvc_procedures,
    dvc_ratings,
    qlvb_cuoc_hop,
    qlvb_don_vi,
    qlvb_ho_so_cong_viec,
    qlvb_van_ban,
    ref_co_quan,
    ref_don_vi_hanh_chinh,
    ref_sap_xep_dvhc,
    ref_thon_ban,
    staging,
    telecom_coverage,
    telecom_files,
)

SPECS: dict[str, DatasetSpec] = {
    module.SPEC.dataset: module.SPEC
    for module in (
        ref_don_vi_hanh_chinh,
        ref_sap_xep_dvhc,
        ref_co_quan,
        ref_thon_ban,
        dvc_procedures,
        dvc_dossiers,
        dvc_ratings,
        qlvb_don_vi,
        qlvb_van_ban,
        qlvb_ho_so_cong_viec,
        qlvb_cuoc_hop,
        telecom_coverage,
        telecom_files,
    )
}

# The order checks run in: reference first (the other suites judge codes against it).
DATASETS: tuple[str, ...] = tuple(SPECS)

# The suites of the key dbt staging models (run after dbt; not landed datasets).
STAGING_SPECS: dict[str, DatasetSpec] = staging.STAGING_SPECS
ALL_SPECS: dict[str, DatasetSpec] = {**SPECS, **STAGING_SPECS}


def rules_of(dataset: str) -> tuple[Rule, ...]:
    return ALL_SPECS[dataset].rules


def all_rules() -> list[Rule]:
    return [rule for spec in ALL_SPECS.values() for rule in spec.rules]


def _check_registry() -> None:
    """Rule names are unique, prefixed by their dataset, and start with a dimension."""
    seen: set[str] = set()
    for dataset, spec in ALL_SPECS.items():
        for rule in spec.rules:
            if rule.dataset != dataset or rule.name in seen:
                raise ValueError(f"rule {rule.name!r} misplaced or repeated")
            seen.add(rule.name)
            _ = rule.dimension


_check_registry()
