"""One suite per dataset: `SPEC` describes the table and lists its rules (see `rules.py`).

Landed datasets (`raw.*`): the four reference files, the portal's procedures, dossiers and
ratings, the document system's units, documents, work files and meetings, the telecom
coverage rows and the feed-file registry (`telecom_files`). `staging.py` holds the suites of
the key dbt staging models.
"""
