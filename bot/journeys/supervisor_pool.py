"""Journey: the DSL keeps the trained supervisor pool (seed 001 §3.2: a central list of trained supervisors; new
supervisors join once trained). Also the pool's read side, used by the request and scheduling journeys.

The pool is seeded from the school config (role supervisor + supervisor_trained_on + optional capacity) the first
time it is read; after that the DSL's changes in the store are the truth.
"""
from __future__ import annotations

import datetime as dt
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import AsyncIterator

from sqlalchemy import func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.allocation import Supervisor
from bot.domain.calendar import TermCalendar
from bot.domain.request_rules import parse_pool_add
from bot.journeys.base import Reply, Services, Turn, refuse
from bot.journeys import permissions
from bot.journeys.router import Permission, Router
from bot.school import Role, StaffMember
from bot.store.models_request import Pairing, PoolMember
from cards import pool as pool_cards

_SEEDED = "supervisor_pool.seeded"
_POOL_CACHE = "supervisor_pool.cache"
POOL_CACHE_SECONDS = 30.0
_CALENDAR = "request.term_calendar"


# ---- shared read side ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PoolEntry:
    staff: StaffMember
    trained_on: dt.date
    capacity: int
    default_capacity: bool
    active: bool
    retired_at: dt.datetime | None

    @property
    def id(self) -> str:
        return self.staff.id


def term_calendar(services: Services) -> TermCalendar:
    """The school's term calendar, built once per process (bank holidays are computed when it is built)."""
    return services.calendar


def local_today(services: Services, now: dt.datetime) -> dt.date:
    return now.astimezone(services.school.tz).date()


def name_of(services: Services, staff_id: str | None) -> str:
    if not staff_id:
        return ""
    member = services.school.staff.get(staff_id)
    return member.name if member else "a former member of staff"


def is_dsl(actor: StaffMember | None) -> bool:
    return actor is not None and actor.has(Role.DSL)


def say(message: str) -> Reply:
    """A short answer as a small card: after a click it replaces the card in place, so the person sees why
    nothing happened (refusals name no content from the payload)."""
    return Reply.of(pool_cards.card([pool_cards.text(message)]))


def day_label(d: dt.date) -> str:
    return f"{d.day} {d:%b %Y}"


async def ensure_pool(services: Services, now: dt.datetime) -> None:
    """Insert config supervisors the store has never seen (never re-adds someone the DSL retired).

    Its own short transaction, once per process, before the caller opens its unit of work."""
    if services.pool.seeded:
        return
    rows = [dict(staff_id=m.id, trained_on=m.supervisor_trained_on, capacity=m.supervisor_capacity, active=True,
                 source="config", changed_by="school-config", changed_at=now)
            for m in services.school.with_role(Role.SUPERVISOR) if m.supervisor_trained_on]
    if rows:
        async with services.db.session() as s:
            insert = postgresql.insert if s.bind.dialect.name == "postgresql" else sqlite.insert
            await s.execute(insert(PoolMember).values(rows).on_conflict_do_nothing(index_elements=["staff_id"]))
    services.pool.seeded = True


@asynccontextmanager
async def unit_of_work(services: Services, now: dt.datetime) -> AsyncIterator[AsyncSession]:
    """One transaction, with the pool seeded first (every journey of the targeted offer reads it)."""
    await ensure_pool(services, now)
    async with services.db.session() as s:
        yield s


async def pool_entries(services: Services, s: AsyncSession, now: dt.datetime, *,
                       fresh: bool = True) -> list[PoolEntry]:
    """Every pool member still on the roster (active and retired), by name.

    `fresh=False` may answer from a copy up to POOL_CACHE_SECONDS old (the request form and its submit: a
    preference for someone retired a moment ago on another instance is caught when allocating, which always
    reads fresh). Changes made here drop the copy at once."""
    if not fresh:
        cached = services.pool.cached
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
    default = services.school.settings.supervisor_capacity_default
    out = []
    for row in (await s.execute(select(PoolMember))).scalars():
        member = services.school.staff.get(row.staff_id)
        if member is None:
            continue
        out.append(PoolEntry(member, row.trained_on, row.capacity or default, row.capacity is None, row.active,
                             row.retired_at))
    entries = sorted(out, key=lambda e: (e.staff.name.casefold(), e.id))
    services.pool.cached = (time.monotonic() + POOL_CACHE_SECONDS, entries)
    return entries


def forget_pool(services: Services) -> None:
    services.pool.forget()


async def caseloads(s: AsyncSession) -> dict[str, int]:
    """Active supervisees per supervisor (seed 000: parity of caseload)."""
    rows = await s.execute(select(Pairing.supervisor_id, func.count()).where(Pairing.ended_at.is_(None))
                           .group_by(Pairing.supervisor_id))
    return {sid: n for sid, n in rows.all()}


def as_supervisors(entries: list[PoolEntry], today: dt.date) -> list[Supervisor]:
    """Pool entries as the allocation rule sees them: leavers and the retired cannot take anyone new; someone
    whose recorded absence covers today is away."""
    out = []
    for e in entries:
        m = e.staff
        away = m.absence is not None and m.absence.from_ <= today and (m.absence.until is None or
                                                                        m.absence.until >= today)
        left = m.left_on is not None and m.left_on <= today
        out.append(Supervisor(id=m.id, capacity=e.capacity, retired=not e.active or left, name=m.name,
                              available=not away))
    return out


def _regular():
    """Pairings that make someone's *current* supervisor: from a 1:1 request (or set up without one). Specialist
    support (seed 001 §3.3) is short-term and sits alongside it, never replacing it."""
    from bot.store.models_request import SupervisionRequest

    return or_(Pairing.request_id.is_(None), Pairing.request_id.in_(
        select(SupervisionRequest.id).where(SupervisionRequest.kind != "specialist")))


async def active_pairing(s: AsyncSession, supervisee_id: str) -> Pairing | None:
    """Their ongoing 1:1 supervision, if any (the latest, should there ever be two)."""
    return (await s.execute(select(Pairing).where(Pairing.supervisee_id == supervisee_id,
                                                  Pairing.ended_at.is_(None), _regular())
                            .order_by(Pairing.started_at.desc()).limit(1))).scalar_one_or_none()


async def regular_pairings(s: AsyncSession, supervisee_id: str) -> list[Pairing]:
    return list((await s.execute(select(Pairing).where(Pairing.supervisee_id == supervisee_id,
                                                       Pairing.ended_at.is_(None), _regular()))).scalars())


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
