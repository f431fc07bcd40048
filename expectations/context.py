"""What a table rule gets to compute its facts: the connection, the dataset, the settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from expectations import sql as q
from expectations.rules import DatasetSpec, RowRule
from expectations.settings import QualitySettings
from warehouse.dialect import dialect_of


@dataclass
class CheckContext:
    conn: Any
    spec: DatasetSpec
    settings: QualitySettings
    run_id: str = ""
    _cache: dict[str, Any] = field(default_factory=dict)

    @property
    def dialect(self) -> str:
        """The SQL dialect of the warehouse the checks run on (warehouse/dialect.py)."""
        return dialect_of(self.conn)

    @property
    def E(self) -> Any:  # noqa: N802 - mirrors `great_expectations.expectations as E`
        from expectations.gx_runtime import expectations_module

        return expectations_module()

    def df(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        return self.conn.execute(sql, params or []).df()

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any:
        row = self.conn.execute(sql, params or []).fetchone()
        return row[0] if row else None

    @property
    def scan(self) -> pd.DataFrame:
        """Per (agency_code, year): rows, rows breaking each row rule (`r<i>`) and any
        (`invalid`), open quarantined records (`quarantined`) and those of each rule (`q<i>`).
        One pass over the table and one over the quarantine, shared by every rule."""
        if "scan" not in self._cache:
            keys = ["agency_code", "year"]
            rows = self.df(q.scan_sql(self.spec))
            quarantined = self.df(q.quarantine_sql(self.spec))
            merged = rows.merge(quarantined, on=keys, how="outer")
            for column in merged.columns:
                if column not in keys:
                    merged[column] = merged[column].fillna(0).astype("int64")
            merged["agency_code"] = merged["agency_code"].astype("object")
            merged["year"] = merged["year"].astype("Int64")
            self._cache["scan"] = merged.sort_values(keys, na_position="first").reset_index(
                drop=True
            )
        return self._cache["scan"]

    def rule_index(self, rule: RowRule) -> int:
        return self.spec.row_rules.index(rule)

    def samples(self, rule: RowRule) -> list[str]:
        sql = q.sample_sql(self.spec, rule, self.settings.sample_size)
        return [str(k) for (k,) in self.conn.execute(sql).fetchall()]
