"""Actions from group records, for the DSL meeting (seed 001 "Record Keeping": "any action items or follow-up
steps to be brought to DSL meeting"; seed 004: a summary sheet of actions): the list and marking one done.

Each action comes with the group session its record is about, so the list can say where it came from.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.records.actions import set_action_status
from bot.store.errors import NotFound
from bot.store.models_group_record import DONE, OPEN, GroupRecord, RecordAction
from bot.store.models_sessions import GroupSession

ActionRow = tuple[RecordAction, GroupSession]


def _with_session():
    return (
        select(RecordAction, GroupSession)
        .join(GroupRecord, GroupRecord.id == RecordAction.record_id)
        .join(GroupSession, GroupSession.id == GroupRecord.session_id)
    )


async def open_actions(s: AsyncSession) -> list[ActionRow]:
    """Every open action, soonest due first."""
    rows = await s.execute(
        _with_session().where(RecordAction.status == OPEN).order_by(RecordAction.due_on, RecordAction.id)
    )
    return [(a, sess) for a, sess in rows.all()]


async def open_for_group(s: AsyncSession, group_id: str, *, before: dt.date) -> list[ActionRow]:
    """Open actions from records of this group's earlier sessions (held before `before`), soonest due first: the
    "review of actions" that opens the group's next record (seed 002 App. 2 item 1)."""
    rows = await s.execute(
        _with_session()
        .where(RecordAction.status == OPEN, GroupSession.group_id == group_id, GroupSession.local_date < before)
        .order_by(RecordAction.due_on, RecordAction.id)
    )
    return [(a, sess) for a, sess in rows.all()]


async def done_actions(s: AsyncSession, *, since: dt.datetime) -> list[ActionRow]:
    """Actions marked done at or after `since`, most recent first."""
    rows = await s.execute(
        _with_session()
        .where(RecordAction.status == DONE, RecordAction.done_at >= since)
        .order_by(RecordAction.done_at.desc())
    )
    return [(a, sess) for a, sess in rows.all()]


async def set_status(s: AsyncSession, action_id: int, status: str, *, by: str, now: dt.datetime) -> str:
    """Mark an action done (recording who) or open again; returns the notice for the card. NotFound if there is
    no such action."""
    row = await s.get(RecordAction, action_id)
    if row is None:
        raise NotFound(action_id)
    return set_action_status(row, status, by=by, now=now)
