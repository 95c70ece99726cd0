"""The audit trail's store (bot/store/audit.py), on SQLite and PostgreSQL: same transaction as the change, ids only,
append-only, read by object or by person, expired only by retention."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from bot.store import audit
from bot.store.models_audit import AuditEvent
from bot.store.models_sessions import GroupSession

NOW = dt.datetime(2026, 7, 1, 9, 30, tzinfo=dt.timezone.utc)  # summer: London is UTC+1
LONDON = ZoneInfo("Europe/London")


async def _count(db) -> int:
    async with db.session() as s:
        return (await s.execute(select(func.count()).select_from(AuditEvent))).scalar_one()


async def test_an_event_commits_with_its_change_and_carries_school_time(db):
    async with db.session() as s:
        await audit.record(
            s,
            actor_id="amara.okafor",
            action=audit.CREATED,
            kind=audit.TARGETED_RECORD,
            object_id=12,
            at=NOW,
            tz=LONDON,
        )
    async with db.session() as s:
        (row,) = await audit.for_object(s, audit.TARGETED_RECORD, 12)
    assert (row.actor_id, row.action, row.object_kind, row.object_id) == (
        "amara.okafor",
        "created",
        "targeted_record",
        "12",
    )
    assert row.at == NOW and row.school_time == "2026-07-01T10:30:00+01:00"


async def test_a_rolled_back_change_leaves_no_audit_row(db):
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with db.session() as s:
            s.add(
                GroupSession(
                    kind="group",
                    title="x",
                    starts_at=NOW,
                    ends_at=NOW,
                    local_date=NOW.date(),
                    half_term="2025-26 Summer 2",
                    facilitator_id="amara.okafor",
                    created_by="amara.okafor",
                    created_at=NOW,
                )
            )
            await s.flush()
            await audit.record(
                s,
                actor_id="amara.okafor",
                action=audit.CREATED,
                kind=audit.GROUP_RECORD,
                object_id=1,
                at=NOW,
                tz=LONDON,
            )
            raise Boom
    assert await _count(db) == 0


@pytest.mark.parametrize(
    "field, value",
    [
        ("actor_id", "Talked about the difficult week"),  # spaces: text, not an id
        ("object_id", "feeling stretched at lunchtimes"),
        ("kind", "Record Content"),
        ("action", "wrote a long note"),
    ],
)
async def test_content_is_refused_and_never_echoed(db, field, value):
    kw = dict(actor_id="amara.okafor", action=audit.VIEWED, kind=audit.PERSON, object_id="tom.hollis")
    kw[field] = value
    async with db.session() as s:
        with pytest.raises(audit.NotAnId) as err:
            await audit.record(s, at=NOW, tz=LONDON, **kw)
    assert value not in str(err.value)
    assert await _count(db) == 0


async def test_rows_cannot_be_changed(db):
    async with db.session() as s:
        await audit.record(
            s,
            actor_id="amara.okafor",
            action=audit.VIEWED,
            kind=audit.PERSON,
            object_id="tom.hollis",
            at=NOW,
            tz=LONDON,
        )
    with pytest.raises((DBAPIError, IntegrityError)):
        async with db.session() as s:
            await s.execute(update(AuditEvent).values(actor_id="someone.else"))
    async with db.session() as s:
        (row,) = await audit.for_person(s, "amara.okafor")
    assert row.actor_id == "amara.okafor"


async def test_a_person_trail_holds_what_they_did_and_what_was_done_about_them_newest_first(db):
    async with db.session() as s:
        for i, (actor, kind, oid) in enumerate(
            [
                ("tom.hollis", audit.VERB, "audit.show"),
                ("amara.okafor", audit.PERSON, "tom.hollis"),
                ("amara.okafor", audit.TARGETED_RECORD, 3),
            ]
        ):
            await audit.record(
                s,
                actor_id=actor,
                action=audit.REFUSED if i == 0 else audit.VIEWED,
                kind=kind,
                object_id=oid,
                at=NOW + dt.timedelta(minutes=i),
                tz=LONDON,
            )
    async with db.session() as s:
        tom = await audit.for_person(s, "tom.hollis")
        amara = await audit.for_person(s, "amara.okafor")
    assert [(e.actor_id, e.object_kind) for e in tom] == [("amara.okafor", "person"), ("tom.hollis", "verb")]
    assert [e.object_kind for e in amara] == ["targeted_record", "person"]


async def test_retention_deletes_only_what_is_older(db):
    async with db.session() as s:
        for days in (400, 10):
            await audit.record(
                s,
                actor_id=None,
                action=audit.REFUSED,
                kind=audit.COMMAND,
                object_id="audit",
                at=NOW - dt.timedelta(days=days),
                tz=LONDON,
            )
    async with db.session() as s:
        assert await audit.expire(s, before=NOW - dt.timedelta(days=365)) == 1
    assert await _count(db) == 1
