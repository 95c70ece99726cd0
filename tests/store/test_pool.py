"""The DSL's changes to the supervisor pool in bot/store/pool.py, on SQLite and PostgreSQL: adding, updating,
retiring and bringing back a supervisor (NotFound for someone never in the pool)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from bot.store import pool
from bot.store.errors import NotFound
from bot.store.models_request import PoolMember

NOW = dt.datetime(2026, 11, 23, 10, tzinfo=dt.timezone.utc)
LATER = NOW + dt.timedelta(days=1)


async def test_add_then_update_then_retire_then_bring_back(db):
    async with db.session() as s:
        assert (
            await pool.add_to_pool(
                s, "grace.mensah", trained_on=dt.date(2026, 10, 1), capacity=2, by="amara.okafor", now=NOW
            )
            is False
        )
    async with db.session() as s:
        row = await pool.pool_member(s, "grace.mensah")
        assert (row.trained_on, row.capacity, row.active, row.source, row.changed_by) == (
            dt.date(2026, 10, 1),
            2,
            True,
            "dsl",
            "amara.okafor",
        )
        assert (
            await pool.add_to_pool(
                s, "grace.mensah", trained_on=dt.date(2026, 10, 2), capacity=None, by="marcus.fenwick", now=LATER
            )
            is True
        )  # already active: updated
    async with db.session() as s:
        row = await pool.pool_member(s, "grace.mensah")
        assert (row.trained_on, row.capacity, row.changed_by) == (dt.date(2026, 10, 2), None, "marcus.fenwick")
        assert await pool.retire_from_pool(s, "grace.mensah", by="amara.okafor", now=LATER) is True
        assert await pool.retire_from_pool(s, "grace.mensah", by="amara.okafor", now=LATER) is False
    async with db.session() as s:
        row = await pool.pool_member(s, "grace.mensah")
        assert (row.active, row.retired_at, row.changed_by) == (False, LATER, "amara.okafor")
        assert (
            await pool.add_to_pool(
                s, "grace.mensah", trained_on=dt.date(2026, 11, 1), capacity=3, by="amara.okafor", now=LATER
            )
            is False
        )  # retired: brought back
    async with db.session() as s:
        row = await pool.pool_member(s, "grace.mensah")
        assert (row.active, row.retired_at, row.capacity) == (True, None, 3)
        assert (await s.execute(select(func.count()).select_from(PoolMember))).scalar_one() == 1


async def test_someone_never_in_the_pool_is_not_found(db):
    async with db.session() as s:
        with pytest.raises(NotFound):
            await pool.pool_member(s, "tom.hollis")
        with pytest.raises(NotFound):
            await pool.retire_from_pool(s, "tom.hollis", by="amara.okafor", now=NOW)
