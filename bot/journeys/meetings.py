"""Journey: a booked 1:1 session's own card — view it, move it, or cancel it (seed 003 Appendix 1 §4: a
cancellation agrees an alternative date at the time, so cancelling offers new times first; without one, the
supervisor will propose a time). Either of the two people may change it; the other is told, and both calendars
follow through the outbox. Booking a new time from these offers is the scheduling journey's `book`.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from bot import labels
from bot.domain.slots import Slot
from bot.journeys import booking, join_links, permissions
from bot.journeys import request as request_journey
from bot.journeys.base import Reply, Services, Turn
from bot.journeys.booking import found, meeting_view, offer_choices, propose, save_offer, slot_label
from bot.journeys.kit import audited, parse_id, refuse, say
from bot.journeys.router import Router
from bot.outbox import effects
from bot.store import audit, bookings
from bot.store import requests as request_store
from bot.store.errors import Concurrent
from bot.store.models_request import Meeting, Pairing, SlotOffer, SupervisionRequest
from bot.store.pool import unit_of_work
from cards import request as request_cards
from cards import scheduling as cards

#: Anyone on the staff; whether the session is theirs, each handler checks on the row itself.
STAFF = permissions.on_roster()


async def parties(s: AsyncSession, m: Meeting) -> tuple[SupervisionRequest | None, Pairing | None]:
    """The request and the supervision a meeting belongs to (either may be gone or never have been)."""
    req = await found(request_store.get, s, m.request_id) if m.request_id else None
    pairing = await found(bookings.pairing, s, m.pairing_id) if m.pairing_id else None
    return req, pairing


def move_offer_card(
    services: Services,
    turn: Turn,
    offer: SlotOffer,
    m: Meeting,
    slots: Sequence[Slot],
    *,
    warning: str | None,
    message: str | None,
    errors: dict[str, str],
    cancelling: bool = False,
) -> dict:
    """New times for a booked session (cancelling: the policy's alternative first, or cancel without one)."""
    actor_id = turn.actor.id
    choices = offer_choices(services, offer)
    after = booking.later(slots, turn.now)
    other = m.supervisee_id if actor_id == m.supervisor_id else m.supervisor_id
    when = slot_label(services, m.starts_at, m.ends_at)
    if cancelling:
        heading = f"Cancel supervision on {when}?"
        intro = (
            "When a session is cancelled, the school's policy is to agree a new date at the same time. Pick a "
            f"new time free for you and {labels.name_of(services.school, other)} — or cancel without one"
            + (
                " and propose a new time later."
                if actor_id == m.supervisor_id
                else f", and {labels.name_of(services.school, m.supervisor_id)} will propose one."
            )
        )
    else:
        heading = f"Move supervision on {when}"
        intro = f"Pick a new time free for you and {labels.name_of(services.school, other)}."
    return cards.offer_card(
        cards.OfferView(
            nonce=offer.nonce,
            heading=heading,
            slots=choices,
            minutes=offer.minutes,
            warning=warning,
            message=message,
            errors=errors,
            intro=intro,
            book_title="Move to this time",
            later_data={"meeting_id": m.id, "after": after, "cancelling": cancelling},
            later_verb=cards.CANCEL_START if cancelling else cards.REARRANGE,
            cancel_data={"meeting_id": m.id} if cancelling else None,
            back=("Keep the session", cards.MEETING_VIEW, {"meeting_id": m.id}),
        )
    )


async def _meeting_for(s: AsyncSession, turn: Turn, what: str) -> Meeting | Reply:
    m = await found(bookings.meeting, s, parse_id(turn.data.get("meeting_id")))
    if m is None or turn.actor.id not in (m.supervisor_id, m.supervisee_id):
        refuse(turn, what)
        return say(turn, "That session isn't one of yours.")
    return m


async def view_meeting(services: Services, turn: Turn) -> Reply:
    """Shows a supervision session as it stands now (booked, moved or cancelled)."""
    async with unit_of_work(services, turn.now) as s:
        m = await _meeting_for(s, turn, "meeting.view")
        if isinstance(m, Reply):
            return m
        message, propose_for = None, None
        if m.replaces_id and m.status == bookings.BOOKED:
            old = await found(bookings.meeting, s, m.replaces_id)
            if old is not None:
                message = f"Moved from {slot_label(services, old.starts_at, old.ends_at)}."
        if m.status == bookings.CANCELLED and m.request_id and turn.actor.id == m.supervisor_id:
            req = await found(request_store.get, s, m.request_id)
            if req is not None and req.status == request_store.ALLOCATED and req.supervisor_id == turn.actor.id:
                propose_for = req.id  # still owed a new time (seed 003): keep the way to it on the card
        return Reply.of(
            meeting_view(
                services,
                m,
                turn.actor.id,
                turn.now,
                await bookings.successor(s, m),
                message=message,
                propose_request_id=propose_for,
                join_url=await join_links.join_url(s, m.event_key) if m.status == bookings.BOOKED else None,
            )
        )


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
        m = await _meeting_for(s, turn, what)
        if isinstance(m, Reply):
            return m
        if m.status != bookings.BOOKED or m.starts_at <= turn.now:
            return Reply.of(
                meeting_view(
                    services,
                    m,
                    turn.actor.id,
                    turn.now,
                    await bookings.successor(s, m),
                    message="This session can no longer be changed.",
                )
            )
        req, pairing = await parties(s, m)
    attendees = [m.supervisor_id, m.supervisee_id]
    minutes = services.school.settings.session_minutes
    prop = await propose(
        services,
        attendees,
        earliest=booking.parse_after(turn.data.get("after"), turn.now),
        minutes=minutes,
        urgency=req.urgency if req else "routine",
        times=(req.times if req else []) or [],
        days=(req.days if req else []) or [],
        exclude=[Slot(m.starts_at, m.ends_at)],
    )
    offer = await save_offer(
        services,
        purpose="rearrange",
        bookers=attendees,
        attendees=attendees,
        slots=prop.slots,
        minutes=minutes,
        created_by=turn.actor.id,
        now=turn.now,
        request_id=req.id if req else None,
        meeting_id=m.id,
        pairing_id=pairing.id if pairing else None,
    )
    return Reply.of(
        move_offer_card(
            services, turn, offer, m, prop.slots, warning=prop.warning, message=None, errors={}, cancelling=cancelling
        )
    )


async def cancel(services: Services, turn: Turn) -> Reply:
    """Cancels a session without a new time; the other person is told and a new time will be proposed."""
    actor_id, now = turn.actor.id, turn.now
    async with unit_of_work(services, turn.now) as s:
        m = await _meeting_for(s, turn, "meeting.cancel")
        if isinstance(m, Reply):
            return m
        if m.status != bookings.BOOKED or m.starts_at <= now:
            return Reply.of(meeting_view(services, m, actor_id, now, await bookings.successor(s, m)))
        try:
            await bookings.cancel_meeting(s, m, by=actor_id, now=now)
        except Concurrent:
            return Reply.of(meeting_view(services, m, actor_id, now, None))
        await audited(services, turn, s, audit.CANCELLED, audit.MEETING, m.id)
        actor_is_supervisor = actor_id == m.supervisor_id
        other = m.supervisee_id if actor_is_supervisor else m.supervisor_id
        told = [
            effects.calendar_cancel(m.event_key),
            effects.notify(
                other,
                cards.change_notice(
                    meeting_id=m.id,
                    actor_name=labels.name_of(services.school, actor_id),
                    old_when=slot_label(services, m.starts_at, m.ends_at),
                    new_when=None,
                    supervisor_will_propose=actor_is_supervisor,
                ),
                key=f"meeting:{m.id}:cancelled:{other}",
            ),
            effects.update_card(
                other,
                f"meeting:{m.id}",
                meeting_view(services, m, other, now, None),
                key=f"meeting:{m.id}:cancelled-card:{other}",
            ),
        ]
        req = await found(request_store.get, s, m.request_id) if m.request_id else None
        if req is not None and req.status == request_store.BOOKED:
            # Back to "a supervisor will propose a time": the alternative the policy asks for still happens.
            request_store.reopen(req, now=now)
            told.append(
                await request_journey.status_card_effect(
                    services, s, req, key=f"request:{req.id}:status:cancelled:{m.id}"
                )
            )
            if not actor_is_supervisor:
                told.append(
                    effects.notify(
                        m.supervisor_id,
                        request_cards.supervisor_allocated_notice(
                            request_id=req.id,
                            supervisee_name=labels.name_of(services.school, req.requester_id),
                            kind=req.kind,
                            urgency=req.urgency,
                            route=req.route,
                        ),
                        key=f"request:{req.id}:repropose:{m.id}",
                        ref=f"request:{req.id}:supervisor",
                    )
                )
        await effects.add(s, *told, now=now)
        return Reply.of(
            meeting_view(
                services,
                m,
                actor_id,
                now,
                None,
                message="Cancelled; both calendars will be updated.",
                propose_request_id=req.id if actor_is_supervisor and req is not None else None,
            )
        )


def register(router: Router) -> None:
    for verb, handler in (
        (cards.MEETING_VIEW, view_meeting),
        (cards.REARRANGE, rearrange),
        (cards.CANCEL_START, cancel_start),
        (cards.CANCEL, cancel),
    ):
        router.verb(verb, handler, allowed=STAFF)
