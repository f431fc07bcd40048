"""Suite of `raw.dvc_ratings`: applicants' satisfaction ratings (dvc-portal-api.md)."""

from __future__ import annotations

from expectations import builders as b
from expectations.specs import payload_year, raw_spec, year_of

DATASET = "dvc_ratings"
LEVELS = ("RAT_HAI_LONG", "HAI_LONG", "BINH_THUONG", "KHONG_HAI_LONG")

# The agency of a rating is the agency of the dossier it rates; a dossier quarantined at
# landing is known to the portal (its rating is not an orphan).
_DOSSIER = (
    "LEFT JOIN (SELECT ma_ho_so, min(ma_co_quan) AS ma_co_quan FROM raw.dvc_dossiers "
    "GROUP BY ma_ho_so) AS dossier ON dossier.ma_ho_so = t.ma_ho_so"
)
_QUARANTINED_DOSSIER = (
    "LEFT JOIN (SELECT DISTINCT record_key FROM quality.quarantine "
    "WHERE dataset = 'dvc_dossiers') AS qdossier ON qdossier.record_key = t.ma_ho_so"
)

SPEC = raw_spec(
    DATASET,
    key_columns=("ma_danh_gia",),
    key_sql="t.ma_danh_gia",
    agency_sql="dossier.ma_co_quan",
    year_sql=year_of("t.ngay_danh_gia"),
    joins=(_DOSSIER,),
    quarantine_year_sql=payload_year("ngay_danh_gia"),
    freshness_sql="t.updated_at",
    row_rules=(
        b.enum(DATASET, "muc_do", LEVELS),
        b.sql_only(
            DATASET,
            "dossier_exists",
            "t.ma_ho_so IS NOT NULL AND dossier.ma_ho_so IS NULL AND qdossier.record_key IS NULL "
            "AND EXISTS (SELECT 1 FROM raw.dvc_dossiers)",
            "Integrity: the rated dossier (ma_ho_so) is a dossier of the portal.",
            joins=(_DOSSIER, _QUARANTINED_DOSSIER),
        ),
    ),
)
