"""The dbt project, in a module of its own so `dagster-dbt project prepare-and-package
--file orchestration/dbt_project.py` (run by `make setup`) can prepare its manifest."""

from pathlib import Path

from dagster_dbt import DbtProject

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
