"""The local PostgreSQL server of the tests: throw-away databases, skipped when unreachable."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

SERVER = "postgresql://postgres@127.0.0.1:5432"
ADMIN_DB = "postgres"


def admin_connection():  # type: ignore[no-untyped-def]  # a psycopg2 connection
    """An autocommit connection to the server's maintenance database, or skip the test."""
    import psycopg2

    try:
        connection = psycopg2.connect(f"{SERVER}/{ADMIN_DB}", connect_timeout=3)
    except psycopg2.OperationalError as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        pytest.skip(f"PostgreSQL server at {SERVER} is not reachable: {first}")
    connection.autocommit = True
    return connection


@contextmanager
def fresh_database(prefix: str = "cds_pg") -> Iterator[str]:
    """The URL of a new, empty database, dropped afterwards (with its connections)."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = admin_connection()
    try:
        with admin.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {name}")
        try:
            yield f"{SERVER}/{name}"
        finally:
            with admin.cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        admin.close()


def query(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    import psycopg2

    connection = psycopg2.connect(url)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params or None)
            return cursor.fetchall() if cursor.description else []
    finally:
        connection.close()
