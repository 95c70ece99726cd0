"""Requests and bookings in the audit trail (issue 12), through the real app on SQLite and PostgreSQL: a request
submitted, allocated and withdrawn, a 1:1 session booked, moved and cancelled, each one row of ids and action
names written in the turn's own transaction (a booking that fails leaves neither the meeting nor its row)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.journeys import scheduling
from bot.store.models_audit import AuditEvent
from bot.store.models_request import Meeting, SupervisionRequest
from tests.journeys.test_request_kit import REQUEST_TOM, find_input, kit, texts_of, tom_requests  # noqa: F401

TOM, DANIEL, PRIYA, DSL = "tom.hollis", "daniel.whitcombe", "priya.raman", "amara.okafor"


async def _rows(db) -> list[tuple]:
    async with db.session() as s:
        events = (await s.execute(select(AuditEvent).order_by(AuditEvent.id))).scalars()
        return [(e.actor_id, e.action, e.object_kind, e.object_id) for e in events]


def _slots(card: dict) -> list[str]:
    return [c["value"] for c in find_input(card, "slot")["choices"]]


async def _allocated(kit) -> tuple[int, dict]:  # noqa: F811
    await kit.install(TOM, DANIEL, "helen.ashdown", PRIYA, DSL)
    await tom_requests(kit)
    await kit.deliver()
    await kit.press(DANIEL, await kit.open_latest(DANIEL), "request.allocate")
    await kit.deliver()
    async with kit.db.session() as s:
        rid = (await s.execute(select(SupervisionRequest.id))).scalar_one()
    return rid, await kit.click(PRIYA, "schedule.offer", {"request_id": rid})


async def test_request_and_booking_lifecycle_is_audited_with_ids_only(kit):  # noqa: F811
    rid, offer = await _allocated(kit)
    await kit.press(PRIYA, offer, "schedule.book", {"slot": _slots(offer)[0]})
    async with kit.db.session() as s:
        first = (await s.execute(select(Meeting.id))).scalar_one()
    move = await kit.click(TOM, "meeting.rearrange", {"meeting_id": first})
    await kit.press(TOM, move, "schedule.book", {"slot": _slots(move)[0]})
    async with kit.db.session() as s:
        second = (await s.execute(select(Meeting.id).where(Meeting.id != first))).scalar_one()
    await kit.click(TOM, "meeting.cancel", {"meeting_id": second})
    await kit.click(TOM, "meeting.cancel", {"meeting_id": second})  # a double click cancels (and audits) once
    await kit.click(TOM, "request.withdraw", {"request_id": rid})

    rows = await _rows(kit.db)
    assert rows == [
        (TOM, "submitted", "request", str(rid)),
        (DANIEL, "allocated", "request", str(rid)),
        (PRIYA, "booked", "meeting", str(first)),
        (TOM, "booked", "meeting", str(second)),
        (TOM, "moved", "meeting", str(first)),
        (TOM, "cancelled", "meeting", str(second)),
        (TOM, "withdrawn", "request", str(rid)),
    ]
    stored = " ".join(str(v) for r in rows for v in r)
    assert REQUEST_TOM["note"] not in stored and "Tom Hollis" not in stored

    # The DSL reads it as a trail: names from the roster, the request's story in order (newest first).
    card = await kit.click(DSL, "audit.show", {"audit_kind": "request", "audit_id": str(rid)})
    shown = texts_of(card)
    for line in (
        "Tom Hollis submitted supervision request",
        "Daniel Whitcombe allocated supervision request",
        "Tom Hollis withdrawn supervision request",
    ):
        assert line in shown
    card = await kit.click(DSL, "audit.show", {"audit_kind": "meeting", "audit_id": str(first)})
    assert "Priya Raman booked 1:1 session" in texts_of(card) and "Tom Hollis moved 1:1 session" in texts_of(card)


async def test_a_request_routed_to_the_current_supervisor_is_allocated_by_the_bot(kit):  # noqa: F811
    await kit.install(TOM, PRIYA, DSL)
    # Tom keeps his current supervisor: the school's rules allocate without an allocator.
    from bot.store.models_request import Pairing

    async with kit.db.session() as s:
        s.add(Pairing(supervisee_id=TOM, supervisor_id=PRIYA, started_at=kit.clock()))
    await tom_requests(kit, dict(REQUEST_TOM, preferred="continue"))
    rows = await _rows(kit.db)
    rid = rows[0][3]
    assert rows == [(TOM, "submitted", "request", rid), (None, "allocated", "request", rid)]
    card = await kit.click(DSL, "audit.show", {"audit_kind": "request", "audit_id": rid})
    assert "the bot allocated supervision request" in texts_of(card)


async def test_a_booking_that_fails_leaves_neither_the_meeting_nor_its_audit_row(kit, monkeypatch):  # noqa: F811
    rid, offer = await _allocated(kit)
    before = await _rows(kit.db)

    class Late(Exception):
        pass

    real = scheduling.effects.add

    async def fail(s, *effects_, now):
        if any(e.kind == "calendar.create" for e in effects_):
            raise Late
        return await real(s, *effects_, now=now)

    monkeypatch.setattr(scheduling.effects, "add", fail)
    with pytest.raises(AssertionError):  # the turn fails (500), nothing is kept
        await kit.press(PRIYA, offer, "schedule.book", {"slot": _slots(offer)[0]})
    async with kit.db.session() as s:
        assert (await s.execute(select(Meeting.id))).first() is None
    assert await _rows(kit.db) == before
