"""The rows the follow-through reminders read (bot/reminders/followup.py) and their once-only claims.

Claims: `claim` inserts (kind, ref) into followup_claims with ON CONFLICT DO NOTHING and says whether this call
made the row. The caller queues the notice in the same transaction only when it did, so however many ticks,
restarts or instances plan the same reminder, one notice is queued (and the outbox key makes that one row).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models_followup import FollowUpClaim
from bot.store.models_group_record import OPEN as GROUP_OPEN
from bot.store.models_group_record import RecordAction
from bot.store.models_request import Pairing
from bot.store.models_targeted import AGREED, OPEN, SupervisionAgreement, TargetedAction, TargetedRecord
from bot.store.pool import _regular
from bot.store.upsert import insert_ignore


async def claim(s: AsyncSession, kind: str, ref: str, staff_id: str, *, now: dt.datetime) -> bool:
    """Take the once-only claim for this reminder; True if this call took it (send), False if it was taken."""
    return (
        await insert_ignore(
            s,
            FollowUpClaim,
            [{"kind": kind, "ref": ref, "staff_id": staff_id, "created_at": now}],
            conflict=["kind", "ref"],
        )
        == 1
    )


async def overdue_targeted_actions(s: AsyncSession, today: dt.date) -> Sequence[TargetedAction]:
    """Open 1:1 actions whose due date has passed."""
    return (
        (
            await s.execute(
                select(TargetedAction)
                .where(TargetedAction.status == OPEN, TargetedAction.due_on < today)
                .order_by(TargetedAction.id)
            )
        )
        .scalars()
        .all()
    )


async def overdue_group_actions(s: AsyncSession, today: dt.date) -> Sequence[RecordAction]:
    """Open group-record actions whose due date has passed."""
    return (
        (
            await s.execute(
                select(RecordAction)
                .where(RecordAction.status == GROUP_OPEN, RecordAction.due_on < today)
                .order_by(RecordAction.id)
            )
        )
        .scalars()
        .all()
    )


async def group_actions_of(s: AsyncSession, owner_id: str) -> Sequence[RecordAction]:
    """Open group-record actions this person owns, soonest due first (for their own `myactions`)."""
    return (
        (
            await s.execute(
                select(RecordAction)
                .where(RecordAction.status == GROUP_OPEN, RecordAction.owner_id == owner_id)
                .order_by(RecordAction.due_on, RecordAction.id)
            )
        )
        .scalars()
        .all()
    )


async def active_one_to_one_pairings(s: AsyncSession) -> Sequence[Pairing]:
    """Every ongoing 1:1 pairing (not specialist support), oldest first."""
    return (
        (
            await s.execute(
                select(Pairing).where(Pairing.ended_at.is_(None), _regular()).order_by(Pairing.started_at, Pairing.id)
            )
        )
        .scalars()
        .all()
    )


async def agreements_in_force(s: AsyncSession) -> dict[tuple[str, str], SupervisionAgreement]:
    """(supervisor, supervisee) → the pair's agreement confirmed by both (the latest)."""
    rows = (
        (
            await s.execute(
                select(SupervisionAgreement)
                .where(SupervisionAgreement.status == AGREED)
                .order_by(SupervisionAgreement.agreed_on, SupervisionAgreement.id)
            )
        )
        .scalars()
        .all()
    )
    return {(r.supervisor_id, r.supervisee_id): r for r in rows}


async def session_dates(s: AsyncSession) -> dict[tuple[str, str], list[dt.date]]:
    """(supervisor, supervisee) → the dates of their recorded sessions (held and written up)."""
    rows = await s.execute(
        select(TargetedRecord.supervisor_id, TargetedRecord.supervisee_id, TargetedRecord.session_date)
    )
    out: dict[tuple[str, str], list[dt.date]] = {}
    for sup, see, day in rows.all():
        out.setdefault((sup, see), []).append(day)
    return out
