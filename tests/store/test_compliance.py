"""bot/store/compliance.py on SQLite and PostgreSQL: joining a session from a reminder, its invitees, and the
half term's mop-up proposal — including the NotFound each lookup raises."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from bot.store import compliance as store
from bot.store.errors import NotFound
from bot.store.models_compliance import MopUpProposal
from bot.store.models_sessions import SessionInvitee
from tests.reminders.helpers import AUTUMN2, add_session

D = dt.date
NOW = dt.datetime(2026, 11, 23, 10, tzinfo=dt.timezone.utc)


async def test_session_to_join_only_counting_sessions_of_the_half_term(db):
    willow = await add_session(db, day=D(2026, 12, 1))
    cancelled = await add_session(db, day=D(2026, 12, 2), status="cancelled")
    emergency = await add_session(db, day=D(2026, 12, 3), kind="emergency", group_id=None)
    spring = await add_session(db, day=D(2027, 1, 12), half_term="2026-27 Spring 1")
    async with db.session() as s:
        assert (await store.session_to_join(s, willow, half_term=AUTUMN2)).id == willow
        # Found whatever its status: the journey explains a cancelled or started session itself.
        assert (await store.session_to_join(s, cancelled, half_term=AUTUMN2)).status == "cancelled"
        for sid in (emergency, spring, 99999):
            with pytest.raises(NotFound):
                await store.session_to_join(s, sid, half_term=AUTUMN2)


async def test_join_session_once_and_invitees_in_order(db):
    sid = await add_session(db, day=D(2026, 12, 1), invitees=["tom.hollis", "isla.brennan"])
    async with db.session() as s:
        assert await store.join_session(s, sid, "nadia.farouk", now=NOW) is True
        assert await store.join_session(s, sid, "nadia.farouk", now=NOW) is False
        assert await store.join_session(s, sid, "tom.hollis", now=NOW) is False  # invited already
    async with db.session() as s:
        assert await store.invitee_ids(s, sid) == ["tom.hollis", "isla.brennan", "nadia.farouk"]
        row = (await s.execute(select(SessionInvitee).where(SessionInvitee.staff_id == "nadia.farouk"))).scalar_one()
        assert (row.added_via, row.added_at) == ("self", NOW)
        assert (await s.execute(select(func.count()).select_from(SessionInvitee))).scalar_one() == 3
        assert await store.invitee_ids(s, 99999) == []


async def test_mop_up_proposal_by_id_and_by_half_term(db):
    async with db.session() as s:
        s.add(
            MopUpProposal(
                half_term=AUTUMN2,
                status="proposed",
                options=[],
                calendars_checked=False,
                proposed_to=["amara.okafor"],
                outstanding_count=3,
                created_at=NOW,
            )
        )
    async with db.session() as s:
        row = await store.mop_up_proposal_for(s, AUTUMN2)
        assert row is not None and row.outstanding_count == 3
        assert (await store.mop_up_proposal(s, row.id)).half_term == AUTUMN2
        assert await store.mop_up_proposal_for(s, "2026-27 Spring 1") is None
        with pytest.raises(NotFound):
            await store.mop_up_proposal(s, row.id + 1)
