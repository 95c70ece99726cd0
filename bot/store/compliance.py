"""Half-term compliance as the journey writes it (seed 001 §3.1: attendance tracked each half term, a mop-up
session in the last week): joining a group session from a reminder, and the half term's mop-up proposal.

The attendance figures themselves are read by bot/reminders/facts.py (shared with the reminder run).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.reminder_rules import COUNTING_KINDS
from bot.store.errors import NotFound
from bot.store.models_compliance import MopUpProposal
from bot.store.models_sessions import GroupSession, SessionInvitee
from bot.store.upsert import insert_ignore


async def session_to_join(s: AsyncSession, session_id: int, *, half_term: str) -> GroupSession:
    """The group session someone chose from a reminder, locked until the transaction ends.

    One joiner at a time per session: each calendar update carries the whole attendee list, so two people
    joining at once must not each send a list without the other (PostgreSQL `FOR UPDATE`; SQLite has one
    writer anyway and SQLAlchemy leaves the clause out there). Raises NotFound unless it is a session that
    counts for attendance in `half_term` — whatever its status or start, which the caller explains."""
    session = (
        await s.execute(select(GroupSession).where(GroupSession.id == session_id).with_for_update())
    ).scalar_one_or_none()
    if session is None or session.kind not in COUNTING_KINDS or session.half_term != half_term:
        raise NotFound(session_id)
    return session


async def join_session(s: AsyncSession, session_id: int, staff_id: str, *, now: dt.datetime) -> bool:
    """Put someone on a session's invitee list ("I'll attend"); False if they were on it already."""
    added = await insert_ignore(
        s,
        SessionInvitee,
        [dict(session_id=session_id, staff_id=staff_id, added_at=now, added_via="self")],
        conflict=["session_id", "staff_id"],
    )
    return added > 0


async def invitee_ids(s: AsyncSession, session_id: int) -> list[str]:
    """Everyone invited to a session, in the order they were added."""
    return list(
        (
            await s.execute(
                select(SessionInvitee.staff_id)
                .where(SessionInvitee.session_id == session_id)
                .order_by(SessionInvitee.id)
            )
        ).scalars()
    )


async def mop_up_proposal(s: AsyncSession, proposal_id: int) -> MopUpProposal:
    """A mop-up proposal by id; NotFound if there is none."""
    row = (await s.execute(select(MopUpProposal).where(MopUpProposal.id == proposal_id))).scalar_one_or_none()
    if row is None:
        raise NotFound(proposal_id)
    return row


async def mop_up_proposal_for(s: AsyncSession, half_term: str) -> MopUpProposal | None:
    """The half term's mop-up proposal (there is at most one), if it has been made."""
    return (await s.execute(select(MopUpProposal).where(MopUpProposal.half_term == half_term))).scalar_one_or_none()


async def mop_up_booked(s: AsyncSession, half_term: str) -> bool:
    """Whether the half term's mop-up session has been booked."""
    found = await s.scalar(
        select(MopUpProposal.id).where(MopUpProposal.half_term == half_term, MopUpProposal.status == "booked")
    )
    return found is not None
