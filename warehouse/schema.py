"""The tables of the warehouse that the pipeline itself writes: `raw`, `ops` and `quality`.

One description per table serves the DDL, the Arrow schema of landing batches and the
idempotency key, so a column is named in one place only. Raw columns keep the source's own
(Vietnamese) names; dbt staging is where they become English.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

_ARROW_TYPES: dict[str, pa.DataType] = {
    "VARCHAR": pa.string(),
    "BOOLEAN": pa.bool_(),
    "BIGINT": pa.int64(),
    "INTEGER": pa.int32(),
    "DOUBLE": pa.float64(),
    "DATE": pa.date32(),
    "TIMESTAMP": pa.timestamp("us"),
}

# The few type names PostgreSQL spells otherwise (DuckDB's are the reference).
_POSTGRES_TYPES: dict[str, str] = {"DOUBLE": "DOUBLE PRECISION"}


def sql_type(name: str, dialect: str = "duckdb") -> str:
    """A column type of this module in the SQL of `dialect` (`duckdb` or `postgres`)."""
    return _POSTGRES_TYPES.get(name, name) if dialect == "postgres" else name


LOAD_COLUMNS: tuple[tuple[str, str], ...] = (("_load_id", "VARCHAR"), ("_loaded_at", "TIMESTAMP"))


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    columns: tuple[tuple[str, str], ...]
    # Columns that identify one version of a record: landing never inserts a key twice.
    key: tuple[str, ...] = ()
    # The key column whose range over a batch bounds the duplicate lookup (zone-map pruning
    # keeps it cheap on big tables: new versions sort after the ones already landed).
    bound: str | None = None

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def column_names(self) -> list[str]:
        return [name for name, _ in self.columns]

    def arrow_schema(self) -> pa.Schema:
        return pa.schema([(name, _ARROW_TYPES[sql_type]) for name, sql_type in self.columns])

    def ddl(self, dialect: str = "duckdb") -> str:
        cols = ", ".join(f'"{name}" {sql_type(kind, dialect)}' for name, kind in self.columns)
        return f"CREATE TABLE IF NOT EXISTS {self.qualified} ({cols})"


def _raw(name: str, columns: str, key: tuple[str, ...]) -> Table:
    """A raw table; the last key column is the version (or the file's SHA-256)."""
    parsed = tuple(tuple(part.split(":")) for part in columns.split())
    return Table("raw", name, parsed + LOAD_COLUMNS, key, bound=key[-1])  # type: ignore[arg-type]


_PORTAL_VERSION = ("updated_at",)
_QLVB_VERSION = ("ngay_cap_nhat",)

RAW_TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        _raw(
            "dvc_procedures",
            "ma_thu_tuc:VARCHAR ten_thu_tuc:VARCHAR linh_vuc:VARCHAR ma_co_quan:VARCHAR "
            "cap_thuc_hien:VARCHAR du_dieu_kien_toan_trinh:BOOLEAN muc_do:VARCHAR "
            "co_phi:BOOLEAN hieu_luc:BOOLEAN updated_at:TIMESTAMP _extra:VARCHAR",
            ("ma_thu_tuc", *_PORTAL_VERSION),
        ),
        _raw(
            "dvc_dossiers",
            "ma_ho_so:VARCHAR ma_thu_tuc:VARCHAR ma_co_quan:VARCHAR ma_dvhc:VARCHAR "
            "kenh_nop:VARCHAR ngay_tiep_nhan:TIMESTAMP han_xu_ly:TIMESTAMP "
            "ngay_hoan_thanh:TIMESTAMP ngay_tra_ket_qua:TIMESTAMP trang_thai:VARCHAR "
            "thanh_toan_truc_tuyen:BOOLEAN so_hoa_ho_so:BOOLEAN so_hoa_ket_qua:BOOLEAN "
            "applicant_key:VARCHAR updated_at:TIMESTAMP _extra:VARCHAR",
            ("ma_ho_so", *_PORTAL_VERSION),
        ),
        _raw(
            "dvc_ratings",
            "ma_danh_gia:VARCHAR ma_ho_so:VARCHAR muc_do:VARCHAR ngay_danh_gia:TIMESTAMP "
            "updated_at:TIMESTAMP _extra:VARCHAR",
            ("ma_danh_gia", *_PORTAL_VERSION),
        ),
        _raw(
            "qlvb_don_vi",
            "id:BIGINT ma_don_vi:VARCHAR ten_don_vi:VARCHAR cap:VARCHAR da_xoa:BOOLEAN "
            "ngay_cap_nhat:TIMESTAMP",
            ("id", *_QLVB_VERSION),
        ),
        _raw(
            "qlvb_van_ban",
            "id:BIGINT so_ky_hieu:VARCHAR ma_don_vi:VARCHAR chieu:VARCHAR hinh_thuc:VARCHAR "
            "ky_so:BOOLEAN do_mat:VARCHAR ngay_van_ban:DATE da_xoa:BOOLEAN "
            "ngay_cap_nhat:TIMESTAMP",
            ("id", *_QLVB_VERSION),
        ),
        _raw(
            "qlvb_ho_so_cong_viec",
            "id:BIGINT ma_don_vi:VARCHAR ngay_mo:DATE ngay_dong:DATE xu_ly_tren_mang:BOOLEAN "
            "bi_mat:BOOLEAN da_xoa:BOOLEAN ngay_cap_nhat:TIMESTAMP",
            ("id", *_QLVB_VERSION),
        ),
        _raw(
            "qlvb_cuoc_hop",
            "id:BIGINT ma_don_vi_chu_tri:VARCHAR ba_cap:BOOLEAN hinh_thuc:VARCHAR ngay_hop:DATE "
            "da_xoa:BOOLEAN ngay_cap_nhat:TIMESTAMP",
            ("id", *_QLVB_VERSION),
        ),
        _raw(
            "telecom_coverage",
            "nha_mang:VARCHAR ky_bao_cao:VARCHAR ma_thon:VARCHAR co_cap_quang:BOOLEAN "
            "so_ho_cap_quang:BIGINT phu_song_4g:BOOLEAN phu_song_5g:BOOLEAN so_thue_bao:BIGINT "
            "so_thue_bao_smartphone:BIGINT file_name:VARCHAR file_sha256:VARCHAR "
            "row_number:BIGINT",
            ("row_number", "file_sha256"),
        ),
        _raw(
            "ref_don_vi_hanh_chinh",
            "ma_dvhc:VARCHAR ten:VARCHAR cap:VARCHAR loai:VARCHAR ma_dvhc_cha:VARCHAR "
            "hieu_luc_tu:DATE hieu_luc_den:DATE file_sha256:VARCHAR",
            ("ma_dvhc", "file_sha256"),
        ),
        _raw(
            "ref_sap_xep_dvhc",
            "ma_dvhc_cu:VARCHAR ma_dvhc_moi:VARCHAR ngay_hieu_luc:DATE ty_le_dan_so:DOUBLE "
            "file_sha256:VARCHAR",
            ("ma_dvhc_cu", "ma_dvhc_moi", "file_sha256"),
        ),
        _raw(
            "ref_co_quan",
            "ma_co_quan:VARCHAR ten:VARCHAR nhom:VARCHAR ma_dvhc:VARCHAR hieu_luc_tu:DATE "
            "hieu_luc_den:DATE email_dau_moi:VARCHAR file_sha256:VARCHAR",
            ("ma_co_quan", "file_sha256"),
        ),
        _raw(
            "ref_thon_ban",
            "ma_thon:VARCHAR ten:VARCHAR ma_dvhc:VARCHAR nam:INTEGER so_ho:BIGINT dan_so:BIGINT "
            "dan_so_tu_15:BIGINT file_sha256:VARCHAR",
            ("ma_thon", "nam", "file_sha256"),
        ),
        Table(
            "raw",
            "telecom_files",
            (
                ("file_name", "VARCHAR"),
                ("nha_mang", "VARCHAR"),
                ("ky_bao_cao", "VARCHAR"),
                ("size_bytes", "BIGINT"),
                ("modified_at", "TIMESTAMP"),
                ("sha256", "VARCHAR"),
                ("status", "VARCHAR"),
                ("error", "VARCHAR"),
                ("rows_landed", "BIGINT"),
                ("rows_quarantined", "BIGINT"),
                ("registered_at", "TIMESTAMP"),
                ("_load_id", "VARCHAR"),
            ),
            ("file_name", "sha256"),
            bound="sha256",
        ),
    )
}

QUALITY_TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "quality",
            "check_results",
            (
                ("run_id", "VARCHAR"),
                ("checked_at", "TIMESTAMP"),
                ("dataset", "VARCHAR"),
                ("check_name", "VARCHAR"),
                ("severity", "VARCHAR"),
                ("passed", "BOOLEAN"),
                ("observed", "VARCHAR"),
                ("expected", "VARCHAR"),
                ("failed_rows", "BIGINT"),
                ("failed_keys", "VARCHAR"),
            ),
        ),
        Table(
            "quality",
            "quarantine",
            (
                ("dataset", "VARCHAR"),
                ("record_key", "VARCHAR"),
                ("reason", "VARCHAR"),
                ("payload", "VARCHAR"),
                ("run_id", "VARCHAR"),
                ("first_seen", "TIMESTAMP"),
                ("payload_sha256", "VARCHAR"),
            ),
            ("dataset", "payload_sha256", "reason"),
            bound="payload_sha256",
        ),
        Table(
            "quality",
            "alerts",
            (
                ("alert_id", "VARCHAR"),
                ("created_at", "TIMESTAMP"),
                ("recipient", "VARCHAR"),
                ("channel", "VARCHAR"),
                ("subject", "VARCHAR"),
                ("body", "VARCHAR"),
                ("delivered", "BOOLEAN"),
                ("error", "VARCHAR"),
                ("run_id", "VARCHAR"),
                ("problem_keys", "VARCHAR"),
            ),
        ),
        Table(
            "quality",
            "blocked_agencies",
            (
                ("run_id", "VARCHAR"),
                ("dataset", "VARCHAR"),
                ("check_name", "VARCHAR"),
                ("year", "INTEGER"),
                ("agency_code", "VARCHAR"),
            ),
        ),
    )
}

OPS_TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "ops",
            "watermarks",
            (("source", "VARCHAR"), ("watermark", "VARCHAR"), ("updated_at", "TIMESTAMP")),
        ),
        Table(
            "ops",
            "run_log",
            (
                ("run_id", "VARCHAR"),
                ("source", "VARCHAR"),
                ("started_at", "TIMESTAMP"),
                ("finished_at", "TIMESTAMP"),
                ("rows_read", "BIGINT"),
                ("rows_landed", "BIGINT"),
                ("rows_quarantined", "BIGINT"),
                ("watermark_before", "VARCHAR"),
                ("watermark_after", "VARCHAR"),
                ("duration_s", "DOUBLE"),
                ("status", "VARCHAR"),
                ("error", "VARCHAR"),
            ),
        ),
    )
}

ALL_TABLES: tuple[Table, ...] = (
    *RAW_TABLES.values(),
    *QUALITY_TABLES.values(),
    *OPS_TABLES.values(),
)
SCHEMAS: tuple[str, ...] = ("raw", "quality", "ops")


def create_all_ddl(dialect: str = "duckdb") -> list[str]:
    """Statements that create every schema and table the pipeline writes (idempotent)."""
    return [f"CREATE SCHEMA IF NOT EXISTS {s}" for s in SCHEMAS] + [
        t.ddl(dialect) for t in ALL_TABLES
    ]
