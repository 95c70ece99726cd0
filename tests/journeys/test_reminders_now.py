"""Reminders on demand over real HTTP: the DSL previews the round (who, who can't be reached, the next automatic
round), sends it now and the unattended colleague gets it; asking again, or the scheduled round on its own day,
never reminds anyone twice; nobody outside the DSL team can see or send it; never outside the sending window."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import func, select

from bot.app import SERVICES
from bot.store.models_compliance import ReminderClaim
from cards import reminders as cards
from tests.fakes.teams import person
from tests.reminders.helpers import add_session, at, record_attendance

D = dt.date


def _flat(c) -> str:
    return json.dumps(c or {}, ensure_ascii=False)


def _card(body):
    return (
        body["value"]
        if isinstance(body, dict) and body.get("type") == "application/vnd.microsoft.card.adaptive"
        else body
    )


def _to(connector, who) -> list[dict]:
    return [s.activity for s in connector.sent if s.conversation_id == who.conversation_id]


def _send_button(card) -> dict | None:
    return next((a for a in card.get("actions", []) if a["verb"] == cards.V_SEND), None)


async def _claims(db) -> list[tuple]:
    async with db.session() as s:
        return (
            await s.execute(
                select(ReminderClaim.staff_id, ReminderClaim.point, ReminderClaim.status).order_by(ReminderClaim.id)
            )
        ).all()


async def test_dsl_previews_sends_now_and_the_colleague_gets_it_once(teams, connector, db, school, clock):
    # Mon 23 Nov 2026: 20 school days left in Autumn 2, so no point is live yet; the first (10) falls on Mon 7 Dec.
    amara, tom, isla = (person(school, s) for s in ("amara.okafor", "tom.hollis", "isla.brennan"))
    sid = await add_session(db, day=D(2026, 11, 10), group_id="willow")
    await record_attendance(db, sid, ["isla.brennan"])
    await teams.install(tom)
    await teams.install(isla)
    connector.clear()

    await teams.say(amara, "reminders")
    [card] = connector.cards()
    flat = _flat(card)
    assert "Reminders — Autumn 2" in flat and "brings forward the round due Mon 7 Dec (10 school days left)" in flat
    assert "Next automatic round" in flat and "Mon 7 Dec at 09:00" in flat
    reachable = flat.split("Would be reminded now")[1].split("Can't be reached")[0]
    assert "Tom Hollis" in reachable and "Isla Brennan" not in flat  # attended: not reminded
    assert "Grace Mensah (hasn't opened the bot in Teams)" in flat, flat
    button = _send_button(card)
    assert button["data"] == {"ht": "2026-27 Autumn 2", "point": 10} and button["associatedInputs"] == "none"
    connector.clear()

    status, body = await teams.submit(amara, cards.V_SEND, button["data"])
    after = _card(body)
    assert status == 200 and "Sent 2 reminders" in _flat(after) and "could not be reached" in _flat(after), after[
        "body"
    ][1]
    [reminder] = [a for a in _to(connector, tom) if a.get("attachments")]
    assert "Autumn 2" in _flat(reminder) and not _to(connector, isla)
    assert _send_button(after) is None  # nobody left to remind at this point
    claims = await _claims(db)
    assert ("tom.hollis", 10, "sent") in claims and not any(c[0] == "isla.brennan" for c in claims)

    # Clicking the old card again sends nothing more.
    connector.clear()
    status, body = await teams.submit(amara, cards.V_SEND, button["data"])
    assert "Sent" not in _flat(_card(body)) and not _to(connector, tom)
    assert await _claims(db) == claims

    # Mon 7 Dec, the point's own day: the scheduled round finds Tom already reminded and leaves him alone.
    services = teams.app[SERVICES]
    clock.now = at(D(2026, 12, 7), "09:00")
    await services.scheduler.tick(clock.now)
    assert not [a for a in _to(connector, tom) if a.get("attachments")]
    async with db.session() as s:
        n = (
            await s.execute(
                select(func.count())
                .select_from(ReminderClaim)
                .where(ReminderClaim.staff_id == "tom.hollis", ReminderClaim.point == 10)
            )
        ).scalar_one()
    assert n == 1


async def test_outside_the_window_there_is_no_send_now_and_a_forged_click_sends_nothing(
    teams, connector, db, school, clock
):
    amara, tom = person(school, "amara.okafor"), person(school, "tom.hollis")
    await teams.install(tom)
    clock.now = at(D(2026, 11, 23), "18:30")
    connector.clear()
    await teams.say(amara, "reminders")
    [card] = connector.cards()
    assert _send_button(card) is None and "Send now is offered then (next: Tue 24 Nov at 09:00)" in _flat(card)
    status, body = await teams.submit(amara, cards.V_SEND, {"ht": "2026-27 Autumn 2", "point": 10})
    assert "sending window" in _flat(_card(body)) and await _claims(db) == []
    assert not [a for a in _to(connector, tom) if a.get("attachments")]


async def test_in_the_holiday_the_preview_names_the_next_half_term(teams, connector, school, clock):
    clock.now = at(D(2026, 12, 28), "10:00")
    await teams.say(person(school, "amara.okafor"), "reminders")
    [card] = connector.cards()
    assert "Spring 1" in _flat(card) and "holiday" in _flat(card) and _send_button(card) is None


async def test_nobody_outside_the_dsl_team_can_preview_or_send(teams, connector, db, school):
    for who in ("tom.hollis", "ruth.calloway", "priya.raman"):
        p = person(school, who)
        connector.clear()
        await teams.say(p, "reminders")
        assert connector.texts() == ["Only the DSL team can preview or send reminders."] and not connector.cards()
        status, body = await teams.submit(p, cards.V_SEND, {"ht": "2026-27 Autumn 2", "point": 10})
        assert "Only the DSL team" in _flat(body)
    assert await _claims(db) == []


async def test_tampered_send_data_only_shows_the_preview(teams, connector, db, school):
    amara = person(school, "amara.okafor")
    for bad in (
        {},
        {"ht": 3, "point": 10},
        {"ht": "2026-27 Autumn 2", "point": "10"},
        {"ht": "2026-27 Autumn 2", "point": True},
        {"ht": "2026-27 Spring 1", "point": 10},
    ):
        status, body = await teams.submit(amara, cards.V_SEND, bad)
        assert status == 200 and "Reminders" in _flat(_card(body))
    assert await _claims(db) == []
