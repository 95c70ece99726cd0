"""The scheduler: its jobs come from the database and calendar under stable ids (a restart rebuilds the same
ones), it does nothing outside the sending window, it sleeps until the next job, and stop() ends run()."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from bot.reminders.scheduler import Scheduler
from tests.reminders.helpers import FakeTeams, add_refs, at, fast_sender, services_for

D = dt.date


@pytest.fixture
def services(school, db, clock):
    return services_for(school, db, clock)


def _scheduler(services, teams=None, **kw) -> Scheduler:
    teams = teams or FakeTeams(services.clock)
    return Scheduler(services, services.clock, sender=fast_sender(teams, services.clock), owner="bot-a", **kw)


async def test_jobs_have_stable_ids_and_a_restart_rebuilds_the_same(services, clock):
    clock.now = at(D(2026, 12, 4), "15:00")  # Friday before point 10 of Autumn 2
    first = await _scheduler(services).jobs(clock())
    again = await _scheduler(services).jobs(clock())  # a new process
    assert [(j.id, j.due) for j in first] == [(j.id, j.due) for j in again]
    assert [(j.id, j.due) for j in first] == [
        # Nothing has run this week yet: the week's digest is due now (the window is open until the day's end).
        ("weekly-digest:2026-11-30", at(D(2026, 12, 4), "15:00")),
        ("follow-up:2026-12-07", at(D(2026, 12, 7), "09:00")),
        ("mop-up:2026-27 Autumn 2", at(D(2026, 12, 7), "09:00")),
        ("reminders:2026-27 Autumn 2:10", at(D(2026, 12, 7), "09:00")),
        ("reminders:2026-27 Autumn 2:3", at(D(2026, 12, 16), "09:00")),
    ]


async def test_after_a_round_its_job_is_gone_and_pending_work_is_a_job(services, db, school, clock):
    await add_refs(db, [m.id for m in school.data.staff])
    clock.now = at(D(2026, 12, 7), "09:00")
    sched = _scheduler(services)
    report = await sched.tick(clock())
    assert report.planned == ("2026-27 Autumn 2", 10, 39) and report.delivery.sent == 39 + 4 + 4
    assert report.proposed and report.digest == ("2026-27 Autumn 2", 10, 4)
    assert report.weekly == ("2026-27 Autumn 2", D(2026, 12, 7), 4)  # and the week's digest, once
    ids = [j.id for j in await sched.jobs(clock())]
    assert ids == ["follow-up:2026-12-08", "reminders:2026-27 Autumn 2:3"]
    # next wake: within the window, a routine look later in the day (nothing overdue)
    wake = await sched.next_wake(clock())
    assert wake == clock() + dt.timedelta(hours=1)


async def test_tick_outside_the_window_does_nothing(services, db, school, clock):
    await add_refs(db, [m.id for m in school.data.staff])
    teams = FakeTeams(clock)
    sched = _scheduler(services, teams)
    for when in (
        at(D(2026, 12, 7), "08:59"),
        at(D(2026, 12, 7), "16:30"),
        at(D(2026, 12, 12), "10:00"),
        at(D(2026, 12, 25), "10:00"),
    ):
        clock.now = when
        report = await sched.tick(when)
        assert not report.window_open and report.planned is None and not report.proposed
    assert teams.delivered == []


async def test_next_wake_outside_the_window_is_the_next_opening(services, clock):
    sched = _scheduler(services)
    clock.now = at(D(2026, 10, 23), "17:00")  # Friday before half term, BST
    assert await sched.next_wake(clock()) == at(D(2026, 11, 3), "09:00")  # Tuesday after INSET, GMT


async def test_run_sleeps_between_jobs_and_stops(services, clock):
    clock.now = at(D(2026, 12, 4), "15:00")
    slept: list[float] = []
    sched = None

    async def sleep(seconds):
        slept.append(seconds)
        clock.advance(seconds=seconds)
        if len(slept) >= 3:
            sched.stop()
        await asyncio.sleep(0)

    sched = Scheduler(services, clock, sleep, sender=fast_sender(FakeTeams(clock), clock), owner="bot-a")
    await asyncio.wait_for(sched.run(), timeout=10)
    assert slept[0] == 3600  # open window, nothing due: a routine look in an hour
    assert clock() >= at(D(2026, 12, 7), "09:00")  # then straight to Monday's opening, not hour by hour


async def test_scheduler_needs_a_sender(services):
    with pytest.raises(ValueError):
        Scheduler(services, services.clock)


async def test_a_failing_tick_is_logged_and_retried(services, clock, caplog):
    clock.now = at(D(2026, 12, 7), "09:00")
    sched = _scheduler(services)
    calls = []

    async def broken(now=None):
        calls.append(now)
        if len(calls) == 2:
            sched.stop()
        raise RuntimeError("database went away")

    async def sleep(seconds):
        clock.advance(seconds=seconds)
        await asyncio.sleep(0)

    sched.tick = broken
    sched.sleep = sleep
    await asyncio.wait_for(sched.run(), timeout=5)
    assert len(calls) == 2 and "scheduler tick failed: RuntimeError" in caplog.text
    assert "database went away" not in caplog.text
