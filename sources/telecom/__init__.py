"""Connector of the carriers' monthly coverage feeds (contracts/telecom-feeds.md)."""

from sources.telecom.files import FeedFile, newest_per_carrier_month, scan_folder
from sources.telecom.readers import FeedFileError, read_feed

__all__ = ["FeedFile", "FeedFileError", "newest_per_carrier_month", "read_feed", "scan_folder"]
