"""Benchmark of the quality checks on a warehouse of the province's size (not a test).

Builds a DuckDB warehouse with the simulator's reference data, ~6 M documents and ~1.6 M
dossiers generated in SQL (a few invalid rows and quarantined records sprinkled in), then
times every table-level suite (`expectations.runner.run_suite`) and the row-level gate
(`expectations.row_level.validate_batch`) on 50,000-row batches.

    .venv/bin/python bench/checks.py [--documents 6000000] [--dossiers 1600000] [--db PATH]

Results are printed and written to bench/results/checks.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd

from expectations.reference import load_reference_sets
from expectations.registry import ALL_SPECS, DATASETS
from expectations.row_level import validate_batch
from expectations.runner import run_suite
from expectations.settings import QualitySettings
from sources.batch import Batch
from sources.simulator.reference import write_reference
from sources.simulator.world import build_world
from warehouse.schema import create_all_ddl

REFERENCE = {
    "ref_don_vi_hanh_chinh": "don_vi_hanh_chinh.csv",
    "ref_sap_xep_dvhc": "sap_xep_dvhc.csv",
    "ref_co_quan": "co_quan.csv",
    "ref_thon_ban": "thon_ban.csv",
}
DAYS = 4 * 365  # 2023-01-01 .. 2026-12-31


def _load_reference(conn: duckdb.DuckDBPyConnection, folder: Path) -> None:
    write_reference(build_world(), folder)
    for table, name in REFERENCE.items():
        columns = [c for (c,) in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'raw' "
            "AND table_name = ? AND column_name NOT IN ('file_sha256', '_load_id', '_loaded_at') "
            "ORDER BY ordinal_position", [table]).fetchall()]  # fmt: skip
        listed = ", ".join(columns)
        conn.execute(
            f"INSERT INTO raw.{table} ({listed}, file_sha256, _load_id, _loaded_at) "
            f"SELECT {listed}, 'sha-bench', 'bench', TIMESTAMP '2023-01-01 01:00' "
            f"FROM read_csv('{folder / name}', header = true, all_varchar = false)"
        )


def _agencies(conn: duckdb.DuckDBPyConnection) -> None:
    # Agencies with their validity, numbered, to draw a valid one for each record's date.
    conn.execute(
        "CREATE TEMP TABLE bench_agency AS SELECT row_number() OVER (ORDER BY ma_co_quan) - 1 "
        "AS n, ma_co_quan, ma_dvhc, hieu_luc_tu, coalesce(hieu_luc_den, DATE '9999-12-31') AS "
        "hieu_luc_den FROM raw.ref_co_quan WHERE nhom = 'SO_NGANH' "
        "AND hieu_luc_den IS NULL"
    )


def _documents(conn: duckdb.DuckDBPyConnection, rows: int) -> None:
    count = conn.execute("SELECT count(*) FROM bench_agency").fetchone()[0]
    conn.execute(f"""
        INSERT INTO raw.qlvb_van_ban
        SELECT i AS id, i || '/KH-UBND' AS so_ky_hieu,
               CASE WHEN i % 100000 = 7 THEN '999.99.99.H23' ELSE a.ma_co_quan END,
               CASE WHEN i % 2 = 0 THEN 'DI' ELSE 'DEN' END,
               CASE WHEN i % 10 = 0 THEN 'GIAY' ELSE 'DIEN_TU' END,
               i % 10 <> 0, 'THUONG',
               DATE '2023-01-01' + CAST(i % {DAYS} AS INTEGER), FALSE,
               TIMESTAMP '2023-01-01 08:00' + to_seconds(i * 20), 'bench',
               TIMESTAMP '2027-01-01 02:00'
        FROM range({rows}) r(i) JOIN bench_agency a ON a.n = hash(i) % {count}
    """)


def _dossiers(conn: duckdb.DuckDBPyConnection, rows: int) -> None:
    count = conn.execute("SELECT count(*) FROM bench_agency").fetchone()[0]
    conn.execute(f"""
        INSERT INTO raw.dvc_dossiers
        SELECT 'HS-' || i, '1.00' || (i % 500), a.ma_co_quan, '11',
               CASE WHEN i % 3 = 0 THEN 'TRUC_TIEP' ELSE 'TRUC_TUYEN' END,
               TIMESTAMP '2023-01-01 08:00' + to_seconds(i * 78),
               TIMESTAMP '2023-01-08 08:00' + to_seconds(i * 78),
               CASE WHEN i % 50000 = 3 THEN TIMESTAMP '2022-12-01 08:00'
                    ELSE TIMESTAMP '2023-01-03 08:00' + to_seconds(i * 78) END,
               NULL, 'DA_HOAN_THANH', FALSE, TRUE, TRUE, md5(CAST(i AS VARCHAR)),
               TIMESTAMP '2023-01-03 08:00' + to_seconds(i * 78), NULL, 'bench',
               TIMESTAMP '2027-01-01 02:00'
        FROM range({rows}) r(i) JOIN bench_agency a ON a.n = hash(i * 7) % {count}
    """)
    conn.execute("""
        INSERT INTO raw.dvc_procedures
        SELECT DISTINCT ma_thu_tuc, 'Thủ tục', 'Lĩnh vực', NULL, 'XA', TRUE, 'MOT_PHAN', FALSE,
               TRUE, TIMESTAMP '2023-01-01', NULL, 'bench', TIMESTAMP '2023-01-01'
        FROM raw.dvc_dossiers
    """)
    conn.execute("""
        INSERT INTO quality.quarantine
        SELECT 'qlvb_van_ban', CAST(50000000 + i AS VARCHAR),
               'enum: chieu=''XX'' not in [''DI'', ''DEN'']',
               '{"ma_don_vi": "000.00.01.H23", "ngay_van_ban": "2024-03-04"}',
               'bench', TIMESTAMP '2027-01-01 02:00', md5(CAST(i AS VARCHAR))
        FROM range(10000) r(i)
    """)


def _time_suites(conn: duckdb.DuckDBPyConnection) -> dict:
    settings = QualitySettings(now=datetime(2027, 1, 1, 6, 0))
    run_suite(conn, "ref_co_quan", "warm-up", settings)  # imports GX, builds the context
    report: dict = {}
    for dataset in DATASETS:
        started = time.perf_counter()
        outcomes = run_suite(conn, dataset, "bench", settings)
        seconds = time.perf_counter() - started
        report[dataset] = {
            "seconds": round(seconds, 2),
            "checks": len(outcomes),
            "failed": [o.check_name for o in outcomes if not o.passed],
        }
        print(f"{dataset:<24} {len(outcomes):>3} checks {seconds:6.2f} s")
    for dataset in ("qlvb_van_ban", "dvc_dossiers"):
        per_check = {}
        for rule in [r.name for r in ALL_SPECS[dataset].rules]:
            started = time.perf_counter()
            run_suite(conn, dataset, "bench", settings, only={rule})
            per_check[rule] = round(time.perf_counter() - started, 2)
        report[dataset]["per_check_alone"] = per_check
    return report


def _time_row_gate(conn: duckdb.DuckDBPyConnection) -> dict:
    refs = load_reference_sets(conn)
    frame: pd.DataFrame = conn.execute(
        "SELECT * EXCLUDE (_load_id, _loaded_at) FROM raw.dvc_dossiers LIMIT 200000"
    ).df()
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    for row in rows:
        for key, value in row.items():
            if isinstance(value, pd.Timestamp):
                row[key] = value.to_pydatetime()
    validate_batch(Batch("dvc_dossiers", rows[:1000]), refs)  # warm-up
    timings = {}
    for size in (1_000, 50_000, 200_000):
        started = time.perf_counter()
        out = validate_batch(Batch("dvc_dossiers", rows[:size]), refs)
        seconds = time.perf_counter() - started
        timings[size] = {
            "seconds": round(seconds, 2),
            "rows_per_s": round(size / seconds),
            "rejected": len(out.rejected),
        }
        print(f"row gate, {size:>7} dossiers in one batch: {seconds:6.2f} s "
              f"({size / seconds:,.0f} rows/s)")  # fmt: skip
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=6_000_000)
    parser.add_argument("--dossiers", type=int, default=1_600_000)
    parser.add_argument("--db", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "bench.duckdb"
        conn = duckdb.connect(str(path))
        for statement in create_all_ddl():
            conn.execute(statement)
        started = time.perf_counter()
        _load_reference(conn, Path(tmp) / "reference")
        _agencies(conn)
        _documents(conn, args.documents)
        _dossiers(conn, args.dossiers)
        conn.execute("CHECKPOINT")
        built = time.perf_counter() - started
        sizes = {
            t: conn.execute(f"SELECT count(*) FROM raw.{t}").fetchone()[0]
            for t in ("qlvb_van_ban", "dvc_dossiers", "ref_co_quan", "ref_thon_ban")
        }
        print(f"warehouse built in {built:.1f} s: {sizes}")
        suites = _time_suites(conn)
        gate = _time_row_gate(conn)
        total = sum(v["seconds"] for v in suites.values())
        print(f"all {len(suites)} suites: {total:.1f} s")
        out = Path(__file__).parent / "results"
        out.mkdir(exist_ok=True)
        report = {
            "date": date.today().isoformat(),
            "sizes": sizes,
            "suites": suites,
            "total_suite_seconds": round(total, 2),
            "row_gate": gate,
        }
        (out / "checks.json").write_text(json.dumps(report, indent=2) + "\n")
        conn.close()


if __name__ == "__main__":
    main()
