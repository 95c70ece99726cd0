"""The booking machinery the 1:1 scheduling journey and the group-session journeys share (no verbs of its own).

Times come from the pure slot finder (bot/domain/slots.py) over free/busy read through the Microsoft 365 port,
merged with the bookings this bot has made but the outbox may not have delivered yet, so nobody is offered a time
they have just been booked into (seed 002: about an hour; seed 001 §3.3: group sessions at any time).

Free/busy is read outside any transaction: Graph may take seconds, and no database connection is held meanwhile.
A booking is then one transaction: the rows and their outbox rows (calendar event, everyone's card).
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot import labels
from bot.domain.calendar import TermCalendar
from bot.domain.request_rules import horizon_for, prefer_usual_times
from bot.domain.slots import Busy, BusyStatus, Slot, blocking_intervals, find_slots
from bot.journeys import request as request_journey
from bot.journeys.base import Services, Turn
from bot.journeys.kit import audited
from bot.outbox import effects
from bot.school import Role
from bot.store import audit, bookings
from bot.store import requests as request_store
from bot.store.errors import NotFound
from bot.store.models_request import BookedGroupSession, Meeting, SlotOffer, SupervisionRequest
from bot.store.models_sessions import GroupSession
from cards import request as request_cards
from cards import scheduling as cards
from cards import specialist as group_cards

if TYPE_CHECKING:
    from bot.journeys.base import BusyLookup

log = logging.getLogger("bot.journeys.booking")

MIN_NOTICE = dt.timedelta(hours=1)  # nobody is offered a session starting in the next few minutes
CALENDARS_UNREAD = (
    "I couldn't read everyone's calendar just now, so these times only avoid other supervision "
    "bookings. Check your calendar before you pick."
)
GETSCHEDULE_PEOPLE = 20  # getSchedule takes at most 20 people per call
GROUP_TITLES = {
    "specialist": "Specialist supervision",
    "emergency": "Emergency group supervision",
    "enrichment": "Enrichment week group supervision",
    "ad_hoc": "Group supervision",
}


T = TypeVar("T")


async def found(
    lookup: Callable[[AsyncSession, int | None], Awaitable[T]], s: AsyncSession, key: int | None
) -> T | None:
    """A store lookup's row, or None for NotFound (the journey answers "not one of yours" either way)."""
    try:
        return await lookup(s, key)
    except NotFound:
        return None


def slot_label(services: Services, start: dt.datetime, end: dt.datetime) -> str:
    return Slot(start, end).label(services.school.tz)


# ---- free/busy -------------------------------------------------------------------------------------------------
def _port_lookup(services: Services) -> BusyLookup | None:
    """Free/busy through the Microsoft 365 port (getSchedule in production, the store in local mode)."""
    cal = getattr(services.m365, "calendar", None)
    if cal is None:
        return None

    async def lookup(staff_ids: Sequence[str], start: dt.datetime, end: dt.datetime) -> dict[str, list[Busy]]:
        emails = {sid: services.school.staff[sid].email for sid in staff_ids if sid in services.school.staff}
        schedules = await cal.get_schedule(list(emails.values()), start, end)
        by_email = {sch.person.lower(): sch for sch in schedules}
        out: dict[str, list[Busy]] = {}
        for sid, email in emails.items():
            sch = by_email.get(email.lower())
            if sch is None or sch.error:
                raise LookupError("a calendar could not be read")
            out[sid] = [Busy(b.start, b.end, _status(b.status)) for b in sch.busy]
        return out

    return lookup


def _status(raw: str) -> BusyStatus:
    try:
        return BusyStatus(raw)
    except ValueError:
        return BusyStatus.UNKNOWN


async def busy_for(
    services: Services,
    staff_ids: Sequence[str],
    start: dt.datetime,
    end: dt.datetime,
    *,
    ignore_meeting: int | None = None,
) -> tuple[dict[str, list[Busy]], str | None]:
    """Everyone's busy time in [start, end): calendars plus our own undelivered bookings; a warning instead of
    an error when calendars cannot be read (the card says so; nothing is booked without the person choosing).
    `ignore_meeting`: a meeting being moved does not block its own new time."""
    async with services.db.session() as s:
        busy = await bookings.own_bookings(s, staff_ids, start, end)
        moving = await found(bookings.meeting, s, ignore_meeting)
    lookup: BusyLookup | None = services.busy_lookup or _port_lookup(services)
    warning = None
    if lookup is not None:
        ids = list(staff_ids)
        try:
            for i in range(0, len(ids), GETSCHEDULE_PEOPLE):
                for sid, entries in (await lookup(ids[i : i + GETSCHEDULE_PEOPLE], start, end)).items():
                    busy.setdefault(sid, []).extend(entries)
        except Exception as exc:  # noqa: BLE001 - Graph down or throttled: offer what we can, say so
            log.warning("free/busy lookup failed: %s", type(exc).__name__)
            warning = CALENDARS_UNREAD
    if moving is not None:
        for who in (moving.supervisor_id, moving.supervisee_id):
            busy[who] = [b for b in busy.get(who, []) if not (b.start == moving.starts_at and b.end == moving.ends_at)]
    return busy, warning


def _window_end(cal: TermCalendar, earliest: dt.datetime, horizon: int) -> dt.datetime | None:
    """Midnight after the last school day the search could reach (today may not count if it is over)."""
    days = list(itertools.islice(cal.school_days_from(earliest.astimezone(cal.tz).date()), horizon + 1))
    if not days:
        return None
    last = days[-1] + dt.timedelta(days=1)
    return dt.datetime.combine(last, dt.time(0), tzinfo=cal.tz).astimezone(dt.timezone.utc)


@dataclass
class Proposal:
    slots: list[Slot]
    warning: str | None


async def propose(
    services: Services,
    attendees: Sequence[str],
    *,
    earliest: dt.datetime,
    minutes: int,
    urgency: str = "routine",
    times: Sequence[str] = (),
    days: Sequence[str] = (),
    exclude: Sequence[Slot] = (),
    horizon: int | None = None,
    last_day: dt.date | None = None,
) -> Proposal:
    """3–5 times free for all `attendees`, at their usual times first; urgent requests look at the next two
    school days, widening to the school's horizon when that finds too few."""
    school = services.school.settings
    cal = services.calendar
    count = school.slots_offered
    earliest = max(earliest, services.clock() + MIN_NOTICE)
    wide = horizon or school.slot_horizon_school_days
    narrow = horizon or horizon_for(urgency, wide)
    end = _window_end(cal, earliest, wide)
    if end is None:
        return Proposal([], None)
    busy, warning = await busy_for(services, attendees, earliest, end)
    duration = dt.timedelta(minutes=minutes)

    def search(h: int) -> list[Slot]:
        raw = find_slots(
            busy,
            calendar=cal,
            tz=services.school.tz,
            day_start=school.school_day.start,
            day_end=school.school_day.end,
            duration=duration,
            earliest=earliest,
            horizon_school_days=h,
            count=h * 48,
        )  # every free time; we choose below
        raw = [
            x for x in raw if x not in exclude and (last_day is None or x.start.astimezone(cal.tz).date() <= last_day)
        ]
        return prefer_usual_times(raw, times=times, days=days, tz=services.school.tz, count=count)

    slots = search(narrow)
    if len(slots) < min(3, count) and narrow < wide:
        slots = search(wide)
    return Proposal(slots, warning)


async def still_free(
    services: Services, attendees: Sequence[str], slot: Slot, *, ignore_meeting: int | None = None
) -> bool:
    """Re-check a chosen time just before booking (calendars change while a card sits unread)."""
    busy, _ = await busy_for(services, attendees, slot.start, slot.end, ignore_meeting=ignore_meeting)
    blocked = blocking_intervals(busy, tz=services.school.tz)
    return all(e <= slot.start or s_ >= slot.end for s_, e in blocked)


def half_term_name(services: Services, when: dt.datetime) -> tuple[dt.date, str]:
    cal = services.calendar
    day = cal.local_date(when)
    ht = cal.half_term_for(day)
    return day, f"{services.school.terms.academic_year} {ht.name}" if ht else services.school.terms.academic_year


# ---- offers ----------------------------------------------------------------------------------------------------
async def save_offer(
    services: Services,
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
    """The times shown on a card, stored (their own short transaction, after free/busy was read)."""
    async with services.db.session() as s:
        return await bookings.add_offer(
            s,
            purpose=purpose,
            bookers=bookers,
            attendees=attendees,
            slots=slots,
            minutes=minutes,
            created_by=created_by,
            now=now,
            request_id=request_id,
            pairing_id=pairing_id,
            meeting_id=meeting_id,
            setup=setup,
        )


def offer_slots(offer: SlotOffer) -> list[Slot]:
    return [
        Slot(dt.datetime.fromisoformat(x), dt.datetime.fromisoformat(x) + dt.timedelta(minutes=offer.minutes))
        for x in offer.slots
    ]


def offer_choices(services: Services, offer: SlotOffer) -> list[tuple[str, str]]:
    """The offer's times as (value, label) for the card's choice set; the value is the stored ISO start."""
    return [(iso, slot_label(services, x.start, x.end)) for iso, x in zip(offer.slots, offer_slots(offer))]


def later(offer_slots_: Sequence[Slot], now: dt.datetime) -> str:
    """What "Show later times" carries: the end of the last time offered."""
    return max((x.end for x in offer_slots_), default=now).isoformat()


def parse_after(raw: object, now: dt.datetime) -> dt.datetime:
    """ "Show later times" carries the last offered end; anything odd (or in the past) means now."""
    if isinstance(raw, str):
        try:
            t = dt.datetime.fromisoformat(raw)
            if t.tzinfo is not None and now < t < now + dt.timedelta(days=120):
                return t.astimezone(dt.timezone.utc)
        except ValueError:
            pass
    return now


# ---- group sessions --------------------------------------------------------------------------------------------
async def book_group_session(
    services: Services,
    s: AsyncSession,
    offer: SlotOffer,
    slot: Slot,
    turn: Turn,
    *,
    request: SupervisionRequest | None = None,
) -> GroupSession:
    """A group session (specialist, emergency, enrichment, or a staff group request): the shared group_sessions
    row, its invitees, one calendar event for everyone, and a card for each person."""
    now = turn.now
    setup = offer.setup or {}
    if request is not None:
        kind, supervisors = "ad_hoc", [request.supervisor_id]
        staff = [request.requester_id, *(request.colleagues or [])]
        external = False
    else:
        kind = setup.get("kind", "specialist")
        supervisors = list(setup.get("supervisors") or [turn.actor.id])
        staff = list(setup.get("staff") or [])
        external = bool(setup.get("external"))
    day, half_term = half_term_name(services, slot.start)
    invitees = list(dict.fromkeys([*supervisors[1:], *staff]))
    session, link = await bookings.add_group_session(
        s,
        kind=kind,
        title=GROUP_TITLES.get(kind, "Group supervision"),
        slot=slot,
        local_date=day,
        half_term=half_term,
        supervisor_ids=supervisors,
        invitee_ids=invitees,
        external=external,
        offer_nonce=offer.nonce,
        created_by=turn.actor.id,
        now=now,
        request_id=request.id if request else None,
    )
    await audited(services, turn, s, audit.BOOKED, audit.GROUP_SESSION, session.id)
    told = [
        effects.calendar_create(
            link.event_key,
            organizer_id=supervisors[0],
            attendee_ids=[*supervisors, *invitees],
            start=slot.start,
            end=slot.end,
        )
    ]
    told += [
        effects.notify(
            sid,
            group_session_view(services, session, link, sid, len(invitees)),
            key=f"group-session:{session.id}:booked:{sid}",
            ref=f"group-session:{session.id}",
        )
        for sid in dict.fromkeys([*supervisors, *invitees])
        if sid != turn.actor.id
    ]
    if request is not None:
        request_store.mark_booked(request, now=now)
        told.append(
            await request_journey.status_card_effect(
                services, s, request, key=f"request:{request.id}:status:booked:group:{session.id}"
            )
        )
    if kind == "specialist":  # seed 001 §3.3: its supervisor keeps the notes (bot/journeys/specialist_notes.py)
        from bot.journeys import specialist_notes

        told.append(specialist_notes.prompt(session))
    await effects.add(s, *told, now=now)
    return session


def group_session_view(
    services: Services,
    session: GroupSession,
    link: BookedGroupSession,
    viewer_id: str,
    people_count: int,
    *,
    message: str | None = None,
    join_url: str | None = None,
) -> dict:
    can_cancel = viewer_id in (link.created_by, session.facilitator_id)
    viewer = services.school.staff.get(viewer_id)
    return group_cards.group_session_card(
        group_cards.GroupSessionView(
            session_id=session.id,
            heading=session.title,
            when=slot_label(services, session.starts_at, session.ends_at),
            leaders=[labels.name_of(services.school, x) for x in link.supervisor_ids],
            people_count=people_count,
            status=session.status,
            external=session.external_support,
            can_cancel=can_cancel,
            can_move=can_cancel or (viewer is not None and viewer.has(Role.DSL)),
            can_note=session.kind == "specialist" and viewer_id in (link.supervisor_ids or []),
            message=message,
            join_url=join_url,
        )
    )


# ---- what a booking looks like ---------------------------------------------------------------------------------
def meeting_view(
    services: Services,
    m: Meeting,
    viewer_id: str,
    now: dt.datetime | None,
    successor: Meeting | None,
    *,
    message: str | None = None,
    propose_request_id: int | None = None,
    join_url: str | None = None,
) -> dict:
    is_sup = viewer_id == m.supervisor_id
    other = m.supervisee_id if is_sup else m.supervisor_id
    return cards.meeting_card(
        cards.MeetingView(
            meeting_id=m.id,
            status=m.status,
            when=slot_label(services, m.starts_at, m.ends_at),
            other_name=labels.name_of(services.school, other),
            viewer_is_supervisor=is_sup,
            past=now is not None and m.starts_at <= now,
            message=message,
            new_when=slot_label(services, successor.starts_at, successor.ends_at) if successor else None,
            propose_request_id=propose_request_id,
            join_url=join_url,
        )
    )


async def _group_view(
    services: Services, s: AsyncSession, link: BookedGroupSession, viewer_id: str, message: str | None = None
) -> dict:
    session = await bookings.group_session(s, link.session_id)
    return group_session_view(
        services, session, link, viewer_id, await bookings.invitee_count(s, session.id), message=message
    )


async def booked_view_for_offer(
    services: Services, s: AsyncSession, offer: SlotOffer, viewer_id: str, *, message: str | None = None
) -> dict:
    """What an already-used offer booked (a double click shows the booking, and books nothing more)."""
    meeting = await bookings.meeting_for_offer(s, offer.nonce)
    if meeting is not None:
        return meeting_view(services, meeting, viewer_id, None, await bookings.successor(s, meeting), message=message)
    link = await bookings.group_link_for_offer(s, offer.nonce)
    if link is not None:
        return await _group_view(services, s, link, viewer_id, message)
    return request_cards.card(
        [request_cards.title("Already used"), request_cards.text("These times were used for an earlier booking.")]
    )


async def booked_view_for_request(services: Services, s: AsyncSession, req: SupervisionRequest, viewer_id: str) -> dict:
    """What a booked request booked: its latest meeting, or its group session."""
    meeting = await bookings.latest_meeting(s, req.id)
    if meeting is not None:
        return meeting_view(services, meeting, viewer_id, None, await bookings.successor(s, meeting))
    link = await bookings.latest_group_link(s, req.id)
    if link is not None:
        return await _group_view(services, s, link, viewer_id)
    return request_cards.card([request_cards.title("Booked")])
