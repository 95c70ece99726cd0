"""Journey: a member of staff requests supervision; an allocator chooses the supervisor (seed 001 §3.2).

request → (continuity or enrichment week: straight to that supervisor | allocators get a card with a suggested
supervisor: the preferred one if they have room, else the lightest caseload, seed 000) → the supervisor is told
and proposes times (scheduling.py). The requester's submitted card updates in place as the request moves on.
"""
from __future__ import annotations

import datetime as dt
import re
import secrets

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.allocation import SuggestionReason, suggest_supervisor
from bot.domain.request_rules import CONTINUE, Route, allocation_problem, parse_request_form, route_request
from bot.journeys import scheduling
from bot.journeys.base import Reply, Services, Turn, refuse
from bot.journeys import permissions
from bot.journeys.router import Router
from bot.outbox import Effect, enqueue_many
from bot.journeys.supervisor_pool import (PoolEntry, active_pairing, as_supervisors, caseloads, local_today,
                                          name_of, pool_entries, regular_pairings, say, term_calendar,
                                          unit_of_work)
from bot.school import Role, StaffMember
from bot.store import conversations
from bot.store.models import SentCard
from bot.store.models_request import Meeting, Pairing, PoolMember, SupervisionRequest
from cards import request as cards

NOT_ON_ROSTER = ("I can't find you on the school's staff list, so I can't take a request from you. Please ask your "
                 "DSL to check the roster.")
_DRAFT = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_URGENCY_ORDER = {"urgent": 0, "week": 1, "routine": 2}
LIST_LIMIT = 10


def _time_label(services: Services, when: dt.datetime) -> str:
    local = when.astimezone(services.school.tz)
    return f"{local:%a} {local.day} {local:%b}, {local:%H:%M}"


def _on_roster(services: Services, today: dt.date) -> list[StaffMember]:
    return [m for m in services.school.staff.values() if m.left_on is None or m.left_on > today]


# ---- the form ----------------------------------------------------------------------------------------------------
async def _form_view(services: Services, s: AsyncSession, turn: Turn, *, draft_id: str, values=None, errors=None,
                     top_error: str | None = None) -> cards.RequestFormView:
    actor = turn.actor
    today = local_today(services, turn.now)
    entries = await pool_entries(services, s, turn.now, fresh=False)
    usable = {sup.id for sup in as_supervisors(entries, today) if not sup.retired and sup.available}
    pool = [(e.id, e.staff.name + (f", {e.staff.job_title}" if e.staff.job_title else ""))
            for e in entries if e.id in usable and e.id != actor.id]
    current = await _current_supervisor(s, actor.id, usable)
    colleagues = [(m.id, m.name) for m in sorted(_on_roster(services, today), key=lambda m: m.name.casefold())
                  if m.id != actor.id]
    week = term_calendar(services).enrichment_week_for(today)
    enrichment = None
    if week and week.supervisor in usable and week.supervisor != actor.id:
        enrichment = (f"It's enrichment week: requests this week go to {name_of(services, week.supervisor)}, the "
                      "enrichment supervisor" + (" (unless you continue with your current supervisor)." if current
                                                  else "."))
    return cards.RequestFormView(
        draft_id=draft_id, pool=pool, colleagues=colleagues,
        current_supervisor=(current, name_of(services, current)) if current else None, enrichment=enrichment,
        values=values or {}, errors=errors or {}, top_error=top_error)


async def _current_supervisor(s: AsyncSession, staff_id: str, usable: set[str]) -> str | None:
    """Their supervisor now, if that person can still take supervision (seed 001 §3.2 Continuity of Support)."""
    p = await active_pairing(s, staff_id)
    return p.supervisor_id if p is not None and p.supervisor_id in usable else None


async def open_form(services: Services, turn: Turn) -> Reply:
    """Shows the request card: kind, preferred supervisor, topics, how soon, usual times and a short note."""
    if turn.actor is None:
        refuse(turn, "request.open not on roster")
        return say(NOT_ON_ROSTER)
    async with unit_of_work(services, turn.now) as s:
        view = await _form_view(services, s, turn, draft_id=secrets.token_urlsafe(12))
    return Reply.of(cards.request_form(view))


# ---- submit ------------------------------------------------------------------------------------------------------
def allocators_for(services: Services, req: SupervisionRequest, today: dt.date) -> list[StaffMember]:
    """Who gets the allocation card: the allocators, except the requester when someone else can allocate."""
    people = [m for m in services.school.with_role(Role.ALLOCATOR) if m.left_on is None or m.left_on > today]
    others = [m for m in people if m.id != req.requester_id]
    return others or people


def may_allocate(services: Services, actor: StaffMember | None, req: SupervisionRequest, today: dt.date) -> bool:
    return actor is not None and actor.has(Role.ALLOCATOR) and actor.id in {
        m.id for m in allocators_for(services, req, today)}


async def submit(services: Services, turn: Turn) -> Reply:
    """Sends a request: checks it again on the server, records it once, and tells whoever allocates or supervises."""
    actor = turn.actor
    if actor is None:
        refuse(turn, "request.submit not on roster")
        return say(NOT_ON_ROSTER)
    draft_id = turn.data.get("draft_id")
    if not isinstance(draft_id, str) or not _DRAFT.match(draft_id):
        refuse(turn, "request.submit bad draft id")
        return say("This request card is out of date. Type **request** to open a fresh one.")
    today = local_today(services, turn.now)
    settings = services.school.settings
    # One unit of work, few statements: this is the turn staff wait on (bench/turns.py measures it). A repeated
    # submit is caught by the draft id's unique constraint rather than looked up first.
    try:
        async with unit_of_work(services, turn.now) as s:
            entries = await pool_entries(services, s, turn.now, fresh=False)
            usable = {sup.id for sup in as_supervisors(entries, today) if not sup.retired and sup.available}
            # Only "continue with my current supervisor" needs to know who that is.
            current = await _current_supervisor(s, actor.id, usable) if turn.data.get("preferred") == CONTINUE \
                else None
            result = parse_request_form(turn.data, requester_id=actor.id, pool_ids=usable - {actor.id},
                                        current_supervisor_id=current,
                                        allow_continue=settings.allow_continue_with_current_supervisor,
                                        roster_ids={m.id for m in _on_roster(services, today)})
            if not result.ok:
                existing = await _by_draft(s, draft_id)
                if existing is not None:      # a double click after the first one went through
                    return await _resubmitted(services, s, turn, existing)
                view = await _form_view(services, s, turn, draft_id=draft_id, values=result.values,
                                        errors=result.errors,
                                        top_error="Please check the highlighted answers; nothing has been sent yet.")
                return Reply.of(cards.request_form(view))
            form = result.form
            week = term_calendar(services).enrichment_week_for(today)
            route, direct_to = route_request(
                form, requester_id=actor.id, current_supervisor_id=current,
                allow_continue=settings.allow_continue_with_current_supervisor,
                enrichment_supervisor_id=week.supervisor if week and week.supervisor in usable else None)
            req = SupervisionRequest(
                draft_id=draft_id, requester_id=actor.id, kind=form.kind, preferred_id=form.preferred_id,
                continue_current=form.continue_current, topics=list(form.topics), urgency=form.urgency,
                times=list(form.times), days=list(form.days), colleagues=list(form.colleagues), note=form.note,
                route=route.value, status="submitted", created_at=turn.now, updated_at=turn.now)
            s.add(req)
            await s.flush()
            if route is Route.ALLOCATION:
                # A short notice; the full card (suggestion, caseloads) is built when the allocator opens it, so
                # it is current then and the message itself carries no more than who asked and how soon.
                notice = cards.allocation_notice(request_id=req.id, requester_name=actor.name, kind=req.kind,
                                                 urgency=req.urgency)
                await enqueue_many(s, [
                    Effect("teams.notify", {"staff_id": person.id, "card": notice, "ref": f"request:{req.id}:alloc"},
                           key=f"request:{req.id}:alloc:{person.id}")
                    for person in allocators_for(services, req, today)], now=turn.now)
            else:
                await _allocate(services, s, req, direct_to, by=None, now=turn.now)
            await _remember_status_card(services, s, turn, req)
            card = await scheduling.request_status_card(services, s, req)
    except IntegrityError:   # the same form submitted twice: the first one won
        async with services.db.session() as s:
            existing = await _by_draft(s, draft_id)
            if existing is None:
                raise
            return await _resubmitted(services, s, turn, existing)
    return Reply.of(card)


async def _by_draft(s: AsyncSession, draft_id: str) -> SupervisionRequest | None:
    return (await s.execute(select(SupervisionRequest).where(SupervisionRequest.draft_id == draft_id))
            ).scalar_one_or_none()


async def _resubmitted(services: Services, s: AsyncSession, turn: Turn, req: SupervisionRequest) -> Reply:
    """A repeated submit of the same card: show the request it made; someone else's card is refused."""
    if req.requester_id != turn.actor.id:
        refuse(turn, "request.submit another person's draft")
        return say("This request card belongs to someone else.")
    return Reply.of(await scheduling.request_status_card(services, s, req, message="Already sent — here it is."))


async def _remember_status_card(services: Services, s: AsyncSession, turn: Turn,
                                req: SupervisionRequest) -> None:
    """The card the requester submitted becomes their status card; remember which message holds it so later
    changes can update it in place ("teams.update" by ref)."""
    if not (turn.invoke and turn.activity_id):
        return
    known = services.conversation_ids
    conversation_id = known.get(req.requester_id)
    if conversation_id is None:   # a person's 1:1 chat id does not change; look it up once per process
        ref = await conversations.personal(s, req.requester_id)
        if ref is None:
            return
        conversation_id = known[req.requester_id] = ref.conversation_id
    s.add(SentCard(staff_id=req.requester_id, ref=f"request:{req.id}:status", activity_id=turn.activity_id,
                   conversation_id=conversation_id, sent_at=turn.now))


async def _allocate(services: Services, s: AsyncSession, req: SupervisionRequest, supervisor_id: str, *,
                    by: str | None, now: dt.datetime) -> None:
    """Record the supervisor and tell them (and, when an allocator chose, the requester). For 1:1 and specialist
    requests the supervisor takes the person onto their caseload, replacing any earlier supervisor."""
    req.status, req.supervisor_id, req.allocated_by, req.allocated_at, req.updated_at = (
        "allocated", supervisor_id, by, now, now)
    if req.route != Route.ENRICHMENT.value and req.kind == "one_to_one":
        current = await regular_pairings(s, req.requester_id)
        if not any(p.supervisor_id == supervisor_id for p in current):
            for p in current:       # a new 1:1 supervisor replaces the previous one
                p.ended_at, p.ended_by = now, by or req.requester_id
            s.add(Pairing(supervisee_id=req.requester_id, supervisor_id=supervisor_id, request_id=req.id,
                          started_at=now))
    elif req.route != Route.ENRICHMENT.value and req.kind == "specialist":
        # Short-term support alongside any 1:1 supervision: it counts in the supervisor's caseload while it lasts.
        already = (await s.execute(select(Pairing.id).where(
            Pairing.supervisee_id == req.requester_id, Pairing.supervisor_id == supervisor_id,
            Pairing.ended_at.is_(None)))).first()
        if already is None:
            s.add(Pairing(supervisee_id=req.requester_id, supervisor_id=supervisor_id, request_id=req.id,
                          started_at=now))
    await scheduling.notify(s, supervisor_id, cards.supervisor_allocated_notice(
        request_id=req.id, supervisee_name=name_of(services, req.requester_id), kind=req.kind, urgency=req.urgency,
        route=req.route), key=f"request:{req.id}:supervisor", ref=f"request:{req.id}:supervisor", now=now)
    if by is not None:
        await scheduling.notify(s, req.requester_id, cards.requester_allocated_notice(
            request_id=req.id, supervisor_name=name_of(services, supervisor_id), route=req.route),
            key=f"request:{req.id}:told-requester", now=now)
        await scheduling.update_card(s, req.requester_id, f"request:{req.id}:status",
                                     await scheduling.request_status_card(services, s, req),
                                     key=f"request:{req.id}:status:allocated", now=now)


# ---- the requester's card ----------------------------------------------------------------------------------------
async def _own_request(s: AsyncSession, turn: Turn, what: str) -> SupervisionRequest | Reply:
    rid = scheduling._int(turn.data.get("request_id"))
    req = await s.get(SupervisionRequest, rid) if rid is not None else None
    if req is None or turn.actor is None or req.requester_id != turn.actor.id:
        refuse(turn, what)
        return say("That request isn't one of yours.")
    return req


async def status(services: Services, turn: Turn) -> Reply:
    """Shows the requester where their request stands (refreshes itself whenever the card is shown)."""
    async with unit_of_work(services, turn.now) as s:
        req = await _own_request(s, turn, "request.status")
        if isinstance(req, Reply):
            return req
        return Reply.of(await scheduling.request_status_card(services, s, req))


async def withdraw(services: Services, turn: Turn) -> Reply:
    """Withdraws a request that has no session booked yet; allocators and the supervisor are told."""
    today = local_today(services, turn.now)
    async with unit_of_work(services, turn.now) as s:
        req = await _own_request(s, turn, "request.withdraw")
        if isinstance(req, Reply):
            return req
        if req.status not in ("submitted", "allocated"):
            msg = ("A session is booked: cancel the session instead." if req.status == "booked"
                   else "This request was already withdrawn.")
            return Reply.of(await scheduling.request_status_card(services, s, req, message=msg))
        done = await s.execute(update(SupervisionRequest).where(
            SupervisionRequest.id == req.id, SupervisionRequest.status.in_(("submitted", "allocated")))
            .values(status="withdrawn", note=None, updated_at=turn.now))
        if done.rowcount != 1:
            return Reply.of(await scheduling.request_status_card(services, s, req))
        was_allocated = req.supervisor_id is not None
        req.status, req.note = "withdrawn", None
        # A supervisory relationship that this request started, with nothing ever booked, goes with it.
        new_pairing = (await s.execute(select(Pairing).where(Pairing.request_id == req.id,
                                                             Pairing.ended_at.is_(None)))).scalar_one_or_none()
        if new_pairing is not None:
            booked = (await s.execute(select(Meeting.id).where(Meeting.pairing_id == new_pairing.id).limit(1))
                      ).first()
            if booked is None:
                new_pairing.ended_at, new_pairing.ended_by = turn.now, req.requester_id
        if req.route == Route.ALLOCATION.value:
            for person in allocators_for(services, req, today):
                view = await _allocation_view(services, s, req, person, turn.now)
                await scheduling.update_card(s, person.id, f"request:{req.id}:alloc", cards.allocation_card(view),
                                             key=f"request:{req.id}:alloc:withdrawn:{person.id}", now=turn.now)
        if was_allocated:
            await scheduling.update_card(s, req.supervisor_id, f"request:{req.id}:supervisor", cards.card([
                cards.title("Request withdrawn"),
                cards.text(f"{name_of(services, req.requester_id)} withdrew their request; nothing to book.")]),
                key=f"request:{req.id}:supervisor:withdrawn", now=turn.now)
        return Reply.of(await scheduling.request_status_card(services, s, req,
                                                             message="Withdrawn. Nobody will contact you about it."))


# ---- allocators ------------------------------------------------------------------------------------------------
def _suggestion_reason(sugg, entries: dict[str, PoolEntry], loads: dict[str, int]) -> str | None:
    if sugg is None:
        return None
    e = entries.get(sugg.supervisor_id)
    load = f"{loads.get(sugg.supervisor_id, 0)} of {e.capacity if e else '?'} supervisees"
    if sugg.reason is SuggestionReason.PREFERRED:
        return f"their preference, with room ({load})"
    why = f"lightest caseload ({load})"
    if sugg.preferred_not_used:
        why += f"; their preference is {sugg.preferred_not_used}"
    return why


async def _allocation_view(services: Services, s: AsyncSession, req: SupervisionRequest, viewer: StaffMember,
                           now: dt.datetime, *, chosen: str | None = None, errors: dict[str, str] | None = None,
                           message: str | None = None) -> cards.AllocationView:
    today = local_today(services, now)
    entries = await pool_entries(services, s, now)
    loads = await caseloads(s)
    supervisors = as_supervisors(entries, today)
    by_id = {e.id: e for e in entries}
    suggestion = None
    if req.status == "submitted":
        suggestion = suggest_supervisor(supervisors, loads, requester_id=req.requester_id,
                                        preferred_id=req.preferred_id)
    choices = [cards.PoolChoice(sup.id, sup.name, loads.get(sup.id, 0), sup.capacity,
                                full=loads.get(sup.id, 0) >= sup.capacity, away=not sup.available)
               for sup in supervisors if not sup.retired and sup.id != req.requester_id]
    requester = services.school.staff.get(req.requester_id)
    cont = None
    if req.continue_current and req.preferred_id:
        cont = name_of(services, req.preferred_id)
    return cards.AllocationView(
        request_id=req.id, status=req.status, requester_name=name_of(services, req.requester_id),
        requester_role=requester.job_title if requester else "", kind=req.kind, topics=list(req.topics or []),
        urgency=req.urgency, preferred_name=name_of(services, req.preferred_id) if req.preferred_id else None,
        continue_name=cont, suggested_id=suggestion.supervisor_id if suggestion else None,
        suggested_name=suggestion.supervisor.name if suggestion else None,
        suggestion_reason=_suggestion_reason(suggestion, by_id, loads), choices=choices,
        created_label=_time_label(services, req.created_at),
        supervisor_name=name_of(services, req.supervisor_id) if req.supervisor_id else None,
        allocated_by_name=name_of(services, req.allocated_by) if req.allocated_by else None,
        can_allocate=may_allocate(services, viewer, req, today), chosen=chosen, errors=errors or {},
        message=message)


async def allocation(services: Services, turn: Turn) -> Reply:
    """Shows an allocator one request with a suggested supervisor, or who it went to."""
    actor = turn.actor
    if actor is None or not actor.has(Role.ALLOCATOR):
        refuse(turn, "request.allocation not an allocator")
        return say("Only the people who allocate supervisors can see requests.")
    rid = scheduling._int(turn.data.get("request_id"))
    async with unit_of_work(services, turn.now) as s:
        req = await s.get(SupervisionRequest, rid) if rid is not None else None
        if req is None:
            refuse(turn, "request.allocation unknown request")
            return say("I can't find that request.")
        return Reply.of(cards.allocation_card(await _allocation_view(services, s, req, actor, turn.now)))


async def allocate(services: Services, turn: Turn) -> Reply:
    """Allocates a supervisor (the suggested one in one click, or another) within their capacity."""
    actor = turn.actor
    if actor is None or not actor.has(Role.ALLOCATOR):
        refuse(turn, "request.allocate not an allocator")
        return say("Only the people who allocate supervisors can do that.")
    rid = scheduling._int(turn.data.get("request_id"))
    today = local_today(services, turn.now)
    use = turn.data.get("use")
    wanted = turn.data.get("supervisor_id") if use == "suggested" else turn.data.get("chosen")
    async with unit_of_work(services, turn.now) as s:
        req = await s.get(SupervisionRequest, rid) if rid is not None else None
        if req is None:
            refuse(turn, "request.allocate unknown request")
            return say("I can't find that request.")
        if req.status != "submitted":
            msg = None
            if req.status == "withdrawn":
                msg = "The member of staff withdrew this request."
            elif req.supervisor_id != wanted or req.allocated_by != actor.id:
                msg = (f"Already allocated to {name_of(services, req.supervisor_id)}"
                       + (f" by {name_of(services, req.allocated_by)}." if req.allocated_by else "."))
            return Reply.of(cards.allocation_card(await _allocation_view(services, s, req, actor, turn.now,
                                                                         message=msg)))
        if not may_allocate(services, actor, req, today):
            refuse(turn, "request.allocate own request")
            return say("Another allocator will choose a supervisor for your own request.")
        entries = await pool_entries(services, s, turn.now)
        loads = await caseloads(s)
        pool_now = as_supervisors(entries, today)
        shown = suggest_supervisor(pool_now, loads, requester_id=req.requester_id, preferred_id=req.preferred_id)
        sup = next((x for x in pool_now if isinstance(wanted, str) and x.id == wanted), None)
        if not isinstance(wanted, str) or not wanted:
            problem = "Choose a supervisor."
        else:
            if sup is None and use == "suggested":
                refuse(turn, "request.allocate supervisor not in pool")
            already = (await s.execute(select(Pairing.id).where(
                Pairing.supervisee_id == req.requester_id, Pairing.supervisor_id == wanted,
                Pairing.ended_at.is_(None)))).first() is not None
            problem = allocation_problem(sup, loads, requester_id=req.requester_id, already_supervises=already)
        if problem:
            view = await _allocation_view(services, s, req, actor, turn.now,
                                          chosen=wanted if isinstance(wanted, str) else None,
                                          errors={"chosen": problem}, message=None)
            return Reply.of(cards.allocation_card(view))
    async with services.db.session() as s:
        done = await s.execute(update(SupervisionRequest).where(
            SupervisionRequest.id == req.id, SupervisionRequest.status == "submitted").values(updated_at=turn.now))
        req = await s.get(SupervisionRequest, req.id, populate_existing=True)
        if done.rowcount != 1 or req.status != "submitted":
            return Reply.of(cards.allocation_card(await _allocation_view(services, s, req, actor, turn.now)))
        # Capacity again, now that this transaction holds the write: another allocator may have given the same
        # supervisor their last place since the check above. SQLite has one writer at a time (the UPDATE took
        # it); PostgreSQL locks the supervisor's pool row, so allocations to one supervisor go one at a time.
        if not already:
            if s.bind.dialect.name == "postgresql":
                await s.execute(select(PoolMember.id).where(PoolMember.staff_id == wanted).with_for_update())
            problem = allocation_problem(sup, await caseloads(s), requester_id=req.requester_id,
                                         already_supervises=False)
            if problem:
                view = await _allocation_view(services, s, req, actor, turn.now, chosen=wanted,
                                              errors={"chosen": problem}, message=None)
                return Reply.of(cards.allocation_card(view))
        req.suggested_id = shown.supervisor_id if shown else None   # what the allocator was shown, for the record
        await _allocate(services, s, req, wanted, by=actor.id, now=turn.now)
        for person in allocators_for(services, req, today):
            if person.id == actor.id:
                continue
            view = await _allocation_view(services, s, req, person, turn.now)
            await scheduling.update_card(s, person.id, f"request:{req.id}:alloc", cards.allocation_card(view),
                                         key=f"request:{req.id}:alloc:allocated:{person.id}", now=turn.now)
        view = await _allocation_view(services, s, req, actor, turn.now, message=(
            f"Allocated to {name_of(services, wanted)}. They will propose a time; "
            f"{name_of(services, req.requester_id)} has been told."))
        return Reply.of(cards.allocation_card(view))


async def waiting(services: Services, turn: Turn) -> Reply:
    """Lists the requests still waiting for a supervisor, urgent first."""
    actor = turn.actor
    if actor is None or not actor.has(Role.ALLOCATOR):
        refuse(turn, "request.list not an allocator")
        return say("Only the people who allocate supervisors can see requests.")
    async with unit_of_work(services, turn.now) as s:
        rows = (await s.execute(select(SupervisionRequest).where(SupervisionRequest.status == "submitted"))
                ).scalars().all()
    rows = sorted(rows, key=lambda r: (_URGENCY_ORDER.get(r.urgency, 3), r.created_at))
    items = [cards.WaitingRequest(r.id, name_of(services, r.requester_id), r.kind, r.urgency,
                                  _time_label(services, r.created_at)) for r in rows[:LIST_LIMIT]]
    return Reply.of(cards.requests_list(items, total_open=len(rows)))


ALLOCATORS = permissions.role(Role.ALLOCATOR, "Only the people who allocate supervisors can see requests.",
                              "allocator", as_card=True)


def register(router: Router) -> None:
    router.command("request", title="Request supervision",
                   description="Ask for 1:1, group or specialist supervision.", handler=open_form,
                   verb=cards.REQUEST_OPEN)
    router.command("requests", "allocate", title="Requests to allocate",
                   description="Requests waiting for a supervisor.", handler=waiting,
                   allowed=ALLOCATORS, verb="request.list")
    router.verb(cards.REQUEST_SUBMIT, submit)
    router.verb(cards.REQUEST_STATUS, status)
    router.verb(cards.REQUEST_WITHDRAW, withdraw)
    router.verb(cards.ALLOCATION_VIEW, allocation)
    router.verb(cards.ALLOCATE, allocate)
