"""The supervision-request store (bot/store/requests.py), on SQLite and PostgreSQL: every function, and the domain
errors the request journey maps to cards."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import select

from bot.domain.allocation import Supervisor
from bot.domain.request_rules import RequestForm, Route
from bot.store import requests as store
from bot.store.errors import AlreadySent, Concurrent, NotFound, OverCapacity
from bot.store.models import SentCard
from bot.store.models_request import Meeting, Pairing, PoolMember, SupervisionRequest

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone.utc)
FORM = RequestForm(
    kind="one_to_one",
    preferred_id="priya.raman",
    continue_current=False,
    topics=("wellbeing",),
    urgency="week",
    times=("afternoon",),
    days=(),
    note="A short note.",
)
PRIYA = Supervisor("priya.raman", capacity=2, name="Priya Raman")


def _key(n: int) -> str:
    return f"{n:032x}"


async def _request(
    db,
    n: int = 1,
    *,
    requester: str = "tom.hollis",
    form: RequestForm = FORM,
    route: Route = Route.ALLOCATION,
    at: dt.datetime = NOW,
) -> int:
    async with db.session() as s:
        return (await store.add(s, draft_id=_key(n), requester_id=requester, form=form, route=route, now=at)).id


async def _pair(db, supervisee: str, supervisor: str = "priya.raman", request_id: int | None = None) -> int:
    async with db.session() as s:
        p = Pairing(supervisee_id=supervisee, supervisor_id=supervisor, request_id=request_id, started_at=NOW)
        s.add(p)
        await s.flush()
        return p.id


async def _active(db, supervisee: str) -> dict[str, dt.datetime | None]:
    async with db.session() as s:
        rows = (await s.execute(select(Pairing).where(Pairing.supervisee_id == supervisee))).scalars()
        return {p.supervisor_id: p.ended_at for p in rows}


async def test_add_stores_the_form_and_a_second_submit_raises_already_sent(db):
    rid = await _request(db)
    async with db.session() as s:
        req = await store.get(s, rid)
        assert (req.status, req.route, req.topics, req.note) == (
            "submitted",
            "allocation",
            ["wellbeing"],
            "A short note.",
        )
        assert (await store.by_draft(s, _key(1))).id == rid
        assert await store.by_draft(s, _key(2)) is None
    with pytest.raises(AlreadySent):
        await _request(db)
    async with db.session() as s:
        assert len((await s.execute(select(SupervisionRequest))).scalars().all()) == 1


async def test_get_raises_not_found_and_fresh_rereads_a_held_row(db):
    rid = await _request(db)
    async with db.session() as s:
        with pytest.raises(NotFound):
            await store.get(s, rid + 1)
        with pytest.raises(NotFound):
            await store.get(s, None)
        held = await store.get(s, rid)
        async with db.session() as other:
            (await store.get(other, rid)).urgency = "urgent"
        assert (await store.get(s, rid)).urgency == "week"  # the session's own copy
        assert (await store.get(s, rid, fresh=True)).urgency == "urgent" == held.urgency


async def test_waiting_is_urgent_first_then_oldest_and_open_and_latest_are_per_person(db):
    a = await _request(db, 1, at=NOW)
    b = await _request(
        db,
        2,
        requester="grace.mensah",
        form=dataclasses.replace(FORM, urgency="urgent"),
        at=NOW + dt.timedelta(minutes=5),
    )
    c = await _request(db, 3, requester="isla.brennan", at=NOW - dt.timedelta(minutes=5))
    async with db.session() as s:
        (await store.get(s, c)).status = "withdrawn"
    d = await _request(db, 4, at=NOW + dt.timedelta(minutes=9))
    async with db.session() as s:
        assert [r.id for r in await store.waiting(s)] == [b, a, d]
        assert sorted(r.id for r in await store.open_for(s, "tom.hollis")) == [a, d]
        assert await store.open_for(s, "isla.brennan") == []
        assert (await store.latest_by(s, "tom.hollis")).id == d
        assert await store.latest_by(s, "nadia.farouk") is None


async def test_assign_one_to_one_replaces_the_previous_supervisor(db):
    await _pair(db, "tom.hollis", "amara.okafor")
    rid = await _request(db)
    async with db.session() as s:
        req = await store.get(s, rid)
        await store.assign(s, req, "priya.raman", by="daniel.whitcombe", now=NOW)
        assert (req.status, req.supervisor_id, req.allocated_by) == ("allocated", "priya.raman", "daniel.whitcombe")
    rows = await _active(db, "tom.hollis")
    assert rows["amara.okafor"] == NOW and rows["priya.raman"] is None
    async with db.session() as s:
        assert (await store.pairing_between(s, "tom.hollis", "priya.raman")).request_id == rid
        assert await store.pairing_between(s, "tom.hollis", "amara.okafor") is None


async def test_assign_keeps_a_continuing_pairing_and_specialist_support_sits_alongside(db):
    await _pair(db, "tom.hollis", "priya.raman")
    rid = await _request(db, 1, route=Route.CONTINUE)
    spec = await _request(db, 2, form=dataclasses.replace(FORM, kind="specialist"))
    async with db.session() as s:
        await store.assign(s, await store.get(s, rid), "priya.raman", by=None, now=NOW)
        await store.assign(s, await store.get(s, spec), "marcus.fenwick", by="daniel.whitcombe", now=NOW)
    assert await _active(db, "tom.hollis") == {"priya.raman": None, "marcus.fenwick": None}


async def test_assign_makes_no_pairing_for_enrichment_or_group_requests(db):
    week = await _request(db, 1, route=Route.ENRICHMENT)
    group = await _request(db, 2, form=dataclasses.replace(FORM, kind="group"))
    async with db.session() as s:
        await store.assign(s, await store.get(s, week), "marcus.fenwick", by=None, now=NOW)
        await store.assign(s, await store.get(s, group), "priya.raman", by="daniel.whitcombe", now=NOW)
        assert (await store.get(s, group)).status == "allocated"
    assert await _active(db, "tom.hollis") == {}


async def test_allocate_records_the_choice_and_what_was_suggested(db):
    rid = await _request(db)
    async with db.session() as s:
        req = await store.allocate(
            s, rid, PRIYA, by="daniel.whitcombe", now=NOW, suggested_id="amara.okafor", already_supervises=False
        )
        assert (req.status, req.supervisor_id, req.suggested_id) == ("allocated", "priya.raman", "amara.okafor")
    with pytest.raises(Concurrent):  # a second allocator, or a double click
        async with db.session() as s:
            await store.allocate(
                s, rid, PRIYA, by="helen.ashdown", now=NOW, suggested_id=None, already_supervises=False
            )
    async with db.session() as s:
        assert (await store.get(s, rid)).allocated_by == "daniel.whitcombe"


async def test_allocate_rechecks_capacity_inside_the_write(db):
    """The allocator's card was checked with one place left; another allocation filled it before this write."""
    async with db.session() as s:
        s.add(
            PoolMember(
                staff_id="priya.raman", trained_on=dt.date(2025, 9, 1), capacity=2, changed_by="t", changed_at=NOW
            )
        )
    await _pair(db, "isla.brennan")
    rid = await _request(db)
    async with db.session() as s:
        assert (await store.caseloads(s)) == {"priya.raman": 1}  # room, as the card said
        await _pair(db, "megan.tranter")  # committed by someone else meanwhile
        with pytest.raises(OverCapacity) as err:
            await store.allocate(
                s, rid, PRIYA, by="daniel.whitcombe", now=NOW, suggested_id=None, already_supervises=False
            )
        assert "at capacity (2 of 2)" in str(err.value)
    async with db.session() as s:
        assert (await store.get(s, rid)).status == "submitted"
    assert "priya.raman" not in await _active(db, "tom.hollis")


async def test_allocate_to_someone_who_already_supervises_them_adds_nobody(db):
    await _pair(db, "isla.brennan")
    await _pair(db, "tom.hollis")  # Priya is full, and already Tom's supervisor
    rid = await _request(db)
    async with db.session() as s:
        await store.allocate(s, rid, PRIYA, by="daniel.whitcombe", now=NOW, suggested_id=None, already_supervises=True)
        assert await store.caseloads(s) == {"priya.raman": 2}


async def test_withdraw_erases_the_note_and_ends_a_pairing_with_nothing_booked(db):
    rid = await _request(db)
    async with db.session() as s:
        await store.assign(s, await store.get(s, rid), "priya.raman", by="daniel.whitcombe", now=NOW)
    async with db.session() as s:
        req = await store.get(s, rid)
        await store.withdraw(s, req, now=NOW)
        assert (req.status, req.note) == ("withdrawn", None)
    assert await _active(db, "tom.hollis") == {"priya.raman": NOW}
    with pytest.raises(Concurrent):
        async with db.session() as s:
            await store.withdraw(s, await store.get(s, rid), now=NOW)


async def test_withdraw_keeps_a_pairing_that_has_had_a_meeting(db):
    rid = await _request(db)
    async with db.session() as s:
        await store.assign(s, await store.get(s, rid), "priya.raman", by="daniel.whitcombe", now=NOW)
    async with db.session() as s:
        pid = (await store.pairing_between(s, "tom.hollis", "priya.raman")).id
        s.add(
            Meeting(
                kind="one_to_one",
                pairing_id=pid,
                supervisor_id="priya.raman",
                supervisee_id="tom.hollis",
                starts_at=NOW,
                ends_at=NOW + dt.timedelta(hours=1),
                local_date=NOW.date(),
                half_term="x",
                status="cancelled",
                event_key="e1",
                offer_nonce="n1",
                booked_by="priya.raman",
                booked_at=NOW,
            )
        )
    async with db.session() as s:
        await store.withdraw(s, await store.get(s, rid), now=NOW)
    assert await _active(db, "tom.hollis") == {"priya.raman": None}


async def test_booked_and_reopened_and_the_status_card_is_remembered(db):
    rid = await _request(db)
    async with db.session() as s:
        req = await store.get(s, rid)
        store.mark_booked(req, now=NOW + dt.timedelta(hours=1))
        assert (req.status, req.updated_at) == ("booked", NOW + dt.timedelta(hours=1))
        store.reopen(req, now=NOW + dt.timedelta(hours=2))
        store.remember_status_card(s, req, activity_id="act-1", conversation_id="a:tom", now=NOW)
    async with db.session() as s:
        assert (await store.get(s, rid)).status == "allocated"
        card = (await s.execute(select(SentCard))).scalar_one()
    assert (card.staff_id, card.ref, card.activity_id) == ("tom.hollis", store.status_ref(rid), "act-1")
    assert store.status_ref(rid) == f"request:{rid}:status"
