"""How a turn finds its school in a trust (issue 10, bot/teams/handler.py): by the person's roster; by the team of
a school's Safeguarding channel; a person on two schools' rosters chooses once ("switch school" asks again); a
card's school stamp is only believed for someone on that school's roster; the trust lead's picture shows every
school side by side, figures only, and is audited in each."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from bot.app import DEPLOYMENT
from bot.store.models_audit import AuditEvent
from tests.fakes import trust as trust_kit
from tests.fakes.teams import Person, person

PRIYA_AAD = None  # filled from the demo school


@pytest.fixture
def settings(tmp_path, school):
    from bot.settings import load_settings
    from graph.settings import GraphSettings

    priya = school.staff["priya.raman"]
    visiting = {
        "id": "priya.visiting",
        "name": priya.name,
        "email": "p.raman@visiting.example",
        "aad_object_id": priya.aad_object_id,
        "roles": ["supervisor"],
        "supervisor_trained_on": "2025-06-01",
        "home_school": "alpha",
    }
    return load_settings(
        SCHOOL_CONFIG=str(trust_kit.write_trust(tmp_path / "config", beta_extra_staff=[visiting])),
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}",
        LOCAL_M365_DIR=str(tmp_path / "m365"),
        WORKERS=False,
        graph=GraphSettings(_env_file=None),
    )


def _last_card(teams) -> dict:
    for s in reversed(teams.connector.sent):
        for a in s.activity.get("attachments") or []:
            return a["content"]
    raise AssertionError("no card was sent")


def _actions(card) -> list[dict]:
    out = []

    def walk(n):
        if isinstance(n, dict):
            if n.get("type") in ("Action.Execute", "Action.Submit"):
                out.append(n)
            for v in n.values():
                walk(v)
        elif isinstance(n, list):
            for v in n:
                walk(v)

    walk(card)
    return out


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_each_person_is_answered_by_their_own_school(teams, db):
    peers = teams.app[DEPLOYMENT]
    for key, name in (("alpha", "Kestrel Brook School"), ("beta", "Beta Twin School")):
        tom = person(peers[key].school, "tom.hollis")
        teams.connector.clear()
        assert await teams.say(tom, "help") in (200, 201)
        card = _last_card(teams)
        assert name in json.dumps(card)
        assert all(a["data"]["school"] == key for a in _actions(card))  # clicks come back to this school


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_someone_in_two_schools_chooses_once_and_can_switch(teams, db):
    peers = teams.app[DEPLOYMENT]
    priya = person(peers["alpha"].school, "priya.raman")
    teams.connector.clear()
    await teams.say(priya, "help")
    choose = _last_card(teams)
    assert "Which school is this for?" in json.dumps(choose)
    options = {a["data"]["choose"]: a for a in _actions(choose)}
    assert set(options) == {"alpha", "beta"}
    status, body = await teams.submit(priya, "school.choose", options["beta"]["data"])
    assert status == 200 and "Beta Twin School" in json.dumps(body)
    teams.connector.clear()
    await teams.say(priya, "help")
    assert "Beta Twin School" in json.dumps(_last_card(teams))  # remembered
    # A stamp naming a school she is on is believed; in beta she is a visiting supervisor only.
    status, body = await teams.submit(priya, "help.show", {"school": "alpha"})
    assert "Kestrel Brook School" in json.dumps(body)
    teams.connector.clear()
    await teams.say(priya, "switch school")
    assert "Which school is this for?" in json.dumps(_last_card(teams))
    # A choice of a school she is not on is not taken.
    status, body = await teams.submit(priya, "school.choose", {"choose": "gamma"})
    assert "Which school is this for?" in json.dumps(body)


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_a_stamp_for_another_school_is_not_believed(teams, db):
    peers = teams.app[DEPLOYMENT]
    tom = person(peers["alpha"].school, "tom.hollis")
    status, body = await teams.submit(tom, "help.show", {"school": "beta"})
    assert status == 200 and "Kestrel Brook School" in json.dumps(body) and "Beta Twin" not in json.dumps(body)


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_the_channel_of_a_school_is_that_schools(teams, db):
    peers = teams.app[DEPLOYMENT]
    amara = person(peers["beta"].school, "amara.okafor")
    act = teams._base(amara) | {"type": "message", "text": "help"}
    act["conversation"] = {
        "id": "19:beta-safeguarding@thread.tacv2;messageid=1",
        "conversationType": "channel",
        "tenantId": act["conversation"]["tenantId"],
    }
    act["channelData"] = {
        "tenant": act["channelData"]["tenant"],
        "channel": {"id": "19:beta-safeguarding@thread.tacv2", "name": "Safeguarding"},
        "team": {"id": "beta-team", "name": "Beta Twin Staff"},
    }
    teams.connector.clear()
    status, _ = await teams.post(act)
    assert status in (200, 201)
    assert "Beta Twin School" in json.dumps(_last_card(teams))
    from bot.store.models import ConversationRef

    async with db.session() as s:
        refs = (await s.execute(select(ConversationRef.school_id, ConversationRef.kind))).all()
    assert ("beta", "channel") in [tuple(r) for r in refs]


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_the_trust_lead_sees_every_school_side_by_side_and_nobody_else_does(teams, db, school):
    lead = Person("trust.lead", trust_kit.LEAD_AAD, "Tamsin Lead")
    status, body = await teams.submit(lead, "trust.show", {})
    shown = json.dumps(body)
    assert status == 200 and "Kestrel Brook School" in shown and "Beta Twin School" in shown
    assert "Tom Hollis" not in shown  # figures, never names
    async with db.session() as s:
        rows = (
            await s.execute(
                select(AuditEvent.school_id, AuditEvent.actor_id).where(AuditEvent.object_kind == "trust_picture")
            )
        ).all()
    assert sorted(tuple(r) for r in rows) == [("alpha", "trust.lead"), ("beta", "trust.lead")]
    # A school's own DSL is not a trust lead.
    dsl = person(teams.app[DEPLOYMENT]["alpha"].school, "amara.okafor")
    status, body = await teams.submit(dsl, "trust.show", {})
    assert "Beta Twin School" not in json.dumps(body) and "trust" in json.dumps(body).lower()
    # The lead's help card offers the trust picture.
    teams.connector.clear()
    await teams.say(lead, "help")
    assert "trust" in json.dumps(_last_card(teams)).lower()


def test_a_visiting_supervisor_supervises_but_is_not_counted(tmp_path, school):
    import datetime as dt

    from bot.school import Role

    priya = school.staff["priya.raman"]
    visiting = {
        "id": "priya.visiting",
        "name": priya.name,
        "email": "p.raman@visiting.example",
        "aad_object_id": priya.aad_object_id,
        "roles": ["supervisor"],
        "supervisor_trained_on": "2025-06-01",
        "home_school": "alpha",
    }
    _, _, beta = trust_kit.schools(trust_kit.write_trust(tmp_path, beta_extra_staff=[visiting]))
    day = dt.date(2026, 11, 23)
    assert "priya.visiting" in {m.id for m in beta.with_role(Role.SUPERVISOR, on=day)}
    assert "priya.visiting" not in {m.id for m in beta.active_on(day)}
    assert beta.staff["priya.visiting"].supervisor_kind == "trust"
