"""Sign-off of records and confidentiality escalations: who confirmed which version and when, that a change was
asked for, and escalations raised (bot/store/models_signoff.py). Metadata only; functions take the caller's
session and raise bot/store/errors.py's domain errors.

A 1:1 record's versions are targeted_records rows (`version`, `previous_id`, `superseded_by`): `file_amendment`
files version N+1 and marks N superseded in one transaction, moving N's open actions across (done ones stay
with the version they were done in).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.errors import AlreadyRecorded, NotFound, NotYours, RecordedMeanwhile
from bot.store.models_signoff import (
    GROUP,
    SUPERVISEE,
    SUPERVISOR,
    TARGETED,
    Escalation,
    RecordChangeRequest,
    RecordSignature,
)
from bot.store.models_targeted import OPEN, PENDING, TargetedAction, TargetedRecord

__all__ = ["GROUP", "TARGETED", "Signing"]


class Signing(enum.Enum):
    """What a confirming click did."""

    SIGNED = "signed"
    ALREADY = "already"  # this person had confirmed this version already
    STALE = "stale"  # a newer version replaced it: confirm that one instead
    NOT_READY = "not_ready"  # the file is still being saved and shared


# ---- signatures -----------------------------------------------------------------------------------------------


async def signatures(s: AsyncSession, kind: str, record_id: int) -> list[RecordSignature]:
    """Who has confirmed this version, in the order they did."""
    return list(
        (
            await s.scalars(
                select(RecordSignature)
                .where(RecordSignature.record_kind == kind, RecordSignature.record_id == record_id)
                .order_by(RecordSignature.signed_at, RecordSignature.id)
            )
        ).all()
    )


async def sign(
    s: AsyncSession, kind: str, record_id: int, version: int, staff_id: str, role: str, *, now: dt.datetime
) -> RecordSignature | None:
    """Add this person's confirmation of this version; None if they had confirmed it already. AlreadyRecorded if a
    simultaneous click of theirs got there first (the transaction is spoilt: the caller looks again)."""
    if any(x.staff_id == staff_id for x in await signatures(s, kind, record_id)):
        return None
    row = RecordSignature(
        record_kind=kind, record_id=record_id, version=version, staff_id=staff_id, role=role, signed_at=now
    )
    s.add(row)
    try:
        await s.flush()
    except IntegrityError as exc:
        raise AlreadyRecorded() from exc
    return row


async def change_requested(s: AsyncSession, kind: str, record_id: int) -> RecordChangeRequest | None:
    """The latest request for a change to this version, if any."""
    return (
        await s.scalars(
            select(RecordChangeRequest)
            .where(RecordChangeRequest.record_kind == kind, RecordChangeRequest.record_id == record_id)
            .order_by(RecordChangeRequest.requested_at.desc(), RecordChangeRequest.id.desc())
            .limit(1)
        )
    ).first()


async def ask_change(
    s: AsyncSession, kind: str, record_id: int, version: int, staff_id: str, *, now: dt.datetime
) -> RecordChangeRequest:
    """Record that this person asked for a change to this version (never what they asked)."""
    row = RecordChangeRequest(
        record_kind=kind, record_id=record_id, version=version, requested_by=staff_id, requested_at=now
    )
    s.add(row)
    await s.flush()
    return row


# ---- 1:1 records: the supervisee's confirmation and versions ------------------------------------------------


async def targeted_for_signing(s: AsyncSession, record_id: int, staff_id: str) -> TargetedRecord:
    """A 1:1 record version for its supervisor or supervisee, locked for this transaction where the database can
    (PostgreSQL), so a confirmation and an amendment of the same version cannot interleave."""
    record = (await s.scalars(select(TargetedRecord).where(TargetedRecord.id == record_id).with_for_update())).first()
    if record is None:
        raise NotFound()
    if staff_id not in (record.supervisor_id, record.supervisee_id):
        raise NotYours()
    return record


async def sign_targeted(s: AsyncSession, record: TargetedRecord, *, now: dt.datetime) -> tuple[Signing, Any]:
    """The supervisee's confirmation that this version is accurate. The caller has checked the actor is the
    supervisee and the file's delivery state is current."""
    if record.superseded_by is not None:
        return Signing.STALE, record.superseded_by
    if record.status != "delivered" or not record.item_id:
        return Signing.NOT_READY, None
    row = await sign(s, TARGETED, record.id, record.version, record.supervisee_id, SUPERVISEE, now=now)
    if row is None:
        done = next(x for x in await signatures(s, TARGETED, record.id) if x.staff_id == record.supervisee_id)
        return Signing.ALREADY, done
    return Signing.SIGNED, row


async def signed_by_both(s: AsyncSession, record: TargetedRecord) -> bool:
    """Locked: both the supervisor and the supervisee have confirmed this version."""
    who = {x.staff_id for x in await signatures(s, TARGETED, record.id)}
    return {record.supervisor_id, record.supervisee_id} <= who


async def current_version(s: AsyncSession, record: TargetedRecord) -> TargetedRecord:
    """The newest version of the record this row is a version of."""
    seen = 0
    while record.superseded_by is not None and seen < 100:
        nxt = await s.get(TargetedRecord, record.superseded_by)
        if nxt is None:
            break
        record, seen = nxt, seen + 1
    return record


async def first_version_id(s: AsyncSession, record: TargetedRecord) -> int:
    """The id of version 1 of the record this row is a version of (escalations are kept against it)."""
    seen = 0
    while record.previous_id is not None and seen < 100:
        prev = await s.get(TargetedRecord, record.previous_id)
        if prev is None:
            break
        record, seen = prev, seen + 1
    return record.id


async def open_actions(s: AsyncSession, record_id: int) -> Sequence[TargetedAction]:
    return (
        await s.scalars(
            select(TargetedAction)
            .where(TargetedAction.record_id == record_id, TargetedAction.status == OPEN)
            .order_by(TargetedAction.id)
        )
    ).all()


async def file_amendment(
    s: AsyncSession,
    old: TargetedRecord,
    *,
    session_date: dt.date,
    next_session_on: dt.date | None,
    submit_key: str,
    file_name: str,
    actions: Sequence[Any],
    now: dt.datetime,
) -> TargetedRecord:
    """Version N+1 of a 1:1 record (`actions`: text, owner_id, due_on, action_id — an id is one of N's open
    actions, edited and moved across; N's open actions not given are removed). RecordedMeanwhile if another
    amendment replaced N first; AlreadyRecorded if `submit_key` filed a row meanwhile (a second click)."""
    new = TargetedRecord(
        pairing_id=old.pairing_id,
        meeting_id=old.meeting_id,
        supervisor_id=old.supervisor_id,
        supervisee_id=old.supervisee_id,
        session_date=session_date,
        next_session_on=next_session_on,
        template_id=old.template_id,
        submit_key=submit_key,
        file_name=file_name,
        status=PENDING,
        action_count=len(actions),
        submitted_at=now,
        version=old.version + 1,
        previous_id=old.id,
    )
    s.add(new)
    try:
        await s.flush()
    except IntegrityError as exc:
        raise AlreadyRecorded() from exc
    claimed = await s.execute(
        update(TargetedRecord)
        .where(TargetedRecord.id == old.id, TargetedRecord.superseded_by.is_(None))
        .values(superseded_by=new.id)
    )
    if claimed.rowcount != 1:
        raise RecordedMeanwhile()
    open_ids = {a.id for a in await open_actions(s, old.id)}
    kept = {a.action_id for a in actions if getattr(a, "action_id", None) is not None}
    if not kept <= open_ids:
        raise NotYours()
    await s.execute(
        delete(TargetedAction).where(
            TargetedAction.record_id == old.id, TargetedAction.status == OPEN, TargetedAction.id.notin_(kept or {0})
        )
    )
    for a in actions:
        if getattr(a, "action_id", None) is not None:
            row = await s.get(TargetedAction, a.action_id)
            row.record_id, row.text, row.owner_id, row.due_on = new.id, a.text, a.owner_id, a.due_on
        else:
            s.add(
                TargetedAction(
                    record_id=new.id,
                    supervisor_id=old.supervisor_id,
                    supervisee_id=old.supervisee_id,
                    owner_id=a.owner_id,
                    text=a.text,
                    due_on=a.due_on,
                    status=OPEN,
                    created_at=now,
                )
            )
    await s.flush()
    return new


def sign_as_supervisor_on_submit(s: AsyncSession, record: TargetedRecord, now: dt.datetime):
    """The supervisor signs a version by submitting it (seed 003: "prepared by the supervisor … signed by both")."""
    return sign(s, TARGETED, record.id, record.version, record.supervisor_id, SUPERVISOR, now=now)


# ---- escalations ------------------------------------------------------------------------------------------------


async def escalation_for(s: AsyncSession, kind: str, record_id: int) -> Escalation | None:
    return (
        await s.scalars(select(Escalation).where(Escalation.record_kind == kind, Escalation.record_id == record_id))
    ).first()


async def raise_escalation(
    s: AsyncSession, kind: str, record_id: int, category: str, raised_by: str, *, now: dt.datetime
) -> Escalation | None:
    """Record that an escalation was raised on this record; None if one was raised on it already."""
    if await escalation_for(s, kind, record_id) is not None:
        return None
    row = Escalation(record_kind=kind, record_id=record_id, category=category, raised_by=raised_by, raised_at=now)
    s.add(row)
    await s.flush()
    return row


async def drop_comment(s: AsyncSession, outbox_id: int, staff_id: str | None) -> None:
    """Once a supervisee's comment (or a group change request) has reached the supervisor in Teams, the outbox's
    copy of it goes: the row keeps who it was for and that its content was removed."""
    from bot.effects import mark_scrubbed
    from bot.store.models_outbox import OutboxRow

    payload = {"staff_id": staff_id, "content_removed": True}
    await s.execute(update(OutboxRow).where(OutboxRow.id == outbox_id).values(payload=payload))
    mark_scrubbed(s)
