"""Journey: the DSL keeps the trained supervisor pool (seed 001 §3.2: a central list of trained supervisors; new
supervisors join once trained). Also the pool's read side, used by the request and scheduling journeys.

The pool is seeded from the school config (role supervisor + supervisor_trained_on + optional capacity) the first
time it is read; after that the DSL's changes in the store are the truth.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.calendar import TermCalendar
from bot.domain.request_rules import parse_pool_add
from bot import labels
from bot.journeys.base import Reply, Services, Turn, refuse
from bot.journeys import permissions
from bot.journeys.router import Router
from bot.store.pool import (POOL_CACHE_SECONDS, PoolEntry, active_pairing, as_supervisors, caseloads,  # noqa: F401
                            ensure_pool, forget_pool, pool_entries, regular_pairings, unit_of_work)
from bot.school import Role, StaffMember
from bot.store.models_request import PoolMember
from cards import pool as pool_cards



# ---- small shared helpers (moving to bot/journeys/kit.py and bot/labels.py) --------------------------------------
def term_calendar(services: Services) -> TermCalendar:
    """The school's term calendar (built once, with the services)."""
    return services.calendar


def local_today(services: Services, now: dt.datetime) -> dt.date:
    return now.astimezone(services.school.tz).date()


def name_of(services: Services, staff_id: str | None) -> str:
    return labels.name_of(services.school, staff_id)


def is_dsl(actor: StaffMember | None) -> bool:
    return actor is not None and actor.has(Role.DSL)


def say(message: str) -> Reply:
    """A short answer as a small card: after a click it replaces the card in place, so the person sees why
    nothing happened (refusals name no content from the payload)."""
    return Reply.of(pool_cards.card([pool_cards.text(message)]))


day_label = labels.day_label


# ---- the journey -----------------------------------------------------------------------------------------------
async def _pool_view(services: Services, s: AsyncSession, turn: Turn, *, values=None, errors=None,
                     message=None, good=True) -> dict:
    entries = await pool_entries(services, s, turn.now)
    loads = await caseloads(s)
    today = local_today(services, turn.now)
    active = [pool_cards.PoolRow(e.id, e.staff.name, e.staff.job_title, day_label(e.trained_on),
                                 loads.get(e.id, 0), e.capacity, e.default_capacity) for e in entries if e.active]
    retired = [(e.staff.name, day_label(e.retired_at.astimezone(services.school.tz).date()) if e.retired_at else "")
               for e in entries if not e.active]
    candidates = [(m.id, m.name + (" (in the pool — update)" if m.id in {r.staff_id for r in active} else ""))
                  for m in sorted(services.school.staff.values(), key=lambda m: m.name.casefold())
                  if m.left_on is None or m.left_on > today]
    return pool_cards.pool_card(pool_cards.PoolView(
        active=active, retired=retired, candidates=candidates, today_iso=today.isoformat(),
        default_capacity=services.school.settings.supervisor_capacity_default, values=values or {},
        errors=errors or {}, message=message, good=good))


def _only_dsl(turn: Turn, what: str) -> Reply | None:
    if is_dsl(turn.actor):
        return None
    refuse(turn, what)
    return say("Only the DSL team can change the supervisor pool.")


async def show_pool(services: Services, turn: Turn) -> Reply:
    """Shows the DSL the trained supervisor pool with caseloads, and lets them add or retire supervisors."""
    if (denied := _only_dsl(turn, "pool.show")):
        return denied
    async with unit_of_work(services, turn.now) as s:
        return Reply.of(await _pool_view(services, s, turn))


async def add_supervisor(services: Services, turn: Turn) -> Reply:
    """Adds a trained member of staff to the pool (or updates their training date and capacity)."""
    if (denied := _only_dsl(turn, "pool.add")):
        return denied
    today = local_today(services, turn.now)
    roster = {m.id for m in services.school.staff.values() if m.left_on is None or m.left_on > today}
    values, errors, parsed = parse_pool_add(turn.data, roster_ids=roster, today=today)
    async with unit_of_work(services, turn.now) as s:
        if parsed is None:
            return Reply.of(await _pool_view(services, s, turn, values=values, errors=errors,
                                             message="Please check the highlighted fields.", good=False))
        staff_id, trained_on, capacity = parsed
        row = (await s.execute(select(PoolMember).where(PoolMember.staff_id == staff_id))).scalar_one_or_none()
        was_active = row is not None and row.active
        if row is None:
            row = PoolMember(staff_id=staff_id)
            s.add(row)
        row.trained_on, row.capacity, row.active, row.source = trained_on, capacity, True, "dsl"
        row.changed_by, row.changed_at, row.retired_at = turn.actor.id, turn.now, None
        await s.flush()
        forget_pool(services)
        verb = "updated" if was_active else "added to the pool"
        return Reply.of(await _pool_view(services, s, turn, message=f"{name_of(services, staff_id)} {verb}."))


async def retire_supervisor(services: Services, turn: Turn) -> Reply:
    """Retires a supervisor from the pool after asking; nobody new is allocated to them."""
    if (denied := _only_dsl(turn, "pool.retire")):
        return denied
    staff_id = turn.data.get("staff_id")
    async with unit_of_work(services, turn.now) as s:
        row = (await s.execute(select(PoolMember).where(PoolMember.staff_id == staff_id))).scalar_one_or_none() \
            if isinstance(staff_id, str) else None
        if row is None:
            refuse(turn, "pool.retire unknown supervisor")
            return Reply.of(await _pool_view(services, s, turn, message="That person isn't in the pool.",
                                             good=False))
        name = name_of(services, staff_id)
        if not row.active:
            return Reply.of(await _pool_view(services, s, turn, message=f"{name} has already been retired."))
        if turn.data.get("confirm") is not True:
            load = (await caseloads(s)).get(staff_id, 0)
            return Reply.of(pool_cards.retire_confirm(staff_id=staff_id, name=name, load=load))
        row.active, row.retired_at, row.changed_by, row.changed_at = False, turn.now, turn.actor.id, turn.now
        await s.flush()
        forget_pool(services)
        return Reply.of(await _pool_view(services, s, turn, message=f"{name} has been retired from the pool."))


def register(router: Router) -> None:
    router.command("pool", "supervisors", title="Supervisor pool",
                   description="See, add and retire trained supervisors.", handler=show_pool,
                   allowed=permissions.role(Role.DSL, "Only the DSL team can change the supervisor pool.",
                                            "DSL team", as_card=True), verb=pool_cards.POOL_SHOW)
    router.verb(pool_cards.POOL_ADD, add_supervisor)
    router.verb(pool_cards.POOL_RETIRE, retire_supervisor)
