"""Moving and cancelling booked group sessions like 1:1s (seed 003 Appendix 1 §4; seed 001 §3.1 and §3.3): the
DSL team, the facilitator or the booker may change one; every invitee is told; the calendar event moves or goes
in every calendar (both Microsoft 365 backends); the facilitator's "time to record" prompt follows the session."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bot.store.models_audit import AuditEvent
from bot.store.models_outbox import OutboxRow
from bot.store.models_sessions import GroupSession
from tests.journeys.test_request_kit import errors_on, find_action, find_input, kit, texts_of  # noqa: F401

UTC = dt.timezone.utc
WILLOW = ["isla.brennan", "nadia.farouk", "samuel.kerr", "tom.hollis", "yasmin.shah"]
GOOD = {
    "sched_group": "willow",
    "sched_date": "2026-11-25",
    "sched_time": "14:00",
    "sched_minutes": "60",
    "sched_facilitator": "amara.okafor",
}


async def _scheduled(kit, values=GOOD) -> GroupSession:  # noqa: F811
    await kit.install("amara.okafor", "marcus.fenwick", *WILLOW, "grace.mensah")
    card = await kit.say("amara.okafor", "schedule")
    await kit.press("amara.okafor", card, "grouprec.schedule_submit", values)
    await kit.deliver()
    async with kit.db.session() as s:
        return (await s.execute(select(GroupSession).order_by(GroupSession.id.desc()))).scalars().first()


async def _prompt(kit, sid: int) -> OutboxRow | None:  # noqa: F811
    rows = [r for r in await kit.outbox("teams.notify") if r.key == f"group_record:prompt:{sid}"]
    return rows[0] if rows else None


async def test_the_dsl_moves_a_class_session_and_everyone_follows(kit):  # noqa: F811
    sess = await _scheduled(kit)
    assert [e.start for e in await kit.events_for("tom.hollis")] == [dt.datetime(2026, 11, 25, 14, tzinfo=UTC)]
    card = await kit.click("amara.okafor", "gsession.view", {"session_id": sess.id})
    assert "Group supervision – Willow Class" in texts_of(card) and find_input(card, "gs_date")
    before = len(kit.sent_to("tom.hollis"))
    moved = await kit.press("amara.okafor", card, "gsession.move", {"gs_date": "2026-11-26", "gs_time": "10:30"})
    assert "Moved from Wed 25 Nov 2026 14:00–15:00" in texts_of(moved)
    async with kit.db.session() as s:
        row = await s.get(GroupSession, sess.id)
        assert (row.starts_at, row.ends_at, row.local_date, row.status) == (
            dt.datetime(2026, 11, 26, 10, 30, tzinfo=UTC),
            dt.datetime(2026, 11, 26, 11, 30, tzinfo=UTC),
            dt.date(2026, 11, 26),
            "scheduled",
        )
        audit = (await s.execute(select(AuditEvent).where(AuditEvent.object_kind == "group_session"))).scalars().all()
    assert [(a.actor_id, a.action, a.object_id) for a in audit] == [("amara.okafor", "changed", str(sess.id))]
    prompt = await _prompt(kit, sess.id)
    assert prompt is not None and prompt.not_before == dt.datetime(2026, 11, 26, 11, 30, tzinfo=UTC)
    await kit.deliver()
    for who in WILLOW:
        [ev] = await kit.events_for(who)
        assert ev.start == dt.datetime(2026, 11, 26, 10, 30, tzinfo=UTC), who
    notices = kit.sent_to("tom.hollis")[before:]
    assert any("moved the session from Wed 25 Nov 2026 14:00–15:00 to" in texts_of(c) for c in notices)
    assert not any("Move it" in texts_of(c) for c in notices)  # an invitee sees the session, not the change form
    # The invitee may look but not change it.
    seen = await kit.click("tom.hollis", "gsession.view", {"session_id": sess.id})
    assert "Thu 26 Nov 2026 10:30–11:30" in texts_of(seen)
    with pytest.raises(AssertionError):
        find_input(seen, "gs_date")


@pytest.mark.parametrize(
    "date, time, message",
    [
        ("2026-11-28", "10:00", "isn't a school day (Saturday)"),
        ("2027-01-06", "10:00", "It stays in Autumn 2"),
        ("2026-11-23", "09:00", "That time has passed"),
        ("2026-11-26", "18:00", "Choose a time in the school day"),
        ("", "10:00", "Choose the new date"),
    ],
)
async def test_a_bad_new_time_is_shown_beside_the_field_and_nothing_moves(kit, date, time, message):  # noqa: F811
    sess = await _scheduled(kit)
    card = await kit.click("amara.okafor", "gsession.view", {"session_id": sess.id})
    n = len(await kit.outbox())
    again = await kit.press("amara.okafor", card, "gsession.move", {"gs_date": date, "gs_time": time})
    assert any(message in e for e in errors_on(again)), errors_on(again)
    if date:
        assert find_input(again, "gs_date")["value"] == date  # what was typed is kept
    async with kit.db.session() as s:
        assert (await s.get(GroupSession, sess.id)).starts_at == dt.datetime(2026, 11, 25, 14, tzinfo=UTC)
    assert len(await kit.outbox()) == n


async def test_a_move_onto_the_facilitators_other_session_is_refused(kit):  # noqa: F811
    sess = await _scheduled(kit)
    card = await kit.say("amara.okafor", "schedule")
    await kit.press(
        "amara.okafor", card, "grouprec.schedule_submit", GOOD | {"sched_group": "rowan", "sched_date": "2026-11-27"}
    )
    card = await kit.click("amara.okafor", "gsession.view", {"session_id": sess.id})
    again = await kit.press("amara.okafor", card, "gsession.move", {"gs_date": "2026-11-27", "gs_time": "14:30"})
    assert any("Amara Okafor already facilitates Rowan Class then." in e for e in errors_on(again))


async def test_only_the_dsl_team_facilitator_or_booker_may_change_and_only_people_involved_may_look(kit, caplog):  # noqa: F811
    sess = await _scheduled(kit)
    for who, verb, data in (
        ("tom.hollis", "gsession.move", {"gs_date": "2026-11-26", "gs_time": "10:00"}),
        ("tom.hollis", "gsession.cancel", {}),
    ):
        out = await kit.click(who, verb, {"session_id": sess.id, **data})
        assert "Only the DSL team, the facilitator or whoever booked" in texts_of(out)
    out = await kit.click("grace.mensah", "gsession.view", {"session_id": sess.id})
    assert "isn't one of yours" in texts_of(out)
    out = await kit.click("grace.mensah", "gsession.view", {"session_id": 99999})
    assert "isn't one of yours" in texts_of(out)
    async with kit.db.session() as s:
        row = await s.get(GroupSession, sess.id)
        assert (row.status, row.starts_at) == ("scheduled", dt.datetime(2026, 11, 25, 14, tzinfo=UTC))
    assert "refused gsession.move" in caplog.text or "gsession.move" in caplog.text
    # Another member of the DSL team may change it.
    card = await kit.click("marcus.fenwick", "gsession.view", {"session_id": sess.id})
    assert find_action(card, "gsession.cancel")


async def test_cancelling_takes_it_out_of_every_calendar_tells_everyone_and_withdraws_the_prompt(kit):  # noqa: F811
    sess = await _scheduled(kit)
    card = await kit.click("amara.okafor", "gsession.view", {"session_id": sess.id})
    done = await kit.press("amara.okafor", card, "gsession.cancel")
    assert "Cancelled; everyone invited has been told." in texts_of(done)
    again = await kit.press("amara.okafor", card, "gsession.cancel")  # a second click changes nothing more
    assert "can no longer be changed" in texts_of(again)
    assert await _prompt(kit, sess.id) is None
    await kit.deliver()
    for who in [*WILLOW, "amara.okafor"]:
        assert await kit.events_for(who) == [], who
    assert any(
        "cancelled the session on Wed 25 Nov 2026 14:00–15:00" in texts_of(c) for c in kit.sent_to("yasmin.shah")
    )
    async with kit.db.session() as s:
        assert (await s.get(GroupSession, sess.id)).status == "cancelled"
    # It is no longer offered on the schedule card.
    assert "Still to schedule this half term: Willow Class" in texts_of(await kit.say("amara.okafor", "schedule"))


async def test_a_mop_up_moves_only_within_the_last_week(kit):  # noqa: F811
    sess = await _scheduled(kit, GOOD | {"sched_group": "_mop_up", "sched_date": "2026-12-15"})
    assert sess.kind == "mop_up"
    card = await kit.click("amara.okafor", "gsession.view", {"session_id": sess.id})
    assert "last week of the half term: Mon 14 Dec to Fri 18 Dec" in texts_of(card)
    bad = await kit.press("amara.okafor", card, "gsession.move", {"gs_date": "2026-12-08", "gs_time": "10:00"})
    assert any("last week of the half term" in e for e in errors_on(bad))
    ok = await kit.press("amara.okafor", card, "gsession.move", {"gs_date": "2026-12-16", "gs_time": "10:00"})
    assert "Moved from" in texts_of(ok)
    await kit.deliver()
    [ev] = await kit.events_for("tom.hollis")
    assert ev.start == dt.datetime(2026, 12, 16, 10, tzinfo=UTC)


async def test_sessions_and_schedule_cards_lead_to_the_change_card(kit):  # noqa: F811
    sess = await _scheduled(kit)
    mine = await kit.say("amara.okafor", "sessions")
    assert find_action(mine, "gsession.view")["data"] == {"session_id": sess.id}
    sched = await kit.say("amara.okafor", "schedule")
    assert find_action(sched, "gsession.view")["data"] == {"session_id": sess.id}
    # The invitee's list shows it without the change button.
    tom = await kit.say("tom.hollis", "sessions")
    assert find_action(tom, "gsession.view")["title"] == "See it"


# ---- offer-booked group sessions, and the join link ------------------------------------------------------------
async def _emergency(kit) -> GroupSession:  # noqa: F811
    from tests.journeys.test_specialist_journey import _offer, _slots

    offer = await _offer(kit)
    await kit.press("amara.okafor", offer, "specialist.book", {"slot": _slots(offer)[0]})
    await kit.deliver()
    async with kit.db.session() as s:
        return (await s.execute(select(GroupSession))).scalar_one()


def _join_urls(card: dict) -> list[str]:
    return [a["url"] for a in card.get("actions", []) if a.get("type") == "Action.OpenUrl"]


async def test_an_emergency_session_is_moved_from_its_own_card_and_carries_the_join_link(kit):  # noqa: F811
    sess = await _emergency(kit)
    # The calendar made a Teams meeting: its join link is now on the cards that announced it.
    [url] = _join_urls(kit.sent_to("tom.hollis")[-1])
    assert url.startswith("https://") and url == (await kit.events_for("tom.hollis"))[0].join_url
    own = await kit.click("amara.okafor", "specialist.view", {"session_id": sess.id})
    assert _join_urls(own) == [url] and find_action(own, "gsession.view")
    card = await kit.press("amara.okafor", own, "gsession.view")
    assert _join_urls(card) == [url]
    new_day = "2026-11-25"
    moved = await kit.press("amara.okafor", card, "gsession.move", {"gs_date": new_day, "gs_time": "13:00"})
    assert "Moved from" in texts_of(moved)
    await kit.deliver()
    for who in ("amara.okafor", "tom.hollis", "isla.brennan", "nadia.farouk"):
        [ev] = await kit.events_for(who)
        assert ev.start == dt.datetime(2026, 11, 25, 13, tzinfo=UTC) and ev.join_url == url, who
    latest = [c for c in kit.sent_to("isla.brennan") if "Emergency group supervision" in texts_of(c)][-1]
    assert "Wed 25 Nov" in texts_of(latest)  # the booking card itself was replaced with the new time
    assert any("moved the session" in texts_of(c) for c in kit.sent_to("isla.brennan"))


async def test_a_booked_1to1_carries_its_join_link_once_the_calendar_has_it(kit):  # noqa: F811
    from tests.journeys.test_scheduling_journey import _booked

    rid, m, card = await _booked(kit)
    [ev] = await kit.events_for("tom.hollis")
    assert ev.join_url.startswith("https://")
    tom = [c for c in kit.sent_to("tom.hollis") if "Supervision booked" in texts_of(c)]
    assert _join_urls(tom[-1]) == [ev.join_url]  # the card sent before the meeting existed was updated
    again = await kit.click("priya.raman", "meeting.view", {"meeting_id": m.id})
    assert _join_urls(again) == [ev.join_url]
