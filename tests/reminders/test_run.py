"""The reminder run against a real store: who is claimed at a point, what they are sent, who could not be reached,
and that a crash mid-run or a second instance neither loses nor repeats a reminder."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import pytest
from sqlalchemy import select

from bot.reminders.run import ReminderRun
from bot.store.models_compliance import DigestSend, ReminderClaim
from cards.base import validation_errors
from tests.reminders.helpers import (
    AUTUMN2,
    FakeTeams,
    Killed,
    add_refs,
    add_session,
    at,
    fast_sender,
    record_attendance,
    second_instance,
    services_for,
)

D = dt.date
ALL_BUT = {"tom.hollis", "grace.mensah", "kieran.nash", "jade.morley"}


@pytest.fixture
def services(school, db, clock):
    clock.now = at(D(2026, 12, 7), "09:00")  # point 10 of Autumn 2
    return services_for(school, db, clock)


async def _everyone_but(db, school, missing=ALL_BUT):
    """One session per group in week 3; everyone attends except ``missing`` (Owen is exempt: absence)."""
    for gid in school.groups:
        sid = await add_session(
            db,
            day=D(2026, 11, 17),
            group_id=gid,
            kind="class" if school.groups[gid].kind.value == "class" else "non_class",
        )
        members = [m.id for m in school.group_members(gid) if m.id not in missing and m.id != "owen.pryce"]
        await record_attendance(db, sid, members)


def _run(services, teams: FakeTeams, owner="bot-a", **kw) -> ReminderRun:
    sender = fast_sender(teams, services.clock)
    run = ReminderRun(services, sender, owner=owner, clock=services.clock, **kw)
    sender.may_send = lambda: run.window.is_open(services.clock())
    return run


async def _claims(db, point=10):
    async with db.session() as s:
        rows = (
            (
                await s.execute(
                    select(ReminderClaim).where(ReminderClaim.point == point).order_by(ReminderClaim.staff_id)
                )
            )
            .scalars()
            .all()
        )
    return {r.staff_id: (r.status, r.reason) for r in rows}


async def test_plan_claims_each_outstanding_person_once(services, db, school):
    await _everyone_but(db, school)
    teams = FakeTeams(services.clock)
    run = _run(services, teams)
    assert await run.plan(services.clock()) == (AUTUMN2, 10, 4)
    assert await run.plan(services.clock()) == (AUTUMN2, 10, 0)
    assert await _run(services, teams, owner="bot-b").plan(services.clock()) == (AUTUMN2, 10, 0)
    assert set(await _claims(db)) == ALL_BUT


async def test_deliver_sends_marks_and_lists_the_unreachable(services, db, school):
    await _everyone_but(db, school)
    await add_refs(db, [m.id for m in school.data.staff if m.id != "kieran.nash"])
    mop = await add_session(db, day=D(2026, 12, 15), kind="mop_up", group_id=None)
    teams = FakeTeams(services.clock, blocked={"jade.morley"})
    run = _run(services, teams)
    await run.plan(services.clock())
    stats = await run.deliver()
    assert (stats.sent, stats.unreachable) == (2, 2)
    assert await _claims(db) == {
        "grace.mensah": ("sent", None),
        "jade.morley": ("unreachable", "blocked"),
        "kieran.nash": ("unreachable", "no_conversation"),
        "tom.hollis": ("sent", None),
    }
    [card] = teams.to("tom.hollis")
    assert not validation_errors(card)
    body = json.dumps(card)
    assert "10 school days" in body and "Fri 18 Dec" in body and "Mop-up session" in body
    choice = next(e for e in card["body"] if e.get("type") == "Input.ChoiceSet")
    assert choice["value"] == str(mop)
    again = await run.deliver()
    assert again.sent == 0 and len(teams.delivered) == 2


async def test_someone_who_attends_before_their_turn_is_skipped(services, db, school):
    await _everyone_but(db, school)
    await add_refs(db, [m.id for m in school.data.staff])
    teams = FakeTeams(services.clock)
    run = _run(services, teams)
    await run.plan(services.clock())
    extra = await add_session(db, day=D(2026, 12, 7), start="08:00", group_id="willow")
    await record_attendance(db, extra, ["tom.hollis"])
    await run.deliver()
    assert (await _claims(db))["tom.hollis"] == ("skipped", "attended")
    assert not teams.to("tom.hollis")


async def test_nothing_is_sent_outside_the_window(services, db, school):
    await _everyone_but(db, school)
    await add_refs(db, [m.id for m in school.data.staff])
    teams = FakeTeams(services.clock)
    run = _run(services, teams)
    await run.plan(services.clock())
    services.clock.now = at(D(2026, 12, 7), "16:30")
    assert (await run.deliver()).sent == 0
    services.clock.now = at(D(2026, 12, 12), "10:00")  # Saturday
    assert (await run.deliver()).sent == 0
    assert teams.delivered == []
    services.clock.now = at(D(2026, 12, 14), "09:00")
    assert (await run.deliver()).sent == 4


async def test_transient_failures_come_back_later_then_fail_for_good(services, db, school):
    await _everyone_but(db, school, missing={"tom.hollis"})
    await add_refs(db, ["tom.hollis"])
    teams = FakeTeams(services.clock, fail_first={"tom.hollis": 10_000})
    run = _run(services, teams)
    await run.plan(services.clock())
    for _n in range(4):
        stats = await run.deliver()
        assert stats.later == 1 and (await _claims(db))["tom.hollis"] == ("pending", None)
    stats = await run.deliver()
    assert stats.failed == 1 and (await _claims(db))["tom.hollis"] == ("failed", "failed")


async def test_digest_after_the_round_lists_outstanding_and_unreachable(services, db, school):
    await _everyone_but(db, school)
    await add_refs(db, [m.id for m in school.data.staff if m.id != "kieran.nash"])
    teams = FakeTeams(services.clock, blocked={"jade.morley"})
    run = _run(services, teams)
    assert await run.plan_digest(services.clock()) == (AUTUMN2, 10, 4)  # nobody claimed yet: nothing open
    async with db.session() as s:
        for r in (await s.execute(select(DigestSend))).scalars().all():
            await s.delete(r)
    await run.plan(services.clock())
    assert await run.plan_digest(services.clock()) is None  # reminders still to go
    await run.deliver()
    assert await run.plan_digest(services.clock()) == (AUTUMN2, 10, 4)
    assert await run.plan_digest(services.clock()) == (AUTUMN2, 10, 0)
    await run.deliver()
    digests = [(s, c) for _, s, c in teams.delivered if c["body"][0]["text"].startswith("Supervision reminders")]
    assert sorted(s for s, _ in digests) == ["amara.okafor", "daniel.whitcombe", "helen.ashdown", "marcus.fenwick"]
    card = digests[0][1]
    assert not validation_errors(card)
    body = json.dumps(card)
    assert "Willow Class: Tom Hollis" in body and "Office and site team: Jade Morley, Kieran Nash" in body
    assert "Jade Morley (has blocked or removed the bot)" in body
    assert "Kieran Nash (hasn't opened the bot in Teams)" in body
    assert "35 of 39" in body


async def test_digest_goes_anyway_when_a_round_drags_on(services, db, school):
    await _everyone_but(db, school, missing={"tom.hollis"})
    await add_refs(db, ["tom.hollis"])
    teams = FakeTeams(services.clock, fail_first={"tom.hollis": 10_000})
    run = _run(services, teams)
    await run.plan(services.clock())
    await run.deliver()
    assert await run.plan_digest(services.clock()) is None
    services.clock.advance(hours=2)
    assert (await run.plan_digest(services.clock()))[2] == 4


# ---- crash and concurrency ---------------------------------------------------------------------------------------
async def _crash_after(run: ReminderRun, teams: FakeTeams, n: int) -> None:
    """Run delivery and kill it the moment Teams has accepted the n-th message (before it can be marked)."""
    teams.kill_at = n
    with pytest.raises(Killed):
        await run.deliver()
    teams.kill_at = None


async def _many_outstanding(db, school, services):
    await add_refs(db, [m.id for m in school.data.staff])
    return 39  # nobody has attended: everyone due is outstanding


async def test_crash_mid_run_then_restart_loses_nothing_and_repeats_nothing(services, db, school):
    due = await _many_outstanding(db, school, services)
    teams = FakeTeams(services.clock)
    first = _run(services, teams, owner="bot-a")
    await first.plan(services.clock())
    await _crash_after(first, teams, 7)
    claims = await _claims(db)
    assert any(st == "sending" for st, _ in claims.values())  # some were in flight when it died

    async def reconcile(rows):
        """Reads each chat for the claim's marker, as Graph's chat messages would let us."""

        def has(staff, marker):
            return any(marker in json.dumps(c) for _, s, c in teams.delivered if s == staff)

        return {r.claim_id: has(r.staff_id, r.marker) for r in rows}

    restarted = _run(services, teams, owner="bot-a", reconcile=reconcile)  # same instance, new process
    stats = await restarted.deliver(recover_own=True)
    assert stats.in_doubt >= 1 and stats.reconciled >= 1
    staff = [s for _, s, _ in teams.delivered]
    assert len(staff) == len(set(staff)) == due  # nobody twice, nobody missed
    assert {st for st, _ in (await _claims(db)).values()} == {"sent"}


async def test_without_a_reconciler_in_doubt_sends_go_again_and_nothing_is_lost(services, db, school):
    await _many_outstanding(db, school, services)
    teams = FakeTeams(services.clock)
    first = _run(services, teams, owner="bot-a")
    await first.plan(services.clock())
    await _crash_after(first, teams, 5)
    leased = sum(1 for st, _ in (await _claims(db)).values() if st == "sending")
    assert leased >= 1
    other = _run(services, teams, owner="bot-b")
    await other.deliver()  # bot-a's leased rows are not taken while its lease runs
    assert len(teams.delivered) == 5
    assert sum(1 for st, _ in (await _claims(db)).values() if st == "sending") == leased
    services.clock.advance(minutes=11)
    await other.deliver()
    staff = [s for _, s, _ in teams.delivered]
    assert set(staff) == {m.id for m in school.data.staff if m.id != "owen.pryce"}  # nobody lost
    dupes = len(staff) - len(set(staff))
    assert dupes == 1  # the one Teams accepted as the process died: without a reconciler it goes again


async def test_two_instances_never_send_the_same_reminder(services, db, school):
    """Two instances (separate connection pools) plan and deliver the same round at the same moment; on
    PostgreSQL their leases are taken with SKIP LOCKED. Every reminder goes exactly once."""
    due = await _many_outstanding(db, school, services)
    other_db = await second_instance(db)
    try:
        other_services = services_for(school, other_db, services.clock)
        teams = FakeTeams(services.clock)
        a = _run(services, teams, owner="bot-a", batch=3)
        b = _run(other_services, teams, owner="bot-b", batch=3)
        await asyncio.gather(a.plan(services.clock()), b.plan(services.clock()))
        sa, sb = await asyncio.gather(a.deliver(), b.deliver())
    finally:
        await other_db.close()
    staff = [s for _, s, _ in teams.delivered]
    assert len(staff) == len(set(staff)) == due
    assert sa.sent + sb.sent == due
    if not db.is_sqlite:
        assert sa.sent and sb.sent  # both really took part (SQLite has one writer: one may take it all)


async def test_no_chat_yet_asks_for_the_app_to_be_installed_once(services, db, school):
    from bot.store.models_outbox import OutboxRow

    await _everyone_but(db, school)
    await add_refs(db, [m.id for m in school.data.staff if m.id != "kieran.nash"])
    teams = FakeTeams(services.clock, blocked={"jade.morley"})
    run = _run(services, teams)
    await run.plan(services.clock())
    await run.deliver()
    services.clock.now = at(D(2026, 12, 16), "09:00")  # point 3: still no chat for Kieran
    await run.plan(services.clock())
    await run.deliver()
    async with db.session() as s:
        rows = (await s.execute(select(OutboxRow).where(OutboxRow.kind == "apps.install"))).scalars().all()
    assert [(r.payload, r.key) for r in rows] == [({"staff_id": "kieran.nash"}, f"apps.install:kieran.nash:{AUTUMN2}")]
