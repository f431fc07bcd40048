"""Suite of `raw.dvc_procedures`: the portal's procedure catalogue (dvc-portal-api.md)."""

from __future__ import annotations

from expectations import builders as b
from expectations.gx_runtime import column
from expectations.rules import RowRule
from expectations.specs import payload, raw_spec

DATASET = "dvc_procedures"
LEVELS = ("TINH", "HUYEN", "XA")
ONLINE_LEVELS = ("TOAN_TRINH", "MOT_PHAN", "KHONG")

province_procedure_has_agency = RowRule(
    f"{DATASET}.province_procedure_has_agency",
    "Completeness: a TINH procedure names the provincial agency that handles it "
    "(ma_co_quan is null only for HUYEN and XA procedures).",
    sql="t.cap_thuc_hien = 'TINH' AND t.ma_co_quan IS NULL",
    message="ma_co_quan=None for a procedure with cap_thuc_hien='TINH'",
    expect=lambda E: E.ExpectColumnValuesToNotBeNull(
        column="ma_co_quan", row_condition=column("cap_thuc_hien") == "TINH"
    ),
)

SPEC = raw_spec(
    DATASET,
    key_columns=("ma_thu_tuc",),
    key_sql="t.ma_thu_tuc",
    agency_sql="t.ma_co_quan",
    quarantine_agency_sql=payload("ma_co_quan"),
    row_rules=(
        b.enum(DATASET, "cap_thuc_hien", LEVELS),
        b.enum(DATASET, "muc_do", ONLINE_LEVELS),
        province_procedure_has_agency,
        b.code_known(
            DATASET,
            "agency_code_known",
            "ma_co_quan",
            "agencies",
            "Integrity: ma_co_quan, when set, is an agency of co_quan.csv.",
        ),
    ),
)
