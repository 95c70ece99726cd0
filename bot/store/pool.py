"""The trained supervisor pool and pairings (seed 001 §3.2: a central list of trained supervisors, each with a
capacity; seed 000: parity of caseload), as rows and small dataclasses for the journeys.

The pool is seeded from the school config (role supervisor + supervisor_trained_on + optional capacity) the first
time it is read; after that the DSL's changes in the store are the truth.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.allocation import Supervisor
from bot.school import Role, StaffMember
from bot.store.errors import NotFound
from bot.store.models_request import Pairing, PoolMember, SupervisionRequest
from bot.store.upsert import insert_ignore

if TYPE_CHECKING:
    from bot.journeys.base import Services

POOL_CACHE_SECONDS = 30.0


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


async def ensure_pool(services: Services, now: dt.datetime) -> None:
    """Insert config supervisors the store has never seen (never re-adds someone the DSL retired).

    Its own short transaction, once per process, before the caller opens its unit of work."""
    if services.pool.seeded:
        return
    rows = [
        dict(
            staff_id=m.id,
            trained_on=m.supervisor_trained_on,
            capacity=m.supervisor_capacity,
            active=True,
            source="config",
            changed_by="school-config",
            changed_at=now,
        )
        for m in services.school.with_role(Role.SUPERVISOR)
        if m.supervisor_trained_on
    ]
    if rows:
        async with services.db.session() as s:
            await insert_ignore(s, PoolMember, rows, conflict=["staff_id"])
    services.pool.seeded = True


@asynccontextmanager
async def unit_of_work(services: Services, now: dt.datetime) -> AsyncIterator[AsyncSession]:
    """One transaction, with the pool seeded first (every journey of the targeted offer reads it)."""
    await ensure_pool(services, now)
    async with services.db.session() as s:
        yield s


async def pool_entries(services: Services, s: AsyncSession, now: dt.datetime, *, fresh: bool = True) -> list[PoolEntry]:
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
        out.append(
            PoolEntry(member, row.trained_on, row.capacity or default, row.capacity is None, row.active, row.retired_at)
        )
    entries = sorted(out, key=lambda e: (e.staff.name.casefold(), e.id))
    services.pool.cached = (time.monotonic() + POOL_CACHE_SECONDS, entries)
    return entries


def forget_pool(services: Services) -> None:
    services.pool.forget()


async def caseloads(s: AsyncSession) -> dict[str, int]:
    """Active supervisees per supervisor (seed 000: parity of caseload)."""
    rows = await s.execute(
        select(Pairing.supervisor_id, func.count()).where(Pairing.ended_at.is_(None)).group_by(Pairing.supervisor_id)
    )
    return {sid: n for sid, n in rows.all()}


def as_supervisors(entries: list[PoolEntry], today: dt.date) -> list[Supervisor]:
    """Pool entries as the allocation rule sees them: leavers and the retired cannot take anyone new; someone
    whose recorded absence covers today is away."""
    out = []
    for e in entries:
        m = e.staff
        away = (
            m.absence is not None and m.absence.from_ <= today and (m.absence.until is None or m.absence.until >= today)
        )
        left = m.left_on is not None and m.left_on <= today
        out.append(
            Supervisor(id=m.id, capacity=e.capacity, retired=not e.active or left, name=m.name, available=not away)
        )
    return out


def _regular():
    """Pairings that make someone's *current* supervisor: from a 1:1 request (or set up without one). Specialist
    support (seed 001 §3.3) is short-term and sits alongside it, never replacing it."""
    return or_(
        Pairing.request_id.is_(None),
        Pairing.request_id.in_(select(SupervisionRequest.id).where(SupervisionRequest.kind != "specialist")),
    )


async def active_pairing(s: AsyncSession, supervisee_id: str) -> Pairing | None:
    """Their ongoing 1:1 supervision, if any (the latest, should there ever be two)."""
    return (
        await s.execute(
            select(Pairing)
            .where(Pairing.supervisee_id == supervisee_id, Pairing.ended_at.is_(None), _regular())
            .order_by(Pairing.started_at.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def regular_pairings(s: AsyncSession, supervisee_id: str) -> list[Pairing]:
    return list(
        (
            await s.execute(
                select(Pairing).where(Pairing.supervisee_id == supervisee_id, Pairing.ended_at.is_(None), _regular())
            )
        ).scalars()
    )


# ---- the DSL's changes to the pool -----------------------------------------------------------------------------
async def pool_member(s: AsyncSession, staff_id: str) -> PoolMember:
    """Someone's pool row (active or retired); NotFound if they were never in the pool."""
    row = (await s.execute(select(PoolMember).where(PoolMember.staff_id == staff_id))).scalar_one_or_none()
    if row is None:
        raise NotFound(staff_id)
    return row


async def add_to_pool(
    s: AsyncSession, staff_id: str, *, trained_on: dt.date, capacity: int | None, by: str, now: dt.datetime
) -> bool:
    """Add a trained member of staff to the pool, or bring them back, or update their training date and capacity
    (None: the school default). Returns whether they were already active. Call `forget_pool` afterwards."""
    row = (await s.execute(select(PoolMember).where(PoolMember.staff_id == staff_id))).scalar_one_or_none()
    was_active = row is not None and row.active
    if row is None:
        row = PoolMember(staff_id=staff_id)
        s.add(row)
    row.trained_on, row.capacity, row.active, row.source = trained_on, capacity, True, "dsl"
    row.changed_by, row.changed_at, row.retired_at = by, now, None
    await s.flush()
    return was_active


async def retire_from_pool(s: AsyncSession, staff_id: str, *, by: str, now: dt.datetime) -> bool:
    """Retire someone from the pool (nobody new is allocated to them; their current supervisees stay).
    Returns False if they were retired already; NotFound if they were never in the pool. Call `forget_pool`."""
    row = await pool_member(s, staff_id)
    if not row.active:
        return False
    row.active, row.retired_at, row.changed_by, row.changed_at = False, now, by, now
    await s.flush()
    return True
