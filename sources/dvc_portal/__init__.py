"""Connector of the public-service portal API (contracts/dvc-portal-api.md)."""

from sources.dvc_portal.client import PortalClient, PortalError

__all__ = ["PortalClient", "PortalError"]
