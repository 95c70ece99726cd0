"""bot/store/specialist.py on SQLite and PostgreSQL: the offer a booking card carries (claimed once), the group
session it booked with its people, cancelling it, and an enrichment week's requests and session."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.store import specialist as store
from bot.store.errors import NotFound
from bot.store.models_request import BookedGroupSession, SlotOffer, SupervisionRequest
from bot.store.models_sessions import SessionInvitee
from tests.reminders.helpers import add_session

D = dt.date
NOW = dt.datetime(2026, 11, 23, 10, tzinfo=dt.timezone.utc)


async def _offer(db, nonce: str = "n" * 20) -> int:
    async with db.session() as s:
        offer = SlotOffer(
            nonce=nonce,
            purpose="group",
            bookers=["amara.okafor"],
            attendee_ids=["tom.hollis"],
            slots=[],
            minutes=60,
            setup={"kind": "emergency"},
            created_by="amara.okafor",
            created_at=NOW,
        )
        s.add(offer)
        await s.flush()
        return offer.id


def _request(
    requester: str,
    *,
    route: str = "enrichment",
    supervisor: str = "marcus.fenwick",
    at: dt.datetime = NOW,
    status: str = "submitted",
) -> SupervisionRequest:
    return SupervisionRequest(
        draft_id=f"d-{requester}-{at.timestamp()}",
        requester_id=requester,
        kind="one_to_one",
        topics=[],
        urgency="week",
        times=[],
        days=[],
        colleagues=[],
        route=route,
        status=status,
        supervisor_id=supervisor,
        created_at=at,
        updated_at=at,
    )


async def _booked(db, *, request_id: int | None = None) -> int:
    sid = await add_session(
        db,
        day=D(2026, 11, 24),
        kind="emergency",
        group_id=None,
        facilitator="amara.okafor",
        invitees=["tom.hollis", "isla.brennan"],
    )
    async with db.session() as s:
        s.add(
            BookedGroupSession(
                session_id=sid,
                offer_nonce="n" * 20,
                request_id=request_id,
                event_key=f"group-session-{sid}",
                supervisor_ids=["amara.okafor", "marcus.fenwick"],
                created_by="daniel.whitcombe",
            )
        )
    return sid


async def test_offer_by_nonce_and_claimed_once(db):
    oid = await _offer(db)
    async with db.session() as s:
        assert (await store.offer_by_nonce(s, "n" * 20)).id == oid
        with pytest.raises(NotFound):
            await store.offer_by_nonce(s, "x" * 20)
        assert await store.claim_offer(s, oid, now=NOW) is True
        assert await store.claim_offer(s, oid, now=NOW) is False
    async with db.session() as s:
        assert (await store.offer_by_nonce(s, "n" * 20)).used_at == NOW


async def test_booked_session_with_its_people(db):
    sid = await _booked(db)
    plain = await add_session(db, day=D(2026, 11, 25))  # not booked through an offer
    async with db.session() as s:
        booked = await store.booked_session(s, sid)
        assert booked.session.id == sid and booked.link.event_key == f"group-session-{sid}"
        assert booked.invitees == ["tom.hollis", "isla.brennan"]
        for who in ("daniel.whitcombe", "amara.okafor", "marcus.fenwick", "isla.brennan"):
            assert booked.involves(who), who
        assert not booked.involves("grace.mensah")
        for missing in (plain, 99999):
            with pytest.raises(NotFound):
                await store.booked_session(s, missing)


async def test_cancel_once_and_the_request_goes_back_to_allocated(db):
    async with db.session() as s:
        req = _request("tom.hollis", route="allocation", status="booked")
        other = _request("isla.brennan", route="allocation", status="closed")
        s.add_all([req, other])
        await s.flush()
        rid, other_id = req.id, other.id
    sid = await _booked(db, request_id=rid)
    async with db.session() as s:
        booked = await store.booked_session(s, sid)
        assert await store.cancel_session(s, booked.session) is True and booked.session.status == "cancelled"
        assert await store.cancel_session(s, booked.session) is False
        await store.unbook_request(s, rid, now=NOW + dt.timedelta(hours=1))
        await store.unbook_request(s, other_id, now=NOW)  # not booked: left as it is
        await store.unbook_request(s, 99999, now=NOW)  # gone: nothing to do
    async with db.session() as s:
        assert (await store.booked_session(s, sid)).session.status == "cancelled"
        req = await s.get(SupervisionRequest, rid)
        assert (req.status, req.updated_at) == ("allocated", NOW + dt.timedelta(hours=1))
        assert (await s.get(SupervisionRequest, other_id)).status == "closed"
        assert len((await s.execute(SessionInvitee.__table__.select())).all()) == 2  # invitees stay


async def test_enrichment_week_requests_and_session(db):
    start = dt.datetime(2027, 2, 8, tzinfo=dt.timezone.utc)
    end = start + dt.timedelta(days=5)
    async with db.session() as s:
        s.add_all(
            [
                _request("tom.hollis", at=start + dt.timedelta(hours=9)),
                _request("grace.mensah", at=start + dt.timedelta(days=1)),
                _request("tom.hollis", at=start + dt.timedelta(days=2)),  # asked twice: once
                _request("isla.brennan", at=end),  # after the week
                _request("nadia.farouk", at=start + dt.timedelta(hours=9), supervisor="priya.raman"),
                _request("owen.pryce", at=start + dt.timedelta(hours=9), route="allocation"),
            ]
        )
    await add_session(
        db,
        day=D(2027, 2, 11),
        kind="enrichment",
        group_id=None,
        facilitator="marcus.fenwick",
        half_term="2026-27 Spring 2",
        status="cancelled",
    )
    async with db.session() as s:
        asked = await store.enrichment_requesters(s, "marcus.fenwick", start, end)
        assert sorted(asked) == ["grace.mensah", "tom.hollis"] and len(asked) == 2
        assert await store.enrichment_session(s, "marcus.fenwick", start, end) is None  # only a cancelled one
    sid = await add_session(
        db,
        day=D(2027, 2, 12),
        kind="enrichment",
        group_id=None,
        facilitator="marcus.fenwick",
        half_term="2026-27 Spring 2",
    )
    async with db.session() as s:
        assert (await store.enrichment_session(s, "marcus.fenwick", start, end)).id == sid
        assert await store.enrichment_session(s, "priya.raman", start, end) is None
        assert await store.enrichment_session(s, "marcus.fenwick", end, end + dt.timedelta(days=7)) is None
