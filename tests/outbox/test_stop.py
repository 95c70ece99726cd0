"""Stopping the outbox worker (shutdown): deliveries under way finish within the grace, rows claimed and never
started are handed back at once, and when the grace runs out whatever is still held is handed back too — so another
instance takes every row without waiting out a lease, and none is delivered twice.

Each test runs on SQLite and on PostgreSQL (the `db` fixture)."""

from __future__ import annotations

import asyncio
from collections import Counter

from sqlalchemy import select

from bot.outbox import OutboxWorker, enqueue
from bot.store.db import Database
from bot.store.models_outbox import OutboxRow


class Gate:
    """A handler that records each delivery as it starts and holds it until the gate opens."""

    def __init__(self):
        self.started: list[int] = []
        self.finished: Counter[int] = Counter()
        self.open = asyncio.Event()
        self.entered = asyncio.Event()

    async def __call__(self, payload: dict):
        self.started.append(payload["i"])
        self.entered.set()
        await self.open.wait()
        self.finished[payload["i"]] += 1
        return {"i": payload["i"]}


async def _enqueue(db: Database, n: int) -> None:
    async with db.session() as s:
        for i in range(n):
            await enqueue(s, "k", {"i": i}, key=f"stop{i}")


async def _rows(db: Database) -> list[OutboxRow]:
    async with db.session() as s:
        return list((await s.execute(select(OutboxRow).order_by(OutboxRow.id))).scalars())


async def _started(gate: Gate, n: int) -> None:
    while len(gate.started) < n:
        await asyncio.wait_for(gate.entered.wait(), 20)  # generous: a loaded machine, not a timing assertion
        gate.entered.clear()


async def test_stop_lets_deliveries_under_way_finish_and_hands_back_the_rest_of_the_batch(db, clock):
    await _enqueue(db, 8)
    gate = Gate()
    w = OutboxWorker(db, {"k": gate}, clock=clock, batch_size=8, concurrency=3, lease_seconds=600)
    w.start()
    await _started(gate, 3)  # three on the wire, five claimed and waiting for a slot
    stopping = asyncio.create_task(w.stop(grace=30))
    await asyncio.sleep(0.05)
    gate.open.set()
    await stopping
    assert sorted(gate.started) == [0, 1, 2]  # nothing new started once stopping
    rows = await _rows(db)
    assert [r.status for r in rows] == ["delivered"] * 3 + ["pending"] * 5
    # Handed back as they were: unclaimed, due now, their claim's attempt given back.
    assert all(r.claimed_until is None and r.claim_token is None for r in rows)
    assert [r.attempts for r in rows] == [1] * 3 + [0] * 5

    other = OutboxWorker(db, {"k": gate}, clock=clock, batch_size=8)  # another instance, same clock: no wait
    assert await other.run_once() == 5
    assert set(gate.finished) == set(range(8)) and max(gate.finished.values()) == 1


async def test_when_the_grace_runs_out_everything_still_held_is_handed_back(db, clock):
    await _enqueue(db, 6)
    gate = Gate()  # never opens: these deliveries hang
    w = OutboxWorker(db, {"k": gate}, clock=clock, batch_size=6, concurrency=2, lease_seconds=600)
    w.start()
    await _started(gate, 2)
    await w.stop(grace=0.2)
    rows = await _rows(db)
    assert {r.status for r in rows} == {"pending"}
    assert all(r.claimed_until is None and r.claim_token is None for r in rows)
    assert [r.attempts for r in rows] == [1, 1, 0, 0, 0, 0]  # the two cut off count as tried

    gate.open.set()
    other = OutboxWorker(db, {"k": gate}, clock=clock, batch_size=6)
    assert await other.run_once() == 6  # at once, not after the 600 s lease


async def test_a_hook_cut_off_by_the_grace_runs_elsewhere_without_delivering_again(db, clock):
    await _enqueue(db, 1)
    deliveries: list[int] = []
    hooked: list[str] = []
    hang = asyncio.Event()

    async def handler(payload):
        deliveries.append(payload["i"])
        return {"ok": True}

    async def slow_hook(msg, result):
        hang.set()
        await asyncio.Event().wait()  # the journey's follow-up hangs past the grace

    async def hook(msg, result):
        hooked.append(msg.key)

    w = OutboxWorker(db, {"k": handler}, clock=clock, on_delivered=slow_hook, lease_seconds=600)
    w.start()
    await asyncio.wait_for(hang.wait(), 20)
    await w.stop(grace=0.2)
    (row,) = await _rows(db)
    assert row.status == "delivered" and not row.hook_done and row.claimed_until is None

    other = OutboxWorker(db, {"k": handler}, clock=clock, on_delivered=hook)
    await other.run_once()
    assert deliveries == [0] and hooked == ["stop0"]
    assert (await _rows(db))[0].hook_done


async def test_stop_logs_counts_only(db, clock, caplog):
    import logging

    async with db.session() as s:
        await enqueue(s, "k", {"i": 0, "note": "Pupil X disclosed something"}, key="stop-log")
    gate = Gate()
    w = OutboxWorker(db, {"k": gate}, clock=clock, name="outbox")
    w.start()
    await _started(gate, 1)
    with caplog.at_level(logging.INFO, logger="bot.outbox.worker"):
        await w.stop(grace=0.2)
    assert "outbox worker outbox stopped: finished=0 handed_back=1 cancelled=1" in caplog.text
    assert "Pupil X" not in caplog.text
