"""PostgreSQL connections are pinged at checkout only when they have been idle (bot/store/db.py, _ping_if_idle)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bot.store import db as db_module
from bot.store.db import Database
from tests.conftest import PG_URL

pytestmark = pytest.mark.postgres


async def _pid(database: Database) -> int:
    async with database.session() as s:
        return (await s.execute(text("SELECT pg_backend_pid()"))).scalar_one()


async def _terminate(pid: int) -> None:
    admin = Database(PG_URL)
    try:
        async with admin.session() as s:
            await s.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
    finally:
        await admin.close()


async def test_an_idle_connection_the_server_dropped_is_replaced_before_use(monkeypatch):
    monkeypatch.setattr(db_module, "PING_IF_IDLE_SECONDS", 0.0)  # every returned connection counts as idle
    database = Database(PG_URL)
    try:
        first = await _pid(database)
        await _terminate(first)
        second = await _pid(database)  # the ping failed, the pool connected afresh: no error reaches the caller
        assert second != first
    finally:
        await database.close()


async def test_a_connection_used_a_moment_ago_is_not_pinged(monkeypatch):
    monkeypatch.setattr(db_module, "PING_IF_IDLE_SECONDS", 3600.0)
    database = Database(PG_URL)
    pings = []
    monkeypatch.setattr(database.engine.sync_engine.dialect, "do_ping", lambda c: pings.append(c) or True)
    try:
        first = await _pid(database)
        assert await _pid(database) == first and pings == []  # the same connection, straight back, no round trip
        # What that saves is a check: a connection dropped within the window fails its one unit of work (rolled
        # back), and the pool is refreshed for the next.
        await _terminate(first)
        with pytest.raises(DBAPIError):
            await _pid(database)
        assert await _pid(database) != first
    finally:
        await database.close()
