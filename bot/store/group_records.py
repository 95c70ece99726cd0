"""Group supervision records: the record of a session, its file versions and its actions for the DSL meeting
(seed 001 "Record Keeping": who attended, a summary, actions brought to the DSL meeting; the notes themselves live
in the Safeguarding channel's files — here only metadata and the short action texts).

Functions take the caller's session and return rows or small dataclasses, raising the store's domain errors;
the journey opens one transaction per turn. Drafts are in bot/store/drafts.py (via bot/records/lifecycle.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.records.rules import ActionItem
from bot.store.errors import AlreadyRecorded, NotFound, RecordedMeanwhile
from bot.store.models_group_record import OPEN, PENDING, GroupRecord, GroupRecordVersion, RecordAction
from bot.store.models_sessions import GroupSession
from bot.store.sessions import flush


@dataclass(frozen=True)
class Recorded:
    """A record on the picker: its session and its newest file version (None if it has none yet)."""

    record: GroupRecord
    session: GroupSession
    latest: GroupRecordVersion | None


async def get(s: AsyncSession, record_id: int | None) -> GroupRecord | None:
    return await s.get(GroupRecord, record_id) if record_id else None


async def with_session(s: AsyncSession, record_id: int | None) -> tuple[GroupRecord, GroupSession]:
    """The record and the session it records; NotFound if there is no such record."""
    record = await get(s, record_id)
    if record is None:
        raise NotFound()
    return record, await s.get(GroupSession, record.session_id)


async def ensure_unrecorded(s: AsyncSession, session_id: int) -> None:
    """AlreadyRecorded (with the record's id) if the session has its record."""
    rid = (await s.execute(select(GroupRecord.id).where(GroupRecord.session_id == session_id))).scalar_one_or_none()
    if rid is not None:
        raise AlreadyRecorded(rid)


async def sessions_of(s: AsyncSession, record_ids: Iterable[int]) -> dict[int, GroupSession]:
    """Record id → the session it records."""
    ids = set(record_ids)
    if not ids:
        return {}
    return {
        r.id: sess
        for r, sess in (
            await s.execute(
                select(GroupRecord, GroupSession)
                .join(GroupSession, GroupSession.id == GroupRecord.session_id)
                .where(GroupRecord.id.in_(ids))
            )
        ).all()
    }


async def recorded_in(s: AsyncSession, half_term: str, limit: int = 8) -> list[Recorded]:
    """This half term's records, latest session first, each with its newest file version."""
    rows = (
        await s.execute(
            select(GroupRecord, GroupSession)
            .join(GroupSession, GroupSession.id == GroupRecord.session_id)
            .where(GroupSession.half_term == half_term)
            .order_by(GroupSession.starts_at.desc())
            .limit(limit)
        )
    ).all()
    latest: dict[int, GroupRecordVersion] = {}
    if rows:
        for v in (
            await s.execute(select(GroupRecordVersion).where(GroupRecordVersion.record_id.in_([r.id for r, _ in rows])))
        ).scalars():
            if v.record_id not in latest or v.version > latest[v.record_id].version:
                latest[v.record_id] = v
    return [Recorded(r, sess, latest.get(r.id)) for r, sess in rows]


async def version(s: AsyncSession, record_id: int, number: int) -> GroupRecordVersion | None:
    return (
        await s.execute(
            select(GroupRecordVersion).where(
                GroupRecordVersion.record_id == record_id, GroupRecordVersion.version == number
            )
        )
    ).scalar_one_or_none()


async def get_version(s: AsyncSession, version_id: int) -> GroupRecordVersion | None:
    return await s.get(GroupRecordVersion, version_id)


async def filed(s: AsyncSession, v: GroupRecordVersion) -> tuple[GroupRecord, GroupSession]:
    """The record a version belongs to and its session."""
    record = await s.get(GroupRecord, v.record_id)
    return record, await s.get(GroupSession, record.session_id)


async def actions(s: AsyncSession, record_id: int, *, open_only: bool = False) -> Sequence[RecordAction]:
    """The record's actions in the order they were added (only open ones when asked)."""
    q = select(RecordAction).where(RecordAction.record_id == record_id)
    if open_only:
        q = q.where(RecordAction.status == OPEN)
    return (await s.execute(q.order_by(RecordAction.id))).scalars().all()


async def open_action_ids(s: AsyncSession, record_id: int) -> set[int]:
    return set(
        (
            await s.execute(
                select(RecordAction.id).where(RecordAction.record_id == record_id, RecordAction.status == OPEN)
            )
        ).scalars()
    )


async def new_record(
    s: AsyncSession, sess: GroupSession, *, template_id: str, created_by: str, now: dt.datetime
) -> GroupRecord:
    """The record of a session. Concurrent if the session got its record meanwhile (one per session)."""
    record = GroupRecord(
        session_id=sess.id,
        template_id=template_id,
        facilitator_id=sess.facilitator_id,
        created_by=created_by,
        created_at=now,
        current_version=1,
    )
    s.add(record)
    await flush(s)
    return record


async def claim_next_version(
    s: AsyncSession, record_id: int, seen: int
) -> tuple[GroupRecord, GroupRecordVersion | None]:
    """Lock the record to amend it from version `seen`: (record now at seen + 1, the version it replaces).
    RecordedMeanwhile if someone saved a newer version since the card was opened; nothing written before."""
    record = await s.get(GroupRecord, record_id, with_for_update=True, populate_existing=True)
    if record is None or record.current_version != seen:
        raise RecordedMeanwhile()
    previous = await version(s, record.id, record.current_version)
    record.current_version = seen + 1
    return record, previous


async def add_version(
    s: AsyncSession,
    record: GroupRecord,
    *,
    number: int,
    submit_key: str,
    file_name: str,
    attendee_count: int,
    action_count: int,
    submitted_by: str,
    now: dt.datetime,
) -> GroupRecordVersion:
    """A file version waiting for delivery. Concurrent if the card's submit key was used meanwhile (a second
    click racing the first) or another version with this number was saved at the same moment."""
    v = GroupRecordVersion(
        record_id=record.id,
        version=number,
        submit_key=submit_key,
        file_name=file_name,
        status=PENDING,
        attendee_count=attendee_count,
        action_count=action_count,
        submitted_by=submitted_by,
        submitted_at=now,
    )
    s.add(v)
    await flush(s)
    return v


async def save_actions(
    s: AsyncSession, record_id: int, items: Sequence[ActionItem], *, amending: bool, created_by: str, now: dt.datetime
) -> None:
    """The record's actions as the card gives them. On an amendment, open actions are edited in place, or removed
    if their row was cleared; new rows are added. Done actions are never touched (their ids are never on a card:
    the caller checks `action_id`s against `open_action_ids`)."""
    kept = {a.action_id for a in items if a.action_id is not None}
    if amending:
        await s.execute(
            delete(RecordAction).where(
                RecordAction.record_id == record_id, RecordAction.status == OPEN, RecordAction.id.notin_(kept or {0})
            )
        )
    for a in items:
        if a.action_id is not None:
            row = await s.get(RecordAction, a.action_id)
            row.text, row.owner_id, row.due_on = a.text, a.owner_id, a.due_on
        else:
            s.add(
                RecordAction(
                    record_id=record_id,
                    text=a.text,
                    owner_id=a.owner_id,
                    due_on=a.due_on,
                    status=OPEN,
                    created_by=created_by,
                    created_at=now,
                )
            )
    await flush(s)
