"""Journey: the allocators (seed 001 §3.2: the co-headteachers) see the requests waiting for a supervisor and
allocate one — suggested from the trained pool: the preferred supervisor if they have room, else the lightest
caseload (seed 000: parity of caseload). The capacity is checked again inside the write, so two allocators at
once cannot take a supervisor over it. The requester's side of a request is bot/journeys/request.py.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from bot import labels
from bot.domain.allocation import suggest_supervisor
from bot.domain.request_rules import allocation_problem
from bot.journeys import permissions
from bot.journeys.allocation_view import allocation_view, allocators_for, may_allocate, pool_now
from bot.journeys.base import Reply, Services, Turn
from bot.journeys.kit import audited, parse_id, refuse, say
from bot.journeys.request import tell_allocated
from bot.journeys.router import Router
from bot.outbox import effects
from bot.school import Role, StaffMember
from bot.store import audit
from bot.store import requests as store
from bot.store.errors import Concurrent, NotFound, OverCapacity
from bot.store.models_request import SupervisionRequest
from bot.store.pool import as_supervisors, unit_of_work
from cards import request as cards

LIST_LIMIT = 10
SEE_REQUESTS = permissions.role(
    Role.ALLOCATOR, "Only the people who allocate supervisors can see requests.", "allocator", as_card=True
)
ALLOCATOR = permissions.role(Role.ALLOCATOR, "Only the people who allocate supervisors can do that.", "allocator")


def register(router: Router) -> None:
    router.command(
        "requests",
        "allocate",
        title="Requests to allocate",
        description="Requests waiting for a supervisor.",
        handler=waiting,
        allowed=SEE_REQUESTS,
        verb="request.list",
    )
    router.verb(cards.ALLOCATION_VIEW, allocation, allowed=SEE_REQUESTS)
    router.verb(cards.ALLOCATE, allocate, allowed=ALLOCATOR)


async def _allocation_card(
    services: Services, s: AsyncSession, req: SupervisionRequest, viewer: StaffMember, now: dt.datetime, **kw
) -> Reply:
    view = allocation_view(services, await pool_now(services, s, now), req, viewer, now, **kw)
    return Reply.of(cards.allocation_card(view))


async def allocation(services: Services, turn: Turn) -> Reply:
    """Shows an allocator one request with a suggested supervisor, or who it went to."""
    async with unit_of_work(services, turn.now) as s:
        try:
            req = await store.get(s, parse_id(turn.data.get("request_id")))
        except NotFound:
            refuse(turn, "request.allocation unknown request")
            return say(turn, "I can't find that request.")
        return await _allocation_card(services, s, req, turn.actor, turn.now)


async def allocate(services: Services, turn: Turn) -> Reply:
    """Allocates a supervisor (the suggested one in one click, or another) within their capacity."""
    actor = turn.actor
    today = services.calendar.local_date(turn.now)
    use = turn.data.get("use")
    wanted = turn.data.get("supervisor_id") if use == "suggested" else turn.data.get("chosen")
    wanted = wanted if isinstance(wanted, str) and wanted else None
    async with unit_of_work(services, turn.now) as s:
        try:
            req = await store.get(s, parse_id(turn.data.get("request_id")))
        except NotFound:
            refuse(turn, "request.allocate unknown request")
            return say(turn, "I can't find that request.")
        if req.status != store.WAITING:
            msg = None
            if req.status == store.WITHDRAWN:
                msg = "The member of staff withdrew this request."
            elif req.supervisor_id != wanted or req.allocated_by != actor.id:
                msg = f"Already allocated to {labels.name_of(services.school, req.supervisor_id)}" + (
                    f" by {labels.name_of(services.school, req.allocated_by)}." if req.allocated_by else "."
                )
            return await _allocation_card(services, s, req, actor, turn.now, message=msg)
        if not may_allocate(services, actor, req, today):
            refuse(turn, "request.allocate own request")
            return say(turn, "Another allocator will choose a supervisor for your own request.")
        pool = await pool_now(services, s, turn.now)
        supervisors = as_supervisors(pool.entries, today)
        shown = suggest_supervisor(
            supervisors, pool.loads, requester_id=req.requester_id, preferred_id=req.preferred_id
        )
        sup = next((x for x in supervisors if x.id == wanted), None) if wanted else None
        already = False
        if wanted is None:
            problem = "Choose a supervisor."
        else:
            if sup is None and use == "suggested":
                refuse(turn, "request.allocate supervisor not in pool")
            already = await store.pairing_between(s, req.requester_id, wanted) is not None
            problem = allocation_problem(sup, pool.loads, requester_id=req.requester_id, already_supervises=already)
        if problem:
            view = allocation_view(services, pool, req, actor, turn.now, chosen=wanted, errors={"chosen": problem})
            return Reply.of(cards.allocation_card(view))
        # The write claims the request and checks the supervisor's capacity again (another allocator may have
        # given the same supervisor their last place since the check above).
        try:
            req = await store.allocate(
                s,
                req.id,
                sup,
                by=actor.id,
                now=turn.now,
                already_supervises=already,
                suggested_id=shown.supervisor_id if shown else None,
            )
        except Concurrent:
            return await _allocation_card(services, s, req, actor, turn.now)
        except OverCapacity as exc:
            return await _allocation_card(services, s, req, actor, turn.now, chosen=wanted, errors={"chosen": str(exc)})
        await audited(services, turn, s, audit.ALLOCATED, audit.REQUEST, req.id)
        told = await tell_allocated(services, s, req, by=actor.id)
        pool = await pool_now(services, s, turn.now)
        for person in allocators_for(services, req, today):
            if person.id != actor.id:
                told.append(
                    effects.update_card(
                        person.id,
                        f"request:{req.id}:alloc",
                        cards.allocation_card(allocation_view(services, pool, req, person, turn.now)),
                        key=f"request:{req.id}:alloc:allocated:{person.id}",
                    )
                )
        await effects.add(s, *told, now=turn.now)
        return Reply.of(
            cards.allocation_card(
                allocation_view(
                    services,
                    pool,
                    req,
                    actor,
                    turn.now,
                    message=(
                        f"Allocated to {labels.name_of(services.school, wanted)}. They will propose a time; "
                        f"{labels.name_of(services.school, req.requester_id)} has been told."
                    ),
                )
            )
        )


async def waiting(services: Services, turn: Turn) -> Reply:
    """Lists the requests still waiting for a supervisor, urgent first."""
    async with unit_of_work(services, turn.now) as s:
        rows = await store.waiting(s)
    items = [
        cards.WaitingRequest(
            r.id,
            labels.name_of(services.school, r.requester_id),
            r.kind,
            r.urgency,
            labels.when(r.created_at, services.school.tz),
        )
        for r in rows[:LIST_LIMIT]
    ]
    return Reply.of(cards.requests_list(items, total_open=len(rows)))
