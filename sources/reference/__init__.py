"""Connector of the reference CSV files (contracts/reference-data.md)."""

from sources.reference.reader import ReferenceDataError, read_reference

__all__ = ["ReferenceDataError", "read_reference"]
