"""Group sessions the DSL team or the enrichment supervisor books at any time (seed 001 §3.3 specialist and
emergency group supervision; §3.1 the enrichment week's end-of-week session): the offer a booking card carries,
the session it booked and its people, cancelling it, and what an enrichment week has had so far.

The session itself is the shared group_sessions row (so attendance and group records work on it); how it was
booked lives in booked_group_sessions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.errors import NotFound
from bot.store.models_request import BookedGroupSession, SlotOffer, SupervisionRequest
from bot.store.models_sessions import GroupSession, SessionInvitee


@dataclass(frozen=True)
class BookedSession:
    session: GroupSession
    link: BookedGroupSession
    invitees: list[str]  # staff ids, in the order they were invited

    def involves(self, staff_id: str) -> bool:
        """Whoever set it up, leads it or was invited may see it."""
        return staff_id in {
            self.link.created_by,
            self.session.facilitator_id,
            *self.link.supervisor_ids,
            *self.invitees,
        }


async def offer_by_nonce(s: AsyncSession, nonce: str) -> SlotOffer:
    """The times a booking card offered; NotFound for a nonce we never made."""
    offer = (await s.execute(select(SlotOffer).where(SlotOffer.nonce == nonce))).scalar_one_or_none()
    if offer is None:
        raise NotFound(None)
    return offer


async def claim_offer(s: AsyncSession, offer_id: int, *, now: dt.datetime) -> bool:
    """Mark an offer used; False if it already was (a double click: the first one books)."""
    claimed = await s.execute(
        update(SlotOffer).where(SlotOffer.id == offer_id, SlotOffer.used_at.is_(None)).values(used_at=now)
    )
    return claimed.rowcount == 1


async def booked_session(s: AsyncSession, session_id: int) -> BookedSession:
    """A group session booked through an offer, with how it was booked and who is invited; NotFound for any
    other session (those booked by the group-record journey, mop-ups) or none."""
    session = await s.get(GroupSession, session_id)
    link = (
        (
            await s.execute(select(BookedGroupSession).where(BookedGroupSession.session_id == session_id))
        ).scalar_one_or_none()
        if session is not None
        else None
    )
    if session is None or link is None:
        raise NotFound(session_id)
    invitees = list(
        (
            await s.execute(
                select(SessionInvitee.staff_id)
                .where(SessionInvitee.session_id == session_id)
                .order_by(SessionInvitee.id)
            )
        ).scalars()
    )
    return BookedSession(session, link, invitees)


async def cancel_session(s: AsyncSession, session: GroupSession) -> bool:
    """Cancel a scheduled session; False if it was not scheduled any more (cancelled meanwhile)."""
    done = await s.execute(
        update(GroupSession)
        .where(GroupSession.id == session.id, GroupSession.status == "scheduled")
        .values(status="cancelled")
    )
    if done.rowcount != 1:
        return False
    session.status = "cancelled"
    return True


async def unbook_request(s: AsyncSession, request_id: int, *, now: dt.datetime) -> None:
    """The request a cancelled session answered goes back to "allocated" (its supervisor books again)."""
    req = await s.get(SupervisionRequest, request_id)
    if req is not None and req.status == "booked":
        req.status, req.updated_at = "allocated", now


async def enrichment_requesters(s: AsyncSession, supervisor_id: str, start: dt.datetime, end: dt.datetime) -> list[str]:
    """Who asked the enrichment supervisor for supervision between `start` and `end` (each once)."""
    rows = (
        (
            await s.execute(
                select(SupervisionRequest.requester_id).where(
                    SupervisionRequest.route == "enrichment",
                    SupervisionRequest.supervisor_id == supervisor_id,
                    SupervisionRequest.created_at >= start,
                    SupervisionRequest.created_at < end,
                )
            )
        )
        .scalars()
        .all()
    )
    return list(dict.fromkeys(rows))


async def enrichment_session(
    s: AsyncSession, supervisor_id: str, start: dt.datetime, end: dt.datetime
) -> GroupSession | None:
    """The end-of-week session this enrichment supervisor has booked starting between `start` and `end`."""
    return (
        await s.execute(
            select(GroupSession)
            .where(
                GroupSession.kind == "enrichment",
                GroupSession.status == "scheduled",
                GroupSession.facilitator_id == supervisor_id,
                GroupSession.starts_at >= start,
                GroupSession.starts_at < end,
            )
            .limit(1)
        )
    ).scalar_one_or_none()


async def notes_filed_for(s: AsyncSession, session_id: int):
    """The notes already filed for a specialist session (bot/journeys/specialist_notes.py), if any."""
    from bot.store.models_specialist_notes import SpecialistNote

    return (
        await s.execute(select(SpecialistNote).where(SpecialistNote.session_id == session_id).limit(1))
    ).scalar_one_or_none()
