"""Follow-through reminders (bot/reminders/followup.py): an overdue action reminds its owner once; an agreement
review reminds both people a month and a week ahead, once each; a pairing with no agreement is flagged to its
supervisor once; a missed entitlement goes first to the supervisor and supervisee, then to the DSL team (seed 002
"Entitlement") — however many passes, restarts or instances plan them (the claims)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter

import pytest
from sqlalchemy import select

from bot.reminders import followup
from bot.school import Role
from bot.store.models_followup import FollowUpClaim
from bot.store.models_group_record import GroupRecord, RecordAction
from bot.store.models_outbox import OutboxRow
from bot.store.models_request import Pairing
from bot.store.models_targeted import AGREED, OPEN, SupervisionAgreement, TargetedAction, TargetedRecord
from tests.reminders.helpers import add_session, at, services_for

D = dt.date
UTC = dt.timezone.utc


@pytest.fixture
def services(school, db, clock):
    return services_for(school, db, clock)


async def _seed(db) -> None:
    async with db.session() as s:
        p = Pairing(
            supervisee_id="tom.hollis", supervisor_id="priya.raman", started_at=dt.datetime(2026, 9, 1, tzinfo=UTC)
        )
        s.add(p)
        s.add(
            Pairing(
                supervisee_id="grace.mensah",
                supervisor_id="marcus.fenwick",
                started_at=dt.datetime(2026, 10, 1, tzinfo=UTC),
            )
        )
        await s.flush()
        s.add(
            SupervisionAgreement(
                nonce="n1",
                pairing_id=p.id,
                supervisor_id="priya.raman",
                supervisee_id="tom.hollis",
                agreed_on=D(2025, 12, 10),
                review_due=D(2026, 12, 10),
                frequency="six_weekly",
                minutes=60,
                status=AGREED,
                proposed_by="priya.raman",
                created_at=dt.datetime(2025, 12, 10, tzinfo=UTC),
            )
        )
        rec = TargetedRecord(
            pairing_id=p.id,
            supervisor_id="priya.raman",
            supervisee_id="tom.hollis",
            session_date=D(2026, 9, 10),
            template_id="t",
            submit_key="k1",
            file_name="f.docx",
            status="delivered",
            action_count=2,
            submitted_at=dt.datetime(2026, 9, 10, 15, tzinfo=UTC),
        )
        s.add(rec)
        await s.flush()
        for text, owner, due in (
            ("Ask for a lunchtime swap", "tom.hollis", D(2026, 11, 1)),
            ("Later", "priya.raman", D(2027, 1, 5)),
        ):
            s.add(
                TargetedAction(
                    record_id=rec.id,
                    supervisor_id="priya.raman",
                    supervisee_id="tom.hollis",
                    owner_id=owner,
                    text=text,
                    due_on=due,
                    status=OPEN,
                    created_at=rec.submitted_at,
                )
            )
    sid = await add_session(db, day=D(2026, 11, 5), status="held")
    async with db.session() as s:
        g = GroupRecord(
            session_id=sid,
            template_id="g",
            facilitator_id="amara.okafor",
            created_by="amara.okafor",
            created_at=dt.datetime(2026, 11, 5, 16, tzinfo=UTC),
        )
        s.add(g)
        await s.flush()
        s.add(
            RecordAction(
                record_id=g.id,
                text="Share the new rota",
                owner_id="isla.brennan",
                due_on=D(2026, 11, 20),
                created_by="amara.okafor",
                created_at=g.created_at,
            )
        )


async def _claims(db) -> Counter:
    async with db.session() as s:
        rows = (await s.execute(select(FollowUpClaim))).scalars().all()
    return Counter((r.kind, r.staff_id) for r in rows)


async def _notices(db) -> list[OutboxRow]:
    async with db.session() as s:
        return list((await s.execute(select(OutboxRow).where(OutboxRow.key.like("followup:%")))).scalars())


async def test_each_follow_up_is_claimed_and_queued_once(services, db, clock):
    await _seed(db)
    now = at(D(2026, 11, 23), "10:00")
    new = await followup.plan(services, now)
    expected = Counter(
        {
            ("action_overdue", "tom.hollis"): 1,  # 1:1 action due 1 Nov, his
            ("action_overdue", "isla.brennan"): 1,  # group-record action due 20 Nov
            ("review_month", "priya.raman"): 1,  # review due 10 Dec: a month ahead, both of them
            ("review_month", "tom.hollis"): 1,
            ("no_agreement", "marcus.fenwick"): 1,  # Grace's supervisor, since 1 Oct
            ("entitlement_1", "priya.raman"): 1,  # six-weekly, last session 10 Sep
            ("entitlement_1", "tom.hollis"): 1,
        }
    )
    assert await _claims(db) == expected and new == sum(expected.values())
    assert len(await _notices(db)) == new
    # The same day again, a restart, and two instances at once: nothing new.
    assert await followup.plan(services, now + dt.timedelta(hours=1)) == 0
    assert await asyncio.gather(followup.plan(services, now), followup.plan(services, now)) == [0, 0]
    assert len(await _notices(db)) == new
    # The notices carry names, dates and the action's own title; a group action says who ticks it off.
    by_key = {r.key: str(r.payload["card"]) for r in await _notices(db)}
    overdue = [c for k, c in by_key.items() if k.startswith("followup:action_overdue:targeted:")]
    assert len(overdue) == 1 and "Ask for a lunchtime swap" in overdue[0] and "Tom Hollis" not in overdue[0]
    group = [c for k, c in by_key.items() if k.startswith("followup:action_overdue:group:")]
    assert "The DSL team ticks off" in group[0]


async def test_a_week_ahead_then_the_dsl_team_when_still_missed(services, db, school):
    await _seed(db)
    await followup.plan(services, at(D(2026, 11, 23), "10:00"))
    await followup.plan(services, at(D(2026, 12, 4), "10:00"))  # review in 6 days
    claims = await _claims(db)
    assert claims[("review_week", "priya.raman")] == 1 and claims[("review_week", "tom.hollis")] == 1
    assert claims[("review_month", "priya.raman")] == 1  # not again
    assert not any(k == "entitlement_2" for k, _ in claims)
    # Still no session a further 30 school days on: the DSL team (everyone in it but the pair) is told, once.
    later = at(D(2027, 1, 20), "10:00")
    await followup.plan(services, later)
    await followup.plan(services, later)
    claims = await _claims(db)
    dsl = {m.id for m in school.with_role(Role.DSL)} - {"priya.raman", "tom.hollis"}
    assert {sid for k, sid in claims if k == "entitlement_2"} == dsl
    assert all(claims[("entitlement_2", sid)] == 1 for sid in dsl)
    assert claims[("entitlement_1", "priya.raman")] == 1  # the same episode: not told again


async def test_a_session_puts_it_right_and_done_actions_are_not_chased(services, db):
    await _seed(db)
    async with db.session() as s:
        for a in (await s.execute(select(TargetedAction))).scalars():
            a.status = "done"
        for a in (await s.execute(select(RecordAction))).scalars():
            a.status = "done"
        rec = (await s.execute(select(TargetedRecord))).scalar_one()
        rec.session_date = D(2026, 11, 16)
    await followup.plan(services, at(D(2026, 11, 23), "10:00"))
    claims = await _claims(db)
    assert not any(k in ("action_overdue", "entitlement_1") for k, _ in claims)
