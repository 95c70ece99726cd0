"""Journey: the allocated supervisor books a time free in both calendars; either person can rearrange or cancel.

Seed 001 §3.2 ("after allocation, the supervisor will arrange a meeting"), seed 002 (about an hour), seed 003
Appendix 1 §4 (a cancellation agrees an alternative date at the time). Times come from the pure slot finder
(bot/domain/slots.py) over free/busy read through the Microsoft 365 port, merged with the bookings this bot has
made but the outbox may not have delivered yet, so nobody is offered a time they have just been booked into.

Booking writes the meeting and its outbox rows (the calendar event, the other person's card) in one transaction;
the user never waits on Graph. Also here: the booking machinery for group sessions, used by specialist.py.
"""
from __future__ import annotations

import datetime as dt
import itertools
import logging
import secrets
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Iterable, Mapping, Sequence

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.calendar import TermCalendar
from bot.domain.request_rules import horizon_for, prefer_usual_times
from bot.domain.slots import Busy, BusyStatus, Slot, blocking_intervals, find_slots
from bot.journeys.base import Reply, Services, Turn, refuse
from bot.journeys.router import Router
from bot.journeys.supervisor_pool import active_pairing, day_label, name_of, say, term_calendar, unit_of_work
from bot.school import Role
from bot.store.models_request import BookedGroupSession, Meeting, Pairing, SlotOffer, SupervisionRequest
from bot.store.models_sessions import GroupSession, SessionInvitee
from cards import request as request_cards
from cards import scheduling as cards
from cards import specialist as group_cards

log = logging.getLogger("bot.journeys.scheduling")

SUBJECT = "Supervision"                 # neutral: never topics or names (special-category data)
OFFER_REUSE = dt.timedelta(minutes=15)  # a card refreshed within this shows the same times
MIN_NOTICE = dt.timedelta(hours=1)      # nobody is offered a session starting in the next few minutes
CALENDARS_UNREAD = ("I couldn't read everyone's calendar just now, so these times only avoid other supervision "
                    "bookings. Check your calendar before you pick.")
BusyLookup = Callable[[Sequence[str], dt.datetime, dt.datetime], Awaitable[Mapping[str, Iterable[Busy]]]]


# ---- outbox ----------------------------------------------------------------------------------------------------
async def enqueue(s: AsyncSession, kind: str, payload: dict, *, key: str, now: dt.datetime,
                  chain: str | None = None) -> None:
    from bot.outbox import enqueue as outbox_enqueue

    if chain is None:
        await outbox_enqueue(s, kind, payload, key=key, now=now)
    else:
        await outbox_enqueue(s, kind, payload, key=key, now=now, chain=chain)


async def notify(s: AsyncSession, staff_id: str, card: dict, *, key: str, now: dt.datetime,
                 ref: str | None = None) -> None:
    """A card in the person's 1:1 chat (delivered by the outbox)."""
    payload: dict[str, Any] = {"staff_id": staff_id, "card": card}
    if ref:
        payload["ref"] = ref
    await enqueue(s, "teams.notify", payload, key=key, now=now)


async def update_card(s: AsyncSession, staff_id: str, ref: str, card: dict, *, key: str, now: dt.datetime) -> None:
    """Replace a card sent earlier under `ref` (sent fresh if it never was)."""
    await enqueue(s, "teams.update", {"staff_id": staff_id, "ref": ref, "card": card}, key=key, now=now)


async def calendar_create(s: AsyncSession, *, event_key: str, organizer_id: str, attendee_ids: Sequence[str],
                          slot: Slot, now: dt.datetime) -> None:
    """One private, neutral event in every attendee's calendar (a Teams meeting in production)."""
    await enqueue(s, "calendar.create", {
        "event_key": event_key, "organizer_id": organizer_id, "attendee_ids": list(dict.fromkeys(attendee_ids)),
        "start": slot.start.isoformat(), "end": slot.end.isoformat(), "subject": SUBJECT, "online": True},
        key=f"calendar:{event_key}:create", chain=f"calendar:{event_key}", now=now)


async def calendar_cancel(s: AsyncSession, *, event_key: str, now: dt.datetime) -> None:
    await enqueue(s, "calendar.cancel", {"event_key": event_key}, key=f"calendar:{event_key}:cancel",
                  chain=f"calendar:{event_key}", now=now)


# ---- free/busy -------------------------------------------------------------------------------------------------
async def _own_bookings(s: AsyncSession, staff_ids: Sequence[str], start: dt.datetime,
                        end: dt.datetime) -> dict[str, list[Busy]]:
    """Supervision this bot has booked for these people in the window (whether or not Graph has it yet)."""
    ids = set(staff_ids)
    out: dict[str, list[Busy]] = {i: [] for i in ids}
    meetings = (await s.execute(select(Meeting).where(
        Meeting.status == "booked", Meeting.starts_at < end, Meeting.ends_at > start,
        or_(Meeting.supervisor_id.in_(ids), Meeting.supervisee_id.in_(ids))))).scalars().all()
    for m in meetings:
        for who in (m.supervisor_id, m.supervisee_id):
            if who in ids:
                out[who].append(Busy(m.starts_at, m.ends_at))
    sessions = (await s.execute(select(GroupSession).where(
        GroupSession.status == "scheduled", GroupSession.starts_at < end, GroupSession.ends_at > start))
    ).scalars().all()
    if sessions:
        invitees = (await s.execute(select(SessionInvitee).where(
            SessionInvitee.session_id.in_([g.id for g in sessions]), SessionInvitee.staff_id.in_(ids)))
        ).scalars().all()
        by_session: dict[int, set[str]] = {}
        for inv in invitees:
            by_session.setdefault(inv.session_id, set()).add(inv.staff_id)
        for g in sessions:
            people = by_session.get(g.id, set()) | ({g.facilitator_id} & ids)
            for who in people:
                out[who].append(Busy(g.starts_at, g.ends_at))
    return out


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


async def busy_for(services: Services, staff_ids: Sequence[str], start: dt.datetime,
                   end: dt.datetime) -> tuple[dict[str, list[Busy]], str | None]:
    """Everyone's busy time in [start, end): calendars plus our own undelivered bookings; a warning instead of
    an error when calendars cannot be read (the card says so; nothing is booked without the person choosing)."""
    async with services.db.session() as s:
        busy = await _own_bookings(s, staff_ids, start, end)
    lookup: BusyLookup | None = services.busy_lookup or _port_lookup(services)
    if lookup is None:
        return busy, None
    warning = None
    try:
        for chunk in _chunks(list(staff_ids), 20):
            for sid, entries in (await lookup(chunk, start, end)).items():
                busy.setdefault(sid, []).extend(entries)
    except Exception as exc:  # noqa: BLE001 - Graph down or throttled: offer what we can, say so
        log.warning("free/busy lookup failed: %s", type(exc).__name__)
        warning = CALENDARS_UNREAD
    return busy, warning


def _chunks(items: list[str], n: int) -> Iterable[list[str]]:
    for i in range(0, len(items), n):
        yield items[i:i + n]


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


async def propose(services: Services, attendees: Sequence[str], *, earliest: dt.datetime, minutes: int,
                  urgency: str = "routine", times: Sequence[str] = (), days: Sequence[str] = (),
                  exclude: Sequence[Slot] = (), horizon: int | None = None,
                  last_day: dt.date | None = None) -> Proposal:
    """3–5 times free for all `attendees`, at their usual times first; urgent requests look at the next two
    school days, widening to the school's horizon when that finds too few."""
    school = services.school.settings
    cal = term_calendar(services)
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
        raw = find_slots(busy, calendar=cal, tz=services.school.tz, day_start=school.school_day.start,
                         day_end=school.school_day.end, duration=duration, earliest=earliest,
                         horizon_school_days=h, count=h * 48)   # every free time; we choose below
        raw = [x for x in raw if x not in exclude and (last_day is None or
                                                      x.start.astimezone(cal.tz).date() <= last_day)]
        return prefer_usual_times(raw, times=times, days=days, tz=services.school.tz, count=count)

    slots = search(narrow)
    if len(slots) < min(3, count) and narrow < wide:
        slots = search(wide)
    return Proposal(slots, warning)


async def still_free(services: Services, attendees: Sequence[str], slot: Slot, *,
                     ignore_meeting: int | None = None) -> bool:
    """Re-check a chosen time just before booking (calendars change while a card sits unread)."""
    busy, _ = await busy_for(services, attendees, slot.start, slot.end)
    if ignore_meeting is not None:
        async with services.db.session() as s:
            m = await s.get(Meeting, ignore_meeting)
        if m is not None:
            for who in (m.supervisor_id, m.supervisee_id):
                busy[who] = [b for b in busy.get(who, []) if not (b.start == m.starts_at and b.end == m.ends_at)]
    blocked = blocking_intervals(busy, tz=services.school.tz)
    return all(e <= slot.start or s_ >= slot.end for s_, e in blocked)


def slot_label(services: Services, start: dt.datetime, end: dt.datetime) -> str:
    return Slot(start, end).label(services.school.tz)


def half_term_name(services: Services, when: dt.datetime) -> tuple[dt.date, str]:
    cal = term_calendar(services)
    day = cal.local_date(when)
    ht = cal.half_term_for(day)
    return day, f"{services.school.terms.academic_year} {ht.name}" if ht else services.school.terms.academic_year


async def save_offer(services: Services, *, purpose: str, bookers: Sequence[str], attendees: Sequence[str],
                     slots: Sequence[Slot], minutes: int, created_by: str, now: dt.datetime,
                     request_id: int | None = None, pairing_id: int | None = None, meeting_id: int | None = None,
                     setup: dict | None = None) -> SlotOffer:
    offer = SlotOffer(nonce=secrets.token_urlsafe(16), purpose=purpose, bookers=list(bookers),
                      attendee_ids=list(attendees), slots=[x.start.isoformat() for x in slots], minutes=minutes,
                      request_id=request_id, pairing_id=pairing_id, meeting_id=meeting_id, setup=setup,
                      created_by=created_by, created_at=now)
    async with services.db.session() as s:
        s.add(offer)
    return offer


def offer_choices(services: Services, offer: SlotOffer) -> list[tuple[str, str]]:
    out = []
    for iso in offer.slots:
        start = dt.datetime.fromisoformat(iso)
        out.append((iso, slot_label(services, start, start + dt.timedelta(minutes=offer.minutes))))
    return out


def _later(offer_slots: Sequence[Slot], now: dt.datetime) -> str:
    last = max((x.end for x in offer_slots), default=now)
    return last.isoformat()


def _parse_after(raw: object, now: dt.datetime) -> dt.datetime:
    """"Show later times" carries the last offered end; anything odd (or in the past) means now."""
    if isinstance(raw, str):
        try:
            t = dt.datetime.fromisoformat(raw)
            if t.tzinfo is not None and now < t < now + dt.timedelta(days=120):
                return t.astimezone(dt.timezone.utc)
        except ValueError:
            pass
    return now


def _int(raw: object) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw.isdigit() and len(raw) < 12:
        return int(raw)
    return None


# ---- offering times for a request --------------------------------------------------------------------------------
def _request_attendees(req: SupervisionRequest) -> list[str]:
    return list(dict.fromkeys([req.supervisor_id, req.requester_id, *(req.colleagues or [])]))


def _details(services: Services, req: SupervisionRequest) -> cards.RequestDetails:
    return cards.RequestDetails(kind=req.kind, topics=list(req.topics or []), urgency=req.urgency,
                                times=list(req.times or []), days=list(req.days or []), note=req.note,
                                colleagues=[name_of(services, c) for c in req.colleagues or []])


async def offer_for_request(services: Services, turn: Turn) -> Reply:
    """Shows the allocated supervisor 3–5 times free in both calendars for a request (or its booking)."""
    request_id = _int(turn.data.get("request_id"))
    actor = turn.actor
    async with unit_of_work(services, turn.now) as s:
        req = await s.get(SupervisionRequest, request_id) if request_id is not None else None
        if req is None or actor is None or req.supervisor_id != actor.id:
            refuse(turn, "schedule.offer not the allocated supervisor")
            return say("Only the supervisor allocated to this request can book its time.")
        if req.status == "booked":
            return Reply.of(await _booked_view_for_request(services, s, req, actor.id))
        if req.status == "withdrawn":
            return Reply.of(request_cards.card([request_cards.title("Request withdrawn"),
                                                request_cards.text(f"{name_of(services, req.requester_id)} "
                                                                   "withdrew this request; nothing to book.")]))
        recent = None
        if "after" not in turn.data:
            recent = (await s.execute(select(SlotOffer).where(
                SlotOffer.request_id == req.id, SlotOffer.purpose == "request", SlotOffer.used_at.is_(None),
                SlotOffer.created_at > turn.now - OFFER_REUSE).order_by(SlotOffer.id.desc()).limit(1))
            ).scalar_one_or_none()
        details = _details(services, req)
        attendees = _request_attendees(req)
        heading = f"Book supervision with {name_of(services, req.requester_id)}"
        if req.kind == "group":
            heading = f"Book group supervision for {name_of(services, req.requester_id)} and colleagues"
    minutes = services.school.settings.session_minutes
    if recent is not None and all(dt.datetime.fromisoformat(x) > turn.now for x in recent.slots):
        offer, warning = recent, None
    else:
        earliest = _parse_after(turn.data.get("after"), turn.now)
        prop = await propose(services, attendees, earliest=earliest, minutes=minutes, urgency=req.urgency,
                             times=req.times or [], days=req.days or [])
        offer = await save_offer(services, purpose="request", bookers=[actor.id], attendees=attendees,
                                 slots=prop.slots, minutes=minutes, created_by=actor.id, now=turn.now,
                                 request_id=req.id)
        warning = prop.warning
    slots = [Slot(dt.datetime.fromisoformat(x), dt.datetime.fromisoformat(x) + dt.timedelta(minutes=minutes))
             for x in offer.slots]
    return Reply.of(cards.offer_card(cards.OfferView(
        nonce=offer.nonce, heading=heading, slots=offer_choices(services, offer), minutes=minutes, details=details,
        warning=warning, later_data={"request_id": req.id, "after": _later(slots, turn.now)})))


# ---- booking -------------------------------------------------------------------------------------------------------
class _Concurrent(Exception):
    """Another click booked this offer first; show what it booked."""


async def book(services: Services, turn: Turn) -> Reply:
    """Books the chosen time: one private "Supervision" event in both calendars, a card for the other person."""
    actor = turn.actor
    nonce = turn.data.get("offer")
    async with unit_of_work(services, turn.now) as s:
        offer = (await s.execute(select(SlotOffer).where(SlotOffer.nonce == nonce))).scalar_one_or_none() \
            if isinstance(nonce, str) else None
        if offer is None or actor is None or actor.id not in (offer.bookers or []):
            refuse(turn, "schedule.book not a booker of this offer")
            return say("You can't book this time: it was offered to someone else.")
        if offer.used_at is not None:
            return Reply.of(await booked_view_for_offer(services, s, offer, actor.id))
        if offer.purpose == "group":   # group offers are booked from their own card (specialist.book)
            refuse(turn, "schedule.book group offer")
            return say("Please use the card's own Book button.")
        context = await _booking_context(services, s, offer, actor.id, turn)
    if isinstance(context, Reply):
        return context
    raw = turn.data.get("slot")
    if not isinstance(raw, str) or raw not in offer.slots:
        if raw not in (None, ""):
            refuse(turn, "schedule.book time not offered")
        return await _reoffer(services, turn, offer, context, message=None,
                              errors={"slot": "Choose one of the times offered."})
    start = dt.datetime.fromisoformat(raw)
    slot = Slot(start, start + dt.timedelta(minutes=offer.minutes))
    if slot.start <= turn.now:
        return await _reoffer(services, turn, offer, context, message="That time has passed. Here are new times.")
    if not await still_free(services, offer.attendee_ids, slot, ignore_meeting=offer.meeting_id):
        return await _reoffer(services, turn, offer, context,
                              message="That time has just been taken in someone's calendar. Here are fresh times.")
    try:
        async with services.db.session() as s:
            claimed = await s.execute(update(SlotOffer).where(SlotOffer.id == offer.id, SlotOffer.used_at.is_(None))
                                      .values(used_at=turn.now))
            if claimed.rowcount != 1:
                raise _Concurrent()
            context = await _reload(s, context)
            if context.request is not None and context.request.kind == "group" and context.meeting is None:
                await book_group_session(services, s, offer, slot, turn, request=context.request)
            else:
                await _book_meeting(services, s, offer, slot, turn, context)
    except _Concurrent:
        pass
    async with services.db.session() as s:
        offer = (await s.execute(select(SlotOffer).where(SlotOffer.id == offer.id))).scalar_one()
        return Reply.of(await booked_view_for_offer(services, s, offer, actor.id,
                                                    message="Booked. It's in both calendars as \"Supervision\"."))


@dataclass
class _Context:
    request: SupervisionRequest | None = None
    pairing: Pairing | None = None
    meeting: Meeting | None = None


async def _booking_context(services: Services, s: AsyncSession, offer: SlotOffer, actor_id: str,
                           turn: Turn) -> _Context | Reply:
    """Re-check on the server that what the offer was for still stands, and that this person may book it."""
    if offer.purpose == "request":
        req = await s.get(SupervisionRequest, offer.request_id)
        if req is None or req.supervisor_id != actor_id:
            refuse(turn, "schedule.book request no longer theirs")
            return say("This request is no longer allocated to you.")
        if req.status == "booked":
            return Reply.of(await _booked_view_for_request(services, s, req, actor_id))
        if req.status != "allocated":
            return say("This request was withdrawn, so there is nothing to book.")
        return _Context(request=req)
    if offer.purpose == "pairing":
        pairing = await s.get(Pairing, offer.pairing_id)
        if pairing is None or pairing.supervisor_id != actor_id or pairing.ended_at is not None:
            refuse(turn, "schedule.book pairing not active")
            return say("This supervision has ended, so there is nothing to book.")
        return _Context(pairing=pairing)
    if offer.purpose == "rearrange":
        meeting = await s.get(Meeting, offer.meeting_id)
        if meeting is None or actor_id not in (meeting.supervisor_id, meeting.supervisee_id):
            refuse(turn, "schedule.book meeting not theirs")
            return say("That session isn't yours to move.")
        if meeting.status != "booked" or meeting.starts_at <= turn.now:
            return Reply.of(meeting_view(services, meeting, actor_id, turn.now, await _successor(s, meeting)))
        req = await s.get(SupervisionRequest, meeting.request_id) if meeting.request_id else None
        pairing = await s.get(Pairing, meeting.pairing_id) if meeting.pairing_id else None
        return _Context(request=req, pairing=pairing, meeting=meeting)
    return _Context()   # group: the booker was checked against offer.bookers


async def _reload(s: AsyncSession, c: _Context) -> _Context:
    """The same rows, attached to this unit of work (the checks ran in an earlier, read-only one)."""
    return _Context(request=await s.get(SupervisionRequest, c.request.id) if c.request else None,
                    pairing=await s.get(Pairing, c.pairing.id) if c.pairing else None,
                    meeting=await s.get(Meeting, c.meeting.id) if c.meeting else None)


async def _reoffer(services: Services, turn: Turn, offer: SlotOffer, context: _Context, *, message: str | None,
                   errors: dict[str, str] | None = None) -> Reply:
    """Show the same kind of offer again (fresh times if the old ones went stale), keeping the reason visible."""
    minutes = offer.minutes
    if errors:   # nothing stale: show the very same times with the error beside the field
        prop_slots = [Slot(dt.datetime.fromisoformat(x), dt.datetime.fromisoformat(x) + dt.timedelta(minutes=minutes))
                      for x in offer.slots]
        new, warning = offer, None
    else:
        req = context.request
        exclude = [Slot(context.meeting.starts_at, context.meeting.ends_at)] if context.meeting else []
        prop = await propose(services, offer.attendee_ids, earliest=turn.now, minutes=minutes,
                             urgency=req.urgency if req else "routine", times=(req.times if req else []) or [],
                             days=(req.days if req else []) or [], exclude=exclude)
        new = await save_offer(services, purpose=offer.purpose, bookers=offer.bookers, attendees=offer.attendee_ids,
                               slots=prop.slots, minutes=minutes, created_by=turn.actor.id, now=turn.now,
                               request_id=offer.request_id, pairing_id=offer.pairing_id, meeting_id=offer.meeting_id)
        prop_slots, warning = prop.slots, prop.warning
    return Reply.of(_offer_card_for(services, turn, new, context, prop_slots, warning=warning, message=message,
                                    errors=errors or {}))


def _offer_card_for(services: Services, turn: Turn, offer: SlotOffer, context: _Context, slots: Sequence[Slot], *,
                    warning: str | None, message: str | None, errors: dict[str, str], cancelling: bool = False) -> dict:
    actor_id = turn.actor.id
    choices = offer_choices(services, offer)
    if offer.purpose == "request" and context.request is not None:
        req = context.request
        return cards.offer_card(cards.OfferView(
            nonce=offer.nonce, heading=f"Book supervision with {name_of(services, req.requester_id)}", slots=choices,
            minutes=offer.minutes, details=_details(services, req), warning=warning, message=message, errors=errors,
            later_data={"request_id": req.id, "after": _later(slots, turn.now)}))
    if offer.purpose == "pairing" and context.pairing is not None:
        p = context.pairing
        return cards.offer_card(cards.OfferView(
            nonce=offer.nonce, heading=f"Book supervision with {name_of(services, p.supervisee_id)}", slots=choices,
            minutes=offer.minutes, warning=warning, message=message, errors=errors,
            later_data={"pairing_id": p.id, "after": _later(slots, turn.now)}, later_verb=cards.PAIRING_OFFER))
    m = context.meeting
    other = m.supervisee_id if actor_id == m.supervisor_id else m.supervisor_id
    when = slot_label(services, m.starts_at, m.ends_at)
    if cancelling:
        heading = f"Cancel supervision on {when}?"
        intro = ("When a session is cancelled, the school's policy is to agree a new date at the same time. Pick a "
                 f"new time free for you and {name_of(services, other)} — or cancel without one"
                 + (" and propose a new time later." if actor_id == m.supervisor_id else
                    f", and {name_of(services, m.supervisor_id)} will propose one."))
        verb_title = "Move to this time"
    else:
        heading = f"Move supervision on {when}"
        intro = f"Pick a new time free for you and {name_of(services, other)}."
        verb_title = "Move to this time"
    return cards.offer_card(cards.OfferView(
        nonce=offer.nonce, heading=heading, slots=choices, minutes=offer.minutes, warning=warning, message=message,
        errors=errors, intro=intro, book_title=verb_title,
        later_data={"meeting_id": m.id, "after": _later(slots, turn.now), "cancelling": cancelling},
        later_verb=cards.CANCEL_START if cancelling else cards.REARRANGE,
        cancel_data={"meeting_id": m.id} if cancelling else None,
        back=("Keep the session", cards.MEETING_VIEW, {"meeting_id": m.id})))


async def _book_meeting(services: Services, s: AsyncSession, offer: SlotOffer, slot: Slot, turn: Turn,
                        context: _Context) -> Meeting:
    actor_id = turn.actor.id
    old = context.meeting
    req = context.request
    pairing = context.pairing
    if old is not None:
        supervisor_id, supervisee_id, kind = old.supervisor_id, old.supervisee_id, old.kind
    elif req is not None:
        supervisor_id, supervisee_id = req.supervisor_id, req.requester_id
        kind = "enrichment" if req.route == "enrichment" else req.kind
    else:
        supervisor_id, supervisee_id, kind = pairing.supervisor_id, pairing.supervisee_id, "one_to_one"
    if pairing is None and req is not None and req.route != "enrichment":
        pairing = (await s.execute(select(Pairing).where(
            Pairing.supervisee_id == supervisee_id, Pairing.supervisor_id == supervisor_id,
            Pairing.ended_at.is_(None)))).scalar_one_or_none()
    day, half_term = half_term_name(services, slot.start)
    meeting = Meeting(kind=kind, request_id=req.id if req else None, pairing_id=pairing.id if pairing else None,
                      supervisor_id=supervisor_id, supervisee_id=supervisee_id, starts_at=slot.start,
                      ends_at=slot.end, local_date=day, half_term=half_term, status="booked",
                      event_key=f"supervision-{secrets.token_hex(8)}", offer_nonce=offer.nonce,
                      replaces_id=old.id if old else None, booked_by=actor_id, booked_at=turn.now)
    s.add(meeting)
    await s.flush()
    meeting.event_key = f"supervision-meeting-{meeting.id}"
    now = turn.now
    await calendar_create(s, event_key=meeting.event_key, organizer_id=supervisor_id,
                          attendee_ids=[supervisor_id, supervisee_id], slot=slot, now=now)
    other = supervisee_id if actor_id == supervisor_id else supervisor_id
    new_when = slot_label(services, slot.start, slot.end)
    if old is not None:
        old.status, old.changed_by, old.changed_at = "rearranged", actor_id, now
        await calendar_cancel(s, event_key=old.event_key, now=now)
        old_when = slot_label(services, old.starts_at, old.ends_at)
        await update_card(s, other, f"meeting:{old.id}", meeting_view(services, old, other, now, meeting),
                          key=f"meeting:{old.id}:moved:{other}", now=now)
        await notify(s, other, cards.change_notice(meeting_id=meeting.id, actor_name=name_of(services, actor_id),
                                                   old_when=old_when, new_when=new_when, supervisor_will_propose=False),
                     key=f"meeting:{meeting.id}:moved-notice:{other}", ref=f"meeting:{meeting.id}", now=now)
    else:
        await notify(s, other, meeting_view(services, meeting, other, now, None,
                                            message=f"{name_of(services, actor_id)} booked your supervision."),
                     key=f"meeting:{meeting.id}:booked:{other}", ref=f"meeting:{meeting.id}", now=now)
    if req is not None:
        req.status, req.updated_at = "booked", now
        await update_card(s, req.requester_id, f"request:{req.id}:status",
                          await request_status_card(services, s, req),
                          key=f"request:{req.id}:status:booked:{meeting.id}",
                          now=now)
    return meeting


async def book_group_session(services: Services, s: AsyncSession, offer: SlotOffer, slot: Slot, turn: Turn, *,
                             request: SupervisionRequest | None = None) -> GroupSession:
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
    titles = {"specialist": "Specialist supervision", "emergency": "Emergency group supervision",
              "enrichment": "Enrichment week group supervision", "ad_hoc": "Group supervision"}
    session = GroupSession(kind=kind, group_id=None, title=titles.get(kind, "Group supervision"),
                           starts_at=slot.start, ends_at=slot.end, local_date=day, half_term=half_term,
                           facilitator_id=supervisors[0], status="scheduled", external_support=external,
                           created_by=turn.actor.id, created_at=now)
    s.add(session)
    await s.flush()
    invitees = list(dict.fromkeys([*supervisors[1:], *staff]))
    for sid in invitees:
        s.add(SessionInvitee(session_id=session.id, staff_id=sid, added_at=now, added_via="invite"))
    link = BookedGroupSession(session_id=session.id, offer_nonce=offer.nonce,
                              request_id=request.id if request else None,
                              event_key=f"group-session-{session.id}", supervisor_ids=supervisors,
                              created_by=turn.actor.id)
    s.add(link)
    await calendar_create(s, event_key=link.event_key, organizer_id=supervisors[0],
                          attendee_ids=[*supervisors, *invitees], slot=slot, now=now)
    for sid in dict.fromkeys([*supervisors, *invitees]):
        if sid == turn.actor.id:
            continue
        await notify(s, sid, group_session_view(services, session, link, sid, len(invitees)),
                     key=f"group-session:{session.id}:booked:{sid}", ref=f"group-session:{session.id}", now=now)
    if request is not None:
        request.status, request.updated_at = "booked", now
        await update_card(s, request.requester_id, f"request:{request.id}:status",
                          await request_status_card(services, s, request),
                          key=f"request:{request.id}:status:booked:group:{session.id}", now=now)
    return session


def group_session_view(services: Services, session: GroupSession, link: BookedGroupSession, viewer_id: str,
                       people_count: int, *, message: str | None = None) -> dict:
    can_cancel = viewer_id in (link.created_by, session.facilitator_id)
    return group_cards.group_session_card(group_cards.GroupSessionView(
        session_id=session.id, heading=session.title, when=slot_label(services, session.starts_at, session.ends_at),
        leaders=[name_of(services, x) for x in link.supervisor_ids], people_count=people_count,
        status=session.status, external=session.external_support, can_cancel=can_cancel, message=message))


async def booked_view_for_offer(services: Services, s: AsyncSession, offer: SlotOffer, viewer_id: str, *,
                                message: str | None = None) -> dict:
    """What an already-used offer booked (a double click shows the booking, and books nothing more)."""
    meeting = (await s.execute(select(Meeting).where(Meeting.offer_nonce == offer.nonce))).scalar_one_or_none()
    if meeting is not None:
        return meeting_view(services, meeting, viewer_id, None, await _successor(s, meeting), message=message)
    link = (await s.execute(select(BookedGroupSession).where(BookedGroupSession.offer_nonce == offer.nonce))
            ).scalar_one_or_none()
    if link is not None:
        session = await s.get(GroupSession, link.session_id)
        count = len((await s.execute(select(SessionInvitee).where(SessionInvitee.session_id == session.id))
                     ).scalars().all())
        return group_session_view(services, session, link, viewer_id, count, message=message)
    return request_cards.card([request_cards.title("Already used"),
                               request_cards.text("These times were used for an earlier booking.")])


async def _booked_view_for_request(services: Services, s: AsyncSession, req: SupervisionRequest,
                                   viewer_id: str) -> dict:
    meeting = (await s.execute(select(Meeting).where(Meeting.request_id == req.id)
                               .order_by(Meeting.id.desc()).limit(1))).scalar_one_or_none()
    if meeting is not None:
        return meeting_view(services, meeting, viewer_id, None, await _successor(s, meeting))
    link = (await s.execute(select(BookedGroupSession).where(BookedGroupSession.request_id == req.id)
                            .order_by(BookedGroupSession.id.desc()).limit(1))).scalar_one_or_none()
    if link is not None:
        session = await s.get(GroupSession, link.session_id)
        count = len((await s.execute(select(SessionInvitee).where(SessionInvitee.session_id == session.id))
                     ).scalars().all())
        return group_session_view(services, session, link, viewer_id, count)
    return request_cards.card([request_cards.title("Booked")])


async def _successor(s: AsyncSession, meeting: Meeting) -> Meeting | None:
    if meeting.status != "rearranged":
        return None
    return (await s.execute(select(Meeting).where(Meeting.replaces_id == meeting.id))).scalar_one_or_none()


def meeting_view(services: Services, m: Meeting, viewer_id: str, now: dt.datetime | None,
                 successor: Meeting | None, *, message: str | None = None,
                 propose_request_id: int | None = None) -> dict:
    is_sup = viewer_id == m.supervisor_id
    other = m.supervisee_id if is_sup else m.supervisor_id
    return cards.meeting_card(cards.MeetingView(
        meeting_id=m.id, status=m.status, when=slot_label(services, m.starts_at, m.ends_at),
        other_name=name_of(services, other), viewer_is_supervisor=is_sup,
        past=now is not None and m.starts_at <= now, message=message,
        new_when=slot_label(services, successor.starts_at, successor.ends_at) if successor else None,
        propose_request_id=propose_request_id))


async def request_status_card(services: Services, s: AsyncSession, req: SupervisionRequest, *,
                              message: str | None = None) -> dict:
    """The requester's status card (also used by request.py), with the booking when there is one."""
    meeting_label, meeting_id, group = None, None, False
    if req.status == "booked":
        m = (await s.execute(select(Meeting).where(Meeting.request_id == req.id, Meeting.status == "booked")
                             .order_by(Meeting.id.desc()).limit(1))).scalar_one_or_none()
        if m is not None:
            meeting_label, meeting_id = slot_label(services, m.starts_at, m.ends_at), m.id
        else:
            link = (await s.execute(select(BookedGroupSession).where(BookedGroupSession.request_id == req.id)
                                    .order_by(BookedGroupSession.id.desc()).limit(1))).scalar_one_or_none()
            if link is not None:
                g = await s.get(GroupSession, link.session_id)
                meeting_label, group = slot_label(services, g.starts_at, g.ends_at), True
    return request_cards.request_status(request_cards.RequestStatusView(
        request_id=req.id, status=req.status, kind=req.kind, topics=list(req.topics or []), urgency=req.urgency,
        supervisor_name=name_of(services, req.supervisor_id) if req.supervisor_id else None, route=req.route,
        meeting_label=meeting_label, meeting_id=meeting_id, group_session=group, message=message))


# ---- viewing, rearranging and cancelling a meeting ----------------------------------------------------------------
async def _meeting_for(services: Services, s: AsyncSession, turn: Turn, what: str) -> Meeting | Reply:
    mid = _int(turn.data.get("meeting_id"))
    m = await s.get(Meeting, mid) if mid is not None else None
    if m is None or turn.actor is None or turn.actor.id not in (m.supervisor_id, m.supervisee_id):
        refuse(turn, what)
        return say("That session isn't one of yours.")
    return m


async def view_meeting(services: Services, turn: Turn) -> Reply:
    """Shows a supervision session as it stands now (booked, moved or cancelled)."""
    async with unit_of_work(services, turn.now) as s:
        m = await _meeting_for(services, s, turn, "meeting.view")
        if isinstance(m, Reply):
            return m
        message, propose = None, None
        if m.replaces_id and m.status == "booked":
            old = await s.get(Meeting, m.replaces_id)
            if old is not None:
                message = f"Moved from {slot_label(services, old.starts_at, old.ends_at)}."
        if m.status == "cancelled" and m.request_id and turn.actor.id == m.supervisor_id:
            req = await s.get(SupervisionRequest, m.request_id)
            if req is not None and req.status == "allocated" and req.supervisor_id == turn.actor.id:
                propose = req.id   # still owed a new time (seed 003): keep the way to it on the card
        return Reply.of(meeting_view(services, m, turn.actor.id, turn.now, await _successor(s, m), message=message,
                                     propose_request_id=propose))


async def rearrange(services: Services, turn: Turn) -> Reply:
    """Offers either person new times for a booked session, free in both calendars."""
    return await _change(services, turn, cancelling=False)


async def cancel_start(services: Services, turn: Turn) -> Reply:
    """Starts cancelling a session: asks for a new time first, as the policy asks (seed 003)."""
    return await _change(services, turn, cancelling=True)


async def _change(services: Services, turn: Turn, *, cancelling: bool) -> Reply:
    what = "meeting.cancel_start" if cancelling else "meeting.rearrange"
    cancelling = cancelling or turn.data.get("cancelling") is True
    async with unit_of_work(services, turn.now) as s:
        m = await _meeting_for(services, s, turn, what)
        if isinstance(m, Reply):
            return m
        if m.status != "booked" or m.starts_at <= turn.now:
            return Reply.of(meeting_view(services, m, turn.actor.id, turn.now, await _successor(s, m),
                                         message="This session can no longer be changed."))
        req = await s.get(SupervisionRequest, m.request_id) if m.request_id else None
        pairing = await s.get(Pairing, m.pairing_id) if m.pairing_id else None
    context = _Context(request=req, pairing=pairing, meeting=m)
    attendees = [m.supervisor_id, m.supervisee_id]
    earliest = _parse_after(turn.data.get("after"), turn.now)
    prop = await propose(services, attendees, earliest=earliest, minutes=services.school.settings.session_minutes,
                         urgency=req.urgency if req else "routine", times=(req.times if req else []) or [],
                         days=(req.days if req else []) or [], exclude=[Slot(m.starts_at, m.ends_at)])
    offer = await save_offer(services, purpose="rearrange", bookers=attendees, attendees=attendees, slots=prop.slots,
                             minutes=services.school.settings.session_minutes, created_by=turn.actor.id,
                             now=turn.now, request_id=req.id if req else None, meeting_id=m.id,
                             pairing_id=pairing.id if pairing else None)
    return Reply.of(_offer_card_for(services, turn, offer, context, prop.slots, warning=prop.warning, message=None,
                                    errors={}, cancelling=cancelling))


async def cancel(services: Services, turn: Turn) -> Reply:
    """Cancels a session without a new time; the other person is told and a new time will be proposed."""
    actor_id = turn.actor.id if turn.actor else None
    async with unit_of_work(services, turn.now) as s:
        m = await _meeting_for(services, s, turn, "meeting.cancel")
        if isinstance(m, Reply):
            return m
        if m.status != "booked" or m.starts_at <= turn.now:
            return Reply.of(meeting_view(services, m, actor_id, turn.now, await _successor(s, m)))
        done = await s.execute(update(Meeting).where(Meeting.id == m.id, Meeting.status == "booked").values(
            status="cancelled", changed_by=actor_id, changed_at=turn.now))
        if done.rowcount != 1:
            return Reply.of(meeting_view(services, m, actor_id, turn.now, None))
        m.status = "cancelled"
        now = turn.now
        await calendar_cancel(s, event_key=m.event_key, now=now)
        other = m.supervisee_id if actor_id == m.supervisor_id else m.supervisor_id
        old_when = slot_label(services, m.starts_at, m.ends_at)
        actor_is_supervisor = actor_id == m.supervisor_id
        await notify(s, other, cards.change_notice(meeting_id=m.id, actor_name=name_of(services, actor_id),
                                                   old_when=old_when, new_when=None,
                                                   supervisor_will_propose=actor_is_supervisor),
                     key=f"meeting:{m.id}:cancelled:{other}", now=now)
        await update_card(s, other, f"meeting:{m.id}", meeting_view(services, m, other, now, None),
                          key=f"meeting:{m.id}:cancelled-card:{other}", now=now)
        req = await s.get(SupervisionRequest, m.request_id) if m.request_id else None
        if req is not None and req.status == "booked":
            # Back to "a supervisor will propose a time": the alternative the policy asks for still happens.
            req.status, req.updated_at = "allocated", now
            await update_card(s, req.requester_id, f"request:{req.id}:status",
                              await request_status_card(services, s, req),
                              key=f"request:{req.id}:status:cancelled:{m.id}", now=now)
            if not actor_is_supervisor:
                await notify(s, m.supervisor_id, request_cards.supervisor_allocated_notice(
                    request_id=req.id, supervisee_name=name_of(services, req.requester_id), kind=req.kind,
                    urgency=req.urgency, route=req.route), key=f"request:{req.id}:repropose:{m.id}",
                    ref=f"request:{req.id}:supervisor", now=now)
        return Reply.of(meeting_view(services, m, actor_id, now, None,
                                     message="Cancelled; both calendars will be updated.",
                                     propose_request_id=req.id if actor_is_supervisor and req is not None else None))


# ---- continuing supervision: "my supervision", follow-up sessions, ending -----------------------------------------
async def mine(services: Services, turn: Turn) -> Reply:
    """Shows your supervisor, your booked sessions and, for supervisors, the people you supervise."""
    actor = turn.actor
    if actor is None:
        refuse(turn, "schedule.mine not on roster")
        return say("I can't find you on the school's staff list.")
    async with unit_of_work(services, turn.now) as s:
        return Reply.of(await _mine_card(services, s, turn))


async def _mine_card(services: Services, s: AsyncSession, turn: Turn, *, message: str | None = None) -> dict:
    actor = turn.actor
    mine_pairing = await active_pairing(s, actor.id)
    meetings = (await s.execute(select(Meeting).where(
        Meeting.status == "booked", Meeting.ends_at > turn.now,
        or_(Meeting.supervisor_id == actor.id, Meeting.supervisee_id == actor.id)).order_by(Meeting.starts_at))
    ).scalars().all()
    dated = [(m.starts_at, cards.UpcomingItem(m.id, slot_label(services, m.starts_at, m.ends_at),
                                              name_of(services, m.supervisee_id if m.supervisor_id == actor.id
                                                      else m.supervisor_id), changeable=m.starts_at > turn.now))
             for m in meetings]
    group_ids = {i.session_id for i in (await s.execute(select(SessionInvitee).where(
        SessionInvitee.staff_id == actor.id))).scalars()}
    groups = (await s.execute(select(GroupSession).where(
        GroupSession.status == "scheduled", GroupSession.ends_at > turn.now,
        or_(GroupSession.id.in_(group_ids or {-1}), GroupSession.facilitator_id == actor.id)))).scalars().all()
    dated += [(g.starts_at, cards.UpcomingItem(None, slot_label(services, g.starts_at, g.ends_at), g.title,
                                               changeable=False, group=True)) for g in groups]
    upcoming = [item for _, item in sorted(dated, key=lambda d: d[0])]
    open_reqs = (await s.execute(select(SupervisionRequest).where(
        SupervisionRequest.requester_id == actor.id, SupervisionRequest.status.in_(("submitted", "allocated")))
    )).scalars().all()
    status_text = {"submitted": "waiting for a supervisor", "allocated": "supervisor to propose a time"}
    supervisees = None
    pairs = (await s.execute(select(Pairing).where(Pairing.supervisor_id == actor.id, Pairing.ended_at.is_(None))
                             .order_by(Pairing.started_at))).scalars().all()
    if pairs or actor.has(Role.SUPERVISOR):
        supervisees = []
        for p in pairs:
            nxt = next((m for m in meetings if m.pairing_id == p.id or
                        (m.supervisee_id == p.supervisee_id and m.supervisor_id == actor.id)), None)
            supervisees.append(cards.SuperviseeItem(
                p.id, name_of(services, p.supervisee_id), day_label(p.started_at.astimezone(services.school.tz).date()),
                slot_label(services, nxt.starts_at, nxt.ends_at) if nxt else None))
    return cards.mine_card(cards.MineView(
        person_name=actor.first_name,
        supervisor_name=name_of(services, mine_pairing.supervisor_id) if mine_pairing else None,
        upcoming=upcoming, open_requests=[(r.id, status_text.get(r.status, r.status)) for r in open_reqs],
        supervisees=supervisees, message=message))


async def offer_for_pairing(services: Services, turn: Turn) -> Reply:
    """Offers a supervisor times for the next session with someone they already supervise (continuity)."""
    pid = _int(turn.data.get("pairing_id"))
    async with unit_of_work(services, turn.now) as s:
        p = await s.get(Pairing, pid) if pid is not None else None
        if p is None or turn.actor is None or p.supervisor_id != turn.actor.id or p.ended_at is not None:
            refuse(turn, "schedule.pairing_offer not their supervisee")
            return say("Only the supervisor can book a session for this supervision.")
        last_req = (await s.execute(select(SupervisionRequest).where(
            SupervisionRequest.requester_id == p.supervisee_id).order_by(SupervisionRequest.id.desc()).limit(1))
        ).scalar_one_or_none()
    attendees = [p.supervisor_id, p.supervisee_id]
    minutes = services.school.settings.session_minutes
    prop = await propose(services, attendees, earliest=_parse_after(turn.data.get("after"), turn.now),
                         minutes=minutes, times=(last_req.times if last_req else []) or [],
                         days=(last_req.days if last_req else []) or [])
    offer = await save_offer(services, purpose="pairing", bookers=[p.supervisor_id], attendees=attendees,
                             slots=prop.slots, minutes=minutes, created_by=turn.actor.id, now=turn.now, pairing_id=p.id)
    return Reply.of(_offer_card_for(services, turn, offer, _Context(pairing=p), prop.slots, warning=prop.warning,
                                    message=None, errors={}))


async def end_pairing(services: Services, turn: Turn) -> Reply:
    """Ends a 1:1 supervision (either person, after asking); it no longer counts in the supervisor's caseload."""
    pid = _int(turn.data.get("pairing_id"))
    async with unit_of_work(services, turn.now) as s:
        p = await s.get(Pairing, pid) if pid is not None else None
        if p is None or turn.actor is None or turn.actor.id not in (p.supervisor_id, p.supervisee_id):
            refuse(turn, "schedule.pairing_end not theirs")
            return say("That supervision isn't yours to end.")
        if p.ended_at is not None:
            return Reply.of(await _mine_card(services, s, turn, message="That supervision had already ended."))
        if turn.data.get("confirm") is not True:
            return Reply.of(cards.pairing_end_confirm(
                pairing_id=p.id, supervisee_name=name_of(services, p.supervisee_id),
                supervisor_name=name_of(services, p.supervisor_id),
                viewer_is_supervisor=turn.actor.id == p.supervisor_id))
        p.ended_at, p.ended_by = turn.now, turn.actor.id
        # Minimum data: a note written for this supervisor has done its job once the supervision ends.
        await s.execute(update(SupervisionRequest).where(
            SupervisionRequest.requester_id == p.supervisee_id, SupervisionRequest.supervisor_id == p.supervisor_id,
            SupervisionRequest.note.is_not(None)).values(note=None))
        other = p.supervisee_id if turn.actor.id == p.supervisor_id else p.supervisor_id
        await notify(s, other, request_cards.card([
            request_cards.title("Supervision ended"),
            request_cards.text(f"{name_of(services, turn.actor.id)} ended the 1:1 supervision between "
                               f"{name_of(services, p.supervisor_id)} and {name_of(services, p.supervisee_id)}. "
                               "Type **request** whenever you'd like supervision again.")]),
            key=f"pairing:{p.id}:ended:{other}", now=turn.now)
        await s.flush()
        return Reply.of(await _mine_card(services, s, turn, message="Supervision ended."))


def register(router: Router) -> None:
    router.command("sessions", "mine", "supervision", title="My supervision",
                   description="Your supervisor, booked sessions, and the people you supervise.", handler=mine,
                   verb=cards.MINE)
    router.verb(cards.OFFER, offer_for_request)
    router.verb(cards.BOOK, book)
    router.verb(cards.MEETING_VIEW, view_meeting)
    router.verb(cards.REARRANGE, rearrange)
    router.verb(cards.CANCEL_START, cancel_start)
    router.verb(cards.CANCEL, cancel)
    router.verb(cards.PAIRING_OFFER, offer_for_pairing)
    router.verb(cards.PAIRING_END, end_pairing)
