"""Connector of the document system's database (contracts/qlvb-database.md)."""

from sources.qlvb.reader import QlvbError, QlvbReader

__all__ = ["QlvbError", "QlvbReader"]
