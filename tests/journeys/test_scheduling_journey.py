"""Booking, rearranging and cancelling supervision over HTTP (both store backends): only the allocated supervisor
books, a double click books once, a stale time is re-checked, a cancellation asks for an alternative (seed 003)
and the other person is told; calendars come from the Microsoft 365 port plus the bot's own undelivered bookings."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.domain.slots import Busy, BusyStatus
from bot.store.models_request import Meeting, SlotOffer, SupervisionRequest
from tests.journeys.test_request_kit import REQUEST_TOM, errors_on, find_action, find_input, kit, texts_of, tom_requests  # noqa: F401

REQUEST_TOM_ANY = dict(REQUEST_TOM, times="any", urgency="routine")


async def _allocated(kit) -> tuple[int, dict]:
    """Tom asks, Daniel allocates Priya; returns (request id, Priya's times card)."""
    await kit.install("tom.hollis", "daniel.whitcombe", "helen.ashdown", "priya.raman")
    await tom_requests(kit)
    await kit.deliver()
    await kit.press("daniel.whitcombe", await kit.open_latest("daniel.whitcombe"), "request.allocate")
    await kit.deliver()
    async with kit.db.session() as s:
        rid = (await s.execute(select(SupervisionRequest.id))).scalar_one()
    offer = await kit.click("priya.raman", "schedule.offer", {"request_id": rid})
    return rid, offer


def _slots(card: dict) -> list[str]:
    return [c["value"] for c in find_input(card, "slot")["choices"]]


async def _booked(kit) -> tuple[int, Meeting, dict]:
    rid, offer = await _allocated(kit)
    card = await kit.press("priya.raman", offer, "schedule.book", {"slot": _slots(offer)[0]})
    await kit.deliver()
    async with kit.db.session() as s:
        m = (await s.execute(select(Meeting))).scalar_one()
    return rid, m, card


async def test_double_click_on_book_books_once(kit):
    rid, offer = await _allocated(kit)
    slot = _slots(offer)[0]
    first = await kit.press("priya.raman", offer, "schedule.book", {"slot": slot})
    second = await kit.press("priya.raman", offer, "schedule.book", {"slot": _slots(offer)[1]})
    assert first["body"][0]["text"] == second["body"][0]["text"] == "Supervision booked"
    async with kit.db.session() as s:
        assert len((await s.execute(select(Meeting))).scalars().all()) == 1
    assert len(await kit.outbox("calendar.create")) == 1
    await kit.deliver()
    assert len(await kit.events_for("tom.hollis")) == 1


async def test_only_the_allocated_supervisor_books_and_only_offered_times(kit, caplog):
    rid, offer = await _allocated(kit)
    nonce = find_action(offer, "schedule.book")["data"]["offer"]
    # Another supervisor replaying the offer
    assert "offered to someone else" in texts_of(
        await kit.click("amara.okafor", "schedule.book", {"offer": nonce, "slot": _slots(offer)[0]})
    )
    # The supervisee trying to book the supervisor's offer
    assert "offered to someone else" in texts_of(
        await kit.click("tom.hollis", "schedule.book", {"offer": nonce, "slot": _slots(offer)[0]})
    )
    # A time edited into the payload (Saturday 03:00) is not booked: the offer comes back with the error
    card = await kit.click("priya.raman", "schedule.book", {"offer": nonce, "slot": "2026-11-28T03:00:00+00:00"})
    assert any("Choose one of the times offered" in e for e in errors_on(card))
    assert _slots(card) == _slots(offer)
    async with kit.db.session() as s:
        assert not (await s.execute(select(Meeting))).scalars().all()
    assert "refused schedule.book" in caplog.text


async def test_a_time_taken_meanwhile_is_rechecked_and_fresh_times_offered(kit):
    rid, offer = await _allocated(kit)
    slot = _slots(offer)[0]
    start = dt.datetime.fromisoformat(slot)

    # Tom's calendar fills up after the card was shown (a meeting booked elsewhere).
    async def lookup(ids, a, b):
        return {i: ([Busy(start, start + dt.timedelta(hours=1))] if i == "tom.hollis" else []) for i in ids}

    kit.services.busy_lookup = lookup
    card = await kit.press("priya.raman", offer, "schedule.book", {"slot": slot})
    assert "just been taken" in texts_of(card)
    assert slot not in _slots(card)
    async with kit.db.session() as s:
        assert not (await s.execute(select(Meeting))).scalars().all()


async def test_busy_tentative_and_all_day_entries_are_never_offered(kit):
    await kit.install("tom.hollis", "daniel.whitcombe", "priya.raman")
    tz = kit.school.tz
    tue = dt.date(2026, 11, 24)
    wed = dt.date(2026, 11, 25)

    def at(day, h, m=0):
        return dt.datetime.combine(day, dt.time(h, m), tzinfo=tz)

    async def lookup(ids, a, b):
        return {
            "priya.raman": [
                Busy(at(tue, 13, 30), at(tue, 16, 30)),  # busy all afternoon
                Busy(at(wed, 0), at(wed + dt.timedelta(days=1), 0), all_day=True),
            ],  # away all Wed
            "tom.hollis": [
                Busy(at(dt.date(2026, 11, 26), 13, 0), at(dt.date(2026, 11, 26), 17, 0), BusyStatus.TENTATIVE),
                # written in New York time: 08:30–11:30 there is 13:30–16:30 in London
                Busy(
                    dt.datetime(2026, 11, 27, 8, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
                    dt.datetime(2026, 11, 27, 11, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
                ),
            ],
        }

    kit.services.busy_lookup = lookup
    await tom_requests(kit)
    await kit.deliver()
    await kit.press("daniel.whitcombe", await kit.open_latest("daniel.whitcombe"), "request.allocate")
    async with kit.db.session() as s:
        rid = (await s.execute(select(SupervisionRequest.id))).scalar_one()
    offer = await kit.click("priya.raman", "schedule.offer", {"request_id": rid})
    starts = [dt.datetime.fromisoformat(x).astimezone(tz) for x in _slots(offer)]
    assert len(starts) >= 3
    latest_end = {
        tue: dt.time(13, 30),  # busy from 13:30
        dt.date(2026, 11, 26): dt.time(13, 0),  # tentative from 13:00 blocks
        dt.date(2026, 11, 27): dt.time(13, 30),
    }  # the New York entry is 13:30 London
    for st in starts:
        assert st.date() != wed, "all-day away"
        if st.date() in latest_end:
            assert (st + dt.timedelta(hours=1)).time() <= latest_end[st.date()], st


async def test_calendars_unreadable_still_offers_times_and_says_so(kit):
    async def broken(ids, a, b):
        raise TimeoutError("graph down")

    rid, _ = await _allocated(kit)
    kit.services.busy_lookup = broken
    card = await kit.click(
        "priya.raman",
        "schedule.offer",
        {"request_id": rid, "after": (kit.clock.now + dt.timedelta(days=1)).isoformat()},
    )
    assert "couldn't read everyone's calendar" in texts_of(card)
    assert _slots(card)


async def test_booked_time_is_busy_before_and_after_the_outbox_delivers(kit):
    rid, m, _ = await _booked(kit)
    # A pairing follow-up offer for the same two people never proposes the booked hour.
    async with kit.db.session() as s:
        from bot.store.models_request import Pairing

        pid = (await s.execute(select(Pairing.id))).scalar_one()
    card = await kit.click("priya.raman", "schedule.pairing_offer", {"pairing_id": pid})
    for iso in _slots(card):
        st = dt.datetime.fromisoformat(iso)
        assert st >= m.ends_at or st + dt.timedelta(hours=1) <= m.starts_at


async def test_rearrange_moves_the_event_and_tells_the_other_person(kit):
    rid, m, _ = await _booked(kit)
    kit.connector.clear()
    offer = await kit.click("tom.hollis", "meeting.rearrange", {"meeting_id": m.id})
    assert "Move supervision on" in texts_of(offer)
    new_slot = _slots(offer)[0]
    assert new_slot != m.starts_at.isoformat()
    moved = await kit.press("tom.hollis", offer, "schedule.book", {"slot": new_slot})
    assert "Supervision booked" in texts_of(moved) and "Priya Raman" in texts_of(moved)
    await kit.deliver()
    async with kit.db.session() as s:
        rows = (await s.execute(select(Meeting).order_by(Meeting.id))).scalars().all()
    assert [r.status for r in rows] == ["rearranged", "booked"] and rows[1].replaces_id == rows[0].id
    for who in ("priya.raman", "tom.hollis"):
        events = await kit.events_for(who)
        assert [e.start for e in events] == [dt.datetime.fromisoformat(new_slot)]
    assert any("Tom Hollis moved your supervision" in texts_of(c) for c in kit.sent_to("priya.raman"))
    old = await kit.click("priya.raman", "meeting.view", {"meeting_id": rows[0].id})
    assert "Supervision moved" in texts_of(old) and "meeting.cancel_start" not in texts_of(old)


async def test_cancel_asks_for_an_alternative_first(kit):
    rid, m, _ = await _booked(kit)
    card = await kit.click("tom.hollis", "meeting.cancel_start", {"meeting_id": m.id})
    text = texts_of(card)
    assert "Cancel supervision on" in text and "agree a new date at the same time" in text
    find_action(card, "schedule.book")  # pick a new time …
    find_action(card, "meeting.cancel")  # … or cancel without one
    find_action(card, "meeting.view")  # … or keep it
    new_slot = _slots(card)[1]
    moved = await kit.press("tom.hollis", card, "schedule.book", {"slot": new_slot})
    assert "Supervision booked" in texts_of(moved)
    await kit.deliver()
    assert [e.start for e in await kit.events_for("priya.raman")] == [dt.datetime.fromisoformat(new_slot)]


async def test_cancel_without_a_new_time_reopens_scheduling_and_tells_the_supervisor(kit):
    rid, m, _ = await _booked(kit)
    kit.connector.clear()
    card = await kit.click("tom.hollis", "meeting.cancel", {"meeting_id": m.id})
    assert card["body"][0]["text"] == "Supervision cancelled"
    again = await kit.click("tom.hollis", "meeting.cancel", {"meeting_id": m.id})  # double click
    assert again["body"][0]["text"] == "Supervision cancelled"
    await kit.deliver()
    assert await kit.events_for("tom.hollis") == [] and await kit.events_for("priya.raman") == []
    assert len(await kit.outbox("calendar.cancel")) == 1
    priya = kit.sent_to("priya.raman")
    assert any("Tom Hollis cancelled your supervision" in texts_of(c) for c in priya)
    assert any("New supervision: Tom Hollis" in texts_of(c) for c in priya)  # propose a new time
    async with kit.db.session() as s:
        assert (await s.execute(select(SupervisionRequest))).scalar_one().status == "allocated"
    status = await kit.click("tom.hollis", "request.status", {"request_id": rid})
    assert "Supervisor allocated" in texts_of(status)
    offer = await kit.click("priya.raman", "schedule.offer", {"request_id": rid})
    assert _slots(offer)


async def test_supervisor_cancelling_gets_a_way_to_propose_again(kit):
    rid, m, _ = await _booked(kit)
    card = await kit.click("priya.raman", "meeting.cancel", {"meeting_id": m.id})
    find_action(card, "schedule.offer")
    refreshed = await kit.click("priya.raman", "meeting.view", {"meeting_id": m.id})
    find_action(refreshed, "schedule.offer")
    await kit.deliver()
    assert any("will be proposed to you" in texts_of(c) for c in kit.sent_to("tom.hollis"))


async def test_only_the_two_people_can_change_a_meeting(kit, caplog):
    rid, m, _ = await _booked(kit)
    for verb in ("meeting.view", "meeting.rearrange", "meeting.cancel_start", "meeting.cancel"):
        assert "isn't one of yours" in texts_of(await kit.click("grace.mensah", verb, {"meeting_id": m.id}))
    assert "isn't one of yours" in texts_of(await kit.click("tom.hollis", "meeting.cancel", {"meeting_id": "x; drop"}))
    async with kit.db.session() as s:
        assert (await s.get(Meeting, m.id)).status == "booked"


async def test_past_meetings_cannot_be_changed(kit):
    rid, m, _ = await _booked(kit)
    kit.clock.now = m.ends_at + dt.timedelta(minutes=1)
    card = await kit.click("tom.hollis", "meeting.rearrange", {"meeting_id": m.id})
    assert "can no longer be changed" in texts_of(card)
    card = await kit.click("tom.hollis", "meeting.cancel", {"meeting_id": m.id})
    async with kit.db.session() as s:
        assert (await s.get(Meeting, m.id)).status == "booked"


async def test_my_supervision_lists_sessions_and_supervisees(kit):
    rid, m, _ = await _booked(kit)
    mine = await kit.say("tom.hollis", "sessions")
    assert "Your supervisor: **Priya Raman**" in texts_of(mine)
    find_action(mine, "meeting.rearrange")
    theirs = await kit.say("priya.raman", "sessions")
    assert "People you supervise" in texts_of(theirs) and "Tom Hollis" in texts_of(theirs)
    pid = find_action(theirs, "schedule.pairing_offer")["data"]["pairing_id"]
    confirm = await kit.click("priya.raman", "schedule.pairing_end", {"pairing_id": pid})
    assert "End this supervision?" in texts_of(confirm)
    done = await kit.press("priya.raman", confirm, "schedule.pairing_end")
    assert "Supervision ended." in texts_of(done)
    await kit.deliver()
    assert any("Supervision ended" in texts_of(c) for c in kit.sent_to("tom.hollis"))
    async with kit.db.session() as s:
        assert (await s.execute(select(SupervisionRequest))).scalar_one().note is None  # note forgotten
    assert "Nobody at the moment" in texts_of(await kit.say("priya.raman", "sessions"))
    assert "isn't yours" in texts_of(await kit.click("grace.mensah", "schedule.pairing_end", {"pairing_id": pid}))


async def test_stale_offer_reuse_and_show_later_times(kit):
    rid, offer = await _allocated(kit)
    again = await kit.click("priya.raman", "schedule.offer", {"request_id": rid})  # a refresh
    assert _slots(again) == _slots(offer)
    async with kit.db.session() as s:
        assert len((await s.execute(select(SlotOffer))).scalars().all()) == 1  # no new row per view
    later = await kit.press("priya.raman", offer, "schedule.offer")
    assert min(_slots(later)) > max(_slots(offer)) or set(_slots(later)) != set(_slots(offer))


async def test_offers_across_the_clock_change_keep_school_wall_clock_times(kit):
    # Thursday 22 Oct 2026, 09:00 UTC = 10:00 BST; the clocks go back on Sunday 25 Oct, in half term.
    kit.clock.now = dt.datetime(2026, 10, 22, 9, 0, tzinfo=dt.timezone.utc)
    await kit.install("tom.hollis", "daniel.whitcombe", "priya.raman")
    await tom_requests(kit, dict(REQUEST_TOM_ANY))
    await kit.deliver()
    await kit.press("daniel.whitcombe", await kit.open_latest("daniel.whitcombe"), "request.allocate")
    async with kit.db.session() as s:
        rid = (await s.execute(select(SupervisionRequest.id))).scalar_one()
    offer = await kit.click("priya.raman", "schedule.offer", {"request_id": rid})
    later = await kit.press("priya.raman", offer, "schedule.offer")
    starts = [dt.datetime.fromisoformat(x) for x in _slots(offer) + _slots(later)]
    tz = kit.school.tz
    offsets = {s.astimezone(tz).utcoffset() for s in starts}
    assert offsets == {dt.timedelta(hours=1), dt.timedelta(0)}, "offers on both sides of the change"
    for st in starts:
        local = st.astimezone(tz)
        assert local.date() not in {dt.date(2026, 10, d) for d in range(24, 32)}, "half term"
        assert dt.time(8, 30) <= local.time() and (local + dt.timedelta(hours=1)).time() <= dt.time(16, 30)
        assert local.minute in (0, 30)
    labels = [c["title"] for c in find_input(later, "slot")["choices"]]
    assert all(lbl.split(", ")[1][:5] in {f"{h:02d}:{m:02d}" for h in range(8, 16) for m in (0, 30)} for lbl in labels)


async def test_free_busy_is_asked_in_batches_of_twenty(kit):
    asked: list[int] = []

    async def lookup(ids, a, b):
        asked.append(len(ids))
        return {i: [] for i in ids}

    kit.services.busy_lookup = lookup
    await kit.install("amara.okafor")
    staff = [m.id for m in kit.school.staff.values() if m.id != "amara.okafor"][:25]
    card = await kit.say("amara.okafor", "specialist")
    offer = await kit.press(
        "amara.okafor",
        card,
        "specialist.find",
        {"kind": "emergency", "staff": ",".join(staff), "supervisors": "amara.okafor", "minutes": "60", "soon": "week"},
    )
    assert "Book emergency group supervision" in texts_of(offer)
    assert asked == [20, 6]
