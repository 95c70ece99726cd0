"""Whole half terms, simulated in seconds: sessions are held and recorded, the scheduler runs on its own clock
(its `run()` loop, with an injected sleep that moves the clock), reminders go out at 10 and 3 school days before
each deadline, the bot books the mop-up (a DSL moves it) and gets a digest after each round, people say "I'll attend" — and
we check every message that reached Teams: who, what, when, and that nothing came twice.

Both scenarios cross a clock change (25 Oct 2026 and 28 Mar 2027), and each runs under several process time zones
and on both store backends. Nothing here may depend on the process's zone.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.journeys import compliance as journey
from bot.journeys import group_changes
from bot.journeys.router import Router
from bot.reminders.scheduler import Scheduler
from bot.store.models_compliance import MopUpProposal, ReminderClaim
from bot.store.models_outbox import OutboxRow
from cards.base import validation_errors
from tests.fakes.teams import person
from tests.reminders.helpers import FakeTeams, add_refs, add_session, at, fast_sender, record_attendance, services_for

LONDON = ZoneInfo("Europe/London")
D = dt.date
REMINDER = "Group supervision this half term"
DIGEST = "Supervision reminders sent"
WEEKLY = "Supervision this week"


def _j(card: dict) -> str:
    return json.dumps(card, ensure_ascii=False)


DSL = ["amara.okafor", "daniel.whitcombe", "helen.ashdown", "marcus.fenwick"]


class Sim:
    def __init__(self, school, db, clock, *, blocked=()):
        self.school = school
        self.db = db
        self.clock = clock
        self.services = services_for(school, db, clock)
        self.teams = FakeTeams(clock, blocked=blocked)
        self.scheduler = Scheduler(
            self.services, clock, self.sleep, sender=fast_sender(self.teams, clock), owner="bot-sim"
        )
        self.router = Router()
        journey.register(self.router)
        group_changes.register(self.router)  # a DSL moves the mop-up the bot booked
        self.events: list[tuple[dt.datetime, object]] = []
        self.end: dt.datetime | None = None
        self.ticks = 0
        self.failures: list[str] = []

    def at(self, when: dt.datetime, fn) -> None:
        self.events.append((when, fn))
        self.events.sort(key=lambda e: e[0])

    async def sleep(self, seconds: float) -> None:
        target = self.clock.now + dt.timedelta(seconds=seconds)
        while self.events and self.events[0][0] <= target:
            when, fn = self.events.pop(0)
            self.clock.now = max(self.clock.now, when)
            await fn()
        self.clock.now = target
        self.ticks += 1
        if self.end is not None and self.clock.now >= self.end:
            self.scheduler.stop()
        await asyncio.sleep(0)

    async def run(self, until: dt.datetime) -> None:
        self.end = until
        await asyncio.wait_for(self.scheduler.run(), timeout=240)

    async def click(self, staff_id: str, verb: str, data: dict) -> dict:
        from bot.journeys.base import Turn

        who = person(self.school, staff_id)
        turn = Turn(
            now=self.clock(),
            aad_object_id=who.aad_object_id,
            user_name=who.name,
            actor=self.school.by_aad(who.aad_object_id),
            verb=verb,
            data=data,
            invoke=True,
        )
        reply = await self.router.dispatch(self.services, turn)
        assert reply.card is not None and not validation_errors(reply.card)
        return reply.card

    async def move_mop_up(self, staff_id: str, half_term: str, on: dt.date, time: str) -> None:
        """The bot booked the half term's mop-up by itself (seed 001: it "will be scheduled"); a DSL moves it."""
        async with self.db.session() as s:
            row = (await s.execute(select(MopUpProposal).where(MopUpProposal.half_term == half_term))).scalar_one()
        assert (row.status, row.decided_by) == ("booked", None)  # booked automatically, before anyone clicked
        card = await self.click(
            staff_id, "gsession.move", {"session_id": row.session_id, "gs_date": on.isoformat(), "gs_time": time}
        )
        assert "Moved from" in json.dumps(card), json.dumps(card)

    def delivered(self) -> list[tuple[dt.datetime, str, str]]:
        """(time, to whom, card title) of everything that reached Teams through the throttled sender."""
        return [(t, s, c["body"][0]["text"]) for t, s, c in self.teams.delivered]


async def _group_sessions(sim: Sim, day: dt.date, attended_by_all_but: set[str], half_term: str):
    for gid, g in sim.school.groups.items():
        sid = await add_session(
            sim.db, day=day, group_id=gid, half_term=half_term, kind="class" if g.kind.value == "class" else "non_class"
        )
        members = [m.id for m in sim.school.group_members(gid) if m.id not in attended_by_all_but]
        sim.at(at(day, "17:00"), lambda sid=sid, members=members: record_attendance(sim.db, sid, members))


async def _mop_up_session_id(db, half_term: str) -> int:
    from bot.store.models_sessions import GroupSession

    async with db.session() as s:
        return (
            await s.execute(
                select(GroupSession.id).where(GroupSession.half_term == half_term, GroupSession.kind == "mop_up")
            )
        ).scalar_one()


def _check_window_and_duplicates(sim: Sim) -> None:
    for when, staff, title in sim.delivered():
        local = when.astimezone(LONDON)
        assert sim.scheduler.window.is_open(when), f"{title!r} to {staff} sent outside the window at {local}"
    reminders = Counter()
    for t, staff, c in sim.teams.delivered:
        if c["body"][0]["text"] == REMINDER:
            reminders[
                (
                    staff,
                    sim.scheduler.window.calendar.half_term_for(t.astimezone(LONDON).date()).name,
                    json.dumps(c["body"][2]),
                )
            ] += 1
    assert all(n == 1 for n in reminders.values()), reminders


async def _outbox(db, kind: str) -> list[OutboxRow]:
    async with db.session() as s:
        return list(
            (await s.execute(select(OutboxRow).where(OutboxRow.kind == kind).order_by(OutboxRow.id))).scalars().all()
        )


@pytest.mark.parametrize("process_tz", ["Europe/London", "America/Los_Angeles", "Australia/Sydney"], indirect=True)
async def test_autumn_across_the_october_clock_change(school, db, clock, process_tz):
    A1, A2 = "2026-27 Autumn 1", "2026-27 Autumn 2"
    clock.now = at(D(2026, 10, 19), "07:00")  # Monday of Autumn 1's last week, BST
    sim = Sim(school, db, clock, blocked={"jade.morley"})
    await add_refs(db, [m.id for m in school.data.staff if m.id != "kieran.nash"])
    # Autumn 1: everyone came to their group's session except Tom (a teaching assistant in Willow Class).
    await _group_sessions(sim, D(2026, 10, 6), {"tom.hollis"}, A1)
    await sim.sleep(0)  # record Autumn 1 now
    # Autumn 2: everyone's session is on 17 Nov; four miss it; Owen is on long-term absence (exempt).
    missing = {"tom.hollis", "grace.mensah", "kieran.nash", "jade.morley", "owen.pryce"}
    await _group_sessions(sim, D(2026, 11, 17), missing, A2)
    health2 = await add_session(db, day=D(2026, 12, 9), group_id="health", kind="non_class", half_term=A2)

    # Autumn 1: the bot books the mop-up on Monday; the DSL moves it to Thursday; Tom goes.
    sim.at(at(D(2026, 10, 19), "11:00"), lambda: sim.move_mop_up("amara.okafor", A1, D(2026, 10, 22), "14:00"))

    async def tom_attends_a1_mop_up():
        await record_attendance(db, await _mop_up_session_id(db, A1), ["tom.hollis"])

    sim.at(at(D(2026, 10, 22), "12:00"), tom_attends_a1_mop_up)

    # Autumn 2: Grace says "I'll attend" to the second health session and goes; the mop-up is booked for
    # Tue 15 Dec, where Kieran and Jade (whom the bot cannot reach) turn up; Tom does not.
    async def grace_clicks():
        card = await sim.click("grace.mensah", "compliance.attend", {"ht": 1, "session_id": str(health2)})
        assert "you're on the list" in json.dumps(card)

    sim.at(at(D(2026, 12, 7), "10:00"), grace_clicks)
    sim.at(at(D(2026, 12, 9), "17:00"), lambda: record_attendance(db, health2, ["grace.mensah"]))
    sim.at(at(D(2026, 12, 7), "12:00"), lambda: sim.move_mop_up("daniel.whitcombe", A2, D(2026, 12, 15), "10:00"))

    async def mop_up_a2():
        await record_attendance(db, await _mop_up_session_id(db, A2), ["kieran.nash", "jade.morley"])

    sim.at(at(D(2026, 12, 15), "17:00"), mop_up_a2)

    await sim.run(until=at(D(2026, 12, 21), "07:00"))

    got = [(t.astimezone(dt.timezone.utc).strftime("%m-%d %H:%M"), s, title) for t, s, title in sim.delivered()]
    reminders = [(t, s) for t, s, title in got if title == REMINDER]
    assert sorted(reminders) == [
        ("10-19 08:00", "tom.hollis"),  # Autumn 1, point 10 caught up (BST: 09:00 = 08 UTC)
        ("10-21 08:00", "tom.hollis"),  # Autumn 1, point 3
        ("12-07 09:00", "grace.mensah"),
        ("12-07 09:00", "tom.hollis"),  # Autumn 2, point 10 (GMT)
        ("12-16 09:00", "tom.hollis"),  # Autumn 2, point 3: Grace, Kieran, Jade have been
    ]
    digests = Counter((t, s) for t, s, title in got if title.startswith(DIGEST))
    assert sorted(digests) == sorted(
        (day, d) for day in ("10-19 08:00", "10-21 08:00", "12-07 09:00", "12-16 09:00") for d in DSL
    )
    assert all(n == 1 for n in digests.values())
    # The weekly digest: once per school week for each of the DSL team, at the week's first sending window (none
    # in the October holiday; 2 Nov is an INSET day, so that week's goes on the Tuesday).
    weeklies = Counter((t, s) for t, s, title in got if title.startswith(WEEKLY))
    mondays = ("10-19 08:00", "11-03 09:00", "11-09 09:00", "11-16 09:00", "11-23 09:00", "11-30 09:00")
    assert sorted(weeklies) == sorted((day, d) for day in (*mondays, "12-07 09:00", "12-14 09:00") for d in DSL)
    assert all(n == 1 for n in weeklies.values())
    assert len(got) == 5 + 16 + 8 * len(DSL)
    _check_window_and_duplicates(sim)

    # What Tom saw on 21 Oct named the mop-up he was booked into; on 16 Dec there was nothing left to join.
    tom = sim.teams.to("tom.hollis")
    assert "You're on the list for **Mop-up session · Thu 22 Oct" in _j(tom[1])
    assert "3 school days" in _j(tom[3]) and "There isn't a session you can join yet" in _j(tom[3])
    assert "10 school days" in _j(tom[2])
    # The 7 Dec digest lists who could not be reached; by 16 Dec they had been to the mop-up.
    dec7 = [
        c
        for t, s, c in sim.teams.delivered
        if s == "amara.okafor"
        and c["body"][0]["text"].startswith(DIGEST)
        and t.astimezone(LONDON).date() == D(2026, 12, 7)
    ][0]
    assert "Jade Morley (has blocked or removed the bot)" in _j(dec7)
    assert "Kieran Nash (hasn't opened the bot in Teams)" in _j(dec7)
    dec16 = [
        c
        for t, s, c in sim.teams.delivered
        if s == "amara.okafor"
        and c["body"][0]["text"].startswith(DIGEST)
        and t.astimezone(LONDON).date() == D(2026, 12, 16)
    ][0]
    assert "Willow Class: Tom Hollis" in _j(dec16) and "Could not reach" in _j(dec16)
    assert "Kieran" not in _j(dec16)
    for c in (dec7, dec16, *tom):
        assert not validation_errors(c)

    # The mop-up booked by the bot once per half term, each DSL told once (no proposal left waiting for a click);
    # one invitation per person booked in; claims all settled.
    notes = await _outbox(db, "teams.notify")
    assert not [r for r in notes if ":proposal:" in r.key]
    assert sorted(r.payload["staff_id"] for r in notes if ":auto:" in r.key) == sorted(DSL * 2)
    invites = sorted(r.key.split(":")[-1] for r in await _outbox(db, "teams.notify") if ":invite:" in r.key)
    assert invites == sorted(["tom.hollis", "grace.mensah", "kieran.nash", "jade.morley", "tom.hollis"])
    async with db.session() as s:
        claims = (
            await s.execute(
                select(
                    ReminderClaim.staff_id,
                    ReminderClaim.half_term,
                    ReminderClaim.point,
                    ReminderClaim.status,
                    ReminderClaim.reason,
                )
            )
        ).all()
    assert sorted(claims) == sorted(
        [
            ("tom.hollis", A1, 10, "sent", None),
            ("tom.hollis", A1, 3, "sent", None),
            ("tom.hollis", A2, 10, "sent", None),
            ("grace.mensah", A2, 10, "sent", None),
            ("kieran.nash", A2, 10, "unreachable", "no_conversation"),
            ("jade.morley", A2, 10, "unreachable", "blocked"),
            ("tom.hollis", A2, 3, "sent", None),
        ]
    )
    assert sim.ticks < 1500  # it slept between jobs rather than spinning


@pytest.mark.parametrize("process_tz", ["Europe/London", "America/Los_Angeles", "Australia/Sydney"], indirect=True)
async def test_spring_into_summer_across_the_march_clock_change(school, db, clock, process_tz):
    S2, SU1 = "2026-27 Spring 2", "2026-27 Summer 1"
    clock.now = at(D(2027, 3, 22), "07:00")  # Spring 2's last week (Good Friday 26 Mar is a holiday)
    sim = Sim(school, db, clock)
    await add_refs(db, [m.id for m in school.data.staff])
    await _group_sessions(sim, D(2027, 3, 2), {"tom.hollis", "owen.pryce"}, S2)
    await _group_sessions(sim, D(2027, 4, 20), {"tom.hollis", "owen.pryce"}, SU1)
    await sim.run(until=at(D(2027, 5, 18), "07:00"))
    got = [(t.astimezone(dt.timezone.utc).strftime("%m-%d %H:%M"), s, title) for t, s, title in sim.delivered()]
    assert sorted((t, s) for t, s, title in got if title == REMINDER) == [
        ("03-22 09:00", "tom.hollis"),  # Spring 2, point 10 caught up on the first morning (GMT)
        ("03-23 09:00", "tom.hollis"),  # Spring 2, point 3 (Thu 25 Mar is the last day: Good Friday)
        ("05-17 08:00", "tom.hollis"),  # Summer 1, point 10 (BST: 09:00 London = 08:00 UTC)
    ]
    assert len([1 for _, _, title in got if title.startswith(DIGEST)]) == 12
    # Weekly digests: Spring 2's last week, then Summer 1's weeks; the May bank holiday week's on the Tuesday.
    weekly_days = sorted({t for t, _, title in got if title.startswith(WEEKLY)})
    assert weekly_days == [
        "03-22 09:00",
        "04-12 08:00",
        "04-19 08:00",
        "04-26 08:00",
        "05-04 08:00",
        "05-10 08:00",
        "05-17 08:00",
    ]
    _check_window_and_duplicates(sim)
    assert not any(t.startswith("03-26") or t.startswith("04-0") for t, _, _ in got)
