"""What an allocator's card shows for a request: the pool and caseloads as one turn reads them, the suggested
supervisor and why (seed 000: parity of caseload; seed 001 §3.2: the preferred supervisor when they have room).
Used by the allocators' journey (allocation.py) and by the request journey, which refreshes the allocators' cards
when a request is withdrawn."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from bot import labels
from bot.domain.allocation import SuggestionReason, suggest_supervisor
from bot.journeys.base import Services
from bot.school import Role, StaffMember
from bot.store import requests as store
from bot.store.models_request import SupervisionRequest
from bot.store.pool import PoolEntry, as_supervisors, pool_entries
from cards import request as cards


def allocators_for(services: Services, req: SupervisionRequest, today: dt.date) -> list[StaffMember]:
    """Who gets the allocation card: the allocators, except the requester when someone else can allocate."""
    people = services.school.with_role(Role.ALLOCATOR, on=today)
    others = [m for m in people if m.id != req.requester_id]
    return others or people


def may_allocate(services: Services, actor: StaffMember, req: SupervisionRequest, today: dt.date) -> bool:
    """One of this request's allocators (an allocator's own request goes to the others)."""
    return actor.id in {m.id for m in allocators_for(services, req, today)}


@dataclasses.dataclass(frozen=True)
class Pool:
    """The pool and caseloads as one turn reads them (every allocator's card in that turn shows the same)."""

    entries: list[PoolEntry]
    loads: dict[str, int]


async def pool_now(services: Services, s: AsyncSession, now: dt.datetime) -> Pool:
    return Pool(await pool_entries(services, s, now), await store.caseloads(s))


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


def allocation_view(
    services: Services,
    pool: Pool,
    req: SupervisionRequest,
    viewer: StaffMember,
    now: dt.datetime,
    *,
    chosen: str | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
) -> cards.AllocationView:
    today = services.calendar.local_date(now)
    loads = pool.loads
    supervisors = as_supervisors(pool.entries, today)
    suggestion = None
    if req.status == store.WAITING:
        suggestion = suggest_supervisor(
            supervisors, loads, requester_id=req.requester_id, preferred_id=req.preferred_id
        )
    choices = [
        cards.PoolChoice(
            sup.id,
            sup.name,
            loads.get(sup.id, 0),
            sup.capacity,
            full=loads.get(sup.id, 0) >= sup.capacity,
            away=not sup.available,
        )
        for sup in supervisors
        if not sup.retired and sup.id != req.requester_id
    ]
    requester = services.school.staff.get(req.requester_id)
    cont = labels.name_of(services.school, req.preferred_id) if req.continue_current and req.preferred_id else None
    return cards.AllocationView(
        request_id=req.id,
        status=req.status,
        requester_name=labels.name_of(services.school, req.requester_id),
        requester_role=requester.job_title if requester else "",
        kind=req.kind,
        topics=list(req.topics or []),
        urgency=req.urgency,
        preferred_name=labels.name_of(services.school, req.preferred_id) if req.preferred_id else None,
        continue_name=cont,
        suggested_id=suggestion.supervisor_id if suggestion else None,
        suggested_name=suggestion.supervisor.name if suggestion else None,
        suggestion_reason=_suggestion_reason(suggestion, {e.id: e for e in pool.entries}, loads),
        choices=choices,
        created_label=labels.when(req.created_at, services.school.tz),
        supervisor_name=labels.name_of(services.school, req.supervisor_id) if req.supervisor_id else None,
        allocated_by_name=labels.name_of(services.school, req.allocated_by) if req.allocated_by else None,
        can_allocate=may_allocate(services, viewer, req, today),
        chosen=chosen,
        errors=errors or {},
        message=message,
        pupil_cases=req.pupil_cases,
    )
