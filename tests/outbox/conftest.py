"""Outbox fixtures. `db` (SQLite and PostgreSQL) and `clock` come from tests/conftest.py; the tests here that are
about two instances on one PostgreSQL get their own schema and two engines from `pg_schema`."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from bot.store.db import Database
from tests.conftest import PG_URL


@pytest.fixture
async def pg_schema():
    """A fresh schema on the local PostgreSQL; yields (url, schema) and drops the schema afterwards."""
    admin = Database(PG_URL)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    async with admin.engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield PG_URL, schema
    finally:
        async with admin.engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.close()
