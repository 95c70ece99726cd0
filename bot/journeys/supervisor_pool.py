"""Journey: the DSL keeps the trained supervisor pool (seed 001 §3.2: a central list of trained supervisors, each
with a capacity; new supervisors join once trained; seed 000: parity of caseload, so the card shows each one's).

The pool is seeded from the school config the first time it is read; after that the DSL's changes in the store
are the truth (bot/store/pool.py, which also holds the read side the request and scheduling journeys use).
"""

from __future__ import annotations

import datetime as dt

from bot import labels
from bot.domain.request_rules import parse_pool_add
from bot.journeys import permissions
from bot.journeys.base import Reply, Services, Turn
from bot.journeys.kit import refuse
from bot.journeys.router import Router
from bot.school import Role, StaffMember
from bot.store import pool
from bot.store.errors import NotFound
from bot.store.pool import (  # noqa: F401
    POOL_CACHE_SECONDS,
    PoolEntry,
    active_pairing,
    as_supervisors,
    caseloads,
    ensure_pool,
    forget_pool,
    pool_entries,
    regular_pairings,
    unit_of_work,
)
from cards import pool as pool_cards

ONLY_DSL = "Only the DSL team can change the supervisor pool."
DSL_TEAM = permissions.role(Role.DSL, ONLY_DSL, "DSL team", as_card=True)


def register(router: Router) -> None:
    router.command(
        "pool",
        "supervisors",
        title="Supervisor pool",
        description="See, add and retire trained supervisors.",
        handler=show_pool,
        allowed=DSL_TEAM,
        verb=pool_cards.POOL_SHOW,
    )
    router.verb(pool_cards.POOL_ADD, add_supervisor, allowed=DSL_TEAM)
    router.verb(pool_cards.POOL_RETIRE, retire_supervisor, allowed=DSL_TEAM)


# ---- the journey -----------------------------------------------------------------------------------------------
def _roster(services: Services, today: dt.date) -> list[StaffMember]:
    return sorted(services.school.active_on(today), key=lambda m: m.name.casefold())


def _role_line(services: Services, m: StaffMember) -> str:
    """The job title, and where a supervisor comes from when not this school's staff (seed 004 §5: internal,
    another school of the trust, or commissioned from outside)."""
    where = ""
    if m.external:
        where = "external supervisor"
    elif m.home_school:
        home = services.deployment.school(m.home_school) if services.deployment is not None else None
        where = f"from {home.name if home else 'another school of the trust'}"
    return " · ".join(p for p in (m.job_title, where) if p)


async def _pool_view(services: Services, s, turn: Turn, *, values=None, errors=None, message=None, good=True) -> dict:
    entries = await pool_entries(services, s, turn.now)
    loads = await caseloads(s)
    today = services.calendar.local_date(turn.now)
    active = [
        pool_cards.PoolRow(
            e.id,
            e.staff.name,
            _role_line(services, e.staff),
            labels.day_label(e.trained_on),
            loads.get(e.id, 0),
            e.capacity,
            e.default_capacity,
        )
        for e in entries
        if e.active
    ]
    retired = [
        (e.staff.name, labels.day_label(services.calendar.local_date(e.retired_at)) if e.retired_at else "")
        for e in entries
        if not e.active
    ]
    in_pool = {r.staff_id for r in active}
    candidates = [
        (m.id, m.name + (" (in the pool — update)" if m.id in in_pool else "")) for m in _roster(services, today)
    ]
    return pool_cards.pool_card(
        pool_cards.PoolView(
            active=active,
            retired=retired,
            candidates=candidates,
            today_iso=today.isoformat(),
            default_capacity=services.school.settings.supervisor_capacity_default,
            values=values or {},
            errors=errors or {},
            message=message,
            good=good,
        )
    )


async def show_pool(services: Services, turn: Turn) -> Reply:
    """Shows the DSL the trained supervisor pool with caseloads, and lets them add or retire supervisors."""
    async with unit_of_work(services, turn.now) as s:
        return Reply.of(await _pool_view(services, s, turn))


async def add_supervisor(services: Services, turn: Turn) -> Reply:
    """Adds a trained member of staff to the pool (or updates their training date and capacity)."""
    today = services.calendar.local_date(turn.now)
    roster = services.school.active_ids_on(today)
    values, errors, parsed = parse_pool_add(turn.data, roster_ids=roster, today=today)
    async with unit_of_work(services, turn.now) as s:
        if parsed is None:
            return Reply.of(
                await _pool_view(
                    services,
                    s,
                    turn,
                    values=values,
                    errors=errors,
                    message="Please check the highlighted fields.",
                    good=False,
                )
            )
        staff_id, trained_on, capacity = parsed
        was_active = await pool.add_to_pool(
            s, staff_id, trained_on=trained_on, capacity=capacity, by=turn.actor.id, now=turn.now
        )
        forget_pool(services)
        verb = "updated" if was_active else "added to the pool"
        return Reply.of(
            await _pool_view(services, s, turn, message=f"{labels.name_of(services.school, staff_id)} {verb}.")
        )


async def retire_supervisor(services: Services, turn: Turn) -> Reply:
    """Retires a supervisor from the pool after asking; nobody new is allocated to them."""
    staff_id = turn.data.get("staff_id")
    async with unit_of_work(services, turn.now) as s:
        try:
            if not isinstance(staff_id, str):
                raise NotFound(None)
            member = await pool.pool_member(s, staff_id)
        except NotFound:
            refuse(turn, "pool.retire unknown supervisor")
            return Reply.of(await _pool_view(services, s, turn, message="That person isn't in the pool.", good=False))
        name = labels.name_of(services.school, staff_id)
        if not member.active:
            return Reply.of(await _pool_view(services, s, turn, message=f"{name} has already been retired."))
        if turn.data.get("confirm") is not True:
            load = (await caseloads(s)).get(staff_id, 0)
            return Reply.of(pool_cards.retire_confirm(staff_id=staff_id, name=name, load=load))
        await pool.retire_from_pool(s, staff_id, by=turn.actor.id, now=turn.now)
        forget_pool(services)
        return Reply.of(await _pool_view(services, s, turn, message=f"{name} has been retired from the pool."))
