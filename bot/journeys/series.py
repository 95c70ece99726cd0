"""Journey: a supervisor books a term of 1:1 sessions with someone they supervise in one go (seed 003 Appendix 1
§1–2: "at least six weekly", "the supervision dates will be fixed at least 1 term in advance"; §4: a cancelled
session gets an alternative date — each session of the series is an ordinary booked meeting, moved or cancelled
on its own through bot/journeys/meetings.py).

`series` → the form (who with, first date and time, every N school days, until the end of a half term) → the
dates it makes, each checked against both calendars (busy ones are left out and named) → "Book these" books them
all in one transaction: one meeting row and one calendar event per date (through the outbox), one card for the
supervisee listing them. The dates are stored as a slot offer that can be used once, so a double click books once.
"""

from __future__ import annotations

import datetime as dt

from bot import labels
from bot.domain.series import EVERY_CHOICES, MAX_SESSIONS, series_dates, term_end
from bot.domain.slots import Slot, blocking_intervals
from bot.journeys import booking, permissions
from bot.journeys.base import Reply, Services, Turn
from bot.journeys.kit import refuse, say
from bot.journeys.router import Router
from bot.outbox import effects
from bot.records.rules import clean_text, parse_date, parse_time
from bot.school import Role
from bot.store import bookings
from bot.store.errors import OfferUsed
from bot.store.models_request import Meeting, Pairing
from cards import series as cards

NOT_SUPERVISOR = "Only a supervisor can book a series of sessions, with the people allocated to them."
PURPOSE = "series"
STAFF = permissions.on_roster(NOT_SUPERVISOR)
EVERY_LABELS = {
    5: "Every week (5 school days)",
    10: "Every 2 weeks (10 school days)",
    15: "Every 3 weeks (15 school days)",
    20: "Every 4 weeks (20 school days)",
    30: "Every 6 weeks (30 school days)",
}


def may_supervise(actor) -> bool:
    """Who sees `series` in help; the handlers check the actual allocation on every click."""
    return actor is not None and (actor.has(Role.SUPERVISOR) or actor.has(Role.DSL))


def register(router: Router) -> None:
    router.command(
        "series",
        "term",
        title="Book a term of supervision",
        description="Fix a term's 1:1 sessions with someone you supervise in one go, in both calendars.",
        handler=start,
        allowed=STAFF,
        listed=may_supervise,
        verb=cards.START,
    )
    router.verb(cards.PREVIEW, preview, allowed=STAFF)
    router.verb(cards.BOOK, book, allowed=STAFF)


def _name(services: Services, staff_id: str) -> str:
    return labels.name_of(services.school, staff_id, missing="a former member of staff")


def _label(services: Services, start: dt.datetime, minutes: int) -> str:
    return f"{labels.date_label(start.astimezone(services.school.tz).date())} " + labels.time_range(
        start, start + dt.timedelta(minutes=minutes), services.school.tz
    )


def _until_choices(services: Services, today: dt.date) -> tuple[list[tuple[str, str]], str | None]:
    """The half-term ends from now on, and the default: the end of the coming term."""
    cal = services.calendar
    choices = [
        (cal.deadline(ht).isoformat(), f"End of {ht.name} ({labels.short_date(cal.deadline(ht))})")
        for ht in cal.half_terms
        if cal.deadline(ht) >= today
    ]
    last = term_end(cal, today)
    return choices, cal.deadline(last).isoformat() if last else None


async def _pairings(s, actor_id: str) -> list[Pairing]:
    return await bookings.supervisees(s, actor_id)


async def _form(services: Services, turn: Turn, *, values=None, errors=None, message=None) -> dict:
    today = services.calendar.local_date(turn.now)
    async with services.db.session() as s:
        pairs = await _pairings(s, turn.actor.id)
    until, default_until = _until_choices(services, today)
    vals = {"sr_every": "30" if services.school.settings.dsl_individual_supervision == "six_weekly" else "10"}
    if default_until:
        vals["sr_until"] = default_until
    vals |= values or {}
    return cards.form_card(
        cards.SeriesFormView(
            supervisees=[(p.supervisee_id, _name(services, p.supervisee_id)) for p in pairs],
            every=[(str(n), EVERY_LABELS[n]) for n in EVERY_CHOICES],
            until=until,
            values=vals,
            errors=errors or {},
            message=message,
            min_date=today.isoformat(),
            max_date=services.calendar.last_day.isoformat(),
        )
    )


async def start(services: Services, turn: Turn) -> Reply:
    """Shows a supervisor the form to book a term of 1:1 sessions with someone they supervise."""
    back = {k: clean_text(turn.data.get(k), multiline=False)[:40] for k in cards_fields() if turn.data.get(k)}
    return Reply.of(await _form(services, turn, values=back))


def cards_fields() -> tuple[str, ...]:
    return ("sr_supervisee", "sr_first", "sr_time", "sr_every", "sr_until")


def _read(services: Services, turn: Turn, pairs: list[Pairing]):
    """The form's answers and its mistakes (by input id); (pairing, dates, time, every) when all are good."""
    d, cal, school = turn.data, services.calendar, services.school
    errors: dict[str, str] = {}
    sid = clean_text(d.get("sr_supervisee"), multiline=False)
    pairing = next((p for p in pairs if p.supervisee_id == sid), None)
    if pairing is None:
        errors["sr_supervisee"] = "Choose someone you supervise."
    first = parse_date(d.get("sr_first"))
    today = cal.local_date(turn.now)
    if first is None:
        errors["sr_first"] = "Choose the date of the first session, like 2026-11-30."
    elif first < today:
        errors["sr_first"] = "That date has passed."
    elif not cal.is_school_day(first):
        errors["sr_first"] = f"{labels.date_label(first)} isn't a school day ({cal.why_closed(first)})."
    at = parse_time(d.get("sr_time"))
    sday = school.settings.school_day
    minutes = school.settings.session_minutes
    if at is None:
        errors["sr_time"] = "Choose the start time, like 15:30."
    elif not sday.start <= at or (dt.datetime.combine(today, at) + dt.timedelta(minutes=minutes)).time() > sday.end:
        errors["sr_time"] = f"The session must fit in the school day ({sday.start:%H:%M} to {sday.end:%H:%M})."
    raw_every = str(d.get("sr_every") or "")
    every = int(raw_every) if raw_every.isdigit() and int(raw_every) in EVERY_CHOICES else None
    if every is None:
        errors["sr_every"] = "Choose how often."
    until = parse_date(d.get("sr_until"))
    if until is None or until not in {cal.deadline(ht) for ht in cal.half_terms}:
        errors["sr_until"] = "Choose until when."
    elif first is not None and until < first:
        errors["sr_until"] = "Choose an end after the first session."
    if errors:
        return errors, None
    days = series_dates(cal, first, every, until)
    starts = [dt.datetime.combine(day, at, school.tz).astimezone(dt.timezone.utc) for day in days]
    starts = [x for x in starts if x > turn.now]
    if not starts:
        return {"sr_time": "That time has passed. Choose a later one."}, None
    return {}, (pairing, starts, minutes)


async def preview(services: Services, turn: Turn) -> Reply:
    """Works out the series' dates and checks each against both calendars; nothing is booked yet."""
    values = {k: clean_text(turn.data.get(k), multiline=False)[:40] for k in cards_fields() if turn.data.get(k)}
    async with services.db.session() as s:
        pairs = await _pairings(s, turn.actor.id)
    if not pairs:
        refuse(turn, "series.preview no supervisees")
        return say(turn, NOT_SUPERVISOR)
    errors, got = _read(services, turn, pairs)
    if got is None:
        if "sr_supervisee" in errors and turn.data.get("sr_supervisee"):
            refuse(turn, "series.preview not their supervisee")
        return Reply.of(
            await _form(services, turn, values=values, errors=errors, message="Please check the answers marked.")
        )
    pairing, starts, minutes = got
    attendees = [pairing.supervisor_id, pairing.supervisee_id]
    free: list[dt.datetime] = []
    busy: list[dt.datetime] = []
    warning = None
    for x in starts:  # free/busy read outside any transaction, one short window each (getSchedule < 62 days)
        slot = Slot(x, x + dt.timedelta(minutes=minutes))
        got_busy, warn = await booking.busy_for(services, attendees, slot.start, slot.end)
        warning = warning or warn
        blocked = blocking_intervals(got_busy, tz=services.school.tz)
        (free if all(e <= slot.start or b >= slot.end for b, e in blocked) else busy).append(x)
    offer = await booking.save_offer(
        services,
        purpose=PURPOSE,
        bookers=[turn.actor.id],
        attendees=attendees,
        slots=[Slot(x, x + dt.timedelta(minutes=minutes)) for x in free],
        minutes=minutes,
        created_by=turn.actor.id,
        now=turn.now,
        pairing_id=pairing.id,
    )
    return Reply.of(
        cards.preview_card(
            cards.SeriesPreviewView(
                nonce=offer.nonce,
                supervisee_name=_name(services, pairing.supervisee_id),
                free=[_label(services, x, minutes) for x in free],
                busy=[_label(services, x, minutes) for x in busy],
                back_values=values,
                warning=warning,
            )
        )
    )


async def _booked(services: Services, s, nonce: str) -> list[Meeting]:
    return await bookings.meetings_for_series(s, nonce)


async def book(services: Services, turn: Turn) -> Reply:
    """Books every date of the series: both calendars, and one card for the supervisee listing them."""
    actor, now = turn.actor, turn.now
    nonce = turn.data.get("offer")  # the store looks it up as given (an offer nonce, never parsed further)
    async with services.db.session() as s:
        offer = await booking.found(bookings.offer, s, nonce)
        if offer is None or offer.purpose != PURPOSE or actor.id not in (offer.bookers or []):
            refuse(turn, "series.book not their series")
            return say(turn, "You can't book these dates: they were worked out for someone else.")
        pairing = await booking.found(bookings.pairing, s, offer.pairing_id)
        if pairing is None or pairing.supervisor_id != actor.id or pairing.ended_at is not None:
            refuse(turn, "series.book pairing not active")
            return say(turn, "This supervision has ended, so there is nothing to book.")
        done = await _booked(services, s, offer.nonce)
        if offer.used_at is not None:
            return Reply.of(_booked_card(services, pairing, done, message="Already booked."))
        try:
            await bookings.claim_offer(s, offer.id, now=now)
        except OfferUsed:
            return Reply.of(_booked_card(services, pairing, done, message="Already booked."))
        made: list[Meeting] = []
        told = []
        for i, slot in enumerate(booking.offer_slots(offer)):
            if slot.start <= now:
                continue  # the card sat unread past a date: that one is not booked
            day, half_term = booking.half_term_name(services, slot.start)
            m = await bookings.add_meeting(
                s,
                kind="one_to_one",
                supervisor_id=pairing.supervisor_id,
                supervisee_id=pairing.supervisee_id,
                slot=slot,
                local_date=day,
                half_term=half_term,
                offer_nonce=f"{offer.nonce}:{i}",
                booked_by=actor.id,
                now=now,
                pairing_id=pairing.id,
            )
            made.append(m)
            told.append(
                effects.calendar_create(
                    m.event_key,
                    organizer_id=pairing.supervisor_id,
                    attendee_ids=[pairing.supervisor_id, pairing.supervisee_id],
                    start=slot.start,
                    end=slot.end,
                )
            )
        if made:
            told.append(
                effects.notify(
                    pairing.supervisee_id,
                    cards.booked_card(
                        cards.SeriesBookedView(
                            supervisee_name=_name(services, pairing.supervisee_id),
                            sessions=[(m.id, _label(services, m.starts_at, offer.minutes)) for m in made],
                            for_supervisee=True,
                            supervisor_name=actor.name,
                        )
                    ),
                    key=f"series:{offer.id}:booked:{pairing.supervisee_id}",
                    ref=f"series:{offer.id}",
                )
            )
        await effects.add(s, *told, now=now)
        services.wake_outbox()
        return Reply.of(
            _booked_card(
                services,
                pairing,
                made,
                message=f"{len(made)} sessions booked. They are in both calendars, and "
                f"{_name(services, pairing.supervisee_id)} has been sent the dates.",
            )
        )


def _booked_card(services: Services, pairing: Pairing, meetings: list[Meeting], *, message: str) -> dict:
    return cards.booked_card(
        cards.SeriesBookedView(
            supervisee_name=_name(services, pairing.supervisee_id),
            sessions=[
                (m.id, _label(services, m.starts_at, int((m.ends_at - m.starts_at).total_seconds() // 60)))
                for m in meetings
            ],
            message=message,
        )
    )


__all__ = ["MAX_SESSIONS", "register"]
