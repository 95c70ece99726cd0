"""The bookings store (bot/store/bookings.py), on SQLite and PostgreSQL: offers, meetings, group sessions booked
from an offer, our own bookings as busy time, and ending a supervision — with the domain errors the scheduling
journeys map to cards."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bot.domain.slots import Busy, Slot
from bot.store import bookings
from bot.store.errors import Concurrent, NotFound, OfferUsed
from bot.store.models_request import Pairing, SupervisionRequest

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone.utc)
HOUR = dt.timedelta(hours=1)


def _slot(hours_from_now: float) -> Slot:
    start = NOW + dt.timedelta(hours=hours_from_now)
    return Slot(start, start + HOUR)


async def _offer(db, *, purpose: str = "request", request_id: int | None = None, at: dt.datetime = NOW):
    async with db.session() as s:
        return await bookings.add_offer(
            s,
            purpose=purpose,
            bookers=["priya.raman"],
            attendees=["priya.raman", "tom.hollis"],
            slots=[_slot(24), _slot(26)],
            minutes=60,
            created_by="priya.raman",
            now=at,
            request_id=request_id,
        )


async def _meeting(
    db,
    slot: Slot,
    nonce: str,
    *,
    request_id: int | None = None,
    replaces_id: int | None = None,
    supervisee: str = "tom.hollis",
):
    async with db.session() as s:
        return await bookings.add_meeting(
            s,
            kind="one_to_one",
            supervisor_id="priya.raman",
            supervisee_id=supervisee,
            slot=slot,
            local_date=slot.start.date(),
            half_term="2026-27 Autumn 2",
            offer_nonce=nonce,
            booked_by="priya.raman",
            now=NOW,
            request_id=request_id,
            replaces_id=replaces_id,
        )


async def _request_row(db) -> int:
    async with db.session() as s:
        req = SupervisionRequest(
            draft_id="d" * 32,
            requester_id="tom.hollis",
            kind="one_to_one",
            topics=["other"],
            urgency="week",
            times=[],
            days=[],
            colleagues=[],
            note="A note.",
            route="allocation",
            status="allocated",
            supervisor_id="priya.raman",
            created_at=NOW,
            updated_at=NOW,
        )
        s.add(req)
        await s.flush()
        return req.id


async def test_an_offer_is_found_by_its_nonce_and_books_once(db):
    offer = await _offer(db)
    assert offer.slots == [_slot(24).start.isoformat(), _slot(26).start.isoformat()] and len(offer.nonce) >= 16
    async with db.session() as s:
        found = await bookings.offer(s, offer.nonce)
        assert found.bookers == ["priya.raman"] and found.used_at is None
        for bad in ("not-a-nonce", None, 42):
            with pytest.raises(NotFound):
                await bookings.offer(s, bad)
        await bookings.claim_offer(s, found.id, now=NOW)
    with pytest.raises(OfferUsed):
        async with db.session() as s:
            await bookings.claim_offer(s, found.id, now=NOW)


async def test_recent_offer_is_the_latest_unused_one_for_the_request(db):
    rid = await _request_row(db)
    old = await _offer(db, request_id=rid, at=NOW - dt.timedelta(minutes=30))
    newer = await _offer(db, request_id=rid, at=NOW - dt.timedelta(minutes=5))
    await _offer(db, purpose="pairing", at=NOW)
    async with db.session() as s:
        assert (await bookings.recent_offer(s, rid, since=NOW - dt.timedelta(minutes=15))).nonce == newer.nonce
        assert (await bookings.recent_offer(s, rid, since=NOW - dt.timedelta(hours=1))).nonce == newer.nonce
        await bookings.claim_offer(s, (await bookings.offer(s, newer.nonce)).id, now=NOW)
        assert (await bookings.recent_offer(s, rid, since=NOW - dt.timedelta(hours=1))).nonce == old.nonce
        assert await bookings.recent_offer(s, rid, since=NOW) is None


async def test_meetings_are_named_after_their_id_and_found_by_offer_and_request(db):
    rid = await _request_row(db)
    m = await _meeting(db, _slot(24), "n1", request_id=rid)
    assert m.event_key == f"supervision-meeting-{m.id}" and m.status == "booked"
    async with db.session() as s:
        assert (await bookings.meeting(s, m.id)).event_key == m.event_key
        for bad in (m.id + 1, None):
            with pytest.raises(NotFound):
                await bookings.meeting(s, bad)
        assert (await bookings.meeting_for_offer(s, "n1")).id == m.id
        assert await bookings.meeting_for_offer(s, "n2") is None
        assert (await bookings.latest_meeting(s, rid)).id == m.id
        bookings.mark_rearranged(await bookings.meeting(s, m.id), by="tom.hollis", now=NOW)
    moved = await _meeting(db, _slot(48), "n2", request_id=rid, replaces_id=m.id)
    async with db.session() as s:
        old = await bookings.meeting(s, m.id)
        assert (old.status, old.changed_by) == ("rearranged", "tom.hollis")
        assert (await bookings.successor(s, old)).id == moved.id
        assert await bookings.successor(s, moved) is None
        await bookings.cancel_meeting(s, await bookings.meeting(s, moved.id), by="priya.raman", now=NOW)
        assert (await bookings.latest_meeting(s, rid)).id == moved.id
        assert await bookings.latest_meeting(s, rid, booked_only=True) is None


async def test_cancelling_twice_raises_concurrent(db):
    m = await _meeting(db, _slot(24), "n1")
    async with db.session() as s:
        held = await bookings.meeting(s, m.id)
        await bookings.cancel_meeting(s, held, by="tom.hollis", now=NOW)
        assert held.status == "cancelled"
    with pytest.raises(Concurrent):
        async with db.session() as s:
            await bookings.cancel_meeting(s, await bookings.meeting(s, m.id), by="tom.hollis", now=NOW)
    async with db.session() as s:
        assert (await bookings.meeting(s, m.id)).changed_by == "tom.hollis"


async def test_upcoming_meetings_are_either_side_soonest_first_and_not_over(db):
    later = await _meeting(db, _slot(48), "n1")
    sooner = await _meeting(db, _slot(24), "n2", supervisee="grace.mensah")
    await _meeting(db, _slot(-3), "n3")  # already over
    async with db.session() as s:
        assert [m.id for m in await bookings.upcoming_meetings(s, "priya.raman", NOW)] == [sooner.id, later.id]
        assert [m.id for m in await bookings.upcoming_meetings(s, "tom.hollis", NOW)] == [later.id]
        assert await bookings.upcoming_meetings(s, "isla.brennan", NOW) == []


async def test_a_group_session_booked_from_an_offer_has_its_invitees_link_and_event(db):
    rid = await _request_row(db)
    async with db.session() as s:
        session, link = await bookings.add_group_session(
            s,
            kind="ad_hoc",
            title="Group supervision",
            slot=_slot(24),
            local_date=NOW.date(),
            half_term="2026-27 Autumn 2",
            supervisor_ids=["priya.raman", "amara.okafor"],
            invitee_ids=["amara.okafor", "tom.hollis", "isla.brennan"],
            external=False,
            offer_nonce="g1",
            created_by="priya.raman",
            now=NOW,
            request_id=rid,
        )
    assert session.facilitator_id == "priya.raman" and session.status == "scheduled"
    assert link.event_key == f"group-session-{session.id}" and link.supervisor_ids == ["priya.raman", "amara.okafor"]
    async with db.session() as s:
        assert (await bookings.group_session(s, session.id)).title == "Group supervision"
        with pytest.raises(NotFound):
            await bookings.group_session(s, session.id + 1)
        assert await bookings.invitee_count(s, session.id) == 3
        assert (await bookings.group_link_for_offer(s, "g1")).session_id == session.id
        assert await bookings.group_link_for_offer(s, "g2") is None
        assert (await bookings.latest_group_link(s, rid)).session_id == session.id
        assert await bookings.latest_group_link(s, rid + 1) is None
        # Upcoming for whoever leads it or is invited, not for anyone else
        for who in ("priya.raman", "tom.hollis", "amara.okafor"):
            assert [g.id for g in await bookings.upcoming_group_sessions(s, who, NOW)] == [session.id], who
        assert await bookings.upcoming_group_sessions(s, "grace.mensah", NOW) == []
        assert await bookings.upcoming_group_sessions(s, "tom.hollis", session.ends_at) == []


async def test_own_bookings_are_busy_for_the_people_in_them_only(db):
    m = await _meeting(db, _slot(24), "n1")
    cancelled = await _meeting(db, _slot(26), "n2")
    async with db.session() as s:
        await bookings.cancel_meeting(s, await bookings.meeting(s, cancelled.id), by="tom.hollis", now=NOW)
        session, _ = await bookings.add_group_session(
            s,
            kind="emergency",
            title="Emergency group supervision",
            slot=_slot(28),
            local_date=NOW.date(),
            half_term="2026-27 Autumn 2",
            supervisor_ids=["amara.okafor"],
            invitee_ids=["tom.hollis"],
            external=False,
            offer_nonce="g1",
            created_by="amara.okafor",
            now=NOW,
        )
    window = (NOW, NOW + dt.timedelta(days=3))
    async with db.session() as s:
        busy = await bookings.own_bookings(s, ["tom.hollis", "amara.okafor", "grace.mensah"], *window)
        assert busy == {
            "tom.hollis": [Busy(m.starts_at, m.ends_at), Busy(session.starts_at, session.ends_at)],
            "amara.okafor": [Busy(session.starts_at, session.ends_at)],
            "grace.mensah": [],
        }
        assert await bookings.own_bookings(s, ["tom.hollis"], NOW, NOW + dt.timedelta(hours=2)) == {"tom.hollis": []}


async def test_pairings_are_listed_for_their_supervisor_and_ending_one_erases_the_note(db):
    rid = await _request_row(db)
    async with db.session() as s:
        s.add_all(
            [
                Pairing(supervisee_id="tom.hollis", supervisor_id="priya.raman", request_id=rid, started_at=NOW),
                Pairing(supervisee_id="isla.brennan", supervisor_id="priya.raman", started_at=NOW - HOUR),
                Pairing(supervisee_id="grace.mensah", supervisor_id="amara.okafor", started_at=NOW),
            ]
        )
    async with db.session() as s:
        pairs = await bookings.supervisees(s, "priya.raman")
        assert [p.supervisee_id for p in pairs] == ["isla.brennan", "tom.hollis"]
        with pytest.raises(NotFound):
            await bookings.pairing(s, None)
        tom = await bookings.pairing(s, pairs[1].id)
        await bookings.end_pairing(s, tom, by="tom.hollis", now=NOW)
    async with db.session() as s:
        assert [p.supervisee_id for p in await bookings.supervisees(s, "priya.raman")] == ["isla.brennan"]
        ended = (await s.execute(select(Pairing).where(Pairing.supervisee_id == "tom.hollis"))).scalar_one()
        assert (ended.ended_at, ended.ended_by) == (NOW, "tom.hollis")
        assert (await s.get(SupervisionRequest, rid)).note is None
