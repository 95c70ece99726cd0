"""Stopping the scheduler mid-round (shutdown): it leases no more batches and starts no more sends; the sends on the
wire finish and are marked; claims leased and never sent go back to pending, so another instance sends them at
once; a claim whose send may have gone out is never handed back — it stays sending for in-doubt recovery.

Each test runs on SQLite and on PostgreSQL (the `db` fixture)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections import Counter

import pytest
from sqlalchemy import select

from bot.reminders.run import ReminderRun
from bot.reminders.scheduler import Scheduler
from bot.store.models_compliance import ReminderClaim
from tests.reminders.helpers import FakeTeams, Killed, add_refs, at, fast_sender, second_instance, services_for

D = dt.date
ON_THE_WIRE = 4  # the sender's concurrency here: at most this many sends are in flight at once


class GatedTeams(FakeTeams):
    """Teams that takes each message at once (it is in the chat) but holds its answer until the gate opens."""

    def __init__(self, clock):
        super().__init__(clock)
        self.gate = asyncio.Event()
        self.arrived = asyncio.Event()

    async def __call__(self, reference: dict, card: dict, *, text=None):
        self.delivered.append((self.clock(), self.staff_of(reference), card))
        self.arrived.set()
        await self.gate.wait()
        return f"act-{len(self.delivered)}"


def reminders_by_staff(teams: FakeTeams) -> Counter[str]:
    return Counter(s for _, s, c in teams.delivered if '"reminder-' in json.dumps(c))


@pytest.fixture
def services(school, db, clock):
    clock.now = at(D(2026, 12, 7), "09:00")  # point 10 of Autumn 2: everyone below is due a reminder
    return services_for(school, db, clock)


def _scheduler(services, teams, owner: str, **kw) -> Scheduler:
    sender = fast_sender(teams, services.clock)
    sender.concurrency = ON_THE_WIRE
    return Scheduler(services, services.clock, sender=sender, owner=owner, **kw)


async def _claims(db) -> dict[str, tuple[str, str | None]]:
    async with db.session() as s:
        rows = (await s.execute(select(ReminderClaim).where(ReminderClaim.point == 10))).scalars().all()
    return {r.staff_id: (r.status, r.lease_owner) for r in rows}


async def _on_the_wire(teams: GatedTeams, n: int = ON_THE_WIRE) -> None:
    while len(teams.delivered) < n:
        await asyncio.wait_for(teams.arrived.wait(), 20)  # generous: a loaded machine, not a timing assertion
        teams.arrived.clear()
    await asyncio.sleep(0.05)


async def test_stop_mid_round_finishes_the_sends_on_the_wire_and_hands_back_the_rest(services, db, school, caplog):
    due = [m.id for m in school.data.staff if m.id != "owen.pryce"]  # Owen is exempt
    await add_refs(db, [m.id for m in school.data.staff])
    teams = GatedTeams(services.clock)
    first = _scheduler(services, teams, "bot-a")
    first.start()
    await _on_the_wire(teams)
    with caplog.at_level(logging.INFO, logger="bot.reminders"):
        stopping = asyncio.create_task(first.shutdown(grace=30))
        await asyncio.sleep(0.05)
        teams.gate.set()  # Teams answers the ones it has
        await stopping
    on_the_wire = {s for _, s, _ in teams.delivered}
    assert len(on_the_wire) == ON_THE_WIRE  # nothing new was sent once stopping
    claims = await _claims(db)
    assert {s for s, (st, _) in claims.items() if st == "sent"} == on_the_wire
    # The rest are pending and nobody's: another instance can take them now, not after the 10-minute lease.
    assert {st for s, (st, _) in claims.items() if s not in on_the_wire} == {"pending"}
    assert {o for s, (st, o) in claims.items() if st == "pending"} == {None}
    assert f"reminder scheduler stopped: released={len(due) - ON_THE_WIRE} in_doubt=0" in caplog.text

    other_db = await second_instance(db)
    try:
        second = _scheduler(services_for(school, other_db, services.clock), teams, "bot-b")
        await second.tick(services.clock())
    finally:
        await other_db.close()
    sent = reminders_by_staff(teams)
    assert set(sent) == set(due) and max(sent.values()) == 1  # nobody lost, nobody twice


async def test_when_the_grace_runs_out_sends_on_the_wire_stay_in_doubt_and_the_rest_go_back(services, db, school):
    due = [m.id for m in school.data.staff if m.id != "owen.pryce"]
    await add_refs(db, [m.id for m in school.data.staff])
    teams = GatedTeams(services.clock)  # never answers: these sends hang past the grace
    first = _scheduler(services, teams, "bot-a")
    first.start()
    await _on_the_wire(teams)
    await first.shutdown(grace=0.2)
    on_the_wire = {s for _, s, _ in teams.delivered}
    claims = await _claims(db)
    # Teams may have them (here it does): never handed back, they wait for in-doubt recovery.
    assert {s: claims[s] for s in on_the_wire} == {s: ("sending", "bot-a") for s in on_the_wire}
    assert {claims[s] for s in claims if s not in on_the_wire} == {("pending", None)}

    teams.gate.set()

    async def reconcile(rows):
        """Reads each chat for the claim's marker, as Graph's chat messages would let us."""
        return {
            r.claim_id: any(r.marker in json.dumps(c) for _, s, c in teams.delivered if s == r.staff_id) for r in rows
        }

    other_db = await second_instance(db)
    try:
        second = _scheduler(services_for(school, other_db, services.clock), teams, "bot-b", reconcile=reconcile)
        await second.tick(services.clock())  # the handed-back ones go at once
        assert {s for s, n in reminders_by_staff(teams).items()} == set(due)
        services.clock.advance(minutes=11)  # bot-a's leases run out: in doubt, reconciled, not resent
        report = await second.tick(services.clock())
        assert report.delivery.reconciled == ON_THE_WIRE
    finally:
        await other_db.close()
    sent = reminders_by_staff(teams)
    assert set(sent) == set(due) and max(sent.values()) == 1
    assert {st for st, _ in (await _claims(db)).values()} == {"sent"}


async def test_a_claim_in_doubt_is_never_handed_back(services, db, school):
    """A restart leases its in-doubt claims again; if it cannot send them now (stopping, or the window closed) they
    stay sending — handed back as pending they would go again without the in-doubt check."""
    await add_refs(db, [m.id for m in school.data.staff])
    teams = FakeTeams(services.clock)
    crashed = ReminderRun(services, fast_sender(teams, services.clock), owner="bot-a", clock=services.clock, batch=10)
    await crashed.plan(services.clock())
    teams.kill_at = 5
    with pytest.raises(Killed):  # the process dies mid-round, as kill -9 would
        await crashed.deliver()
    teams.kill_at = None
    before = await _claims(db)
    in_doubt = {s for s, (st, _) in before.items() if st == "sending"}
    assert in_doubt and any(st == "pending" for st, _ in before.values())

    restarted = ReminderRun(services, fast_sender(teams, services.clock), owner="bot-a", clock=services.clock)
    restarted.sender.may_send = lambda: False  # it cannot send just now
    stats = await restarted.deliver(recover_own=True)
    assert stats.in_doubt == len(in_doubt) and len(teams.delivered) == 5
    after = await _claims(db)
    assert {s for s, (st, _) in after.items() if st == "sending"} == in_doubt
    assert {after[s] for s in after if before[s][0] == "pending"} == {("pending", None)}  # went back as before


async def test_a_stopped_run_leases_nothing(services, db, school):
    await add_refs(db, [m.id for m in school.data.staff])
    teams = FakeTeams(services.clock)
    run = ReminderRun(services, fast_sender(teams, services.clock), owner="bot-a", clock=services.clock)
    await run.plan(services.clock())
    run.stop()
    await run.deliver()
    assert teams.delivered == [] and {st for st, _ in (await _claims(db)).values()} == {"pending"}
