"""bot/store/batch.py: one new object in one statement; several tables in one trip; the last batch's commit."""

from __future__ import annotations

import dataclasses
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.domain.request_rules import Route
from bot.outbox.effects import notify
from bot.store import audit, batch
from bot.store import requests as store
from bot.store.errors import AlreadySent
from bot.store.models import SentCard
from bot.store.models_audit import AuditEvent
from bot.store.models_outbox import OutboxRow
from bot.store.models_request import SupervisionRequest
from tests.store.test_requests import FORM as REQUEST_FORM
from tests.store.test_requests import NOW

LONDON = ZoneInfo("Europe/London")


FORM = dataclasses.replace(REQUEST_FORM, pupil_cases=3)


async def _add(s, draft: str, *, with_last_batch: bool = False, now=NOW) -> SupervisionRequest:
    return await store.add(
        s,
        draft_id=draft,
        requester_id="tom.hollis",
        form=FORM,
        route=Route.ALLOCATION,
        now=now,
        with_last_batch=with_last_batch,
    )


def _audit(request_id: int) -> dict:
    return audit.event_row(
        actor_id="tom.hollis", action=audit.SUBMITTED, kind=audit.REQUEST, object_id=request_id, at=NOW, tz=LONDON
    )


async def _count(db, model) -> int:
    async with db.session() as s:
        return (await s.execute(select(func.count()).select_from(model))).scalar_one()


async def test_insert_object_writes_every_column_and_leaves_a_persistent_object(db):
    async with db.session() as s:
        req = await _add(s, "d1")
        assert req.id is not None and req in s
        assert (req.status, req.supervisor_id, req.continue_current) == ("submitted", None, False)
        req.status = "allocated"  # an ordinary change of a loaded object: an UPDATE at the commit
    async with db.session() as s:
        back = (await s.execute(select(SupervisionRequest))).scalar_one()
        assert (back.id, back.status, back.topics, back.note, back.pupil_cases, back.school_id) == (
            req.id,
            "allocated",
            ["wellbeing"],
            "A short note.",
            3,
            "school",
        )
        assert back.created_at == NOW


async def test_insert_object_on_a_taken_unique_key_is_already_sent_and_writes_nothing(db):
    async with db.session() as s:
        await _add(s, "same")
    with pytest.raises(AlreadySent):
        async with db.session() as s:
            await _add(s, "same")
    assert await _count(db, SupervisionRequest) == 1


async def test_last_batch_commits_with_its_rows_and_refuses_a_write_after_it(db):
    async with db.session() as s:
        req = await _add(s, "d2")
        effect = notify("helen.ashdown", {"type": "AdaptiveCard", "body": []}, key=f"request:{req.id}:alloc:h")
        added = await store.write_submitted(s, events=[_audit(req.id)], effects=[effect], status_card=None, now=NOW)
        assert added == 1
    assert (await _count(db, AuditEvent), await _count(db, OutboxRow)) == (1, 1)

    with pytest.raises(batch.WriteAfterLast):
        async with db.session() as s:
            req = await _add(s, "d3")
            await store.write_submitted(s, events=[_audit(req.id)], effects=[], status_card=None, now=NOW)
            req.status = "withdrawn"
            await s.flush()
    async with db.session() as s:
        statuses = sorted((await s.execute(select(SupervisionRequest.status))).scalars())
    # On SQLite the last batch had committed d3 (its commit travels with the batch); PostgreSQL commits at the end
    # of the unit of work, which the refused write rolled back. Neither wrote the refused change.
    assert "withdrawn" not in statuses
    assert statuses == (["submitted", "submitted"] if db.is_sqlite else ["submitted"])


async def test_a_failed_statement_in_the_last_batch_commits_nothing(db):
    with pytest.raises(Exception):  # noqa: B017, PT011 - the driver's IntegrityError, whichever the backend
        async with db.session() as s:
            req = await _add(s, "d4")
            row = dict(staff_id="tom.hollis", ref="r", activity_id="a", conversation_id="c", sent_at=NOW)
            await batch.insert_all(
                s, batch.Insert(AuditEvent, [_audit(req.id)]), batch.Insert(SentCard, [row, row]), last=True
            )
    assert (await _count(db, SupervisionRequest), await _count(db, AuditEvent), await _count(db, SentCard)) == (0, 0, 0)


async def test_pending_changes_are_flushed_before_the_last_batch(db):
    async with db.session() as s:
        req = await _add(s, "d5")
        req.supervisor_id = "priya.raman"  # dirty before the last batch: flushed first, in the same transaction
        await store.write_submitted(s, events=[_audit(req.id)], effects=[], status_card=None, now=NOW)
    async with db.session() as s:
        assert (await s.execute(select(SupervisionRequest.supervisor_id))).scalar_one() == "priya.raman"


async def test_several_tables_in_one_trip_count_what_each_added(db):
    async with db.session() as s:
        req = await _add(s, "d6")
        e1 = notify("helen.ashdown", {"type": "AdaptiveCard", "body": []}, key="k1")
        e2 = notify("daniel.whitcombe", {"type": "AdaptiveCard", "body": []}, key="k2")
        counts = await batch.insert_all(
            s,
            batch.Insert(AuditEvent, [_audit(req.id), _audit(req.id)]),
            batch.outbox(s, [e1, e2], now=NOW),
            batch.Insert(SentCard, []),
        )
        assert counts == [2, 2, 0]
    async with db.session() as s:
        again = await batch.insert_all(s, batch.outbox(s, [e1], now=NOW))  # a key already queued is skipped
        assert again == [0]
    assert await _count(db, OutboxRow) == 2


# ---- PostgreSQL: the request's id in advance, its INSERT with the last batch, no BEGIN/COMMIT -------------------
@pytest.fixture
async def pg_db():
    from tests.conftest import _drop_pg_schema, _pg_database

    database, schema = await _pg_database()
    await database.migrate()
    try:
        yield database, schema
    finally:
        await database.close()
        await _drop_pg_schema(schema)


def _statements(db) -> list[str]:
    """Every statement asyncpg sends on this database's connections from now on (BEGIN and COMMIT included)."""
    from sqlalchemy import event

    seen: list[str] = []

    def on_connect(dbapi_conn, _record) -> None:
        dbapi_conn.driver_connection.add_query_logger(lambda r: seen.append(" ".join(r.query.split())[:40]))

    event.listen(db.engine.sync_engine, "connect", on_connect)
    return seen


async def _fresh_pool(db) -> None:
    await db.engine.dispose()  # connections made from now on carry the query logger


async def _submit(db, draft: str, *, now=NOW) -> SupervisionRequest:
    async with db.session() as s:
        req = await _add(s, draft, with_last_batch=True, now=now)
        effect = notify("helen.ashdown", {"type": "AdaptiveCard", "body": []}, key=f"request:{req.id}:alloc:h")
        await store.write_submitted(s, events=[_audit(req.id)], effects=[effect], status_card=None, now=NOW)
    return req


@pytest.mark.postgres
async def test_on_postgresql_a_submit_is_one_statement_and_its_ids_come_in_blocks(pg_db):
    db, _ = pg_db
    seen = _statements(db)
    await _fresh_pool(db)
    first = await _submit(db, "p1")
    ids = [first.id] + [(await _submit(db, f"p{i}")).id for i in range(2, batch.ID_BLOCK + 2)]
    assert ids == list(range(ids[0], ids[0] + batch.ID_BLOCK + 1))  # in order, within this process
    nextval = [q for q in seen if q.startswith("SELECT nextval")]
    writes = [q for q in seen if q.startswith("WITH t0 AS")]
    assert len(nextval) == 2  # a block of ID_BLOCK, then the next block for the last submit
    assert len(writes) == batch.ID_BLOCK + 1
    assert not [q for q in seen if q.split()[0] in ("BEGIN", "COMMIT", "BEGIN;", "COMMIT;")], seen
    async with db.session() as s:
        rows = (await s.execute(select(SupervisionRequest.id).order_by(SupervisionRequest.id))).scalars().all()
    assert rows == ids and await _count(db, AuditEvent) == len(ids) and await _count(db, OutboxRow) == len(ids)


@pytest.mark.postgres
async def test_on_postgresql_a_unit_of_work_that_read_first_keeps_its_transaction(pg_db):
    db, _ = pg_db
    seen = _statements(db)
    await _fresh_pool(db)
    with pytest.raises(Exception):  # noqa: B017, PT011 - the driver's IntegrityError
        async with db.session() as s:
            await s.execute(select(func.count()).select_from(SupervisionRequest))  # BEGIN goes with this read
            req = await _add(s, "t1", with_last_batch=True)
            row = dict(staff_id="tom.hollis", ref="r", activity_id="a", conversation_id="c", sent_at=NOW)
            await batch.insert_all(
                s, batch.Insert(AuditEvent, [_audit(req.id)]), batch.Insert(SentCard, [row, row]), last=True
            )
    assert seen[0].startswith("BEGIN") and any(q.startswith("ROLLBACK") for q in seen), seen
    assert (await _count(db, SupervisionRequest), await _count(db, AuditEvent)) == (0, 0)
    req = await _submit(db, "t1")  # the draft id is free again: nothing of the failed one was written
    async with db.session() as s:
        assert (await s.execute(select(SupervisionRequest.draft_id))).scalars().all() == ["t1"] and req.id


@pytest.mark.postgres
async def test_on_postgresql_two_instances_take_their_own_blocks_and_latest_goes_by_time(pg_db):
    import datetime as dt

    from bot.store import Database

    db, schema = pg_db
    other = Database(db.url, schema=schema)
    try:
        a = await _submit(db, "a1")
        b = await _submit(other, "b1", now=NOW + dt.timedelta(minutes=5))  # a second instance, the same schema
        c = await _submit(db, "a2", now=NOW + dt.timedelta(minutes=10))
        assert b.id >= a.id + batch.ID_BLOCK and a.id < c.id < b.id  # each instance's own block
        async with db.session() as s:
            assert (await store.latest_by(s, "tom.hollis")).draft_id == "a2"  # the newest, not the highest id
    finally:
        await other.close()


async def test_a_request_held_for_the_last_batch_is_written_whatever_comes_instead(db):
    """defer_insert (PostgreSQL; SQLite writes at once): a second submit is refused by the batch, and a held-back
    request is still written when a flush or the bare commit comes before any batch."""
    await _submit(db, "h1")
    with pytest.raises(AlreadySent):
        await _submit(db, "h1")
    async with db.session() as s:  # a flush of something else first: the request goes with it
        req = await _add(s, "h2", with_last_batch=True)
        s.add(SentCard(staff_id="tom.hollis", ref=f"r{req.id}", activity_id="a", conversation_id="c", sent_at=NOW))
        await s.flush()
    async with db.session() as s:  # no batch and no other write: the commit writes it
        await _add(s, "h3", with_last_batch=True)
    async with db.session() as s:
        drafts = sorted((await s.execute(select(SupervisionRequest.draft_id))).scalars())
    assert drafts == ["h1", "h2", "h3"]
    assert (await _count(db, AuditEvent), await _count(db, SentCard)) == (1, 1)
