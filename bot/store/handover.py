"""Handover of a supervisee to a new supervisor (seed 004 §5: "Should the supervisor leave then the replacement
would have access to the previous six months records"; seed 002: "where a change in line management occurs, a
handover process is arranged between all parties concerned").

The rows a handover writes, in the DSL's one transaction: the old 1:1 pairing ended and the new one started, the
`supervision_handovers` row, the pair's open actions moved to the new pair, a `targeted_record_access` row per record of the last six months (the grant on the
file is queued in the outbox by the journey), and every earlier grant on that supervisee's records that the new
arrangement does not keep marked revoked (so a predecessor who had been handed them loses them, and nobody keeps a
record older than six months). Who may open a record: `may_open`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.errors import AlreadyRecorded
from bot.store.models_followup import Handover, RecordAccess
from bot.store.models_request import Pairing
from bot.store.models_targeted import DELIVERED, OPEN, TargetedAction, TargetedRecord
from bot.store.pool import regular_pairings

#: Seed 004 §5: the replacement sees the previous six months of records.
MONTHS_HANDED_OVER = 6


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day `months` earlier (31 Aug → 28/29 Feb): the first session date a handover includes."""
    y, m = divmod(day.year * 12 + day.month - 1 - months, 12)
    m += 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(y, m, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


async def current_pairing(s: AsyncSession, supervisee_id: str) -> Pairing | None:
    """The supervisee's ongoing 1:1 pairing (not specialist support), the latest should there be two."""
    rows = sorted(await regular_pairings(s, supervisee_id), key=lambda p: (p.started_at, p.id))
    return rows[-1] if rows else None


async def supervisees_with_a_supervisor(s: AsyncSession) -> list[Pairing]:
    """Every ongoing 1:1 pairing, oldest first, one per supervisee (for the handover card's list)."""
    rows = (
        (await s.execute(select(Pairing).where(Pairing.ended_at.is_(None)).order_by(Pairing.started_at, Pairing.id)))
        .scalars()
        .all()
    )
    out: dict[str, Pairing] = {}
    for p in rows:
        current = await current_pairing(s, p.supervisee_id)
        if current is not None:
            out[p.supervisee_id] = current
    return list(out.values())


async def handover_done(s: AsyncSession, nonce: str) -> Handover | None:
    return (await s.execute(select(Handover).where(Handover.nonce == nonce))).scalar_one_or_none()


async def records_to_hand_over(s: AsyncSession, supervisee_id: str, since: dt.date) -> Sequence[TargetedRecord]:
    """The supervisee's 1:1 records with a session on or after `since` whose file is in place (only a delivered
    file can be shared), by session date."""
    return (
        (
            await s.execute(
                select(TargetedRecord)
                .where(
                    TargetedRecord.supervisee_id == supervisee_id,
                    TargetedRecord.session_date >= since,
                    TargetedRecord.status == DELIVERED,
                    TargetedRecord.item_id.is_not(None),
                )
                .order_by(TargetedRecord.session_date, TargetedRecord.id)
            )
        )
        .scalars()
        .all()
    )


async def active_access(s: AsyncSession, supervisee_id: str) -> list[tuple[RecordAccess, TargetedRecord]]:
    """Every grant still in force on this supervisee's records, with its record."""
    rows = await s.execute(
        select(RecordAccess, TargetedRecord)
        .join(TargetedRecord, TargetedRecord.id == RecordAccess.record_id)
        .where(TargetedRecord.supervisee_id == supervisee_id, RecordAccess.revoked_at.is_(None))
        .order_by(RecordAccess.id)
    )
    return [(a, r) for a, r in rows.all()]


async def hand_over(
    s: AsyncSession,
    current: Pairing,
    successor_id: str,
    *,
    nonce: str,
    by: str,
    today: dt.date,
    now: dt.datetime,
) -> tuple[Handover, list[tuple[RecordAccess, TargetedRecord]], list[tuple[RecordAccess, TargetedRecord]]]:
    """End `current`, start the successor's pairing, grant them the last six months' records and revoke every
    other grant on the supervisee's records. Returns (handover, granted, revoked) so the caller queues the file
    shares and revocations in the same transaction. AlreadyRecorded if the card's nonce was used."""
    supervisee = current.supervisee_id
    since = months_before(today, MONTHS_HANDED_OVER)
    records = [r for r in await records_to_hand_over(s, supervisee, since) if r.supervisor_id != successor_id]
    row = Handover(
        nonce=nonce,
        supervisee_id=supervisee,
        from_id=current.supervisor_id,
        to_id=successor_id,
        by_id=by,
        records_since=since,
        record_count=len(records),
        at=now,
    )
    s.add(row)
    try:
        await s.flush()
    except IntegrityError as exc:
        raise AlreadyRecorded() from exc
    for p in await regular_pairings(s, supervisee):
        p.ended_at, p.ended_by = now, by
    s.add(Pairing(supervisee_id=supervisee, supervisor_id=successor_id, request_id=None, started_at=now))
    # The pair's open actions move with the supervisee, so they open the new pair's first record ("review of
    # actions"); the predecessor's own become the successor's to follow up.
    open_actions = (
        await s.execute(
            select(TargetedAction).where(
                TargetedAction.supervisor_id == current.supervisor_id,
                TargetedAction.supervisee_id == supervisee,
                TargetedAction.status == OPEN,
            )
        )
    ).scalars()
    for a in open_actions:
        if a.owner_id == a.supervisor_id:
            a.owner_id = successor_id
        a.supervisor_id = successor_id
    keep = {r.id for r in records}
    revoked = []
    for access, record in await active_access(s, supervisee):
        if access.staff_id == successor_id and record.id in keep:
            keep.discard(record.id)  # already theirs from an earlier handover: keep it, grant nothing twice
            continue
        access.revoked_at = now
        revoked.append((access, record))
    granted = []
    for r in records:
        if r.id not in keep:
            continue
        a = RecordAccess(record_id=r.id, staff_id=successor_id, handover_id=row.id, granted_at=now)
        s.add(a)
        granted.append((a, r))
    await s.flush()
    return row, granted, revoked


async def handed_away(s: AsyncSession, supervisor_id: str) -> dict[str, dt.datetime]:
    """supervisee → the latest time they were handed over *from* this supervisor."""
    rows = await s.execute(
        select(Handover.supervisee_id, Handover.at).where(Handover.from_id == supervisor_id).order_by(Handover.at)
    )
    return {sid: at for sid, at in rows.all()}


async def may_open(s: AsyncSession, record: TargetedRecord, staff_id: str) -> bool:
    """Whether this person may open the record in the bot: its supervisee always; whoever wrote it unless the
    supervisee has since been handed over from them to someone else (and they do not supervise them again); and
    anyone a handover gave it to, until a later handover revoked it."""
    if staff_id == record.supervisee_id:
        return True
    if staff_id == record.supervisor_id:
        away = (
            await s.execute(
                select(Handover.at)
                .where(
                    Handover.supervisee_id == record.supervisee_id,
                    Handover.from_id == staff_id,
                    Handover.at >= record.submitted_at,
                )
                .order_by(Handover.at.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
        if away is None:
            return True
        back = (
            await s.execute(
                select(Pairing.id).where(
                    Pairing.supervisor_id == staff_id,
                    Pairing.supervisee_id == record.supervisee_id,
                    Pairing.started_at > away,
                    Pairing.ended_at.is_(None),
                )
            )
        ).first()
        return back is not None
    return (
        await s.execute(
            select(RecordAccess.id).where(
                and_(
                    RecordAccess.record_id == record.id,
                    RecordAccess.staff_id == staff_id,
                    RecordAccess.revoked_at.is_(None),
                )
            )
        )
    ).first() is not None


async def handed_to(s: AsyncSession, staff_id: str) -> Sequence[TargetedRecord]:
    """The records a handover gave this person and that they still hold, by session date."""
    return (
        (
            await s.execute(
                select(TargetedRecord)
                .join(RecordAccess, RecordAccess.record_id == TargetedRecord.id)
                .where(RecordAccess.staff_id == staff_id, RecordAccess.revoked_at.is_(None))
                .order_by(TargetedRecord.session_date.desc(), TargetedRecord.id.desc())
            )
        )
        .scalars()
        .all()
    )
