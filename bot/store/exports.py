"""Exports' store: the export and its files (bytes until delivered), what the register is built from, and the
retention rule for files that never reached the channel. Ids, names, dates and bytes — no SQL in the journey."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.errors import AlreadySubmitted, NotFound
from bot.store.models_exports import DELIVERED, FAILED, QUEUED, Export, ExportFile
from bot.store.models_sessions import Attendance, GroupSession
from bot.store.upsert import insert_ignore


async def start(
    s: AsyncSession, *, nonce: str, half_term: str, parts: Sequence[str], by: str, now: dt.datetime
) -> Export:
    """The export row, once per form (a second submit of the same form raises AlreadySubmitted, and leaves the
    transaction usable: the insert skips a clash instead of failing)."""
    new = await insert_ignore(
        s,
        Export,
        [
            dict(
                nonce=nonce,
                half_term=half_term,
                parts=list(parts),
                requested_by=by,
                requested_at=now,
                status=QUEUED,
            )
        ],
        conflict=["nonce"],
    )
    if not new:
        raise AlreadySubmitted()
    return (await s.execute(select(Export).where(Export.nonce == nonce))).scalar_one()


async def add_files(s: AsyncSession, export_id: int, files: Sequence[tuple[str, bytes]]) -> list[ExportFile]:
    rows = [ExportFile(export_id=export_id, name=n, size=len(b), content=b, status=QUEUED) for n, b in files]
    s.add_all(rows)
    await s.flush()
    return rows


async def by_nonce(s: AsyncSession, nonce: str) -> Export | None:
    return (await s.execute(select(Export).where(Export.nonce == nonce))).scalar_one_or_none()


async def files_of(s: AsyncSession, export_id: int) -> list[ExportFile]:
    q = (
        select(ExportFile)
        .where(ExportFile.export_id == export_id)
        .order_by(ExportFile.id)
        .execution_options(populate_existing=True)
    )
    return list((await s.execute(q)).scalars())


async def content(s: AsyncSession, file_id: int) -> bytes:
    """A file's bytes for the outbox to upload. NotFound once it was delivered (or expired)."""
    row = await s.get(ExportFile, file_id)
    if row is None or row.content is None:
        raise NotFound()
    return row.content


@dataclass(frozen=True)
class Settled:
    export: Export
    files: list[ExportFile]
    just_finished: bool  # this call settled the export's last file


async def settle(
    s: AsyncSession, file_id: int, *, now: dt.datetime, result: dict | None = None, failed: bool = False
) -> Settled | None:
    """Mark one file delivered (its bytes dropped, its name and link kept) or failed; returns the export and
    whether this was its last file to settle. None for a file that does not exist or was already settled."""
    row = await s.get(ExportFile, file_id)
    if row is None or row.status != QUEUED:
        return None
    # The worker runs hooks side by side: two files of one export settling at once must not each see the other
    # still queued (then nobody would send the links). PostgreSQL: the export row is locked, so the second waits
    # for the first to commit and then sees it; SQLite: the write below takes the one writer's lock first.
    export = (
        await s.execute(
            select(Export).where(Export.id == row.export_id).with_for_update().execution_options(populate_existing=True)
        )
    ).scalar_one()
    if failed:
        row.status = FAILED  # the bytes stay until the outbox retry or the retention rule
    else:
        result = result or {}
        row.status, row.content = DELIVERED, None
        row.delivered_name, row.web_url = result.get("name") or row.name, result.get("web_url")
    row.finished_at = now
    await s.flush()
    files = await files_of(s, row.export_id)
    done = all(f.status != QUEUED for f in files)
    if done and export.status == QUEUED:
        export.status = DELIVERED if all(f.status == DELIVERED for f in files) else FAILED
        export.finished_at = now
        return Settled(export, files, True)
    return Settled(export, files, False)


@dataclass(frozen=True)
class RegisterRow:
    staff_id: str
    session_id: int
    local_date: dt.date
    kind: str
    group_id: str | None
    facilitator_id: str
    starts_at: dt.datetime
    ends_at: dt.datetime


async def register(s: AsyncSession, half_term: str) -> list[RegisterRow]:
    """Every recorded attendance of the half term with the session it was at, in date order."""
    q = (
        select(
            Attendance.staff_id,
            GroupSession.id,
            Attendance.local_date,
            GroupSession.kind,
            GroupSession.group_id,
            GroupSession.facilitator_id,
            GroupSession.starts_at,
            GroupSession.ends_at,
        )
        .join(GroupSession, GroupSession.id == Attendance.session_id)
        .where(Attendance.half_term == half_term)
        .order_by(Attendance.local_date, GroupSession.starts_at, Attendance.staff_id)
    )
    return [RegisterRow(*r) for r in (await s.execute(q)).all()]


async def expire_undelivered(s: AsyncSession, *, before: dt.datetime) -> int:
    """Retention: drop the bytes of files of exports asked for before `before` that never reached the channel."""
    old = select(Export.id).where(Export.requested_at < before)
    res = await s.execute(
        update(ExportFile)
        .where(ExportFile.export_id.in_(old), ExportFile.content.is_not(None))
        .values(content=None)
        .execution_options(synchronize_session=False)
    )
    return res.rowcount or 0
