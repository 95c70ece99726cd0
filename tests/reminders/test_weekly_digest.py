"""The weekly DSL digest (issue 12), on SQLite and PostgreSQL: once a school week each member of the DSL team gets
the key figures with trend arrows against the previous week and a button to the dashboard; however often the
scheduler ticks, restarts or runs on two instances at once, nobody gets it twice; the figures carry no names."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from bot.reminders import weekly
from bot.reminders.scheduler import Scheduler
from bot.store.models_compliance import DigestSend
from bot.store.models_exports import WeeklyDigest
from cards.base import validation_errors
from tests.reminders.helpers import (
    FakeTeams,
    add_refs,
    add_session,
    at,
    fast_sender,
    record_attendance,
    second_instance,
    services_for,
)

D = dt.date
DSL = ["amara.okafor", "daniel.whitcombe", "helen.ashdown", "marcus.fenwick"]
TITLE = "Supervision this week"
WILLOW = ["isla.brennan", "nadia.farouk", "samuel.kerr", "tom.hollis", "yasmin.shah"]


def _dashboard(staff_id: str) -> str:
    return f"http://localhost:3978/dashboard?as={staff_id}"


@pytest.fixture
def services(school, db, clock):
    return services_for(school, db, clock, dashboard_url=_dashboard)


def _scheduler(services, teams, owner="bot-a") -> Scheduler:
    return Scheduler(services, services.clock, sender=fast_sender(teams, services.clock), owner=owner)


def _weeklies(teams: FakeTeams) -> list[tuple[str, dict]]:
    return [(s, c) for _, s, c in teams.delivered if c["body"][0]["text"].startswith(TITLE)]


def _facts(card: dict) -> dict[str, str]:
    return {f["title"]: f["value"] for f in card["body"][2]["facts"]}


async def test_once_a_week_with_trends_against_last_week_and_a_dashboard_button(services, db, school, clock):
    await add_refs(db, [m.id for m in school.data.staff])
    teams = FakeTeams(clock)
    sid = await add_session(db, day=D(2026, 11, 17))
    await record_attendance(db, sid, WILLOW[:2])

    clock.now = at(D(2026, 11, 23), "09:00")  # Monday of a school week in Autumn 2
    report = await _scheduler(services, teams).tick(clock())
    assert report.weekly == ("2026-27 Autumn 2", D(2026, 11, 23), 4)
    first = _weeklies(teams)
    assert sorted(s for s, _ in first) == DSL
    card = dict(first)["amara.okafor"]
    assert validation_errors(card) == []
    shown = _facts(card)
    assert shown["Attended this half term"] == "5%"  # 2 of the 39 due
    assert "Trends start from next week" in json.dumps(card)
    assert not any(a in json.dumps(card) for a in (weekly.UP, weekly.DOWN))
    button = [a for a in card["actions"] if a["type"] == "Action.OpenUrl"][0]
    assert button["url"] == _dashboard("amara.okafor")
    assert dict(first)["helen.ashdown"]["actions"][0]["url"] == _dashboard("helen.ashdown")

    # The rest of Willow Class attend during the week; next Monday's digest shows the change.
    await record_attendance(db, sid, WILLOW[2:])
    clock.now = at(D(2026, 11, 30), "09:00")
    await _scheduler(services, teams).tick(clock())
    second = [c for s, c in _weeklies(teams) if s == "amara.okafor"]
    assert len(second) == 2
    shown = _facts(second[1])
    assert shown["Attended this half term"].startswith(f"13%  {weekly.UP} 8 points (better)")
    assert shown["Staff still to attend"].startswith(f"34  {weekly.DOWN} 3 (better)")
    assert shown["Open actions"] == f"0  {weekly.SAME} no change"
    assert "compared with last week" in json.dumps(second[1])
    # Figures only: no names on the card or in the stored figures.
    async with db.session() as s:
        stored = json.dumps([r.figures for r in (await s.execute(select(WeeklyDigest))).scalars()])
    for name in ("Tom Hollis", "Isla Brennan", "tom.hollis"):
        assert name not in json.dumps(second[1]) and name not in stored


async def test_no_double_send_across_ticks_restarts_and_two_instances(services, db, school, clock):
    await add_refs(db, [m.id for m in school.data.staff])
    teams = FakeTeams(clock)
    clock.now = at(D(2026, 11, 24), "09:00")  # a Tuesday: the week's first tick (Monday was missed)
    other_db = await second_instance(db)
    try:
        other = services_for(school, other_db, clock, dashboard_url=_dashboard)
        a, b = _scheduler(services, teams, "bot-a"), _scheduler(other, teams, "bot-b")
        await asyncio.gather(a.tick(clock()), b.tick(clock()))
        clock.now = at(D(2026, 11, 24), "11:00")
        await a.tick(clock())
        await _scheduler(services, teams, "bot-a").tick(clock())  # a restart
        clock.now = at(D(2026, 11, 27), "14:00")  # later in the week
        await b.tick(clock())
        assert "weekly-digest:2026-11-23" not in [j.id for j in await a.jobs(clock())]
    finally:
        await other_db.close()
    got = [s for s, _ in _weeklies(teams)]
    assert sorted(got) == DSL  # one each, that week
    async with db.session() as s:
        assert (await s.execute(select(func.count()).select_from(WeeklyDigest))).scalar_one() == 1
        points = (await s.execute(select(DigestSend.point).distinct())).scalars().all()
    assert points == [weekly.week_point(D(2026, 11, 23))]


async def test_nothing_in_a_holiday_and_the_next_school_week_says_since_when(services, db, school, clock):
    await add_refs(db, [m.id for m in school.data.staff])
    teams = FakeTeams(clock)
    clock.now = at(D(2026, 12, 14), "09:00")  # the last week of Autumn 2
    await _scheduler(services, teams).tick(clock())
    clock.now = at(D(2026, 12, 21), "10:00")  # Christmas holiday: no window, no digest
    report = await _scheduler(services, teams).tick(clock())
    assert report.weekly is None
    assert not any(j.id.startswith("weekly-digest:2026-12-21") for j in await _scheduler(services, teams).jobs(clock()))
    clock.now = at(D(2027, 1, 5), "09:00")  # Spring 1 (4 Jan is an INSET day)
    await _scheduler(services, teams).tick(clock())
    cards = [c for s, c in _weeklies(teams) if s == "amara.okafor"]
    assert len(cards) == 2
    text = json.dumps(cards[1], ensure_ascii=False)
    assert "Spring 1" in text and "compared with the week of 14 Dec 2026" in text
    shown = _facts(cards[1])
    # A new half term: attendance starts again, so it has no arrow against last half term's.
    assert weekly.UP not in shown["Attended this half term"] and weekly.DOWN not in shown["Attended this half term"]


async def test_a_weekly_claim_left_over_from_last_week_is_not_sent_late(services, db, school, clock):
    await add_refs(db, [m.id for m in school.data.staff])
    teams = FakeTeams(clock)
    clock.now = at(D(2026, 11, 23), "09:00")
    sched = _scheduler(services, teams)
    await sched.run_.plan_weekly(clock())  # planned, then the process stopped before sending
    clock.now = at(D(2026, 11, 30), "09:00")
    await _scheduler(services, teams).tick(clock())
    weeks = [weekly.monday_of(p) for p in await _points_sent(db)]
    assert weeks == [D(2026, 11, 30)] * 4  # last week's went as expired, never as news a week late
    assert len(_weeklies(teams)) == 4


async def _points_sent(db) -> list[int]:
    async with db.session() as s:
        return list((await s.execute(select(DigestSend.point).where(DigestSend.status == "sent"))).scalars())
