"""The daily retention job: deletes what the data map (bot/store/datamap.py) says has expired.

- abandoned drafts (group and 1:1) untouched for `retention.abandoned_draft_days`;
- outbox payloads: a delivered row's payload (documents are already dropped on delivery; the cards and names it
  carried go here), a dead row's payload and error once `retention.dead_letter_grace_days` have passed (until
  then the DSL team can have it retried). The row itself stays: its key keeps a side effect from ever repeating;
- audit events older than `retention.audit_days`;
- export files that never reached the Safeguarding channel: their bytes once `retention.dead_letter_grace_days`
  have passed since the export was asked for (delivered ones are dropped on delivery).

Each rule runs in its own transaction and is idempotent, so two instances running it, or a run cut short, do no
harm. What it deleted is counted in the log and the audit trail (counts and rule names only).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import delete, select, update

from bot.store import audit, datamap
from bot.store import exports as exports_store
from bot.store.models_group_record import GroupRecordDraft
from bot.store.models_outbox import DEAD, DELIVERED, OutboxRow
from bot.store.models_specialist_notes import SpecialistNoteDraft
from bot.store.models_targeted import TargetedRecordDraft

log = logging.getLogger(__name__)

REMOVED = {"content_removed": True, "retention": True}
DAY = dt.timedelta(days=1)
JOB_NAME = "retention:daily"


@dataclass
class RetentionReport:
    drafts: int = 0
    outbox_delivered: int = 0
    outbox_dead: int = 0
    audit: int = 0
    exports: int = 0


async def run(services, now: dt.datetime) -> RetentionReport:
    """Delete everything that has expired at `now` (aware UTC)."""
    r = services.school.settings.retention
    db, tz = services.db, services.school.tz
    report = RetentionReport()
    async with db.session() as s:
        cut = now - dt.timedelta(days=r.abandoned_draft_days)
        for model in (GroupRecordDraft, TargetedRecordDraft, SpecialistNoteDraft):
            report.drafts += (await s.execute(delete(model).where(model.updated_at < cut))).rowcount or 0
    async with db.session() as s:
        report.outbox_delivered = await _clear_payloads(
            s, OutboxRow.status == DELIVERED, OutboxRow.finished_at < now - DAY
        )
    async with db.session() as s:
        report.outbox_dead = await _clear_payloads(
            s, OutboxRow.status == DEAD, OutboxRow.finished_at < now - dt.timedelta(days=r.dead_letter_grace_days)
        )
    async with db.session() as s:
        report.exports = await exports_store.expire_undelivered(
            s, before=now - dt.timedelta(days=r.dead_letter_grace_days)
        )
    async with db.session() as s:
        report.audit = await audit.expire(s, before=now - dt.timedelta(days=r.audit_days))
        for rule, n in (
            (datamap.R_DRAFTS, report.drafts),
            (datamap.R_OUTBOX, report.outbox_delivered + report.outbox_dead),
            (datamap.R_AUDIT, report.audit),
            (datamap.R_EXPORTS, report.exports),
        ):
            if n:
                await audit.record(
                    s, actor_id=None, action=audit.DELETED, kind="retention", object_id=rule, at=now, tz=tz
                )
    log.info(
        "retention: drafts=%s outbox_delivered=%s outbox_dead=%s audit=%s exports=%s",
        report.drafts,
        report.outbox_delivered,
        report.outbox_dead,
        report.audit,
        report.exports,
    )
    return report


async def _clear_payloads(s, *where) -> int:
    """Replace the payload (and error) of finished rows whose hooks have run; the row stays. JSON has no equality
    on PostgreSQL, so rows already cleared are told apart here rather than in SQL."""
    rows = (await s.execute(select(OutboxRow.id, OutboxRow.payload).where(OutboxRow.hook_done.is_(True), *where))).all()
    ids = [i for i, payload in rows if payload != REMOVED]
    for start in range(0, len(ids), 500):
        await s.execute(
            update(OutboxRow).where(OutboxRow.id.in_(ids[start : start + 500])).values(payload=REMOVED, last_error=None)
        )
    return len(ids)


class RetentionJob:
    """Runs `run` at start-up and then once a day, until stopped. The database is the source of truth: nothing is
    remembered between runs, so a restart simply runs it again."""

    def __init__(
        self,
        services,
        clock: Callable[[], dt.datetime],
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        every: dt.timedelta = DAY,
    ):
        self.services, self.clock, self.sleep, self.every = services, clock, sleep, every
        self._task: asyncio.Task | None = None

    async def _loop(self) -> None:
        while True:
            try:
                await run(self.services, self.clock())
            except Exception as exc:  # noqa: BLE001 - a failed run is retried tomorrow; the type only, no content
                log.warning("retention run failed: %s", type(exc).__name__)
            await self.sleep(self.every.total_seconds())

    def start(self) -> asyncio.Task:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._loop(), name=JOB_NAME)
        return self._task

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
