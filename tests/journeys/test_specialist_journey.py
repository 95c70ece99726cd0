"""Specialist and emergency group supervision set up by the DSL team (seed 001 §3.3), and the enrichment
supervisor's end-of-week session (§3.1): everyone involved gets the booking, in their calendar and their chat."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.store.models_request import BookedGroupSession
from bot.store.models_sessions import GroupSession, SessionInvitee
from tests.journeys.test_request_kit import REQUEST_TOM, errors_on, find_action, find_input, kit, texts_of  # noqa: F401

SETUP = {
    "kind": "emergency",
    "staff": "tom.hollis,isla.brennan,nadia.farouk",
    "supervisors": "amara.okafor",
    "external": "true",
    "minutes": "60",
    "soon": "urgent",
}


def _slots(card: dict) -> list[str]:
    return [c["value"] for c in find_input(card, "slot")["choices"] if c["value"]]


async def _offer(kit, setup=None) -> dict:
    await kit.install("amara.okafor", "tom.hollis", "isla.brennan", "nadia.farouk", "marcus.fenwick")
    card = await kit.say("amara.okafor", "emergency")
    return await kit.press("amara.okafor", card, "specialist.find", setup or SETUP)


async def test_dsl_books_emergency_group_everyone_gets_it(kit):
    offer = await _offer(kit)
    assert "Book emergency group supervision" in texts_of(offer)
    slots = _slots(offer)
    assert slots
    # urgent: today or the next school day only
    days = {dt.datetime.fromisoformat(x).astimezone(kit.school.tz).date() for x in slots}
    assert days <= {dt.date(2026, 11, 23), dt.date(2026, 11, 24)}
    booked = await kit.press("amara.okafor", offer, "specialist.book", {"slot": slots[0]})
    assert "Emergency group supervision" in texts_of(booked) and "Everyone has it" in texts_of(booked)
    again = await kit.press("amara.okafor", offer, "specialist.book", {"slot": slots[-1]})  # double click
    assert "Emergency group supervision" in texts_of(again)
    await kit.deliver()
    async with kit.db.session() as s:
        [g] = (await s.execute(select(GroupSession))).scalars().all()
        invitees = {i.staff_id for i in (await s.execute(select(SessionInvitee))).scalars()}
    assert g.kind == "emergency" and g.external_support and g.facilitator_id == "amara.okafor"
    assert invitees == {"tom.hollis", "isla.brennan", "nadia.farouk"}
    for who in ("amara.okafor", "tom.hollis", "isla.brennan", "nadia.farouk"):
        events = await kit.events_for(who)
        assert len(events) == 1 and events[0].subject == "Supervision", who
    for who in ("tom.hollis", "isla.brennan", "nadia.farouk"):
        card = kit.sent_to(who)[-1]
        assert "Emergency group supervision" in texts_of(card) and "led by Amara Okafor" in texts_of(card)
        assert "specialist.cancel" not in texts_of(card)  # only the organiser can cancel


async def test_a_time_typed_in_is_checked_and_kept_when_wrong(kit):
    offer = await _offer(kit)
    bad = await kit.press("amara.okafor", offer, "specialist.book", {"slot": "", "date": "2026-11-28", "time": "10:00"})
    assert any("isn't a school day" in e for e in errors_on(bad))
    assert find_input(bad, "date")["value"] == "2026-11-28" and find_input(bad, "time")["value"] == "10:00"
    late = await kit.press("amara.okafor", bad, "specialist.book", {"slot": "", "date": "2026-11-24", "time": "16:00"})
    assert any("must fit in the school day" in e for e in errors_on(late))
    none = await kit.press("amara.okafor", bad, "specialist.book", {"slot": ""})
    assert any("Choose a time above" in e for e in errors_on(none))
    ok = await kit.press("amara.okafor", bad, "specialist.book", {"slot": "", "date": "2026-11-24", "time": "15:30"})
    assert "Booked" in texts_of(ok)
    async with kit.db.session() as s:
        g = (await s.execute(select(GroupSession))).scalar_one()
    assert g.starts_at == dt.datetime(2026, 11, 24, 15, 30, tzinfo=dt.timezone.utc)


async def test_setup_errors_keep_choices(kit):
    await kit.install("amara.okafor")
    card = await kit.say("amara.okafor", "specialist")
    bad = await kit.press(
        "amara.okafor", card, "specialist.find", dict(SETUP, staff="", supervisors="tom.hollis", minutes="600")
    )
    errs = " ".join(errors_on(bad))
    assert "Choose the staff involved" in errs and "Choose supervisors from the list" in errs
    assert "Choose a length from the list" in errs
    assert find_input(bad, "external")["value"] == "true"
    assert find_input(bad, "kind")["value"] == "emergency"


async def test_only_dsl_team_sets_up_and_only_organiser_books_or_cancels(kit, caplog):
    offer = await _offer(kit)
    assert "Only the DSL team" in texts_of(await kit.say("tom.hollis", "emergency"))
    assert "Only the DSL team" in texts_of(await kit.click("tom.hollis", "specialist.find", SETUP))
    nonce = find_action(offer, "specialist.book")["data"]["offer"]
    assert "Only the person who set" in texts_of(
        await kit.click("marcus.fenwick", "specialist.book", {"offer": nonce, "slot": _slots(offer)[0]})
    )
    await kit.press("amara.okafor", offer, "specialist.book", {"slot": _slots(offer)[0]})
    async with kit.db.session() as s:
        sid = (await s.execute(select(GroupSession.id))).scalar_one()
    assert "Only the person who booked" in texts_of(
        await kit.click("tom.hollis", "specialist.cancel", {"session_id": sid})
    )
    assert "isn't one of yours" in texts_of(await kit.click("grace.mensah", "specialist.view", {"session_id": sid}))
    view = await kit.click("tom.hollis", "specialist.view", {"session_id": sid})
    assert "Emergency group supervision" in texts_of(view)
    assert "refused specialist" in caplog.text


async def test_organiser_cancels_and_everyone_is_told(kit):
    offer = await _offer(kit)
    await kit.press("amara.okafor", offer, "specialist.book", {"slot": _slots(offer)[0]})
    await kit.deliver()
    async with kit.db.session() as s:
        sid = (await s.execute(select(GroupSession.id))).scalar_one()
    card = await kit.click("amara.okafor", "specialist.cancel", {"session_id": sid})
    assert "has been cancelled" in texts_of(card)
    await kit.deliver()
    for who in ("amara.okafor", "tom.hollis", "isla.brennan"):
        assert await kit.events_for(who) == []
    assert "Cancelled by Amara Okafor" in texts_of(kit.journey_cards("isla.brennan")[-1])


async def test_specialist_with_two_leaders_invites_the_second_leader(kit):
    offer = await _offer(
        kit, dict(SETUP, kind="specialist", supervisors="amara.okafor,marcus.fenwick", staff="tom.hollis", soon="week")
    )
    await kit.press("amara.okafor", offer, "specialist.book", {"slot": _slots(offer)[0]})
    await kit.deliver()
    async with kit.db.session() as s:
        link = (await s.execute(select(BookedGroupSession))).scalar_one()
        invitees = {i.staff_id for i in (await s.execute(select(SessionInvitee))).scalars()}
    assert link.supervisor_ids == ["amara.okafor", "marcus.fenwick"] and invitees == {"marcus.fenwick", "tom.hollis"}
    assert len(await kit.events_for("marcus.fenwick")) == 1


async def test_enrichment_supervisor_books_the_end_of_week_group_session(kit):
    kit.clock.now = dt.datetime(2027, 2, 8, 9, 0, tzinfo=dt.timezone.utc)  # Monday of enrichment week
    await kit.install("marcus.fenwick", "tom.hollis", "grace.mensah", "priya.raman")
    # Tom asks during the week: it goes to Marcus.
    form = await kit.say("tom.hollis", "request")
    await kit.press("tom.hollis", form, "request.submit", REQUEST_TOM)
    card = await kit.say("marcus.fenwick", "enrichment")
    assert "8–12 Feb 2027" in texts_of(card) and "1 person has asked" in texts_of(card)
    offer = await kit.press("marcus.fenwick", card, "enrichment.find", {"invite": "requested", "minutes": "60"})
    days = {dt.datetime.fromisoformat(x).astimezone(kit.school.tz).date() for x in _slots(offer)}
    assert days and days <= {dt.date(2027, 2, 11), dt.date(2027, 2, 12)}  # the last days of the week
    await kit.press("marcus.fenwick", offer, "specialist.book", {"slot": _slots(offer)[0]})
    await kit.deliver()
    async with kit.db.session() as s:
        g = (await s.execute(select(GroupSession))).scalar_one()
        invitees = {i.staff_id for i in (await s.execute(select(SessionInvitee))).scalars()}
    assert g.kind == "enrichment" and invitees == {"tom.hollis"}
    assert "End-of-week session booked" in texts_of(await kit.say("marcus.fenwick", "enrichment"))
    # Someone who is not this week's enrichment supervisor
    assert "aren't the enrichment supervisor" in texts_of(await kit.say("grace.mensah", "enrichment"))


async def test_enrichment_all_staff_and_manual_day_outside_week_refused(kit):
    kit.clock.now = dt.datetime(2027, 2, 8, 9, 0, tzinfo=dt.timezone.utc)
    await kit.install("marcus.fenwick")
    card = await kit.say("marcus.fenwick", "enrichment")
    nobody = await kit.press("marcus.fenwick", card, "enrichment.find", {"invite": "requested", "minutes": "60"})
    assert any("Nobody has asked" in e for e in errors_on(nobody))
    offer = await kit.press("marcus.fenwick", card, "enrichment.find", {"invite": "all", "minutes": "45"})
    out = await kit.press(
        "marcus.fenwick", offer, "specialist.book", {"slot": "", "date": "2027-02-22", "time": "10:00"}
    )
    assert any("enrichment week" in e for e in errors_on(out))
    ok = await kit.press("marcus.fenwick", offer, "specialist.book", {"slot": _slots(offer)[0]})
    assert "Booked" in texts_of(ok)
    async with kit.db.session() as s:
        n = len((await s.execute(select(SessionInvitee))).scalars().all())
    assert n == len(kit.school.staff) - 1
