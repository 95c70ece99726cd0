"""Outbox: enqueue in the caller's transaction, delivery with retries, dead letters, leases, hooks.

Each test runs on SQLite and on PostgreSQL (the `db` fixture)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random

import pytest
from sqlalchemy import func, select

from bot.outbox import Effect, OutboxWorker, PermanentFailure, RetryLater, enqueue, enqueue_many, get, requeue
from bot.store.db import Database
from bot.store.models_outbox import OutboxRow


class Recorder:
    """A handler that records every call and replays a scripted list of outcomes (exception or result)."""

    def __init__(self, *outcomes):
        self.calls: list[dict] = []
        self.outcomes = list(outcomes)

    async def __call__(self, payload: dict):
        self.calls.append(payload)
        out = self.outcomes.pop(0) if self.outcomes else {"ok": True, "n": len(self.calls)}
        if isinstance(out, BaseException):
            raise out
        return out


async def _row(db: Database, key: str) -> OutboxRow:
    async with db.session() as s:
        return (await s.execute(select(OutboxRow).where(OutboxRow.key == key))).scalar_one()


async def _count(db: Database) -> int:
    async with db.session() as s:
        return (await s.execute(select(func.count()).select_from(OutboxRow))).scalar_one()


async def test_enqueue_rolls_back_with_the_callers_transaction(db):
    with pytest.raises(RuntimeError):
        async with db.session() as s:
            await enqueue(s, "file.upload", {"record_id": 1}, key="rec:1")
            raise RuntimeError("the journey's own write failed")
    assert await _count(db) == 0


async def test_enqueue_same_key_twice_is_a_noop(db):
    async with db.session() as s:
        assert await enqueue(s, "file.upload", {"record_id": 1}, key="rec:1") is True
    async with db.session() as s:
        assert await enqueue(s, "file.upload", {"record_id": 999}, key="rec:1") is False
    assert await _count(db) == 1
    async with db.session() as s:
        msg = await get(s, "rec:1")
    assert msg.payload == {"record_id": 1} and msg.status == "pending"


async def test_enqueue_many_is_one_statement_and_skips_keys_already_queued(db):
    from sqlalchemy import event

    async with db.session() as s:
        await enqueue(s, "teams.notify", {"n": 0}, key="many:0")
    statements = []

    def count(*_a):
        statements.append(1)

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        async with db.session() as s:
            added = await enqueue_many(s, [Effect("teams.notify", {"n": i}, key=f"many:{i}") for i in range(3)])
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    assert added == 2 and len(statements) == 1
    async with db.session() as s:
        assert (await get(s, "many:0")).payload == {"n": 0}  # the earlier row is kept as it was
        assert (await get(s, "many:2")).payload == {"n": 2}
        assert await enqueue_many(s, []) == 0
        with pytest.raises(TypeError):  # the same checks as enqueue, before writing
            await enqueue_many(
                s, [Effect("k", {"ok": 1}, key="v1"), Effect("k", {"when": dt.datetime.now()}, key="v2")]
            )
    assert await _count(db) == 3


async def test_enqueue_rejects_payloads_that_are_not_small_plain_json(db):
    async with db.session() as s:
        with pytest.raises(TypeError):
            await enqueue(s, "k", {"when": dt.datetime.now()}, key="a")
        with pytest.raises(ValueError):
            await enqueue(s, "k", {"blob": "x" * 300_000}, key="b")
        with pytest.raises(ValueError):
            await enqueue(s, "k", {}, key="c", not_before=dt.datetime(2026, 1, 1))


async def test_delivers_stores_result_and_hook_writes_in_its_own_transaction(db, clock):
    handler = Recorder({"webUrl": "https://x/y.docx", "name": "y.docx"})
    seen = []

    async def on_delivered(row, result):
        seen.append((row.key, result, row.attempts))
        # A journey records the outcome through row.session: here, it queues the follow-up notification.
        await enqueue(row.session, "notify", {"url": result["webUrl"]}, key=f"{row.key}:notify")

    async with db.session() as s:
        await enqueue(s, "file.upload", {"record_id": 7}, key="rec:7")
    w = OutboxWorker(db, {"file.upload": handler}, clock=clock, on_delivered=on_delivered)
    assert await w.run_once() == 1
    assert handler.calls == [{"record_id": 7}]
    assert seen == [("rec:7", {"webUrl": "https://x/y.docx", "name": "y.docx"}, 1)]
    row = await _row(db, "rec:7")
    assert (row.status, row.result["webUrl"], row.hook_done, row.claim_token) == (
        "delivered",
        "https://x/y.docx",
        True,
        None,
    )
    assert row.finished_at == clock.now
    follow = await _row(db, "rec:7:notify")
    assert follow.payload == {"url": "https://x/y.docx"}
    assert await w.run_once() == 0  # the follow-up kind has no handler here; nothing redelivered
    assert len(handler.calls) == 1


async def test_retry_after_is_honoured_to_the_second(db, clock):
    handler = Recorder(RetryLater(120, "throttled"), {"id": "E1"})
    async with db.session() as s:
        await enqueue(s, "event.create", {"b": 1}, key="b:1")
    w = OutboxWorker(db, {"event.create": handler}, clock=clock)
    assert await w.run_once() == 0
    row = await _row(db, "b:1")
    assert row.status == "pending" and row.not_before == clock.now + dt.timedelta(seconds=120)
    assert row.attempts == 1 and "throttled" in row.last_error and row.claimed_until is None
    clock.advance(seconds=119)
    assert await w.run_once() == 0 and len(handler.calls) == 1
    clock.advance(seconds=1)
    assert await w.run_once() == 1
    assert (await _row(db, "b:1")).result == {"id": "E1"}


async def test_unexpected_errors_back_off_exponentially_with_jitter(db, clock):
    handler = Recorder(*[ConnectionError("reset")] * 5)
    async with db.session() as s:
        await enqueue(s, "k", {}, key="x")
    w = OutboxWorker(
        db, {"k": handler}, clock=clock, base_delay=10, max_delay=1000, max_attempts=10, rng=random.Random(4)
    )
    delays = []
    for _ in range(5):
        before = clock.now
        await w.run_once()
        row = await _row(db, "x")
        delays.append((row.not_before - before).total_seconds())
        clock.now = row.not_before
    steps = [10, 20, 40, 80, 160]
    for d, step in zip(delays, steps):
        assert step / 2 <= d <= step
    assert len(set(d / s for d, s in zip(delays, steps))) > 1  # jittered, not a fixed multiple
    assert (await _row(db, "x")).attempts == 5


async def test_permanent_failure_dead_letters_at_once_and_tells_the_hook_once(db, clock):
    handler = Recorder(PermanentFailure("403: the mailbox is outside the app's scope"))
    dead = []
    async with db.session() as s:
        await enqueue(s, "event.create", {"b": 2}, key="b:2")
    w = OutboxWorker(db, {"event.create": handler}, clock=clock, on_dead_letter=lambda row: dead.append(row))
    assert await w.run_once() == 0
    assert [r.key for r in dead] == ["b:2"] and "outside the app's scope" in dead[0].last_error
    row = await _row(db, "b:2")
    assert row.status == "dead" and row.attempts == 1 and row.hook_done
    clock.advance(days=1)
    await w.drain()
    assert len(handler.calls) == 1 and len(dead) == 1


async def test_dead_letter_after_max_attempts_then_requeue(db, clock):
    handler = Recorder(*[RetryLater(None, "503")] * 3)
    dead = []
    async with db.session() as s:
        await enqueue(s, "k", {}, key="y")
    w = OutboxWorker(db, {"k": handler}, clock=clock, max_attempts=3, on_dead_letter={"k": dead.append})
    for _ in range(5):
        await w.run_once()
        clock.advance(hours=2)
    assert len(handler.calls) == 3 and len(dead) == 1
    row = await _row(db, "y")
    assert row.status == "dead" and row.attempts == 3 and "gave up after 3 attempts" in row.last_error
    async with db.session() as s:
        assert await requeue(s, "y") is True
    assert await w.run_once() == 1
    assert (await _row(db, "y")).status == "delivered"


async def test_expired_lease_is_reclaimed_and_the_late_worker_cannot_overwrite(db, clock):
    handler = Recorder({"id": "from-b"})
    async with db.session() as s:
        await enqueue(s, "k", {"n": 1}, key="z")
    crashed = OutboxWorker(db, {"k": handler}, clock=clock, lease_seconds=300)
    claimed = await crashed._claim()  # claims, then "dies" before recording anything
    assert [c.key for c in claimed] == ["z"]
    other = OutboxWorker(db, {"k": handler}, clock=clock, lease_seconds=300)
    assert await other.run_once() == 0  # the lease still holds
    clock.advance(seconds=301)
    assert await other.run_once() == 1
    row = await _row(db, "z")
    assert row.result == {"id": "from-b"} and row.attempts == 2
    # The first worker wakes up and tries to record its own outcome: its claim token is stale.
    assert await crashed._finish(claimed[0], "delivered", result={"id": "stale"}) is None
    assert (await _row(db, "z")).result == {"id": "from-b"}


async def test_survives_a_restart(tmp_path, clock):
    url = f"sqlite+aiosqlite:///{tmp_path / 'restart.sqlite3'}"
    first = Database(url)
    await first.migrate()
    async with first.session() as s:
        for i in range(3):
            await enqueue(s, "k", {"i": i}, key=f"r{i}")
    w = OutboxWorker(first, {"k": Recorder(RetryLater(30))}, clock=clock, batch_size=1)
    await w.run_once()
    await first.close()
    second = Database(url)
    await second.migrate()
    handler = Recorder()
    clock.advance(seconds=30)
    assert await OutboxWorker(second, {"k": handler}, clock=clock).drain() == 3
    assert sorted(c["i"] for c in handler.calls) == [0, 1, 2]
    await second.close()


async def test_unknown_kinds_are_left_alone(db, clock):
    async with db.session() as s:
        await enqueue(s, "from.a.newer.version", {}, key="n")
    w = OutboxWorker(db, {"k": Recorder()}, clock=clock)
    assert await w.drain() == 0
    row = await _row(db, "n")
    assert (row.status, row.attempts, row.claim_token) == ("pending", 0, None)


async def test_a_chain_is_delivered_in_order_after_each_hook(db, clock):
    order = []

    async def create(p):
        order.append(("create", p))
        if len([o for o in order if o[0] == "create"]) == 1:
            raise RetryLater(60)
        return {"event_id": "E9"}

    async def move(p):
        order.append(("move", p))
        return None

    recorded = {}

    async def on_delivered(row, result):
        if row.kind == "create":
            recorded["event_id"] = result["event_id"]

    async with db.session() as s:
        await enqueue(s, "create", {"b": 9}, key="b9:create", chain="booking:9")
        await enqueue(s, "move", {"b": 9}, key="b9:move", chain="booking:9")
        await enqueue(s, "move", {"b": 10}, key="b10:move", chain="booking:10")
    w = OutboxWorker(db, {"create": create, "move": move}, clock=clock, on_delivered=on_delivered)
    await w.run_once()
    # The create failed; its chain waits, the other chain goes ahead.
    assert [o[0] for o in order] == ["create", "move"] and order[1][1] == {"b": 10}
    clock.advance(seconds=60)
    await w.run_once()
    assert recorded == {"event_id": "E9"} and [o[0] for o in order] == ["create", "move", "create"]
    await w.run_once()
    assert order[-1] == ("move", {"b": 9})


async def test_failing_hook_is_retried_without_redelivering(db, clock):
    handler = Recorder({"id": 1})
    hook_calls = []

    async def flaky_hook(row, result):
        hook_calls.append(row.key)
        if len(hook_calls) == 1:
            raise RuntimeError("journey table locked")

    async with db.session() as s:
        await enqueue(s, "k", {}, key="h")
    w = OutboxWorker(db, {"k": handler}, clock=clock, on_delivered=flaky_hook, hook_retry_delay=30)
    assert await w.run_once() == 1
    row = await _row(db, "h")
    assert row.status == "delivered" and not row.hook_done and "journey table locked" in row.last_error
    assert await w.run_once() == 0 and hook_calls == ["h"]  # waits hook_retry_delay
    clock.advance(seconds=30)
    await w.run_once()
    assert hook_calls == ["h", "h"] and len(handler.calls) == 1
    assert (await _row(db, "h")).hook_done


async def test_auth_style_failures_do_not_use_up_attempts_and_log_once(db, clock, caplog):
    handler = Recorder(
        *[RetryLater(300, "Microsoft Graph sign-in failed: the client secret has expired", counts_as_attempt=False)]
        * 10
    )
    async with db.session() as s:
        for i in range(5):
            await enqueue(s, "k", {"i": i}, key=f"a{i}")
    w = OutboxWorker(db, {"k": handler}, clock=clock, max_attempts=2)
    with caplog.at_level(logging.WARNING, logger="bot.outbox.worker"):
        await w.run_once()
        clock.advance(seconds=300)
        await w.run_once()
    assert len(handler.calls) == 10
    async with db.session() as s:
        rows = (await s.execute(select(OutboxRow))).scalars().all()
    assert {(r.status, r.attempts) for r in rows} == {("pending", 0)}
    lines = [r for r in caplog.records if "client secret has expired" in r.getMessage()]
    assert len(lines) == 1 and lines[0].exc_info is None


async def test_start_wake_and_stop(db):
    delivered = asyncio.Event()
    handler = Recorder()

    async def signalling(payload):
        result = await handler(payload)
        delivered.set()
        return result

    w = OutboxWorker(db, {"k": signalling}, poll_interval=30)  # only wake() can make it look again in time
    w.start()
    await asyncio.sleep(0.05)
    async with db.session() as s:
        await enqueue(s, "k", {"n": 1}, key="bg")
    w.wake()
    await asyncio.wait_for(delivered.wait(), 20)  # generous: a loaded CI machine, not a timing assertion
    await w.stop()
    assert handler.calls == [{"n": 1}]
    assert (await _row(db, "bg")).status == "delivered"


async def test_two_workers_in_one_process_never_deliver_a_row_twice(db, clock):
    seen: list[int] = []

    async def handler(p):
        seen.append(p["i"])
        await asyncio.sleep(0)
        return None

    async with db.session() as s:
        for i in range(60):
            await enqueue(s, "k", {"i": i}, key=f"s{i}")
    a = OutboxWorker(db, {"k": handler}, clock=clock, batch_size=7)
    b = OutboxWorker(db, {"k": handler}, clock=clock, batch_size=5)
    await asyncio.gather(a.drain(), b.drain())
    assert sorted(seen) == list(range(60))
