"""Group supervision sessions, who is invited, who attended, and the one-time keys of "schedule a session" cards
(seed 001 §3.1: every member of staff attends group supervision each half term, tracked by attendance).

Functions take the caller's session and return rows; the journey opens the transaction. Metadata only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.records.rules import RECORDABLE_KINDS
from bot.store.errors import Concurrent, NotFound, RecordedMeanwhile
from bot.store.models_group_record import ScheduleRequest
from bot.store.models_sessions import Attendance, GroupSession, SessionInvitee

SCHEDULED = "scheduled"
RECORDED = "recorded"
CANCELLED = "cancelled"
MOP_UP = "mop_up"


async def flush(s: AsyncSession) -> None:
    """Write what is pending; a unique key taken meanwhile (a second click, another DSL at the same moment) is
    Concurrent. The transaction is then spoilt: the caller lets it roll back and looks again in a new one."""
    try:
        await s.flush()
    except IntegrityError as exc:
        raise Concurrent() from exc


async def get(s: AsyncSession, session_id: int) -> GroupSession | None:
    return await s.get(GroupSession, session_id)


async def recordable(s: AsyncSession, session_id: int | None) -> GroupSession:
    """A session of a kind the DSL team records (not a specialist one, recorded elsewhere); NotFound otherwise."""
    sess = await s.get(GroupSession, session_id) if session_id else None
    if sess is None or sess.kind not in RECORDABLE_KINDS:
        raise NotFound()
    return sess


async def by_ids(s: AsyncSession, ids: Iterable[int]) -> dict[int, GroupSession]:
    ids = set(ids)
    if not ids:
        return {}
    return {x.id: x for x in (await s.execute(select(GroupSession).where(GroupSession.id.in_(ids)))).scalars()}


async def waiting(s: AsyncSession, half_terms: Sequence[str]) -> Sequence[GroupSession]:
    """Recordable sessions of these half terms still waiting for their record, latest first."""
    return (
        (
            await s.execute(
                select(GroupSession)
                .where(
                    GroupSession.half_term.in_(half_terms),
                    GroupSession.status == SCHEDULED,
                    GroupSession.kind.in_(RECORDABLE_KINDS),
                )
                .order_by(GroupSession.starts_at.desc())
            )
        )
        .scalars()
        .all()
    )


async def booked(s: AsyncSession, half_term: str) -> Sequence[GroupSession]:
    """Recordable sessions of this half term that were not cancelled, in time order."""
    return (
        (
            await s.execute(
                select(GroupSession)
                .where(
                    GroupSession.half_term == half_term,
                    GroupSession.status != CANCELLED,
                    GroupSession.kind.in_(RECORDABLE_KINDS),
                )
                .order_by(GroupSession.starts_at)
            )
        )
        .scalars()
        .all()
    )


async def clash(
    s: AsyncSession,
    *,
    starts: dt.datetime,
    ends: dt.datetime,
    facilitator_id: str,
    group_id: str | None,
    other_than: int | None = None,
) -> GroupSession | None:
    """A scheduled session overlapping [starts, ends) with the same facilitator, or for the same group (group_id
    None: any mop-up session); `other_than`: the session being moved does not clash with itself."""
    same = GroupSession.group_id == group_id if group_id is not None else GroupSession.kind == MOP_UP
    return (
        (
            await s.execute(
                select(GroupSession)
                .where(
                    GroupSession.status == SCHEDULED,
                    GroupSession.starts_at < ends,
                    GroupSession.ends_at > starts,
                    (GroupSession.facilitator_id == facilitator_id) | same,
                    GroupSession.id != (other_than if other_than is not None else -1),
                )
                .limit(1)
            )
        )
        .scalars()
        .first()
    )


async def scheduled_by(s: AsyncSession, nonce: str) -> GroupSession | None:
    """The session a schedule card's one-time key already booked."""
    req = (await s.execute(select(ScheduleRequest).where(ScheduleRequest.nonce == nonce))).scalar_one_or_none()
    return await s.get(GroupSession, req.session_id) if req else None


async def schedule(
    s: AsyncSession,
    *,
    nonce: str,
    invitees: Sequence[str],
    added_via: str,
    created_by: str,
    now: dt.datetime,
    **columns,
) -> GroupSession:
    """Book a session under the card's one-time key, with its invitees. Concurrent if the key booked a session
    meanwhile (the same card submitted twice at once)."""
    sess = GroupSession(created_by=created_by, created_at=now, **columns)
    s.add(sess)
    await flush(s)
    s.add(ScheduleRequest(nonce=nonce, session_id=sess.id, created_by=created_by, created_at=now))
    s.add_all(SessionInvitee(session_id=sess.id, staff_id=i, added_at=now, added_via=added_via) for i in invitees)
    await flush(s)
    return sess


async def add_recorded(s: AsyncSession, *, created_by: str, now: dt.datetime, **columns) -> GroupSession:
    """A session that was never scheduled (ad hoc), made as it is recorded."""
    sess = GroupSession(status=RECORDED, external_support=False, created_by=created_by, created_at=now, **columns)
    s.add(sess)
    await flush(s)
    return sess


async def claim_for_record(s: AsyncSession, session_id: int) -> GroupSession:
    """Lock a scheduled session and mark it recorded; RecordedMeanwhile if it is not waiting any more (someone
    else recorded it, or it was cancelled, since the card was opened). Nothing is written before the check."""
    sess = await s.get(GroupSession, session_id, with_for_update=True, populate_existing=True)
    if sess is None or sess.status != SCHEDULED:
        raise RecordedMeanwhile()
    sess.status = RECORDED
    return sess


async def invitee_ids(s: AsyncSession, session_id: int) -> list[str]:
    """Who was invited, in the order they were added."""
    return list(
        (
            await s.execute(
                select(SessionInvitee.staff_id)
                .where(SessionInvitee.session_id == session_id)
                .order_by(SessionInvitee.id)
            )
        ).scalars()
    )


async def attendee_ids(s: AsyncSession, session_id: int) -> list[str]:
    """Who attended, by staff id."""
    return list(
        (
            await s.execute(
                select(Attendance.staff_id).where(Attendance.session_id == session_id).order_by(Attendance.staff_id)
            )
        ).scalars()
    )


async def attended_in(s: AsyncSession, half_term: str) -> set[str]:
    """Everyone who attended a session in this half term."""
    return set((await s.execute(select(Attendance.staff_id).where(Attendance.half_term == half_term))).scalars())


async def set_attendance(
    s: AsyncSession, sess: GroupSession, staff_ids: Sequence[str], *, recorded_by: str, now: dt.datetime
) -> None:
    """Make the session's attendance exactly `staff_ids` (added for the session's half term; others removed).
    Concurrent if someone else recorded the same people meanwhile."""
    have = set(await attendee_ids(s, sess.id))
    wanted = set(staff_ids)
    s.add_all(
        Attendance(
            staff_id=i,
            session_id=sess.id,
            local_date=sess.local_date,
            half_term=sess.half_term,
            recorded_by=recorded_by,
            recorded_at=now,
        )
        for i in staff_ids
        if i not in have
    )
    if have - wanted:
        await s.execute(
            delete(Attendance).where(Attendance.session_id == sess.id, Attendance.staff_id.in_(have - wanted))
        )
    await flush(s)


# ---- moving and cancelling a booked session ---------------------------------------------------------------------
async def booking_link(s: AsyncSession, session_id: int):
    """How an offer booked this session (specialist, emergency, enrichment, a staff group request), or None for
    sessions scheduled from the schedule card or the mop-up."""
    from bot.store.models_request import BookedGroupSession

    return (
        await s.execute(select(BookedGroupSession).where(BookedGroupSession.session_id == session_id))
    ).scalar_one_or_none()


async def move(
    s: AsyncSession, sess: GroupSession, *, starts: dt.datetime, ends: dt.datetime, local_date: dt.date
) -> None:
    """Give a scheduled session its new time. Concurrent if it was recorded, cancelled or moved meanwhile (the
    card showed the time it had when it was opened)."""
    done = await s.execute(
        update(GroupSession)
        .where(GroupSession.id == sess.id, GroupSession.status == SCHEDULED, GroupSession.starts_at == sess.starts_at)
        .values(starts_at=starts, ends_at=ends, local_date=local_date)
    )
    if done.rowcount != 1:
        raise Concurrent()
    sess.starts_at, sess.ends_at, sess.local_date = starts, ends, local_date


async def cancel(s: AsyncSession, sess: GroupSession) -> None:
    """Cancel a scheduled session. Concurrent if it was recorded or cancelled meanwhile."""
    done = await s.execute(
        update(GroupSession)
        .where(GroupSession.id == sess.id, GroupSession.status == SCHEDULED)
        .values(status=CANCELLED)
    )
    if done.rowcount != 1:
        raise Concurrent()
    sess.status = CANCELLED


async def mark_mop_up_cancelled(s: AsyncSession, session_id: int, *, by: str, now: dt.datetime) -> None:
    """The half term's mop-up proposal that booked this session now says a DSL cancelled it, so the automatic
    booking never books it again (seed 001: booked "unless the DSL changes it")."""
    from bot.store.models_compliance import MopUpProposal

    await s.execute(
        update(MopUpProposal)
        .where(MopUpProposal.session_id == session_id)
        .values(status="cancelled", decided_by=by, decided_at=now)
    )
