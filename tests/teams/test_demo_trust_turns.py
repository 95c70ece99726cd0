"""The demo trust (infra/demo/trust.yaml) at run time, over HTTP as Teams would send it: each school's people are
answered by their school, Priya Raman (on two schools' rosters) is asked which school she means — on a typed message
and on a click that names no school — and the trust safeguarding lead sees the three schools side by side."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from bot.school.trust import load_deployment
from bot.store import Database
from tests.conftest import ROOT, FakeClock
from tests.fakes.teams import Person, TeamsDriver

TRUST = ROOT / "infra" / "demo" / "trust.yaml"


@pytest.fixture(scope="module")
def deployment():
    return load_deployment(TRUST)


@pytest.fixture
async def trust_teams(tmp_path, connector):
    from bot.app import create_app
    from bot.settings import load_settings
    from graph.settings import GraphSettings

    settings = load_settings(
        SCHOOL_CONFIG=str(TRUST),
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'trust.sqlite3'}",
        LOCAL_M365_DIR=str(tmp_path / "m365"),
        WORKERS=False,
        graph=GraphSettings(_env_file=None),
    )
    db = Database(settings.database_url)
    clock = FakeClock(dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.timezone.utc))  # Autumn 2 in all three schools
    driver = await TeamsDriver(create_app(settings, clock=clock, db=db), connector).start()
    yield driver
    await driver.stop()


def _who(deployment, key: str, staff_id: str) -> Person:
    m = deployment.schools[key].staff[staff_id]
    return Person(m.id, m.aad_object_id, m.name)


def _texts(card: dict) -> str:
    return json.dumps(card)


async def test_a_person_of_each_school_is_answered_by_their_school(trust_teams, deployment):
    for key, sid in (
        ("kestrel-brook", "tom.hollis"),
        ("lapwing-fields", "corrie.halloran"),
        ("merrow-hill", "kezia.thorne"),
    ):
        who = _who(deployment, key, sid)
        status, body = await trust_teams.submit(who, "help.show", {})
        assert status == 200 and body["type"] == "application/vnd.microsoft.card.adaptive", (sid, body)
        card = body["value"]
        assert card["body"][0]["text"] == f"What you can do, {who.name.split()[0]}"
        schools = {
            a.get("data", {}).get("school") for a in card.get("actions", []) if a.get("type") == "Action.Execute"
        }
        assert schools <= {key}  # its buttons come back to the same school


async def test_priya_is_asked_which_school_on_a_click_that_names_none(trust_teams, deployment):
    priya = _who(deployment, "kestrel-brook", "priya.raman")
    status, body = await trust_teams.submit(priya, "help.show", {})
    assert status == 200, body
    card = body["value"]
    assert card["body"][0]["text"] == "Which school is this for?"
    choices = [a["data"]["choose"] for a in card["actions"]]
    assert choices == ["kestrel-brook", "lapwing-fields"]
    status, body = await trust_teams.submit(priya, "school.choose", {"choose": "lapwing-fields", "said": "help"})
    assert status == 200 and body["value"]["body"][0]["text"] == "What you can do, Priya"


async def test_priya_is_asked_once_on_a_typed_message_and_again_on_switch_school(trust_teams, connector, deployment):
    priya = _who(deployment, "kestrel-brook", "priya.raman")
    assert await trust_teams.say(priya, "help") in (200, 201)
    assert connector.cards()[-1]["body"][0]["text"] == "Which school is this for?"
    await trust_teams.submit(priya, "school.choose", {"choose": "kestrel-brook", "said": ""})
    before = len(connector.cards())
    assert await trust_teams.say(priya, "help") in (200, 201)
    assert [c["body"][0]["text"] for c in connector.cards()[before:]] == ["What you can do, Priya"]
    assert await trust_teams.say(priya, "switch school") in (200, 201)
    assert connector.cards()[-1]["body"][0]["text"] == "Which school is this for?"


async def test_the_trust_lead_sees_the_three_schools_side_by_side(trust_teams, deployment):
    lead = next(x for x in deployment.trust.leads if x.role.value == "trust_safeguarding_lead")
    status, body = await trust_teams.submit(Person(lead.id, lead.aad_object_id, lead.name), "trust.show", {})
    assert status == 200, body
    text = _texts(body["value"])
    assert deployment.name in text
    for school in deployment.schools.values():
        assert school.name in text
    for deadline in ("Fri 18 Dec", "Wed 16 Dec", "Thu 17 Dec"):  # each school's own Autumn 2
        assert deadline in text
    assert "1 from another school" in text and "1 external" in text
    leader = next(x for x in deployment.trust.leads if x.role.value == "trust_leader")
    status, body = await trust_teams.submit(Person(leader.id, leader.aad_object_id, leader.name), "trust.show", {})
    assert status == 200 and deployment.name in _texts(body["value"])
    # someone on a school's staff is not a trust lead
    status, body = await trust_teams.submit(_who(deployment, "merrow-hill", "yewande.okoro"), "trust.show", {})
    assert "Lapwing Fields" not in _texts(body)
