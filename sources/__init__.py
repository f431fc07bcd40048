"""Connectors to the systems the pipeline reads, and the demo simulator of them.

Nothing here knows about Dagster or the warehouse: a connector yields `Batch`es.
"""
