"""The mop-up is booked by the bot (seed 001 §3.1: a mop-up session "will be scheduled during the last week of each
half term"), once per half term, unless the DSL team has decided already; the DSL team can move or cancel it, and
a cancelled one is never booked again. Runs on both Microsoft 365 backends."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.reminders import facts, mopup
from bot.reminders.scheduler import Scheduler
from bot.store.models_compliance import MopUpProposal
from bot.store.models_sessions import GroupSession, SessionInvitee
from tests.journeys.test_request_kit import find_action, kit, texts_of  # noqa: F401
from tests.reminders.helpers import FakeTeams, add_session, at, fast_sender, record_attendance

D = dt.date
UTC = dt.timezone.utc
DSL = ["amara.okafor", "daniel.whitcombe", "helen.ashdown", "marcus.fenwick"]


async def _everyone_but(kit, missing: set[str]) -> None:  # noqa: F811
    sid = await add_session(kit.db, day=D(2026, 11, 17), group_id="willow")
    await record_attendance(kit.db, sid, [m.id for m in kit.school.data.staff if m.id not in missing])


async def _auto(kit, when: dt.datetime):  # noqa: F811
    kit.clock.now = when
    ctx = facts.context_for(kit.services, when.date())
    return await mopup.auto_book(kit.services, ctx, when)


async def _mop_ups(kit) -> list[GroupSession]:  # noqa: F811
    async with kit.db.session() as s:
        return list((await s.execute(select(GroupSession).where(GroupSession.kind == "mop_up"))).scalars())


async def test_the_bot_books_the_mop_up_once_and_tells_the_dsl_team(kit):  # noqa: F811
    await kit.install(*DSL, "tom.hollis", "yasmin.shah")
    await _everyone_but(kit, {"tom.hollis", "yasmin.shah"})
    row = await _auto(kit, at(D(2026, 12, 7), "09:00"))
    assert (row.status, row.decided_by) == ("booked", None)
    # The next tick, or a restarted instance, books nothing more: the half term has its mop-up.
    assert await _auto(kit, at(D(2026, 12, 7), "10:00")) is None
    [mop] = await _mop_ups(kit)
    assert D(2026, 12, 14) <= mop.local_date <= D(2026, 12, 18) and mop.facilitator_id in DSL
    async with kit.db.session() as s:
        invited = sorted((await s.execute(select(SessionInvitee.staff_id))).scalars())
    assert invited == ["tom.hollis", "yasmin.shah"]
    told = [r for r in await kit.outbox("teams.notify") if ":auto:" in r.key]
    assert sorted(r.payload["staff_id"] for r in told) == sorted(DSL)
    assert len(await kit.outbox("calendar.create")) == 1
    await kit.deliver()
    [ev] = await kit.events_for("tom.hollis")
    assert ev.start == mop.starts_at and ev.subject == "Supervision"
    card = [c for c in kit.sent_to("amara.okafor") if "Mop-up booked" in texts_of(c)][-1]
    assert "the bot, automatically" in texts_of(card)
    assert find_action(card, "gsession.view")["data"] == {"session_id": mop.id}
    invite = [c for c in kit.sent_to("tom.hollis") if "booked into the mop-up" in texts_of(c)][-1]
    assert find_action(invite, "gsession.view")["data"] == {"session_id": mop.id}


async def test_nothing_is_booked_when_the_dsl_team_decided_first(kit):  # noqa: F811
    await kit.install(*DSL)
    await _everyone_but(kit, {"tom.hollis"})
    # A DSL asked for the proposal early and said no mop-up is needed.
    kit.clock.now = at(D(2026, 12, 4), "10:00")
    ctx = facts.context_for(kit.services, D(2026, 12, 4))
    row = await mopup.propose(kit.services, ctx, kit.clock.now, notify=False)
    await kit.click("amara.okafor", "compliance.mopup.decline", {"proposal": row.id})
    row = await _auto(kit, at(D(2026, 12, 7), "09:00"))
    assert row.status == "declined" and await _mop_ups(kit) == []


async def test_a_mop_up_scheduled_by_hand_is_left_alone(kit):  # noqa: F811
    await kit.install(*DSL, "tom.hollis")
    await _everyone_but(kit, {"tom.hollis"})
    kit.clock.now = at(D(2026, 12, 4), "10:00")
    card = await kit.say("amara.okafor", "schedule")
    await kit.press(
        "amara.okafor",
        card,
        "grouprec.schedule_submit",
        {
            "sched_group": "_mop_up",
            "sched_date": "2026-12-16",
            "sched_time": "15:00",
            "sched_minutes": "60",
            "sched_facilitator": "marcus.fenwick",
        },
    )
    assert await _auto(kit, at(D(2026, 12, 7), "09:00")) is None
    [mop] = await _mop_ups(kit)
    assert mop.facilitator_id == "marcus.fenwick"


async def test_a_cancelled_mop_up_is_not_booked_again(kit):  # noqa: F811
    await kit.install(*DSL, "tom.hollis")
    await _everyone_but(kit, {"tom.hollis"})
    await _auto(kit, at(D(2026, 12, 7), "09:00"))
    [mop] = await _mop_ups(kit)
    done = await kit.click("daniel.whitcombe", "gsession.cancel", {"session_id": mop.id})
    assert "Cancelled" in texts_of(done)
    row = await _auto(kit, at(D(2026, 12, 8), "09:00"))
    assert row.status == "cancelled" and [m.status for m in await _mop_ups(kit)] == ["cancelled"]
    attendance = await kit.say("amara.okafor", "attendance")
    assert "Daniel Whitcombe cancelled it." in texts_of(attendance)


async def test_with_no_time_free_the_dsl_team_gets_the_proposal_to_choose(kit):  # noqa: F811
    await kit.install(*DSL)
    await _everyone_but(kit, {"tom.hollis"})
    week = (at(D(2026, 12, 14), "00:00"), at(D(2026, 12, 19), "00:00"))

    async def all_busy(ids, start, end):
        from bot.domain.slots import Busy

        return {i: [Busy(*week)] for i in ids}

    kit.services.busy_lookup = all_busy
    row = await _auto(kit, at(D(2026, 12, 7), "09:00"))
    assert row.status == "proposed" and await _mop_ups(kit) == []
    proposals = [r for r in await kit.outbox("teams.notify") if ":proposal:" in r.key]
    assert sorted(r.payload["staff_id"] for r in proposals) == sorted(DSL)


async def test_two_scheduler_instances_book_one_mop_up(kit):  # noqa: F811
    await kit.install(*DSL, "tom.hollis")
    await _everyone_but(kit, {"tom.hollis"})
    kit.clock.now = at(D(2026, 12, 7), "09:00")
    teams = FakeTeams(kit.clock)
    a = Scheduler(kit.services, kit.clock, sender=fast_sender(teams, kit.clock), owner="bot-a")
    b = Scheduler(kit.services, kit.clock, sender=fast_sender(teams, kit.clock), owner="bot-b")
    import asyncio

    ra, rb = await asyncio.gather(a.tick(kit.clock()), b.tick(kit.clock()))
    assert ra.proposed or rb.proposed
    await a.tick(kit.clock())  # and again, as after a restart
    assert len(await _mop_ups(kit)) == 1
    async with kit.db.session() as s:
        [row] = (await s.execute(select(MopUpProposal))).scalars().all()
    assert row.status == "booked"
    assert len(await kit.outbox("calendar.create")) == 1
