"""Bookings (seed 001 §3.2 "the supervisor will arrange a meeting", §3.3 group sessions; seed 003 a cancellation
agrees an alternative): the times offered on a card, the 1:1 meetings booked from them, the group sessions booked
the same way, the bookings this bot has made that calendars may not show yet, and ending a supervision.

Functions take the journey's session and raise the domain errors of bot/store/errors.py. Times and people only:
never topics or notes.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.slots import Busy, Slot
from bot.store.errors import Concurrent, NotFound, OfferUsed
from bot.store.models_request import BookedGroupSession, Meeting, Pairing, SlotOffer, SupervisionRequest
from bot.store.models_sessions import GroupSession, SessionInvitee

BOOKED, CANCELLED, REARRANGED = "booked", "cancelled", "rearranged"
SCHEDULED = "scheduled"


# ---- offers ----------------------------------------------------------------------------------------------------
async def add_offer(
    s: AsyncSession,
    *,
    purpose: str,
    bookers: Sequence[str],
    attendees: Sequence[str],
    slots: Sequence[Slot],
    minutes: int,
    created_by: str,
    now: dt.datetime,
    request_id: int | None = None,
    pairing_id: int | None = None,
    meeting_id: int | None = None,
    setup: dict | None = None,
) -> SlotOffer:
    """The times on one card, under a fresh nonce; only `bookers` may book one of them, once."""
    offer = SlotOffer(
        nonce=secrets.token_urlsafe(16),
        purpose=purpose,
        bookers=list(bookers),
        attendee_ids=list(attendees),
        slots=[x.start.isoformat() for x in slots],
        minutes=minutes,
        request_id=request_id,
        pairing_id=pairing_id,
        meeting_id=meeting_id,
        setup=setup,
        created_by=created_by,
        created_at=now,
    )
    s.add(offer)
    return offer


async def offer(s: AsyncSession, nonce: object) -> SlotOffer:
    """The offer a card names; NotFound for anything else."""
    row = (
        (await s.execute(select(SlotOffer).where(SlotOffer.nonce == nonce))).scalar_one_or_none()
        if isinstance(nonce, str)
        else None
    )
    if row is None:
        raise NotFound()
    return row


async def recent_offer(s: AsyncSession, request_id: int, *, since: dt.datetime) -> SlotOffer | None:
    """The latest unused offer for this request made after `since` (a refreshed card shows the same times)."""
    return (
        await s.execute(
            select(SlotOffer)
            .where(
                SlotOffer.request_id == request_id,
                SlotOffer.purpose == "request",
                SlotOffer.used_at.is_(None),
                SlotOffer.created_at > since,
            )
            .order_by(SlotOffer.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def claim_offer(s: AsyncSession, offer_id: int, *, now: dt.datetime) -> None:
    """Use the offer for a booking. Raises OfferUsed when another click booked it first."""
    done = await s.execute(
        update(SlotOffer).where(SlotOffer.id == offer_id, SlotOffer.used_at.is_(None)).values(used_at=now)
    )
    if done.rowcount != 1:
        raise OfferUsed()


# ---- 1:1 meetings ----------------------------------------------------------------------------------------------
async def meeting(s: AsyncSession, meeting_id: int | None) -> Meeting:
    m = await s.get(Meeting, meeting_id) if meeting_id is not None else None
    if m is None:
        raise NotFound()
    return m


async def successor(s: AsyncSession, m: Meeting) -> Meeting | None:
    """The meeting a rearranged one moved to."""
    if m.status != REARRANGED:
        return None
    return (await s.execute(select(Meeting).where(Meeting.replaces_id == m.id))).scalar_one_or_none()


async def meeting_for_offer(s: AsyncSession, nonce: str) -> Meeting | None:
    return (await s.execute(select(Meeting).where(Meeting.offer_nonce == nonce))).scalar_one_or_none()


async def meetings_for_series(s: AsyncSession, nonce: str) -> list[Meeting]:
    """The meetings a series offer booked (each under "<offer nonce>:<n>"), in time order."""
    return list(
        (
            await s.execute(select(Meeting).where(Meeting.offer_nonce.like(f"{nonce}:%")).order_by(Meeting.starts_at))
        ).scalars()
    )


async def latest_meeting(s: AsyncSession, request_id: int, *, booked_only: bool = False) -> Meeting | None:
    """The request's latest meeting (still booked, with `booked_only`)."""
    q = select(Meeting).where(Meeting.request_id == request_id)
    if booked_only:
        q = q.where(Meeting.status == BOOKED)
    return (await s.execute(q.order_by(Meeting.id.desc()).limit(1))).scalar_one_or_none()


async def add_meeting(
    s: AsyncSession,
    *,
    kind: str,
    supervisor_id: str,
    supervisee_id: str,
    slot: Slot,
    local_date: dt.date,
    half_term: str,
    offer_nonce: str,
    booked_by: str,
    now: dt.datetime,
    request_id: int | None = None,
    pairing_id: int | None = None,
    replaces_id: int | None = None,
) -> Meeting:
    """A booked meeting; its calendar event is named after its id ("supervision-meeting-<id>")."""
    m = Meeting(
        kind=kind,
        request_id=request_id,
        pairing_id=pairing_id,
        supervisor_id=supervisor_id,
        supervisee_id=supervisee_id,
        starts_at=slot.start,
        ends_at=slot.end,
        local_date=local_date,
        half_term=half_term,
        status=BOOKED,
        event_key=f"supervision-{secrets.token_hex(8)}",
        offer_nonce=offer_nonce,
        replaces_id=replaces_id,
        booked_by=booked_by,
        booked_at=now,
    )
    s.add(m)
    await s.flush()
    m.event_key = f"supervision-meeting-{m.id}"
    return m


def mark_rearranged(m: Meeting, *, by: str, now: dt.datetime) -> None:
    m.status, m.changed_by, m.changed_at = REARRANGED, by, now


async def cancel_meeting(s: AsyncSession, m: Meeting, *, by: str, now: dt.datetime) -> None:
    """Cancel a booked meeting. Raises Concurrent when it was cancelled or moved meanwhile (a double click)."""
    done = await s.execute(
        update(Meeting)
        .where(Meeting.id == m.id, Meeting.status == BOOKED)
        .values(status=CANCELLED, changed_by=by, changed_at=now)
    )
    if done.rowcount != 1:
        raise Concurrent()
    m.status = CANCELLED


async def upcoming_meetings(s: AsyncSession, staff_id: str, now: dt.datetime) -> list[Meeting]:
    """Booked meetings not yet over with this person on either side, soonest first."""
    return list(
        (
            await s.execute(
                select(Meeting)
                .where(
                    Meeting.status == BOOKED,
                    Meeting.ends_at > now,
                    or_(Meeting.supervisor_id == staff_id, Meeting.supervisee_id == staff_id),
                )
                .order_by(Meeting.starts_at)
            )
        ).scalars()
    )


# ---- group sessions booked from an offer -------------------------------------------------------------------------
async def add_group_session(
    s: AsyncSession,
    *,
    kind: str,
    title: str,
    slot: Slot,
    local_date: dt.date,
    half_term: str,
    supervisor_ids: Sequence[str],
    invitee_ids: Sequence[str],
    external: bool,
    offer_nonce: str,
    created_by: str,
    now: dt.datetime,
    request_id: int | None = None,
) -> tuple[GroupSession, BookedGroupSession]:
    """A session in the shared group_sessions table (so records and attendance work on it), led by the first
    supervisor, with its invitees and the link saying how it was booked (its offer, request and event)."""
    session = GroupSession(
        kind=kind,
        group_id=None,
        title=title,
        starts_at=slot.start,
        ends_at=slot.end,
        local_date=local_date,
        half_term=half_term,
        facilitator_id=supervisor_ids[0],
        status=SCHEDULED,
        external_support=external,
        created_by=created_by,
        created_at=now,
    )
    s.add(session)
    await s.flush()
    s.add_all(
        [SessionInvitee(session_id=session.id, staff_id=sid, added_at=now, added_via="invite") for sid in invitee_ids]
    )
    link = BookedGroupSession(
        session_id=session.id,
        offer_nonce=offer_nonce,
        request_id=request_id,
        event_key=f"group-session-{session.id}",
        supervisor_ids=list(supervisor_ids),
        created_by=created_by,
    )
    s.add(link)
    return session, link


async def group_link_for_offer(s: AsyncSession, nonce: str) -> BookedGroupSession | None:
    return (
        await s.execute(select(BookedGroupSession).where(BookedGroupSession.offer_nonce == nonce))
    ).scalar_one_or_none()


async def latest_group_link(s: AsyncSession, request_id: int) -> BookedGroupSession | None:
    """The latest group session booked for this request."""
    return (
        await s.execute(
            select(BookedGroupSession)
            .where(BookedGroupSession.request_id == request_id)
            .order_by(BookedGroupSession.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def group_session(s: AsyncSession, session_id: int) -> GroupSession:
    g = await s.get(GroupSession, session_id)
    if g is None:
        raise NotFound()
    return g


async def invitee_count(s: AsyncSession, session_id: int) -> int:
    return (
        await s.execute(select(func.count()).select_from(SessionInvitee).where(SessionInvitee.session_id == session_id))
    ).scalar_one()


async def upcoming_group_sessions(s: AsyncSession, staff_id: str, now: dt.datetime) -> list[GroupSession]:
    """Scheduled group sessions not yet over that this person leads or is invited to."""
    invited = select(SessionInvitee.session_id).where(SessionInvitee.staff_id == staff_id)
    return list(
        (
            await s.execute(
                select(GroupSession).where(
                    GroupSession.status == SCHEDULED,
                    GroupSession.ends_at > now,
                    or_(GroupSession.id.in_(invited), GroupSession.facilitator_id == staff_id),
                )
            )
        ).scalars()
    )


# ---- free/busy: our own bookings -------------------------------------------------------------------------------
async def own_bookings(
    s: AsyncSession, staff_ids: Sequence[str], start: dt.datetime, end: dt.datetime
) -> dict[str, list[Busy]]:
    """Supervision this bot has booked for these people in [start, end), whether or not the outbox has put it in
    their calendars yet (so nobody is offered a time they have just been booked into)."""
    ids = set(staff_ids)
    out: dict[str, list[Busy]] = {i: [] for i in ids}
    meetings = (
        (
            await s.execute(
                select(Meeting).where(
                    Meeting.status == BOOKED,
                    Meeting.starts_at < end,
                    Meeting.ends_at > start,
                    or_(Meeting.supervisor_id.in_(ids), Meeting.supervisee_id.in_(ids)),
                )
            )
        )
        .scalars()
        .all()
    )
    for m in meetings:
        for who in (m.supervisor_id, m.supervisee_id):
            if who in ids:
                out[who].append(Busy(m.starts_at, m.ends_at))
    sessions = (
        (
            await s.execute(
                select(GroupSession).where(
                    GroupSession.status == SCHEDULED, GroupSession.starts_at < end, GroupSession.ends_at > start
                )
            )
        )
        .scalars()
        .all()
    )
    if sessions:
        invitees = (
            (
                await s.execute(
                    select(SessionInvitee).where(
                        SessionInvitee.session_id.in_([g.id for g in sessions]), SessionInvitee.staff_id.in_(ids)
                    )
                )
            )
            .scalars()
            .all()
        )
        by_session: dict[int, set[str]] = {}
        for inv in invitees:
            by_session.setdefault(inv.session_id, set()).add(inv.staff_id)
        for g in sessions:
            for who in by_session.get(g.id, set()) | ({g.facilitator_id} & ids):
                out[who].append(Busy(g.starts_at, g.ends_at))
    return out


# ---- pairings --------------------------------------------------------------------------------------------------
async def pairing(s: AsyncSession, pairing_id: int | None) -> Pairing:
    p = await s.get(Pairing, pairing_id) if pairing_id is not None else None
    if p is None:
        raise NotFound()
    return p


async def supervisees(s: AsyncSession, supervisor_id: str) -> list[Pairing]:
    """The supervisor's ongoing pairings, longest-standing first."""
    return list(
        (
            await s.execute(
                select(Pairing)
                .where(Pairing.supervisor_id == supervisor_id, Pairing.ended_at.is_(None))
                .order_by(Pairing.started_at)
            )
        ).scalars()
    )


async def end_pairing(s: AsyncSession, p: Pairing, *, by: str, now: dt.datetime) -> None:
    """End a supervision: it leaves the supervisor's caseload. Minimum data: a request note written for this
    supervisor has done its job, so it is erased."""
    p.ended_at, p.ended_by = now, by
    await s.execute(
        update(SupervisionRequest)
        .where(
            SupervisionRequest.requester_id == p.supervisee_id,
            SupervisionRequest.supervisor_id == p.supervisor_id,
            SupervisionRequest.note.is_not(None),
        )
        .values(note=None)
    )
    await s.flush()
