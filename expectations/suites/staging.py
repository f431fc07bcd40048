"""Suites of the key dbt staging models (English names, latest version of each record).

They run after dbt has built staging, on the asset checks of the staging models. The
columns listed are those the marts read: a model that loses one, or changes its type, fails
the blocking schema check. Keep them in step with `dbt_project/models/staging/`.
"""

from __future__ import annotations

from expectations import builders as b
from expectations.rules import DatasetSpec, RowRule
from expectations.specs import staging_spec, year_of
from expectations.suites.dvc_dossiers import CHANNELS, STATUSES

DOSSIERS = "stg_dvc__dossiers"
DOCUMENTS = "stg_qlvb__documents"
COVERAGE = "stg_telecom__coverage"
AGENCIES = "stg_reference__agencies"


def _village_known(model: str) -> RowRule:
    return b.sql_only(
        model,
        "village_code_known",
        "t.village_code IS NOT NULL AND village.ma_thon IS NULL "
        "AND EXISTS (SELECT 1 FROM ref_village)",
        "Integrity: village_code is a village of thon_ban.csv (of the report's year or the "
        "latest earlier one).",
        joins=(
            f"LEFT JOIN village_year AS vy ON vy.y = {year_of('t.report_month')}",
            "LEFT JOIN ref_village AS village ON village.nam = vy.fig_year "
            "AND village.ma_thon = t.village_code",
        ),
    )


STAGING_SPECS: dict[str, DatasetSpec] = {
    spec.dataset: spec
    for spec in (
        staging_spec(
            DOSSIERS,
            columns=(
                ("dossier_id", "VARCHAR"),
                ("procedure_code", "VARCHAR"),
                ("agency_code", "VARCHAR"),
                ("admin_unit_code", "VARCHAR"),
                ("channel", "VARCHAR"),
                ("received_at", "TIMESTAMP"),
                ("due_at", "TIMESTAMP"),
                ("finished_at", "TIMESTAMP"),
                ("status", "VARCHAR"),
            ),
            key_columns=("dossier_id",),
            agency_sql="t.agency_code",
            year_sql=year_of("t.received_at"),
            row_rules=(
                b.enum(DOSSIERS, "channel", CHANNELS),
                b.enum(DOSSIERS, "status", STATUSES),
                b.date_order(
                    DOSSIERS,
                    "date_order_finished_after_received",
                    "finished_at",
                    "received_at",
                    "Consistency: a dossier is not finished before it was received.",
                ),
                b.code_in_force(
                    DOSSIERS,
                    "agency_code_valid_at_date",
                    "agency_code",
                    "received_at",
                    "agencies",
                    "Integrity: agency_code is an agency in force on the day the dossier was "
                    "received.",
                ),
            ),
        ),
        staging_spec(
            DOCUMENTS,
            columns=(
                ("document_id", "BIGINT"),
                ("document_number", "VARCHAR"),
                ("agency_code", "VARCHAR"),
                ("direction", "VARCHAR"),
                ("form", "VARCHAR"),
                ("is_digitally_signed", "BOOLEAN"),
                ("document_date", "DATE"),
            ),
            key_columns=("document_id",),
            agency_sql="t.agency_code",
            year_sql=year_of("t.document_date"),
            row_rules=(
                b.enum(DOCUMENTS, "direction", ("DI", "DEN")),
                b.enum(DOCUMENTS, "form", ("DIEN_TU", "GIAY")),
                b.code_in_force(
                    DOCUMENTS,
                    "agency_code_valid_at_date",
                    "agency_code",
                    "document_date",
                    "agencies",
                    "Integrity: agency_code is an agency in force on the document's date.",
                ),
            ),
        ),
        staging_spec(
            COVERAGE,
            columns=(
                ("carrier", "VARCHAR"),
                ("report_period", "VARCHAR"),
                ("report_month", "DATE"),
                ("village_code", "VARCHAR"),
                ("has_fiber", "BOOLEAN"),
                ("fiber_households", "BIGINT"),
                ("has_4g", "BOOLEAN"),
                ("has_5g", "BOOLEAN"),
                ("subscribers", "BIGINT"),
                ("smartphone_subscribers", "BIGINT"),
            ),
            key_columns=("carrier", "report_period", "village_code"),
            year_sql=year_of("t.report_month"),
            ranks_agencies=False,
            row_rules=(
                b.not_negative(
                    COVERAGE, ("fiber_households", "subscribers", "smartphone_subscribers")
                ),
                _village_known(COVERAGE),
            ),
        ),
        staging_spec(
            AGENCIES,
            columns=(
                ("agency_code", "VARCHAR"),
                ("name", "VARCHAR"),
                ("ranking_group", "VARCHAR"),
                ("admin_unit_code", "VARCHAR"),
                ("valid_from", "DATE"),
                ("valid_to", "DATE"),
                ("contact_email", "VARCHAR"),
            ),
            key_columns=("agency_code",),
            agency_sql="t.agency_code",
            row_rules=(b.enum(AGENCIES, "ranking_group", ("SO_NGANH", "UBND_HUYEN", "UBND_XA")),),
        ),
    )
}
