"""Two schools of one trust on one database, with different half-term dates (issue 10): each school's reminder
points come from its own calendar, so the same morning is reminder day for one and not the other; and each school's
claims are its own (the same staff id in both schools is two people)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.reminders.run import ReminderRun
from bot.school import load_school
from bot.store.models_compliance import ReminderClaim
from tests.fakes.trust import DEMO_SCHOOL, twin_school
from tests.reminders.helpers import FakeTeams, at, fast_sender, services_for

D = dt.date


def _run(services, teams, owner="bot-a") -> ReminderRun:
    sender = fast_sender(teams, services.clock)
    run = ReminderRun(services, sender, owner=owner, clock=services.clock)
    sender.may_send = lambda: run.window.is_open(services.clock())
    return run


async def test_each_school_reminds_on_its_own_dates(db, clock, tmp_path):
    alpha = load_school(DEMO_SCHOOL, key="alpha")
    # The twin's Autumn 2 ends on Tuesday 22 December, two school days after the demo school's Friday 18th: its
    # "10 school days before the deadline" is Wednesday 9 December, the demo school's Monday 7th.
    beta = twin_school(tmp_path, beta_half_term_ends={"Autumn 2": "2026-12-22"})
    a, b = services_for(alpha, db, clock), services_for(beta, db, clock)
    teams = FakeTeams(clock)

    clock.now = at(D(2026, 12, 7), "09:00")
    planned_a = await _run(a, teams).plan(clock())
    planned_b = await _run(b, teams).plan(clock())
    assert planned_a[1] == 10 and planned_a[2] == len(alpha.active_on(D(2026, 12, 7))) - 1  # one is exempt
    assert planned_b is None or planned_b[2] == 0

    clock.now = at(D(2026, 12, 8), "09:00")
    assert (await _run(a, teams).plan(clock()))[2] == 0  # the demo school's point 10 was yesterday: nothing new
    assert (await _run(b, teams).plan(clock())) is None  # the twin's is tomorrow
    clock.now = at(D(2026, 12, 9), "09:00")
    planned_b = await _run(b, teams).plan(clock())
    assert planned_b[1] == 10 and planned_b[2] == planned_a[2]

    async with db.session() as s:
        rows = (await s.execute(select(ReminderClaim.school_id, ReminderClaim.staff_id))).all()
    by_school = {k: {sid for school, sid in rows if school == k} for k in ("alpha", "beta")}
    assert by_school["alpha"] == by_school["beta"] and len(rows) == 2 * planned_a[2]  # same ids, two people each
