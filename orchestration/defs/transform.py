"""The dbt project as Dagster assets, downstream of the raw assets through dbt sources."""

import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from orchestration.dbt_project import dbt_project
from orchestration.settings import Settings
from warehouse.connection import dbt_environment


class CdsDbtTranslator(DagsterDbtTranslator):
    """Keys are [schema, model] (e.g. marts/agency_index); groups are the dbt layers."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)
        layer = dbt_resource_props["fqn"][1] if len(dbt_resource_props["fqn"]) > 2 else "seeds"
        return dg.AssetKey([layer, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "seeds"


@dbt_assets(manifest=dbt_project.manifest_path, dagster_dbt_translator=CdsDbtTranslator())
def cds_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    """`dbt build`: staging, intermediate and marts models with their tests."""
    os.environ.update(dbt_environment(Settings.load().warehouse))
    yield from dbt.cli(["build"], context=context).stream()


def dbt_resource() -> DbtCliResource:
    # The dbt installed beside this Python, also when .venv/bin is not on PATH.
    return DbtCliResource(
        project_dir=dbt_project, dbt_executable=str(Path(sys.executable).parent / "dbt")
    )
