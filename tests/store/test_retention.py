"""The daily retention job (bot/store/retention.py) on SQLite and PostgreSQL: what has expired goes, nothing else,
and running it twice changes nothing more."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from bot.journeys.base import Services
from bot.school.config import Retention, School
from bot.store import audit, retention
from bot.store.models_audit import AuditEvent
from bot.store.models_group_record import GroupRecordDraft
from bot.store.models_outbox import DEAD, DELIVERED, PENDING, OutboxRow
from bot.store.models_targeted import TargetedRecordDraft

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone.utc)
SECRET = "Talked about the difficult week"


def _ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


async def _seed(db, school) -> None:
    async with db.session() as s:
        for i, days in enumerate((31, 29)):  # default: abandoned after 30 days
            s.add(
                GroupRecordDraft(
                    draft_key=f"g{i}",
                    owner_id="amara.okafor",
                    content={"n": SECRET},
                    created_at=_ago(days),
                    updated_at=_ago(days),
                )
            )
            s.add(
                TargetedRecordDraft(
                    draft_key=f"t{i}",
                    owner_id="priya.raman",
                    supervisee_id="tom.hollis",
                    content={"n": SECRET},
                    created_at=_ago(days),
                    updated_at=_ago(days),
                )
            )
        rows = [
            ("delivered-old", DELIVERED, 2, True),
            ("delivered-new", DELIVERED, 0.5, True),
            ("delivered-hook-pending", DELIVERED, 2, False),
            ("dead-old", DEAD, 31, True),
            ("dead-in-grace", DEAD, 29, True),
            ("pending", PENDING, None, False),
        ]
        for key, status, days, hook in rows:
            s.add(
                OutboxRow(
                    key=key,
                    kind="teams.notify",
                    payload={"card": SECRET},
                    status=status,
                    attempts=1,
                    last_error="boom" if status == DEAD else None,
                    created_at=_ago(40),
                    finished_at=_ago(days) if days is not None else None,
                    hook_done=hook,
                )
            )
        for days in (2556, 2554):  # default: 7 years (2 555 days)
            await audit.record(
                s,
                actor_id="amara.okafor",
                action=audit.VIEWED,
                kind=audit.PERSON,
                object_id="tom.hollis",
                at=_ago(days),
                tz=school.tz,
            )


async def _payloads(db) -> dict[str, dict]:
    async with db.session() as s:
        return {k: p for k, p in (await s.execute(select(OutboxRow.key, OutboxRow.payload))).all()}


async def test_expired_things_go_and_the_rest_stays(db, school):
    await _seed(db, school)
    services = Services(school=school, db=db)
    report = await retention.run(services, NOW)
    assert (report.drafts, report.outbox_delivered, report.outbox_dead, report.audit) == (2, 1, 1, 1)
    async with db.session() as s:
        assert set((await s.execute(select(GroupRecordDraft.draft_key))).scalars()) == {"g1"}
        assert set((await s.execute(select(TargetedRecordDraft.draft_key))).scalars()) == {"t1"}
        dead = (await s.execute(select(OutboxRow).where(OutboxRow.key == "dead-old"))).scalar_one()
        assert dead.last_error is None and dead.status == DEAD  # the row stays: its key still counts
        trail = (
            await s.execute(
                select(AuditEvent.action, AuditEvent.object_id).where(AuditEvent.object_kind == "retention")
            )
        ).all()
    payloads = await _payloads(db)
    cleared = {k for k, p in payloads.items() if p == retention.REMOVED}
    assert cleared == {"delivered-old", "dead-old"}
    assert SECRET not in str([payloads[k] for k in cleared])
    assert sorted(trail) == [("deleted", "audit"), ("deleted", "drafts"), ("deleted", "outbox")]

    again = await retention.run(services, NOW)
    assert (again.drafts, again.outbox_delivered, again.outbox_dead, again.audit) == (0, 0, 0, 0)


async def test_the_periods_are_school_settings(db, school):
    await _seed(db, school)
    kept = school.settings.model_copy(
        update={"retention": Retention(abandoned_draft_days=60, dead_letter_grace_days=7)}
    )
    other = School(school.data.model_copy(update={"school": kept}))
    report = await retention.run(Services(school=other, db=db), NOW)
    assert (report.drafts, report.outbox_dead) == (0, 2)
    async with db.session() as s:
        assert (await s.execute(select(func.count()).select_from(GroupRecordDraft))).scalar_one() == 2


async def test_the_job_runs_at_start_and_then_daily(sqlite_db, school):
    services = Services(school=school, db=sqlite_db)
    slept: list[float] = []

    class Enough(Exception):
        pass

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 2:
            raise Enough

    job = retention.RetentionJob(services, lambda: NOW, sleep=sleep)
    task = job.start()
    try:
        await task
    except Enough:
        pass
    assert slept == [86400.0, 86400.0]
