"""Outbox on PostgreSQL: two workers (two engines, as two app instances would have) never deliver one row twice."""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import pytest
from sqlalchemy import select

from bot.outbox import OutboxWorker, enqueue
from bot.store.db import Database
from bot.store.models_outbox import OutboxRow

pytestmark = pytest.mark.postgres


async def test_two_workers_on_postgresql_never_deliver_the_same_row_twice(pg_schema, clock):
    url, schema = pg_schema
    first, second = Database(url, schema=schema), Database(url, schema=schema)
    await first.migrate()
    await second.migrate()  # the second instance's start-up migration is a no-op
    try:
        async with first.session() as s:
            for i in range(240):
                await enqueue(s, "k", {"i": i}, key=f"pg{i}")
        delivered: Counter[int] = Counter()
        by_worker: Counter[str] = Counter()
        rng = random.Random(7)

        def handler_for(name):
            async def handler(payload):
                delivered[payload["i"]] += 1
                by_worker[name] += 1
                await asyncio.sleep(rng.random() / 500)  # hold the claim a moment so the workers overlap
                return {"by": name}

            return handler

        workers = [
            OutboxWorker(db, {"k": handler_for(f"w{n}")}, clock=clock, batch_size=9, concurrency=3, name=f"w{n}")
            for n, db in enumerate((first, second, first, second))
        ]
        await asyncio.gather(*(w.drain(max_rounds=500) for w in workers))
        assert set(delivered) == set(range(240))
        assert max(delivered.values()) == 1, {i: n for i, n in delivered.items() if n > 1}
        assert len([w for w, n in by_worker.items() if n]) >= 2  # both instances really took part
        async with second.session() as s:
            rows = (await s.execute(select(OutboxRow))).scalars().all()
        assert {r.status for r in rows} == {"delivered"} and {r.attempts for r in rows} == {1}
        assert all(r.result["by"].startswith("w") for r in rows)
    finally:
        await first.close()
        await second.close()


async def test_expired_lease_is_reclaimed_on_postgresql(pg_schema, clock):
    url, schema = pg_schema
    db = Database(url, schema=schema)
    await db.migrate()
    try:
        async with db.session() as s:
            await enqueue(s, "k", {"i": 1}, key="lease")
        seen = []

        async def handler(p):
            seen.append(p)
            return None

        crashed = OutboxWorker(db, {"k": handler}, clock=clock, lease_seconds=60)
        assert len(await crashed._claim()) == 1
        survivor = OutboxWorker(db, {"k": handler}, clock=clock, lease_seconds=60)
        assert await survivor.run_once() == 0
        clock.advance(seconds=61)
        assert await survivor.run_once() == 1 and seen == [{"i": 1}]
    finally:
        await db.close()
