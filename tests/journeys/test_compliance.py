"""The compliance journey over real HTTP: the attendance card (DSL names, governor figures), "I'll attend" from a
reminder, and booking / declining the mop-up session — with tampered and repeated submits."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from bot.app import SERVICES, SETTINGS
from bot.reminders import facts, mopup
from bot.store.models_compliance import MopUpProposal
from bot.store.models_outbox import OutboxRow
from bot.store.models_sessions import GroupSession, SessionInvitee
from cards.base import validation_errors
from tests.fakes.teams import person
from tests.reminders.helpers import AUTUMN2, add_session, at, record_attendance

D = dt.date


async def _submit(teams, who, verb: str, data: dict | None = None) -> tuple[int, dict | None]:
    """Click an Action.Execute button over HTTP; returns (status, the card Teams shows in place)."""
    status, body = await teams.submit(who, verb, data)
    if isinstance(body, dict) and body.get("type") == "application/vnd.microsoft.card.adaptive":
        body = body.get("value")
    return status, body


def _text(card: dict | None) -> str:
    return json.dumps(card or {}, ensure_ascii=False)


async def _outbox(db, kind: str | None = None) -> list[OutboxRow]:
    async with db.session() as s:
        q = select(OutboxRow).order_by(OutboxRow.id)
        if kind:
            q = q.where(OutboxRow.kind == kind)
        return list((await s.execute(q)).scalars().all())


async def _willow_recorded(db):
    sid = await add_session(db, day=D(2026, 11, 10), group_id="willow")
    await record_attendance(db, sid, ["isla.brennan", "nadia.farouk", "samuel.kerr"])  # Tom and Yasmin missed it
    return sid


# ---- attendance card ------------------------------------------------------------------------------------------
async def test_dsl_sees_percentages_outstanding_names_and_days_left(teams, connector, db, school):
    await _willow_recorded(db)
    await teams.say(person(school, "amara.okafor"), "attendance")
    [card] = connector.cards()
    assert not validation_errors(card)
    body = _text(card)
    assert "Autumn 2" in body
    assert "Willow Class" in body and "3 of 5 (60%)" in body
    assert "Tom Hollis" in body and "Yasmin Shah" in body
    assert "Isla Brennan" not in body.split("Still to attend")[1]  # attended: not listed as outstanding
    assert "Owen Pryce" in body and "long-term absence" in body  # exempt, shown with the reason
    # 23 Nov 2026 (Mon): 3 Nov .. 18 Dec has 34 school days; from 23 Nov there are 20 left
    assert "20 school days left" in body and "Fri 18 Dec" in body
    assert "3 of 39 attended" in body


async def test_governor_sees_figures_never_names(teams, connector, db, school):
    await _willow_recorded(db)
    await teams.say(person(school, "ruth.calloway"), "attendance")
    [card] = connector.cards()
    assert not validation_errors(card)
    body = _text(card)
    assert "3 of 39 attended" in body and "Willow Class" in body and "3 of 5 (60%)" in body
    for member in school.data.staff:
        assert member.name not in body, member.name
    assert "1 staff not counted" in body


def _open_urls(card: dict) -> list[str]:
    return [a["url"] for a in card.get("actions", []) if a.get("type") == "Action.OpenUrl"]


async def test_the_dsl_and_senior_leaders_get_a_button_to_the_dashboard(teams, connector, school):
    from bot.journeys.compliance import dashboard_link

    port = teams.app[SETTINGS].port
    await teams.say(person(school, "amara.okafor"), "attendance")
    [card] = connector.cards()
    assert _open_urls(card) == [f"http://127.0.0.1:{port}/dashboard?as=amara.okafor"]  # local mode: the page
    connector.clear()
    # The demo's safeguarding governor sits in the senior leaders group, who may open the dashboard.
    await teams.say(person(school, "ruth.calloway"), "attendance")
    [card] = connector.cards()
    assert _open_urls(card) == [f"http://127.0.0.1:{port}/dashboard?as=ruth.calloway"]
    services = teams.app[SERVICES]
    assert dashboard_link(services, school.staff["tom.hollis"]) is None  # never offered to whoever may not look
    governor_only = school.staff["ruth.calloway"].model_copy(update={"group": "office"})
    assert dashboard_link(services, governor_only) is None


async def test_governor_small_groups_fold_into_whole_school(teams, connector, db, school, monkeypatch):
    from bot.reminders import views

    monkeypatch.setattr(views, "GOVERNOR_MIN_GROUP", 5)
    await teams.say(person(school, "ruth.calloway"), "attendance")
    body = _text(connector.cards()[0])
    assert "Rowan Class" in body and "fewer than 5 staff" in body  # 3 due in Rowan: no figure for it
    assert "Willow Class" in body and "0 of 5 (0%)" in body


async def test_other_staff_cannot_open_attendance(teams, connector, school):
    await teams.say(person(school, "tom.hollis"), "attendance")
    assert not connector.cards()
    assert "DSL team" in connector.texts()[0]
    status, body = await _submit(teams, person(school, "priya.raman"), "compliance.attendance", {"ht": 1})
    assert status == 200 and "DSL team" in _text(body)


async def test_attendance_navigation_and_tampered_half_term(teams, connector, school):
    amara = person(school, "amara.okafor")
    status, card = await _submit(teams, amara, "compliance.attendance", {"ht": 0})
    assert status == 200 and "Autumn 1" in _text(card) and "ended on" in _text(card)
    assert not validation_errors(card)
    status, card = await _submit(teams, amara, "compliance.attendance", {"ht": 99})
    assert "couldn't find that half term" in _text(card)
    status, card = await _submit(teams, amara, "compliance.attendance", {"ht": "1; drop table"})
    assert "couldn't find that half term" in _text(card)


async def test_help_lists_attendance_for_dsl_and_governor_only(teams, connector, school):
    await teams.say(person(school, "amara.okafor"), "help")
    await teams.say(person(school, "ruth.calloway"), "help")
    await teams.say(person(school, "tom.hollis"), "help")
    dsl, gov, ta = connector.cards()
    assert "attendance" in _text(dsl) and "attendance" in _text(gov) and "**attendance**" not in _text(ta)


# ---- I'll attend ----------------------------------------------------------------------------------------------
async def test_ill_attend_adds_invitee_and_calendar_entry_once(teams, connector, db, school):
    mop = await add_session(db, day=D(2026, 12, 15), kind="mop_up", group_id=None)
    tom = person(school, "tom.hollis")
    status, card = await _submit(teams, tom, "compliance.attend", {"ht": 1, "session_id": str(mop)})
    assert status == 200 and not validation_errors(card)
    assert "you're on the list" in _text(card) and "Mop-up session" in _text(card)
    status, again = await _submit(teams, tom, "compliance.attend", {"ht": 1, "session_id": str(mop)})
    assert "already on the list" in _text(again)
    async with db.session() as s:
        rows = (await s.execute(select(SessionInvitee).where(SessionInvitee.session_id == mop))).scalars().all()
    assert [(r.staff_id, r.added_via) for r in rows] == [("tom.hollis", "self")]
    [event] = await _outbox(db, "calendar.create")
    assert event.payload["attendee_ids"] == ["tom.hollis"] and event.payload["subject"] == "Supervision"
    assert event.payload["start"] == at(D(2026, 12, 15), "15:30").isoformat()


async def test_ill_attend_refuses_tampered_sessions(teams, db, school):
    other_ht = await add_session(db, day=D(2027, 1, 12), half_term="2026-27 Spring 1")
    tom = person(school, "tom.hollis")
    for data in (
        {"ht": 1, "session_id": "999"},
        {"ht": 1, "session_id": str(other_ht)},
        {"ht": 1, "session_id": "abc"},
        {"ht": 1, "session_id": ["1"]},
    ):
        status, body = await _submit(teams, tom, "compliance.attend", data)
        assert status == 200 and "couldn't find that session" in _text(body)
    async with db.session() as s:
        assert (await s.execute(select(func.count()).select_from(SessionInvitee))).scalar_one() == 0
    assert await _outbox(db) == []


async def test_ill_attend_for_started_session_rerenders_with_error_and_other_choices(teams, db, school, clock):
    started = await add_session(db, day=D(2026, 11, 23), start="09:30")  # clock: 23 Nov 10:00
    later = await add_session(db, day=D(2026, 11, 26), group_id="willow")
    status, card = await _submit(
        teams, person(school, "tom.hollis"), "compliance.attend", {"ht": 1, "session_id": str(started)}
    )
    assert status == 200 and not validation_errors(card)
    body = _text(card)
    assert "already started" in body
    choice = next(e for e in card["body"] if e.get("type") == "Input.ChoiceSet")
    assert [c["value"] for c in choice["choices"]] == [str(later)]
    assert choice["value"] == str(later)


async def test_ill_attend_without_a_choice_asks_for_one(teams, db, school):
    await add_session(db, day=D(2026, 11, 26))
    status, card = await _submit(teams, person(school, "tom.hollis"), "compliance.attend", {"ht": 1})
    assert "Choose a session" in _text(card) and not validation_errors(card)


async def test_reminder_from_a_finished_half_term(teams, db, school):
    status, body = await _submit(teams, person(school, "tom.hollis"), "compliance.attend", {"ht": 0, "session_id": "1"})
    assert "half term is over" in _text(body)


# ---- mop-up ---------------------------------------------------------------------------------------------------
@pytest.fixture
def in_proposal_week(clock):
    clock.now = at(D(2026, 12, 7), "10:00")  # Mon 7 Dec: 10 school days left
    return clock


def _busy_lookup(busy: dict):
    async def lookup(ids, start, end):
        from bot.domain.slots import Busy

        return {i: [Busy(a, b) for a, b in busy.get(i, [])] for i in ids}

    return lookup


async def _proposal(teams, db, clock, busy=None) -> MopUpProposal:
    services = teams.app[SERVICES]
    services.busy_lookup = _busy_lookup(busy or {})
    ctx = facts.context_for(services, D(2026, 12, 7))
    return await mopup.propose(services, ctx, clock())


async def test_mop_up_proposal_goes_to_the_dsl_team_once(teams, db, in_proposal_week, school):
    await _willow_recorded(db)
    row = await _proposal(teams, db, in_proposal_week)
    again = await _proposal(teams, db, in_proposal_week)
    assert again.id == row.id
    notes = await _outbox(db, "teams.notify")
    assert sorted(n.payload["staff_id"] for n in notes) == sorted(m.id for m in facts.dsl_team(school))
    card = notes[0].payload["card"]
    assert not validation_errors(card) and "36 people" in _text(card)
    # every option is in the mop-up week (14–18 Dec), in school hours
    for opt in row.options:
        start = dt.datetime.fromisoformat(opt["start"]).astimezone(at(D(2026, 1, 1), "00:00").tzinfo)
        assert D(2026, 12, 14) <= start.date() <= D(2026, 12, 18)


async def test_mop_up_times_avoid_the_facilitators_busy_time(teams, db, in_proposal_week, school):
    everyone_busy_monday = {
        m.id: [(at(D(2026, 12, 14), "00:00"), at(D(2026, 12, 15), "00:00"))] for m in facts.dsl_team(school)
    }
    row = await _proposal(teams, db, in_proposal_week, everyone_busy_monday)
    assert row.options and all(not o["start"].startswith("2026-12-14") for o in row.options)
    assert row.calendars_checked


async def test_book_mop_up_books_once_and_tells_everyone(teams, db, in_proposal_week, school):
    await _willow_recorded(db)
    row = await _proposal(teams, db, in_proposal_week)
    amara = person(school, "amara.okafor")
    data = {"proposal": row.id, "slot": "0", "facilitator": "marcus.fenwick"}
    status, card = await _submit(teams, amara, "compliance.mopup.confirm", data)
    assert status == 200 and not validation_errors(card)
    assert "Mop-up booked" in _text(card) and "Marcus Fenwick" in _text(card)
    status, again = await _submit(teams, person(school, "helen.ashdown"), "compliance.mopup.confirm", data)
    assert "Mop-up booked" in _text(again) and "Booked by" in _text(again)
    async with db.session() as s:
        sessions = (await s.execute(select(GroupSession).where(GroupSession.kind == "mop_up"))).scalars().all()
        assert len(sessions) == 1 and sessions[0].half_term == AUTUMN2
        invitees = (
            await s.execute(
                select(SessionInvitee.staff_id, SessionInvitee.added_via).where(
                    SessionInvitee.session_id == sessions[0].id
                )
            )
        ).all()
    invited = {sid for sid, via in invitees}
    assert "tom.hollis" in invited and "isla.brennan" not in invited and "marcus.fenwick" not in invited
    assert "owen.pryce" not in invited  # exempt (long-term absence)
    assert {via for _, via in invitees} == {"mop_up"}
    [event] = await _outbox(db, "calendar.create")
    assert event.payload["organizer_id"] == "marcus.fenwick" and set(event.payload["attendee_ids"]) == invited
    assert event.payload["online"] is True and event.payload["subject"] == "Supervision"
    invites = [n for n in await _outbox(db, "teams.notify") if n.key.startswith(f"mopup:{AUTUMN2}:invite:")]
    assert {n.payload["staff_id"] for n in invites} == invited
    assert all(not validation_errors(n.payload["card"]) for n in invites[:3])
    updates = await _outbox(db, "teams.update")
    assert {u.payload["staff_id"] for u in updates} == {"daniel.whitcombe", "helen.ashdown", "marcus.fenwick"}


async def test_book_mop_up_bad_choices_rerender_with_values_kept(teams, db, in_proposal_week, school):
    busy = {"amara.okafor": [(at(D(2026, 12, 14), "00:00"), at(D(2026, 12, 19), "00:00"))]}
    row = await _proposal(teams, db, in_proposal_week, busy)
    amara = person(school, "amara.okafor")
    status, card = await _submit(
        teams, amara, "compliance.mopup.confirm", {"proposal": row.id, "slot": "0", "facilitator": "amara.okafor"}
    )
    assert not validation_errors(card)
    assert "Amara Okafor is busy then" in _text(card)
    facil = next(e for e in card["body"] if e.get("id") == "facilitator")
    assert facil["value"] == "amara.okafor"
    status, card = await _submit(
        teams, amara, "compliance.mopup.confirm", {"proposal": row.id, "slot": "7", "facilitator": "tom.hollis"}
    )
    assert "Choose one of the times offered" in _text(card) and "Choose someone from the DSL team" in _text(card)
    async with db.session() as s:
        assert (await s.execute(select(func.count()).select_from(GroupSession))).scalar_one() == 0


async def test_only_dsl_can_book_or_decline(teams, db, in_proposal_week, school):
    row = await _proposal(teams, db, in_proposal_week)
    for verb in ("compliance.mopup.confirm", "compliance.mopup.decline", "compliance.mopup.propose"):
        status, body = await _submit(
            teams,
            person(school, "priya.raman"),
            verb,
            {"proposal": row.id, "slot": "0", "facilitator": "amara.okafor", "ht": 1},
        )
        assert "Only the DSL team" in _text(body)
    status, body = await _submit(
        teams,
        person(school, "amara.okafor"),
        "compliance.mopup.confirm",
        {"proposal": 12345, "slot": "0", "facilitator": "amara.okafor"},
    )
    assert "couldn't find that mop-up proposal" in _text(body)


async def test_decline_then_plan_again(teams, db, in_proposal_week, school):
    row = await _proposal(teams, db, in_proposal_week)
    status, card = await _submit(
        teams, person(school, "daniel.whitcombe"), "compliance.mopup.decline", {"proposal": row.id}
    )
    assert "No mop-up" in _text(card) and not validation_errors(card)
    status, card = await _submit(teams, person(school, "amara.okafor"), "compliance.attendance", {"ht": 1})
    assert "said it is not needed" in _text(card)
    assert any(a.get("verb") == "compliance.mopup.propose" for a in card["actions"])
    status, card = await _submit(teams, person(school, "amara.okafor"), "compliance.mopup.propose", {"ht": 1})
    assert "Mop-up session" in _text(card) and any(a.get("verb") == "compliance.mopup.confirm" for a in card["actions"])
    assert not validation_errors(card)


async def test_dsl_teams_own_supervision_counts_only_sessions_held_and_recorded(teams, connector, db, school):
    """Seeds 002/003: the DSL team's individual supervision at the school's frequency (half-termly here), counted
    once the session was held and written up: a booked meeting alone is a plan, not supervision."""
    from bot.store.models_request import Meeting
    from bot.store.models_targeted import TargetedRecord

    start = at(D(2026, 11, 10), "16:00")
    async with db.session() as s:
        for i, sup in enumerate(("amara.okafor", "marcus.fenwick")):
            s.add(
                Meeting(
                    kind="one_to_one",
                    supervisor_id="priya.raman",
                    supervisee_id=sup,
                    starts_at=start,
                    ends_at=start + dt.timedelta(hours=1),
                    local_date=start.date(),
                    half_term=AUTUMN2,
                    status="booked",
                    event_key=f"m{i}",
                    offer_nonce=f"n{i}",
                    booked_by="priya.raman",
                    booked_at=start - dt.timedelta(days=3),
                )
            )
        # Only Amara's session was written up.
        s.add(
            TargetedRecord(
                supervisor_id="priya.raman",
                supervisee_id="amara.okafor",
                session_date=start.date(),
                template_id="dsl_supervision",
                submit_key="k1",
                file_name="x.docx",
                status="delivered",
                action_count=0,
                submitted_at=start + dt.timedelta(hours=2),
            )
        )
    await teams.say(person(school, "amara.okafor"), "attendance")
    await teams.say(person(school, "ruth.calloway"), "attendance")
    dsl_card, gov_card = connector.cards()
    body = _text(dsl_card)
    assert "DSL team's own supervision" in body and "at least every half term" in body
    assert "up to date (last Tue 10 Nov)" in body
    assert "due — 20 school days left (none recorded)" in body  # Marcus: booked and held, never recorded
    assert "1 of 4 up to date" in _text(gov_card) and "Amara" not in _text(gov_card)
    assert not validation_errors(dsl_card) and not validation_errors(gov_card)


async def test_pastoral_leads_named_by_the_policy_are_counted_with_the_dsl_team(teams, connector, db, school):
    """Seed 003: DSLs, pastoral leaders and ELSAs. A school lists the roles in dsl_supervision_roles; holders of
    them appear in the DSL part of the compliance picture."""
    from bot.reminders.facts import dsl_supervision_facts
    from bot.school.config import Role, School

    data = school.data.model_copy(
        update={
            "school": school.settings.model_copy(
                update={"dsl_supervision_roles": frozenset({Role.DSL, Role.PASTORAL_LEAD})}
            ),
            "staff": [
                m.model_copy(update={"roles": m.roles | {Role.PASTORAL_LEAD}}) if m.id == "oliver.stroud" else m
                for m in school.data.staff
            ],
        }
    )
    wider = School(data, school.path)
    from bot.records.dsl_supervision import dsl_supervisees, record_template

    assert "oliver.stroud" in dsl_supervisees(wider) and "oliver.stroud" not in dsl_supervisees(school)
    assert record_template(wider, "oliver.stroud").id == "dsl_supervision"
    assert record_template(wider, "tom.hollis").id == "one_to_one"
    async with db.session() as s:
        assert await dsl_supervision_facts(s, wider, D(2026, 12, 18)) == []
    ctx = facts.Context(wider, teams.app[SERVICES].calendar, teams.app[SERVICES].calendar.half_terms[1], AUTUMN2)
    async with db.session() as s:
        report = await facts.compliance_for(s, ctx, D(2026, 11, 23), with_dsl=True)
    assert "oliver.stroud" in {d.staff_id for d in report.dsl}
    async with db.session() as s:
        plain = await facts.compliance_for(
            s, facts.Context(school, ctx.calendar, ctx.half_term, AUTUMN2), D(2026, 11, 23), with_dsl=True
        )
    assert "oliver.stroud" not in {d.staff_id for d in plain.dsl}


async def test_ill_attend_joins_the_booked_mop_up_meeting_itself(teams, db, in_proposal_week, school):
    """Someone not invited to the mop-up (they attended… then their record was corrected) joins it: they are
    added to the mop-up's own meeting, chained after its creation, not given a separate event."""
    await _willow_recorded(db)
    row = await _proposal(teams, db, in_proposal_week)
    await _submit(
        teams,
        person(school, "amara.okafor"),
        "compliance.mopup.confirm",
        {"proposal": row.id, "slot": "0", "facilitator": "marcus.fenwick"},
    )
    async with db.session() as s:
        mop = (await s.execute(select(GroupSession).where(GroupSession.kind == "mop_up"))).scalar_one()
    status, card = await _submit(
        teams, person(school, "isla.brennan"), "compliance.attend", {"ht": 1, "session_id": str(mop.id)}
    )
    assert "you're on the list" in _text(card)
    [create] = await _outbox(db, "calendar.create")
    [upd] = await _outbox(db, "calendar.update")
    assert upd.payload["event_key"] == create.payload["event_key"] == f"session:{mop.id}"
    assert upd.chain == create.chain == f"calendar:session:{mop.id}"
    assert "isla.brennan" in upd.payload["attendee_ids"] and "tom.hollis" in upd.payload["attendee_ids"]
    assert set(upd.payload["attendee_ids"]) == set(create.payload["attendee_ids"]) | {"isla.brennan"}


async def test_ill_attend_joins_a_session_scheduled_from_the_group_record_journey(teams, db, school):
    from bot.store.models_group_record import ScheduleRequest

    sid = await add_session(db, day=D(2026, 12, 1), group_id="rowan", invitees=["joseph.adeyemi", "tara.whitlock"])
    async with db.session() as s:
        s.add(
            ScheduleRequest(
                nonce="n-1", session_id=sid, created_by="amara.okafor", created_at=at(D(2026, 11, 20), "10:00")
            )
        )
    await _submit(teams, person(school, "tom.hollis"), "compliance.attend", {"ht": 1, "session_id": str(sid)})
    [upd] = await _outbox(db, "calendar.update")
    assert upd.payload == {
        "event_key": f"group_session:{sid}",
        "attendee_ids": ["joseph.adeyemi", "tara.whitlock", "tom.hollis"],
    }
    assert await _outbox(db, "calendar.create") == []


async def test_two_people_joining_at_once_both_end_up_in_the_meeting(teams, db, school):
    import asyncio

    from bot.store.models_group_record import ScheduleRequest

    sid = await add_session(db, day=D(2026, 12, 1), group_id="rowan")
    async with db.session() as s:
        s.add(
            ScheduleRequest(
                nonce="n-2", session_id=sid, created_by="amara.okafor", created_at=at(D(2026, 11, 20), "10:00")
            )
        )
    await asyncio.gather(
        *(
            _submit(teams, person(school, who), "compliance.attend", {"ht": 1, "session_id": str(sid)})
            for who in ("tom.hollis", "grace.mensah", "nadia.farouk")
        )
    )
    updates = await _outbox(db, "calendar.update")
    assert len(updates) == 3
    assert set(updates[-1].payload["attendee_ids"]) == {"tom.hollis", "grace.mensah", "nadia.farouk"}
