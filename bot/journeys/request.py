"""Journey: a member of staff requests supervision; an allocator chooses the supervisor (seed 001 §3.2).

request → (continuity or enrichment week: straight to that supervisor | allocators get a card with a suggested
supervisor: the preferred one if they have room, else the lightest caseload, seed 000) → the supervisor is told
and proposes times (scheduling.py). The allocators' side is allocation.py. The card the requester submitted becomes their status card and updates in
place as the request moves on (`request_status_card`; the booking journeys queue it with `status_card_effect`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from bot import labels
from bot.domain.request_rules import CONTINUE, Route, parse_request_form, route_request
from bot.domain.slots import Slot
from bot.journeys import permissions
from bot.journeys.allocation_view import allocation_view, allocators_for, pool_now
from bot.journeys.base import Reply, Services, Turn
from bot.journeys.kit import audited, parse_id, parse_key, refuse, say
from bot.journeys.router import Router
from bot.outbox import Effect, effects
from bot.store import audit, bookings, conversations
from bot.store import requests as store
from bot.store.errors import AlreadySent, Concurrent, NotFound
from bot.store.models_request import SupervisionRequest
from bot.store.pool import PoolEntry, active_pairing, as_supervisors, pool_entries, unit_of_work
from cards import request as cards

NOT_ON_ROSTER = (
    "I can't find you on the school's staff list, so I can't take a request from you. Please ask your "
    "DSL to check the roster."
)

#: Anyone on the staff may ask for supervision (seed 001 §3.2); a stranger is told why not, on a card.
REQUESTER = dataclasses.replace(permissions.on_roster(NOT_ON_ROSTER), as_card=True)
#: Their own request's card: anyone on the staff (whose request it is, the journey checks).
STAFF = permissions.on_roster()


def _usable(entries: list[PoolEntry], today: dt.date) -> set[str]:
    """Pool members who can take someone on today (not retired, not away)."""
    return {sup.id for sup in as_supervisors(entries, today) if not sup.retired and sup.available}


# ---- the form ----------------------------------------------------------------------------------------------------
async def _form_view(
    services: Services,
    s: AsyncSession,
    turn: Turn,
    *,
    draft_id: str,
    values=None,
    errors=None,
    top_error: str | None = None,
) -> cards.RequestFormView:
    actor = turn.actor
    today = services.calendar.local_date(turn.now)
    entries = await pool_entries(services, s, turn.now, fresh=False)
    usable = _usable(entries, today)
    pool = [
        (e.id, e.staff.name + (f", {e.staff.job_title}" if e.staff.job_title else ""))
        for e in entries
        if e.id in usable and e.id != actor.id
    ]
    current = await _current_supervisor(s, actor.id, usable)
    colleagues = [
        (m.id, m.name)
        for m in sorted(services.school.active_on(today), key=lambda m: m.name.casefold())
        if m.id != actor.id
    ]
    week = services.calendar.enrichment_week_for(today)
    enrichment = None
    if week and week.supervisor in usable and week.supervisor != actor.id:
        who = labels.name_of(services.school, week.supervisor)
        enrichment = f"It's enrichment week: requests this week go to {who}, the enrichment supervisor" + (
            " (unless you continue with your current supervisor)." if current else "."
        )
    return cards.RequestFormView(
        draft_id=draft_id,
        pool=pool,
        colleagues=colleagues,
        current_supervisor=(current, labels.name_of(services.school, current)) if current else None,
        enrichment=enrichment,
        values=values or {},
        errors=errors or {},
        top_error=top_error,
        helpline=labels.helpline_text(services.school),
    )


async def _current_supervisor(s: AsyncSession, staff_id: str, usable: set[str]) -> str | None:
    """Their supervisor now, if that person can still take supervision (seed 001 §3.2 Continuity of Support)."""
    p = await active_pairing(s, staff_id)
    return p.supervisor_id if p is not None and p.supervisor_id in usable else None


async def open_form(services: Services, turn: Turn) -> Reply:
    """Shows the request card: kind, preferred supervisor, topics, how soon, usual times and a short note."""
    async with unit_of_work(services, turn.now) as s:
        view = await _form_view(services, s, turn, draft_id=uuid.uuid4().hex)
    return Reply.of(cards.request_form(view))


# ---- submit ------------------------------------------------------------------------------------------------------
async def submit(services: Services, turn: Turn) -> Reply:
    """Sends a request: checks it again on the server, records it once, and tells whoever allocates or supervises."""
    actor = turn.actor
    draft_id = parse_key(turn.data.get("draft_id"))
    if draft_id is None:
        refuse(turn, "request.submit bad draft id")
        return say(turn, "This request card is out of date. Type **request** to open a fresh one.")
    today = services.calendar.local_date(turn.now)
    settings = services.school.settings
    # One unit of work, few statements: this is the turn staff wait on (bench/turns.py measures it). A repeated
    # submit is caught by the draft id's unique constraint (AlreadySent) rather than looked up first.
    try:
        async with unit_of_work(services, turn.now) as s:
            usable = _usable(await pool_entries(services, s, turn.now, fresh=False), today)
            # Only "continue with my current supervisor" needs to know who that is.
            current = await _current_supervisor(s, actor.id, usable) if turn.data.get("preferred") == CONTINUE else None
            result = parse_request_form(
                turn.data,
                requester_id=actor.id,
                pool_ids=usable - {actor.id},
                current_supervisor_id=current,
                allow_continue=settings.allow_continue_with_current_supervisor,
                roster_ids=services.school.active_ids_on(today),
            )
            if not result.ok:
                existing = await store.by_draft(s, draft_id)
                if existing is not None:  # a double click after the first one went through
                    return await _resubmitted(services, s, turn, existing)
                view = await _form_view(
                    services,
                    s,
                    turn,
                    draft_id=draft_id,
                    values=result.values,
                    errors=result.errors,
                    top_error="Please check the highlighted answers; nothing has been sent yet.",
                )
                return Reply.of(cards.request_form(view))
            form = result.form
            week = services.calendar.enrichment_week_for(today)
            route, direct_to = route_request(
                form,
                requester_id=actor.id,
                current_supervisor_id=current,
                allow_continue=settings.allow_continue_with_current_supervisor,
                enrichment_supervisor_id=week.supervisor if week and week.supervisor in usable else None,
            )
            # Allocation: nothing reads requests before the last batch, so on PostgreSQL the request goes with it.
            req = await store.add(
                s,
                draft_id=draft_id,
                requester_id=actor.id,
                form=form,
                route=route,
                now=turn.now,
                with_last_batch=route is Route.ALLOCATION,
            )
            # The audit events, the notices and the status card's message go to the store together, in one trip
            # (store.write_submitted), after the request itself (whose id they carry).
            events = [_event(services, turn, audit.SUBMITTED, req.id, actor_id=actor.id)]
            if route is Route.ALLOCATION:
                # A short notice; the full card (suggestion, caseloads) is built when the allocator opens it, so
                # it is current then and the message itself carries no more than who asked and how soon.
                notice = cards.allocation_notice(
                    request_id=req.id, requester_name=actor.name, kind=req.kind, urgency=req.urgency
                )
                told = [
                    effects.notify(
                        person.id, notice, key=f"request:{req.id}:alloc:{person.id}", ref=f"request:{req.id}:alloc"
                    )
                    for person in allocators_for(services, req, today)
                ]
            else:
                await store.assign(s, req, direct_to, by=None, now=turn.now)
                # Routed by the school's rules, not chosen by a person: the trail shows the bot as the actor.
                events.append(_event(services, turn, audit.ALLOCATED, req.id, actor_id=None))
                told = await tell_allocated(services, s, req, by=None)
            card = await request_status_card(services, s, req)
            # The unit of work's last write (on SQLite its commit travels with it): nothing is written after it.
            await store.write_submitted(
                s, events=events, effects=told, status_card=await _status_card_row(services, s, turn, req), now=turn.now
            )
    except AlreadySent:  # the same form submitted twice: the first one won
        async with services.db.session() as s:
            existing = await store.by_draft(s, draft_id)
            if existing is None:
                raise
            return await _resubmitted(services, s, turn, existing)
    return Reply.of(card)


async def _resubmitted(services: Services, s: AsyncSession, turn: Turn, req: SupervisionRequest) -> Reply:
    """A repeated submit of the same card: show the request it made; someone else's card is refused."""
    if req.requester_id != turn.actor.id:
        refuse(turn, "request.submit another person's draft")
        return say(turn, "This request card belongs to someone else.")
    return Reply.of(await request_status_card(services, s, req, message="Already sent — here it is."))


def _event(services: Services, turn: Turn, action: str, request_id: int, *, actor_id: str | None) -> dict:
    return audit.event_row(
        actor_id=actor_id, action=action, kind=audit.REQUEST, object_id=request_id, at=turn.now, tz=services.school.tz
    )


async def _status_card_row(services: Services, s: AsyncSession, turn: Turn, req: SupervisionRequest) -> dict | None:
    """The card the requester submitted becomes their status card (updated in place by its ref): its row."""
    if not (turn.invoke and turn.activity_id):
        return None
    known = services.conversation_ids
    conversation_id = known.get(req.requester_id)
    if conversation_id is None:  # a person's 1:1 chat id does not change; look it up once per process
        ref = await conversations.personal(s, req.requester_id)
        if ref is None:
            return None
        conversation_id = known[req.requester_id] = ref.conversation_id
    return store.status_card_row(req, activity_id=turn.activity_id, conversation_id=conversation_id, now=turn.now)


async def tell_allocated(
    services: Services, s: AsyncSession, req: SupervisionRequest, *, by: str | None
) -> list[Effect]:
    """The supervisor is told (and, when an allocator chose, the requester, whose status card updates)."""
    told = [
        effects.notify(
            req.supervisor_id,
            cards.supervisor_allocated_notice(
                request_id=req.id,
                supervisee_name=labels.name_of(services.school, req.requester_id),
                kind=req.kind,
                urgency=req.urgency,
                route=req.route,
            ),
            key=f"request:{req.id}:supervisor",
            ref=f"request:{req.id}:supervisor",
        )
    ]
    if by is not None:
        told.append(
            effects.notify(
                req.requester_id,
                cards.requester_allocated_notice(
                    request_id=req.id,
                    supervisor_name=labels.name_of(services.school, req.supervisor_id),
                    route=req.route,
                ),
                key=f"request:{req.id}:told-requester",
            )
        )
        told.append(await status_card_effect(services, s, req, key=f"request:{req.id}:status:allocated"))
    return told


# ---- the requester's card ----------------------------------------------------------------------------------------
async def request_status_card(
    services: Services, s: AsyncSession, req: SupervisionRequest, *, message: str | None = None
) -> dict:
    """The requester's status card, with the booking when there is one."""
    meeting_label, meeting_id, group = None, None, False
    if req.status == store.BOOKED:
        m = await bookings.latest_meeting(s, req.id, booked_only=True)
        if m is not None:
            meeting_label, meeting_id = Slot(m.starts_at, m.ends_at).label(services.school.tz), m.id
        elif (link := await bookings.latest_group_link(s, req.id)) is not None:
            g = await bookings.group_session(s, link.session_id)
            meeting_label, group = Slot(g.starts_at, g.ends_at).label(services.school.tz), True
    return cards.request_status(
        cards.RequestStatusView(
            request_id=req.id,
            status=req.status,
            kind=req.kind,
            topics=list(req.topics or []),
            urgency=req.urgency,
            supervisor_name=labels.name_of(services.school, req.supervisor_id) if req.supervisor_id else None,
            route=req.route,
            meeting_label=meeting_label,
            meeting_id=meeting_id,
            group_session=group,
            message=message,
            pupil_cases=req.pupil_cases,
        )
    )


async def status_card_effect(services: Services, s: AsyncSession, req: SupervisionRequest, *, key: str) -> Effect:
    """The requester's status card as it stands now, to replace the one in their chat."""
    return effects.update_card(
        req.requester_id, store.status_ref(req.id), await request_status_card(services, s, req), key=key
    )


async def _own_request(s: AsyncSession, turn: Turn, what: str) -> SupervisionRequest | Reply:
    try:
        req = await store.get(s, parse_id(turn.data.get("request_id")))
    except NotFound:
        req = None
    if req is None or req.requester_id != turn.actor.id:
        refuse(turn, what)
        return say(turn, "That request isn't one of yours.")
    return req


async def status(services: Services, turn: Turn) -> Reply:
    """Shows the requester where their request stands (refreshes itself whenever the card is shown)."""
    async with unit_of_work(services, turn.now) as s:
        req = await _own_request(s, turn, "request.status")
        if isinstance(req, Reply):
            return req
        return Reply.of(await request_status_card(services, s, req))


async def withdraw(services: Services, turn: Turn) -> Reply:
    """Withdraws a request that has no session booked yet; allocators and the supervisor are told."""
    async with unit_of_work(services, turn.now) as s:
        req = await _own_request(s, turn, "request.withdraw")
        if isinstance(req, Reply):
            return req
        if req.status not in store.OPEN:
            msg = (
                "A session is booked: cancel the session instead."
                if req.status == store.BOOKED
                else "This request was already withdrawn."
            )
            return Reply.of(await request_status_card(services, s, req, message=msg))
        was_allocated = req.supervisor_id is not None
        try:
            await store.withdraw(s, req, now=turn.now)
        except Concurrent:
            return Reply.of(await request_status_card(services, s, req))
        await audited(services, turn, s, audit.WITHDRAWN, audit.REQUEST, req.id)
        told = []
        if req.route == Route.ALLOCATION.value:
            pool = await pool_now(services, s, turn.now)
            today = services.calendar.local_date(turn.now)
            for person in allocators_for(services, req, today):
                view = allocation_view(services, pool, req, person, turn.now)
                told.append(
                    effects.update_card(
                        person.id,
                        f"request:{req.id}:alloc",
                        cards.allocation_card(view),
                        key=f"request:{req.id}:alloc:withdrawn:{person.id}",
                    )
                )
        if was_allocated:
            told.append(
                effects.update_card(
                    req.supervisor_id,
                    f"request:{req.id}:supervisor",
                    cards.card(
                        [
                            cards.title("Request withdrawn"),
                            cards.text(
                                f"{labels.name_of(services.school, req.requester_id)} withdrew their request; "
                                "nothing to book."
                            ),
                        ]
                    ),
                    key=f"request:{req.id}:supervisor:withdrawn",
                )
            )
        await effects.add(s, *told, now=turn.now)
        return Reply.of(
            await request_status_card(services, s, req, message="Withdrawn. Nobody will contact you about it.")
        )


def register(router: Router) -> None:
    router.command(
        "request",
        title="Request supervision",
        description="Ask for 1:1, group or specialist supervision.",
        handler=open_form,
        allowed=REQUESTER,
        verb=cards.REQUEST_OPEN,
    )
    router.verb(cards.REQUEST_SUBMIT, submit, allowed=REQUESTER)
    router.verb(cards.REQUEST_STATUS, status, allowed=STAFF)
    router.verb(cards.REQUEST_WITHDRAW, withdraw, allowed=STAFF)
