"""Suite of `raw.telecom_files`: the registry of every file found in the carriers' folder.

Not a landed dataset of its own: its checks show on the `raw/telecom_coverage` asset. A file
that cannot be read, a file that is not a feed, a month a carrier did not send and a month
sent again are warnings (telecom-feeds.md: files arrive late, twice, truncated...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations.generic import schema_readable
from expectations.rules import DatasetSpec, Facts, TableRule
from sources.telecom.files import EXTENSIONS
from warehouse.dialect import try_int

if TYPE_CHECKING:
    from expectations.context import CheckContext

DATASET = "telecom_files"

# The version of each file name that counts: the newest modification time.
_LATEST = (
    "SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY file_name "
    "ORDER BY modified_at DESC, registered_at DESC, sha256 DESC) AS version_rank "
    "FROM raw.telecom_files) AS f WHERE version_rank = 1"
)


def _files_with_status(status: str, what: str):  # type: ignore[no-untyped-def]
    def compute(ctx: CheckContext) -> Facts:
        frame = ctx.df(
            f"SELECT file_name, coalesce(status, '') AS status, coalesce(error, '') AS error, "
            f"{try_int('left(ky_bao_cao, 4)')} AS year FROM ({_LATEST}) AS latest "
            "ORDER BY file_name"
        )
        return Facts(
            frame,
            [ctx.E.ExpectColumnValuesToNotBeInSet(column="status", value_set=[status])],
            expected=f"no {what} in the feed folder",
            observe=lambda f, bad: (
                f"{len(f)} files; "
                + (
                    f"none {what.split(' ')[0]}"
                    if bad.empty
                    else f"{len(bad)} {what}: "
                    + "; ".join(f"{r.file_name} ({r.error})" for r in bad.head(5).itertuples())
                )
            ),
            keys_column="file_name",
            year_column="year",
        )

    return compute


def _carrier_month_present(ctx: CheckContext) -> Facts:
    carriers = ", ".join(f"('{c}', '{e}')" for c, e in EXTENSIONS.items())
    frame = ctx.df(
        "WITH feeds AS (SELECT nha_mang, ky_bao_cao, status FROM raw.telecom_files "
        "WHERE nha_mang IS NOT NULL AND ky_bao_cao IS NOT NULL), "
        "bounds AS (SELECT min(CAST(ky_bao_cao || '-01' AS TIMESTAMP)) AS lo, "
        "max(CAST(ky_bao_cao || '-01' AS TIMESTAMP)) AS hi FROM feeds), "
        "months AS (SELECT left(CAST(CAST(r.d AS DATE) AS VARCHAR), 7) AS month FROM bounds, "
        "generate_series(bounds.lo, bounds.hi, INTERVAL '1 month') AS r(d)), "
        f"carriers(carrier, ext) AS (VALUES {carriers}) "
        "SELECT c.carrier, m.month, c.carrier || '_' || m.month || '.' || c.ext AS file_name, "
        "CAST(left(m.month, 4) AS INTEGER) AS year, "
        "count(f.status) FILTER (WHERE f.status = 'loaded') AS loaded_files, "
        "count(f.status) AS files "
        "FROM carriers AS c CROSS JOIN months AS m "
        "LEFT JOIN feeds AS f ON f.nha_mang = c.carrier AND f.ky_bao_cao = m.month "
        "GROUP BY 1, 2, 3, 4 ORDER BY m.month, c.carrier"
    )
    return Facts(
        frame,
        [ctx.E.ExpectColumnValuesToBeBetween(column="loaded_files", min_value=1)],
        expected="a readable file from every carrier for every month from the first to the "
        "last month received",
        observe=lambda f, bad: (
            f"{len(f)} carrier-months; "
            + (
                "none missing"
                if bad.empty
                else f"{len(bad)} missing or unreadable: " + ", ".join(bad["file_name"].head(8))
            )
        ),
        keys_column="file_name",
        year_column="year",
    )


def _month_resent(ctx: CheckContext) -> Facts:
    frame = ctx.df(
        "SELECT file_name, count(DISTINCT sha256) AS versions, "
        f"{try_int('left(min(ky_bao_cao), 4)')} AS year "
        "FROM raw.telecom_files WHERE nha_mang IS NOT NULL AND status <> 'not_a_feed' "
        "GROUP BY file_name ORDER BY file_name"
    )
    return Facts(
        frame,
        [ctx.E.ExpectColumnValuesToBeBetween(column="versions", max_value=1)],
        expected="each carrier-month delivered once (a re-sent month replaces the figures "
        "already published for it)",
        observe=lambda f, bad: (
            f"{len(f)} feed files; "
            + ("none re-sent" if bad.empty else "re-sent: " + ", ".join(bad["file_name"].head(8)))
        ),
        keys_column="file_name",
        year_column="year",
    )


SPEC = DatasetSpec(
    dataset=DATASET,
    table="raw.telecom_files",
    key_columns=("file_name", "sha256"),
    key_sql="t.file_name",
    asset_key=("raw", "telecom_coverage"),
    ranks_agencies=False,
    table_rules=(
        schema_readable(DATASET),
        TableRule(
            f"{DATASET}.feed_files_readable",
            "Validity: every feed file can be read as a whole (not truncated, empty, in a "
            "legacy encoding or with other headers); an unreadable file lands nothing.",
            _files_with_status("failed", "unreadable feed files"),
        ),
        TableRule(
            f"{DATASET}.no_stray_files",
            "Conformity: the folder holds only feeds named <carrier>_<YYYY-MM>.<ext>; any "
            "other file is reported, not read.",
            _files_with_status("not_a_feed", "stray files (not feeds)"),
        ),
        TableRule(
            f"{DATASET}.carrier_month_present",
            "Completeness: every carrier sent a readable file for every month between the "
            "first and the last month received.",
            _carrier_month_present,
        ),
        TableRule(
            f"{DATASET}.month_resent",
            "Consistency: a carrier-month sent again (a correction) changes figures already "
            "published; it is reported so that users know.",
            _month_resent,
        ),
    ),
)
