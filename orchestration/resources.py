"""Dagster resources built from the pipeline's settings (pipeline-interface.md)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from orchestration.settings import Settings
from warehouse.connection import open_writer
from warehouse.landing import Lander


class PipelineResource(dg.ConfigurableResource):
    """The settings, read when a step starts, and the warehouse's one writer connection."""

    def settings(self) -> Settings:
        return Settings.load()

    @contextmanager
    def lander(self, run_id: str) -> Iterator[Lander]:
        conn = open_writer(self.settings().warehouse)
        try:
            yield Lander(conn, run_id)
        finally:
            conn.close()
