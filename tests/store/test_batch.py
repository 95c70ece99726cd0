"""bot/store/batch.py: one new object in one statement; several tables in one trip; the last batch's commit."""

from __future__ import annotations

import dataclasses
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

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


async def _add(s, draft: str) -> SupervisionRequest:
    return await store.add(s, draft_id=draft, requester_id="tom.hollis", form=FORM, route=Route.ALLOCATION, now=NOW)


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
    # SQLite: store.add's own INSERT clashes (AlreadySent). PostgreSQL: the INSERT waits for the unit of work's
    # write (defer_insert) and clashes there, as any flush's would (IntegrityError); the journey takes either.
    with pytest.raises((AlreadySent, IntegrityError)):
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
    # The last batch had committed d3 — on SQLite its commit travels with the batch; on PostgreSQL the unit of work
    # had run nothing else, so the batch (with d3's own INSERT) was a statement on its own. Neither wrote the
    # refused change.
    assert "withdrawn" not in statuses
    assert statuses == ["submitted", "submitted"]


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
