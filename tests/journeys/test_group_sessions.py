"""Scheduling the half term's group sessions: sessions, invitees, a neutral calendar event and the "time to record"
prompt, all through the outbox; school days, the mop-up week and clashes checked; double clicks book once."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from bot.store.models_group_record import ScheduleRequest
from bot.store.models_outbox import OutboxRow
from bot.store.models_sessions import Attendance, GroupSession, SessionInvitee
from tests.fakes.teams import person
from tests.journeys.test_group_record import (  # noqa: F401
    WILLOW,
    add_session,
    button,
    card_of,
    click,
    count,
    delivery,
    inputs,
    text_of,
)

GOOD = {
    "sched_group": "willow",
    "sched_date": "2026-11-25",
    "sched_time": "14:00",
    "sched_minutes": "60",
    "sched_facilitator": "amara.okafor",
}


async def schedule_card(teams, who) -> dict:
    status, body = await teams.submit(who, "grouprec.schedule", {})
    return card_of(body)


async def test_schedule_a_class_session(teams, db, school):
    amara = person(school, "amara.okafor")
    card = await schedule_card(teams, amara)
    flat = json.dumps(card)
    assert "2026-27 Autumn 2" in flat and "Still to schedule this half term: Willow Class, Rowan Class" in flat
    mop = [c for c in inputs(card)["sched_group"]["choices"] if c["value"] == "_mop_up"][0]
    assert mop["title"] == "Mop-up session (last week: Mon 14 Dec to Fri 18 Dec)"
    assert inputs(card)["sched_facilitator"]["value"] == "amara.okafor"

    status, body = await click(teams, amara, card, "Schedule", GOOD)
    after = card_of(body)
    assert "Scheduled: Willow Class, Wed 25 Nov 2026 14:00–15:00 with Amara Okafor. 5 invited." in json.dumps(
        after, ensure_ascii=False
    )
    assert "Still to schedule this half term: Rowan Class" in json.dumps(after)
    # The next card keeps the time, length and facilitator (scheduling several groups in a row), with a new key.
    assert inputs(after)["sched_time"]["value"] == "14:00" and "value" not in inputs(after)["sched_group"]
    assert button(after, "Schedule")["data"]["nonce"] != button(card, "Schedule")["data"]["nonce"]

    async with db.session() as s:
        sess = (await s.execute(select(GroupSession))).scalar_one()
        invited = sorted((await s.execute(select(SessionInvitee.staff_id))).scalars())
        rows = {r.kind: r for r in (await s.execute(select(OutboxRow))).scalars()}
    assert (sess.kind, sess.group_id, sess.status, sess.half_term, sess.local_date, sess.facilitator_id) == (
        "class",
        "willow",
        "scheduled",
        "2026-27 Autumn 2",
        dt.date(2026, 11, 25),
        "amara.okafor",
    )
    assert sess.starts_at == dt.datetime(2026, 11, 25, 14, 0, tzinfo=dt.timezone.utc)
    assert invited == WILLOW
    cal = rows["calendar.create"].payload
    assert cal == {
        "event_key": f"group_session:{sess.id}",
        "organizer_id": "amara.okafor",
        "attendee_ids": cal["attendee_ids"],
        "start": "2026-11-25T14:00:00+00:00",
        "end": "2026-11-25T15:00:00+00:00",
        "subject": "Group supervision",
        "online": True,
    }
    assert sorted(cal["attendee_ids"]) == WILLOW
    prompt = rows["teams.notify"]
    assert prompt.payload["staff_id"] == "amara.okafor" and prompt.not_before == sess.ends_at


async def test_double_click_books_one_session(teams, db, school):
    amara = person(school, "amara.okafor")
    card = await schedule_card(teams, amara)
    await click(teams, amara, card, "Schedule", GOOD)
    status, body = await click(teams, amara, card, "Schedule", GOOD)
    assert "Scheduled: Willow Class" in json.dumps(card_of(body))
    assert await count(db, GroupSession) == 1 and await count(db, ScheduleRequest) == 1
    assert await count(db, OutboxRow, OutboxRow.kind == "calendar.create") == 1


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"sched_date": "2026-11-28"}, "sched_date", "Sat 28 Nov 2026 isn't a school day (Saturday)."),
        ({"sched_date": "2026-10-28"}, "sched_date", "isn't a school day (School holiday)"),
        ({"sched_date": ""}, "sched_date", "Choose the date, like 2026-11-30."),
        ({"sched_time": "18:00"}, "sched_time", "Choose a time in the school day (08:30 to 16:30)."),
        ({"sched_date": "2026-11-23", "sched_time": "09:00"}, "sched_time", "That time has passed."),
        ({"sched_group": "_mop_up"}, "sched_date", "last week of the half term: Mon 14 Dec to Fri 18 Dec"),
        ({"sched_group": ""}, "sched_group", "Choose which group the session is for."),
    ],
)
async def test_mistakes_are_shown_beside_the_field_and_nothing_is_booked(teams, db, school, change, field, message):
    amara = person(school, "amara.okafor")
    card = await schedule_card(teams, amara)
    status, body = await click(teams, amara, card, "Schedule", GOOD | change)
    again = card_of(body)
    flat = json.dumps(again, ensure_ascii=False)
    assert message in flat
    assert flat.index(f'"id": "{field}"') < flat.index(message)
    kept = {k: v for k, v in (GOOD | change).items() if v}
    assert all(inputs(again)[k].get("value") == v for k, v in kept.items())
    assert await count(db, GroupSession) == 0 and await count(db, OutboxRow) == 0


async def test_facilitator_and_group_clashes(teams, db, school):
    amara = person(school, "amara.okafor")
    await add_session(db, start=dt.datetime(2026, 11, 25, 14, 30, tzinfo=dt.timezone.utc), group="rowan")
    card = await schedule_card(teams, amara)
    status, body = await click(teams, amara, card, "Schedule", GOOD)
    assert "Amara Okafor already facilitates Rowan Class then." in json.dumps(card_of(body))
    status, body = await click(
        teams, amara, card, "Schedule", GOOD | {"sched_group": "rowan", "sched_facilitator": "marcus.fenwick"}
    )
    assert "Rowan Class already has a session then." in json.dumps(card_of(body))
    assert await count(db, GroupSession) == 1


@pytest.mark.parametrize(
    "change",
    [{"sched_facilitator": "tom.hollis"}, {"sched_group": "narnia"}, {"sched_minutes": "17"}, {"nonce": "not-a-nonce"}],
)
async def test_tampered_schedule_payloads_are_refused(teams, db, school, change):
    amara = person(school, "amara.okafor")
    card = await schedule_card(teams, amara)
    data = {**button(card, "Schedule")["data"], **GOOD, **change}
    status, body = await teams.submit(amara, "grouprec.schedule_submit", data)
    assert "can't do that" in text_of(body) and await count(db, GroupSession) == 0


async def test_non_dsl_cannot_schedule(teams, connector, school):
    tom = person(school, "tom.hollis")
    await teams.say(tom, "schedule")
    assert connector.texts()[-1] == "Only the DSL team can schedule group supervision sessions."


async def test_mop_up_invites_everyone_who_has_not_attended(teams, db, school):
    amara = person(school, "amara.okafor")
    done = await add_session(db, status="recorded")
    async with db.session() as s:
        for sid in ("tom.hollis", "isla.brennan"):
            s.add(
                Attendance(
                    staff_id=sid,
                    session_id=done,
                    local_date=dt.date(2026, 11, 23),
                    half_term="2026-27 Autumn 2",
                    recorded_by="amara.okafor",
                    recorded_at=dt.datetime(2026, 11, 23, 10, tzinfo=dt.timezone.utc),
                )
            )
    card = await schedule_card(teams, amara)
    status, body = await click(
        teams, amara, card, "Schedule", GOOD | {"sched_group": "_mop_up", "sched_date": "2026-12-16"}
    )
    assert "Scheduled: Mop-up session" in json.dumps(card_of(body))
    async with db.session() as s:
        sess = (await s.execute(select(GroupSession).where(GroupSession.kind == "mop_up"))).scalar_one()
        invited = set(
            (await s.execute(select(SessionInvitee.staff_id).where(SessionInvitee.session_id == sess.id))).scalars()
        )
    assert sess.group_id is None
    assert "tom.hollis" not in invited and "isla.brennan" not in invited
    assert "owen.pryce" not in invited  # on long-term absence
    assert "grace.mensah" in invited and len(invited) == len(school.staff) - 3


async def test_calendar_event_and_record_prompt_are_delivered(teams, connector, db, school, clock, delivery, m365_view):
    amara = person(school, "amara.okafor")
    await teams.install(amara)
    card = await schedule_card(teams, amara)
    await click(teams, amara, card, "Schedule", GOOD)
    connector.clear()
    await delivery.run()
    [meeting] = await m365_view.events()
    assert meeting.subject == "Group supervision" and meeting.organizer == "amara.okafor@kestrelbrook.example"
    assert sorted(meeting.attendees) == sorted(f"{i}@kestrelbrook.example" for i in WILLOW)
    assert not connector.cards()  # the prompt waits for the end of the session

    clock.advance(days=2, hours=5, minutes=1)  # Wed 25 Nov 15:01
    await delivery.run()
    [prompt] = connector.cards()
    assert "Time to record your group session" in json.dumps(prompt)
    status, body = await click(teams, amara, prompt, "Record it now")
    record = card_of(body)
    assert [c["value"] for c in inputs(record)["att_group"]["choices"]] == WILLOW
