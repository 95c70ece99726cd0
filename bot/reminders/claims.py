"""Claim-before-send: the database decides who sends each message, once.

1. *Plan*: a row per (person, half term, point) is inserted with ``ON CONFLICT DO NOTHING``: however many runs or
   instances plan the same point, each person has one row (the unique key), so at most one reminder.
2. *Lease*: an instance takes a batch of pending rows by setting ``status='sending'``, itself as owner and a lease
   expiry. On PostgreSQL the batch is picked with ``FOR UPDATE SKIP LOCKED`` so two instances take disjoint rows
   without waiting on each other; the UPDATE re-checks the row is still claimable, so on SQLite (one writer at a
   time) a row can also only be taken once.
3. *Mark*: after the send, the row becomes sent / unreachable / failed — only if this owner still holds it.
4. *Recover*: a row left in ``sending`` (the process died mid-send) is *in doubt*: the message may or may not
   have reached Teams. It is taken again once its lease expires, or at once by the same instance after a restart
   (an instance keeps its id across restarts). If a reconciler can tell whether the marked message arrived, an
   in-doubt row that did arrive is just marked sent; otherwise it is sent again — a reminder delivered twice is
   the lesser harm than one never delivered, and the window is one in-flight request per send slot.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models_compliance import PENDING, SENDING
from bot.store.upsert import insert_ignore

__all__ = ["Leased", "finish", "insert_claims", "lease", "release"]


@dataclass(frozen=True)
class Leased:
    id: int
    staff_id: str
    half_term: str
    point: int
    attempts: int
    in_doubt: bool  # it was being sent when its previous owner stopped


async def insert_claims(s: AsyncSession, model: Any, rows: Iterable[dict], *, now: dt.datetime) -> int:
    """Insert claims that do not exist yet; returns how many were new."""
    values = [dict(r, status=PENDING, attempts=0, created_at=now) for r in rows]
    if not values:
        return 0
    return await insert_ignore(s, model, values, conflict=["staff_id", "half_term", "point"])


def _claimable(model: Any, now: dt.datetime, owner: str, recover_own: bool):
    stale = and_(model.status == SENDING, model.lease_until < now)
    conds = [model.status == PENDING, stale]
    if recover_own:
        conds.append(and_(model.status == SENDING, model.lease_owner == owner))
    return or_(*conds)


async def lease(
    s: AsyncSession,
    model: Any,
    *,
    owner: str,
    now: dt.datetime,
    lease_for: dt.timedelta,
    limit: int,
    where: Sequence[Any] = (),
    recover_own: bool = False,
) -> list[Leased]:
    """Take up to ``limit`` claimable rows for ``owner`` (see the module docstring), oldest first."""
    claimable = _claimable(model, now, owner, recover_own)
    q = select(model.id, model.status).where(claimable, *where).order_by(model.id).limit(limit)
    if s.bind.dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    picked = (await s.execute(q)).all()
    if not picked:
        return []
    doubt = {i for i, st in picked if st == SENDING}
    res = await s.execute(
        update(model)
        .where(model.id.in_([i for i, _ in picked]), claimable)
        .values(status=SENDING, lease_owner=owner, lease_until=now + lease_for, attempts=model.attempts + 1)
        .returning(model.id, model.staff_id, model.half_term, model.point, model.attempts)
        .execution_options(synchronize_session=False)
    )
    out = [Leased(i, sid, ht, p, a, i in doubt) for i, sid, ht, p, a in res.all()]
    out.sort(key=lambda r: r.id)
    return out


async def finish(
    s: AsyncSession,
    model: Any,
    ids: Sequence[int],
    *,
    owner: str,
    status: str,
    now: dt.datetime,
    reason: str | None = None,
    activity_ids: dict[int, str | None] | None = None,
) -> int:
    """Mark leased rows with their outcome; rows another owner has taken since are left alone."""
    if not ids:
        return 0
    if activity_ids:
        t = model.__table__
        stmt = (
            update(t)
            .where(t.c.id == bindparam("b_id"), t.c.lease_owner == owner, t.c.status == SENDING)
            .values(status=status, reason=reason, finished_at=now, lease_until=None, activity_id=bindparam("b_act"))
        )
        school = s.sync_session.info.get("school_id")
        if school is not None:  # a Core statement: the school scope of bot/store/tenancy.py is added by hand
            stmt = stmt.where(t.c.school_id == school)
        conn = await s.connection()
        res = await conn.execute(stmt, [{"b_id": i, "b_act": activity_ids.get(i)} for i in ids])
        return res.rowcount or 0
    res = await s.execute(
        update(model)
        .where(model.id.in_(list(ids)), model.lease_owner == owner, model.status == SENDING)
        .values(status=status, reason=reason, finished_at=now, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    return res.rowcount or 0


async def release(s: AsyncSession, model: Any, ids: Sequence[int], *, owner: str) -> int:
    """Give leased rows back (not sent: the window closed, or Teams asked us to come back later)."""
    if not ids:
        return 0
    res = await s.execute(
        update(model)
        .where(model.id.in_(list(ids)), model.lease_owner == owner, model.status == SENDING)
        .values(status=PENDING, lease_owner=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    return res.rowcount or 0
