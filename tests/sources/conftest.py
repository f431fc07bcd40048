"""Fixtures of the connector tests: the simulator's world and small generated sources."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from sources.simulator.manifest import Manifest
from sources.simulator.world import World, build_world

SEED = 2158
PG_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="session")
def world() -> World:
    return build_world(SEED)


@pytest.fixture(scope="session")
def reference_dir(world: World, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sources.simulator.reference import write_reference

    folder = tmp_path_factory.mktemp("reference")
    write_reference(world, folder)
    return folder


@pytest.fixture(scope="session")
def telecom_feeds(world: World, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest]:
    """Five months of feeds with every planted fault (the folder must not be modified)."""
    from sources.simulator.telecom import write_telecom_feeds

    root = tmp_path_factory.mktemp("feeds")
    manifest = Manifest()
    write_telecom_feeds(
        world,
        root / "telecom",
        seed=SEED,
        start=date(2025, 1, 1),
        end=date(2025, 5, 31),
        manifest=manifest,
    )
    return root / "telecom", manifest
