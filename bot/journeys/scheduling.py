"""Journey: the allocated supervisor books a time free in both calendars — a request's first session, or the next
one with someone they already supervise — and either person books the new time when a session moves.

Seed 001 §3.2 ("after allocation, the supervisor will arrange a meeting"; Continuity of Support), seed 002 (about
an hour). Times come from the booking machinery (bot/journeys/booking.py, shared with the group-session journeys);
a booking writes the meeting and its outbox rows (the calendar event, the other person's card) in one transaction,
so the user never waits on Graph. A booked session's own card (view, move, cancel) is meetings.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot import labels
from bot.domain.slots import Slot
from bot.journeys import booking, meetings, permissions
from bot.journeys import request as request_journey
from bot.journeys.base import Reply, Services, Turn

# The booking machinery, importable from here as before (bot/journeys/specialist.py uses these names).
from bot.journeys.booking import (  # noqa: F401
    book_group_session,
    booked_view_for_offer,
    group_session_view,
    meeting_view,
    offer_choices,
    propose,
    save_offer,
    slot_label,
    still_free,
)
from bot.journeys.kit import audited, parse_id, refuse, say
from bot.journeys.router import Router
from bot.outbox import effects
from bot.store import audit, bookings
from bot.store import requests as request_store
from bot.store.errors import OfferUsed
from bot.store.models_request import Meeting, Pairing, SlotOffer, SupervisionRequest
from bot.store.pool import unit_of_work
from cards import request as request_cards
from cards import scheduling as cards

OFFER_REUSE = dt.timedelta(minutes=15)  # a card refreshed within this shows the same times
#: Anyone on the staff; whether the session or request is theirs, each handler checks on the row itself.
STAFF = permissions.on_roster()


# ---- offering times for a request --------------------------------------------------------------------------------
def _request_attendees(req: SupervisionRequest) -> list[str]:
    return list(dict.fromkeys([req.supervisor_id, req.requester_id, *(req.colleagues or [])]))


def _details(services: Services, req: SupervisionRequest) -> cards.RequestDetails:
    return cards.RequestDetails(
        kind=req.kind,
        topics=list(req.topics or []),
        urgency=req.urgency,
        times=list(req.times or []),
        days=list(req.days or []),
        note=req.note,
        colleagues=[labels.name_of(services.school, c) for c in req.colleagues or []],
    )


async def offer_for_request(services: Services, turn: Turn) -> Reply:
    """Shows the allocated supervisor 3–5 times free in both calendars for a request (or its booking)."""
    actor = turn.actor
    async with unit_of_work(services, turn.now) as s:
        req = await booking.found(request_store.get, s, parse_id(turn.data.get("request_id")))
        if req is None or req.supervisor_id != actor.id:
            refuse(turn, "schedule.offer not the allocated supervisor")
            return say(turn, "Only the supervisor allocated to this request can book its time.")
        if req.status == request_store.BOOKED:
            return Reply.of(await booking.booked_view_for_request(services, s, req, actor.id))
        if req.status == request_store.WITHDRAWN:
            who = labels.name_of(services.school, req.requester_id)
            return Reply.of(
                request_cards.card(
                    [
                        request_cards.title("Request withdrawn"),
                        request_cards.text(f"{who} withdrew this request; nothing to book."),
                    ]
                )
            )
        recent = None if "after" in turn.data else await bookings.recent_offer(s, req.id, since=turn.now - OFFER_REUSE)
    minutes = services.school.settings.session_minutes
    if recent is not None and all(dt.datetime.fromisoformat(x) > turn.now for x in recent.slots):
        offer, warning = recent, None
    else:
        prop = await propose(
            services,
            _request_attendees(req),
            earliest=booking.parse_after(turn.data.get("after"), turn.now),
            minutes=minutes,
            urgency=req.urgency,
            times=req.times or [],
            days=req.days or [],
        )
        offer = await save_offer(
            services,
            purpose="request",
            bookers=[actor.id],
            attendees=_request_attendees(req),
            slots=prop.slots,
            minutes=minutes,
            created_by=actor.id,
            now=turn.now,
            request_id=req.id,
        )
        warning = prop.warning
    heading = f"Book supervision with {labels.name_of(services.school, req.requester_id)}"
    if req.kind == "group":
        heading = f"Book group supervision for {labels.name_of(services.school, req.requester_id)} and colleagues"
    return Reply.of(
        cards.offer_card(
            cards.OfferView(
                nonce=offer.nonce,
                heading=heading,
                slots=offer_choices(services, offer),
                minutes=minutes,
                details=_details(services, req),
                warning=warning,
                later_data={"request_id": req.id, "after": booking.later(booking.offer_slots(offer), turn.now)},
            )
        )
    )


# ---- booking -------------------------------------------------------------------------------------------------------
@dataclass
class _Context:
    request: SupervisionRequest | None = None
    pairing: Pairing | None = None
    meeting: Meeting | None = None


async def book(services: Services, turn: Turn) -> Reply:
    """Books the chosen time: one private "Supervision" event in both calendars, a card for the other person."""
    actor = turn.actor
    async with unit_of_work(services, turn.now) as s:
        offer = await booking.found(bookings.offer, s, turn.data.get("offer"))
        if offer is None or actor.id not in (offer.bookers or []):
            refuse(turn, "schedule.book not a booker of this offer")
            return say(turn, "You can't book this time: it was offered to someone else.")
        if offer.used_at is not None:
            return Reply.of(await booked_view_for_offer(services, s, offer, actor.id))
        if offer.purpose == "group":  # group offers are booked from their own card (specialist.book)
            refuse(turn, "schedule.book group offer")
            return say(turn, "Please use the card's own Book button.")
        context = await _booking_context(services, s, offer, actor.id, turn)
    if isinstance(context, Reply):
        return context
    raw = turn.data.get("slot")
    if not isinstance(raw, str) or raw not in offer.slots:
        if raw not in (None, ""):
            refuse(turn, "schedule.book time not offered")
        return await _reoffer(
            services, turn, offer, context, message=None, errors={"slot": "Choose one of the times offered."}
        )
    start = dt.datetime.fromisoformat(raw)
    slot = Slot(start, start + dt.timedelta(minutes=offer.minutes))
    if slot.start <= turn.now:
        return await _reoffer(services, turn, offer, context, message="That time has passed. Here are new times.")
    if not await still_free(services, offer.attendee_ids, slot, ignore_meeting=offer.meeting_id):
        return await _reoffer(
            services,
            turn,
            offer,
            context,
            message="That time has just been taken in someone's calendar. Here are fresh times.",
        )
    async with services.db.session() as s:
        try:
            await bookings.claim_offer(s, offer.id, now=turn.now)
        except OfferUsed:
            pass  # another click booked this offer first: show what it booked
        else:
            context = await _reload(s, context)
            if context.request is not None and context.request.kind == "group" and context.meeting is None:
                await book_group_session(services, s, offer, slot, turn, request=context.request)
            else:
                await _book_meeting(services, s, offer, slot, turn, context)
        return Reply.of(
            await booked_view_for_offer(
                services, s, offer, actor.id, message="Booked. It's in both calendars as \"Supervision\"."
            )
        )


async def _booking_context(
    services: Services, s: AsyncSession, offer: SlotOffer, actor_id: str, turn: Turn
) -> _Context | Reply:
    """Re-check on the server that what the offer was for still stands, and that this person may book it."""
    if offer.purpose == "request":
        req = await booking.found(request_store.get, s, offer.request_id)
        if req is None or req.supervisor_id != actor_id:
            refuse(turn, "schedule.book request no longer theirs")
            return say(turn, "This request is no longer allocated to you.")
        if req.status == request_store.BOOKED:
            return Reply.of(await booking.booked_view_for_request(services, s, req, actor_id))
        if req.status != request_store.ALLOCATED:
            return say(turn, "This request was withdrawn, so there is nothing to book.")
        return _Context(request=req)
    if offer.purpose == "pairing":
        pairing = await booking.found(bookings.pairing, s, offer.pairing_id)
        if pairing is None or pairing.supervisor_id != actor_id or pairing.ended_at is not None:
            refuse(turn, "schedule.book pairing not active")
            return say(turn, "This supervision has ended, so there is nothing to book.")
        return _Context(pairing=pairing)
    if offer.purpose == "rearrange":
        meeting = await booking.found(bookings.meeting, s, offer.meeting_id)
        if meeting is None or actor_id not in (meeting.supervisor_id, meeting.supervisee_id):
            refuse(turn, "schedule.book meeting not theirs")
            return say(turn, "That session isn't yours to move.")
        if meeting.status != bookings.BOOKED or meeting.starts_at <= turn.now:
            return Reply.of(meeting_view(services, meeting, actor_id, turn.now, await bookings.successor(s, meeting)))
        req, pairing = await meetings.parties(s, meeting)
        return _Context(request=req, pairing=pairing, meeting=meeting)
    return _Context()  # group: the booker was checked against offer.bookers


async def _reload(s: AsyncSession, c: _Context) -> _Context:
    """The same rows, attached to this unit of work (the checks ran in an earlier, read-only one)."""
    return _Context(
        request=await request_store.get(s, c.request.id) if c.request else None,
        pairing=await bookings.pairing(s, c.pairing.id) if c.pairing else None,
        meeting=await bookings.meeting(s, c.meeting.id) if c.meeting else None,
    )


async def _reoffer(
    services: Services,
    turn: Turn,
    offer: SlotOffer,
    context: _Context,
    *,
    message: str | None,
    errors: dict[str, str] | None = None,
) -> Reply:
    """Show the same kind of offer again (fresh times if the old ones went stale), keeping the reason visible."""
    if errors:  # nothing stale: show the very same times with the error beside the field
        new, slots, warning = offer, booking.offer_slots(offer), None
    else:
        req = context.request
        exclude = [Slot(context.meeting.starts_at, context.meeting.ends_at)] if context.meeting else []
        prop = await propose(
            services,
            offer.attendee_ids,
            earliest=turn.now,
            minutes=offer.minutes,
            urgency=req.urgency if req else "routine",
            times=(req.times if req else []) or [],
            days=(req.days if req else []) or [],
            exclude=exclude,
        )
        new = await save_offer(
            services,
            purpose=offer.purpose,
            bookers=offer.bookers,
            attendees=offer.attendee_ids,
            slots=prop.slots,
            minutes=offer.minutes,
            created_by=turn.actor.id,
            now=turn.now,
            request_id=offer.request_id,
            pairing_id=offer.pairing_id,
            meeting_id=offer.meeting_id,
        )
        slots, warning = prop.slots, prop.warning
    return Reply.of(
        _offer_card_for(services, turn, new, context, slots, warning=warning, message=message, errors=errors or {})
    )


def _offer_card_for(
    services: Services,
    turn: Turn,
    offer: SlotOffer,
    context: _Context,
    slots: Sequence[Slot],
    *,
    warning: str | None,
    message: str | None,
    errors: dict[str, str],
) -> dict:
    choices = offer_choices(services, offer)
    after = booking.later(slots, turn.now)
    if offer.purpose == "request" and context.request is not None:
        req = context.request
        return cards.offer_card(
            cards.OfferView(
                nonce=offer.nonce,
                heading=f"Book supervision with {labels.name_of(services.school, req.requester_id)}",
                slots=choices,
                minutes=offer.minutes,
                details=_details(services, req),
                warning=warning,
                message=message,
                errors=errors,
                later_data={"request_id": req.id, "after": after},
            )
        )
    if offer.purpose == "pairing" and context.pairing is not None:
        p = context.pairing
        return cards.offer_card(
            cards.OfferView(
                nonce=offer.nonce,
                heading=f"Book supervision with {labels.name_of(services.school, p.supervisee_id)}",
                slots=choices,
                minutes=offer.minutes,
                warning=warning,
                message=message,
                errors=errors,
                later_data={"pairing_id": p.id, "after": after},
                later_verb=cards.PAIRING_OFFER,
            )
        )
    return meetings.move_offer_card(
        services, turn, offer, context.meeting, slots, warning=warning, message=message, errors=errors
    )


async def _book_meeting(
    services: Services, s: AsyncSession, offer: SlotOffer, slot: Slot, turn: Turn, context: _Context
) -> Meeting:
    actor_id, now = turn.actor.id, turn.now
    old, req, pairing = context.meeting, context.request, context.pairing
    if old is not None:
        supervisor_id, supervisee_id, kind = old.supervisor_id, old.supervisee_id, old.kind
    elif req is not None:
        supervisor_id, supervisee_id = req.supervisor_id, req.requester_id
        kind = "enrichment" if req.route == "enrichment" else req.kind
    else:
        supervisor_id, supervisee_id, kind = pairing.supervisor_id, pairing.supervisee_id, "one_to_one"
    if pairing is None and req is not None and req.route != "enrichment":
        pairing = await request_store.pairing_between(s, supervisee_id, supervisor_id)
    day, half_term = booking.half_term_name(services, slot.start)
    meeting = await bookings.add_meeting(
        s,
        kind=kind,
        supervisor_id=supervisor_id,
        supervisee_id=supervisee_id,
        slot=slot,
        local_date=day,
        half_term=half_term,
        offer_nonce=offer.nonce,
        booked_by=actor_id,
        now=now,
        request_id=req.id if req else None,
        pairing_id=pairing.id if pairing else None,
        replaces_id=old.id if old else None,
    )
    await audited(services, turn, s, audit.BOOKED, audit.MEETING, meeting.id)
    told = [
        effects.calendar_create(
            meeting.event_key,
            organizer_id=supervisor_id,
            attendee_ids=[supervisor_id, supervisee_id],
            start=slot.start,
            end=slot.end,
        )
    ]
    other = supervisee_id if actor_id == supervisor_id else supervisor_id
    if old is not None:
        bookings.mark_rearranged(old, by=actor_id, now=now)
        await audited(services, turn, s, audit.MOVED, audit.MEETING, old.id)
        told += [
            effects.calendar_cancel(old.event_key),
            effects.update_card(
                other,
                f"meeting:{old.id}",
                meeting_view(services, old, other, now, meeting),
                key=f"meeting:{old.id}:moved:{other}",
            ),
            effects.notify(
                other,
                cards.change_notice(
                    meeting_id=meeting.id,
                    actor_name=labels.name_of(services.school, actor_id),
                    old_when=slot_label(services, old.starts_at, old.ends_at),
                    new_when=slot_label(services, slot.start, slot.end),
                    supervisor_will_propose=False,
                ),
                key=f"meeting:{meeting.id}:moved-notice:{other}",
                ref=f"meeting:{meeting.id}",
            ),
        ]
    else:
        booked_by = labels.name_of(services.school, actor_id)
        told.append(
            effects.notify(
                other,
                meeting_view(services, meeting, other, now, None, message=f"{booked_by} booked your supervision."),
                key=f"meeting:{meeting.id}:booked:{other}",
                ref=f"meeting:{meeting.id}",
            )
        )
    if req is not None:
        request_store.mark_booked(req, now=now)
        told.append(
            await request_journey.status_card_effect(
                services, s, req, key=f"request:{req.id}:status:booked:{meeting.id}"
            )
        )
    await effects.add(s, *told, now=now)
    return meeting


# ---- the next session with someone you already supervise ---------------------------------------------------
async def offer_for_pairing(services: Services, turn: Turn) -> Reply:
    """Offers a supervisor times for the next session with someone they already supervise (continuity)."""
    async with unit_of_work(services, turn.now) as s:
        p = await booking.found(bookings.pairing, s, parse_id(turn.data.get("pairing_id")))
        if p is None or p.supervisor_id != turn.actor.id or p.ended_at is not None:
            refuse(turn, "schedule.pairing_offer not their supervisee")
            return say(turn, "Only the supervisor can book a session for this supervision.")
        last_req = await request_store.latest_by(s, p.supervisee_id)
    attendees = [p.supervisor_id, p.supervisee_id]
    minutes = services.school.settings.session_minutes
    prop = await propose(
        services,
        attendees,
        earliest=booking.parse_after(turn.data.get("after"), turn.now),
        minutes=minutes,
        times=(last_req.times if last_req else []) or [],
        days=(last_req.days if last_req else []) or [],
    )
    offer = await save_offer(
        services,
        purpose="pairing",
        bookers=[p.supervisor_id],
        attendees=attendees,
        slots=prop.slots,
        minutes=minutes,
        created_by=turn.actor.id,
        now=turn.now,
        pairing_id=p.id,
    )
    return Reply.of(
        _offer_card_for(
            services, turn, offer, _Context(pairing=p), prop.slots, warning=prop.warning, message=None, errors={}
        )
    )


def register(router: Router) -> None:
    for verb, handler in (
        (cards.OFFER, offer_for_request),
        (cards.BOOK, book),
        (cards.PAIRING_OFFER, offer_for_pairing),
    ):
        router.verb(verb, handler, allowed=STAFF)
