"""Instances of the whole app (`create_app`, workers on) sharing one store, under a reminder round for 250 staff and
a burst of outbox messages: two running side by side on one PostgreSQL schema, and one shut down mid-round (the
sequence `run_app` runs on SIGTERM) with the next one finishing. Checked from the connector double's own log: every
side effect happens, and none twice."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import pytest
from aiohttp import web
from sqlalchemy import select

from bench.fanout import NOW, make_school
from bot.app import create_app
from bot.settings import load_settings
from bot.store.models_compliance import OPEN_STATES, ReminderClaim
from bot.store.models_outbox import OutboxRow
from tests.app.test_shutdown import BURST, delivered_markers, seed_burst
from tests.conftest import FakeClock
from tests.fakes.connector import ConnectorDouble
from tests.reminders.helpers import add_refs, second_instance

STAFF = 250  # more than one lease batch (200), so a round spans several batches


@pytest.fixture
def big_school(tmp_path):
    path = tmp_path / "school.yaml"
    make_school(STAFF, path)
    return path


@pytest.fixture
async def pg_db():
    """One migrated PostgreSQL schema (the two-instance test is about PostgreSQL only)."""
    from tests.conftest import _drop_pg_schema, _pg_database

    database, schema = await _pg_database()
    await database.migrate()
    try:
        yield database
    finally:
        await database.close()
        await _drop_pg_schema(schema)


def settings_for(tmp_path, school, db, instance: str):
    return load_settings(
        DATABASE_URL=db.url,
        SCHOOL_CONFIG=str(school),
        LOCAL_M365_DIR=str(tmp_path / instance),
        INSTANCE_ID=instance,
        WORKERS=True,
    )


async def start(app: web.Application) -> web.AppRunner:
    runner = web.AppRunner(app)
    await runner.setup()  # startup: migrations, the outbox worker and the scheduler start
    return runner


def reminders_by_conversation(connector: ConnectorDouble) -> Counter[str]:
    return Counter(c.conversation_id for c in connector.sent if '"reminder-' in json.dumps(c.activity))


def repeated_posts(connector: ConnectorDouble) -> list:
    """Any message posted twice to one conversation (same card): a duplicated side effect of any kind."""
    seen = Counter(
        (c.conversation_id, json.dumps(c.activity.get("attachments"), sort_keys=True))
        for c in connector.sent
        if not c.updated
    )
    return [k for k, n in seen.items() if n > 1]


async def claims(db) -> list[ReminderClaim]:
    async with db.session() as s:
        return list((await s.execute(select(ReminderClaim).where(ReminderClaim.point == 10))).scalars())


async def settled(db) -> bool:
    """The round is over (every claim sent or given up) and every burst row delivered."""
    async with db.session() as s:
        rows = (await s.execute(select(OutboxRow.status).where(OutboxRow.key.like("burst:%")))).scalars().all()
    round_ = await claims(db)
    return (
        len(round_) == STAFF
        and all(c.status not in OPEN_STATES for c in round_)
        and len(rows) == BURST
        and set(rows) == {"delivered"}
    )


async def until(predicate, within: float = 120.0) -> None:
    """Poll until predicate() holds (generous against a loaded machine: not a timing assertion)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await predicate():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.1)


@pytest.mark.postgres
async def test_two_instances_on_one_postgresql_schema_send_everything_once(pg_db, big_school, tmp_path):
    connector = await ConnectorDouble().start()
    clock = FakeClock(NOW)  # 09:00 on Mon 7 Dec 2026: point 10 of Autumn 2, window open
    other_db = await second_instance(pg_db)
    runners = []
    try:
        await add_refs(pg_db, [f"staff{i:05d}" for i in range(STAFF)], service_url=connector.url)
        await seed_burst(pg_db, connector.url, staff=[f"staff{i:05d}" for i in range(STAFF)])
        apps = [
            create_app(settings_for(tmp_path, big_school, d, name), clock=clock, db=d)
            for d, name in ((pg_db, "bot-a"), (other_db, "bot-b"))
        ]
        runners = list(await asyncio.gather(*(start(a) for a in apps)))
        await until(lambda: settled(pg_db))
    finally:
        for r in runners:
            await r.cleanup()
        await other_db.close()
        await connector.stop()
    round_ = await claims(pg_db)
    assert {c.status for c in round_} == {"sent"}
    sent = reminders_by_conversation(connector)
    assert len(sent) == STAFF and max(sent.values()) == 1  # everyone once
    burst = delivered_markers(connector)
    assert len(burst) == BURST and max(burst.values()) == 1
    assert repeated_posts(connector) == []  # no side effect of any kind twice


async def test_an_instance_shut_down_mid_round_leaves_the_rest_to_the_next(db, big_school, tmp_path, caplog):
    import logging

    connector = await ConnectorDouble(delay=0.5).start()
    clock = FakeClock(NOW)
    other_db = await second_instance(db)
    try:
        await add_refs(db, [f"staff{i:05d}" for i in range(STAFF)], service_url=connector.url)
        first = await start(create_app(settings_for(tmp_path, big_school, db, "bot-a"), clock=clock, db=db))
        try:

            async def first_reminder_arrived():
                return bool(reminders_by_conversation(connector))

            await until(first_reminder_arrived)
        finally:
            with caplog.at_level(logging.INFO, logger="bot"):
                await first.cleanup()  # what run_app does on SIGTERM: stop listening, on_shutdown, cleanup
        by_first = set(reminders_by_conversation(connector))
        round_ = await claims(db)
        assert "sending" not in {c.status for c in round_}  # nothing held: every send on the wire finished
        assert {f"a:personal-{c.staff_id}" for c in round_ if c.status == "sent"} == by_first
        assert len(by_first) < STAFF and {c.lease_owner for c in round_ if c.status == "pending"} == {None}
        assert "reminder scheduler stopped: released=" in caplog.text and "in_doubt=0" in caplog.text

        connector.delay = 0
        second = await start(
            create_app(settings_for(tmp_path, big_school, other_db, "bot-b"), clock=clock, db=other_db)
        )
        try:

            async def round_over():
                return all(c.status not in OPEN_STATES for c in await claims(db))

            await until(round_over)
        finally:
            await second.cleanup()
    finally:
        await other_db.close()
        await connector.stop()
    sent = reminders_by_conversation(connector)
    assert len(sent) == STAFF and max(sent.values()) == 1
    assert repeated_posts(connector) == []
