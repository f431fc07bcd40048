"""What the four reference files' suites share."""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations import sql as q
from expectations.rules import BLOCKING, Facts, TableRule

if TYPE_CHECKING:
    from expectations.context import CheckContext


def file_loaded(dataset: str, file_name: str) -> TableRule:
    """Blocking: without the file every code check is skipped and no indicator is right."""

    def compute(ctx: CheckContext) -> Facts:
        rows = ctx.df(f"SELECT count(*) AS rows FROM ({q.latest_file(dataset)}) AS f")
        return Facts(
            rows,
            [ctx.E.ExpectColumnValuesToBeBetween(column="rows", min_value=1)],
            expected=f"{file_name} loaded, with rows",
            observe=lambda f, bad: f"{int(f['rows'].iloc[0])} rows in the latest {file_name}",
        )

    return TableRule(
        f"{dataset}.file_loaded",
        f"Completeness: {file_name} has been loaded and has rows (every code check and "
        "indicator depends on it).",
        compute,
        severity=BLOCKING,
    )
