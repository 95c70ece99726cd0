"""bot/store/actions.py on SQLite and PostgreSQL: the DSL meeting's action list (open, recently done) with the
session each came from, and marking one done or open again (NotFound for an action that isn't there)."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.store import actions as store
from bot.store.errors import NotFound
from bot.store.models_group_record import DONE, OPEN, GroupRecord, RecordAction
from tests.reminders.helpers import add_session

D = dt.date
NOW = dt.datetime(2026, 11, 23, 10, tzinfo=dt.timezone.utc)


async def _actions(db, *items: tuple[str, dt.date]) -> dict[str, int]:
    sid = await add_session(db, day=D(2026, 11, 19))
    async with db.session() as s:
        rec = GroupRecord(
            session_id=sid,
            template_id="group",
            facilitator_id="amara.okafor",
            created_by="amara.okafor",
            created_at=NOW,
        )
        s.add(rec)
        await s.flush()
        rows = [
            RecordAction(
                record_id=rec.id,
                text=text,
                owner_id="amara.okafor",
                due_on=due,
                status=OPEN,
                created_by="amara.okafor",
                created_at=NOW,
            )
            for text, due in items
        ]
        s.add_all(rows)
        await s.flush()
        return {r.text: r.id for r in rows}


async def test_open_actions_soonest_first_with_their_session(db):
    ids = await _actions(db, ("Later", D(2026, 12, 4)), ("Sooner", D(2026, 11, 25)), ("Same day", D(2026, 12, 4)))
    async with db.session() as s:
        rows = await store.open_actions(s)
    assert [a.text for a, _ in rows] == ["Sooner", "Later", "Same day"]
    assert [a.id for a, _ in rows] == [ids["Sooner"], ids["Later"], ids["Same day"]]  # ties: oldest first
    assert {sess.group_id for _, sess in rows} == {"willow"}


async def test_mark_done_then_reopen_and_done_window(db):
    ids = await _actions(db, ("Ring the LA", D(2026, 11, 25)), ("Book training", D(2026, 11, 30)))
    async with db.session() as s:
        assert await store.set_status(s, ids["Ring the LA"], DONE, by="daniel.whitcombe", now=NOW) == "Marked done."
        assert (
            await store.set_status(s, ids["Ring the LA"], DONE, by="amara.okafor", now=NOW)
            == "That was already marked done."
        )
    async with db.session() as s:
        assert [a.text for a, _ in await store.open_actions(s)] == ["Book training"]
        [(done, sess)] = await store.done_actions(s, since=NOW - dt.timedelta(days=30))
        assert (done.text, done.done_by, done.done_at) == ("Ring the LA", "daniel.whitcombe", NOW)
        assert sess.local_date == D(2026, 11, 19)
        assert await store.done_actions(s, since=NOW + dt.timedelta(seconds=1)) == []
    async with db.session() as s:
        assert await store.set_status(s, ids["Ring the LA"], OPEN, by="amara.okafor", now=NOW) == "Reopened."
        assert (
            await store.set_status(s, ids["Ring the LA"], OPEN, by="amara.okafor", now=NOW)
            == "That action is already open."
        )
    async with db.session() as s:
        assert len(await store.open_actions(s)) == 2
        assert await store.done_actions(s, since=NOW - dt.timedelta(days=30)) == []


async def test_unknown_action_is_not_found(db):
    async with db.session() as s:
        with pytest.raises(NotFound):
            await store.set_status(s, 12345, DONE, by="amara.okafor", now=NOW)
