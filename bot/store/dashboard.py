"""The dashboard's reads: a handful of aggregate queries (ids, dates and counts — never content)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models_group_record import OPEN as GROUP_OPEN
from bot.store.models_group_record import RecordAction
from bot.store.models_request import Pairing, PoolMember, SupervisionRequest
from bot.store.models_sessions import Attendance
from bot.store.models_targeted import AGREED, OPEN, SupervisionAgreement, TargetedAction


async def attended(s: AsyncSession, half_terms: list[str]) -> list[tuple[str, str]]:
    """(half term label, staff id) for everyone with recorded attendance in those half terms (distinct)."""
    q = select(Attendance.half_term, Attendance.staff_id).where(Attendance.half_term.in_(half_terms)).distinct()
    return [(h, sid) for h, sid in (await s.execute(q)).all()]


async def agreement_reviews(s: AsyncSession) -> list[dt.date]:
    """The review-due date of every agreement in force (agreed by both, not replaced)."""
    q = select(SupervisionAgreement.review_due).where(SupervisionAgreement.status == AGREED)
    return list((await s.execute(q)).scalars())


async def open_action_dues(s: AsyncSession) -> list[dt.date | None]:
    """The due date of every open action, from group records and 1:1 records."""
    group = select(RecordAction.due_on).where(RecordAction.status == GROUP_OPEN)
    one = select(TargetedAction.due_on).where(TargetedAction.status == OPEN)
    return list((await s.execute(group)).scalars()) + list((await s.execute(one)).scalars())


async def supervisor_load(s: AsyncSession) -> list[tuple[str, int, int | None]]:
    """(supervisor id, active supervisees, capacity or None for the school default) for the active pool."""
    load = (
        select(Pairing.supervisor_id, func.count().label("n"))
        .where(Pairing.ended_at.is_(None))
        .group_by(Pairing.supervisor_id)
        .subquery()
    )
    q = (
        select(PoolMember.staff_id, func.coalesce(load.c.n, 0), PoolMember.capacity)
        .outerjoin(load, load.c.supervisor_id == PoolMember.staff_id)
        .where(PoolMember.active.is_(True))
        .order_by(PoolMember.staff_id)
    )
    return [(sid, int(n), cap) for sid, n, cap in (await s.execute(q)).all()]


async def pupil_cases_reported(s: AsyncSession, since: dt.datetime) -> list[tuple[str, int, dt.datetime]]:
    """(requester id, open pupil cases, when) for every request since then that answered the question."""
    q = select(SupervisionRequest.requester_id, SupervisionRequest.pupil_cases, SupervisionRequest.created_at).where(
        SupervisionRequest.pupil_cases.is_not(None), SupervisionRequest.created_at >= since
    )
    return [(sid, int(n), at) for sid, n, at in (await s.execute(q)).all()]


async def request_topics(s: AsyncSession, since: dt.datetime) -> list[tuple[dt.datetime, list[str]]]:
    """(when, topic codes) of every request since then: the themes staff bring (codes from a fixed list)."""
    q = select(SupervisionRequest.created_at, SupervisionRequest.topics).where(SupervisionRequest.created_at >= since)
    return [(at, list(topics or [])) for at, topics in (await s.execute(q)).all()]
