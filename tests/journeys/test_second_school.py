"""The bot on a school that is not the demo (infra/demo/second-school.yaml): it starts, migrates, knows that
school's people and roles, and answers help, a plain request and a disclosure in that school's own terms."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from bot.app import create_app
from bot.settings import load_settings
from tests.conftest import ROOT, FakeClock
from tests.fakes.teams import TeamsDriver, person

SECOND = ROOT / "infra" / "demo" / "second-school.yaml"


@pytest.fixture
async def second_teams(tmp_path, connector):
    settings = load_settings(
        SCHOOL_CONFIG=str(SECOND),
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'b.sqlite3'}",
        LOCAL_M365_DIR=str(tmp_path / "m365"),
        WORKERS=False,
    )
    # Tue 16 Nov 2027, 10:00 London: a school day of that school's Term 2.
    app = create_app(settings, clock=FakeClock(dt.datetime(2027, 11, 16, 10, 0, tzinfo=dt.timezone.utc)))
    driver = await TeamsDriver(app, connector).start()
    yield driver, app
    await driver.stop()


async def test_the_bot_starts_on_another_school_and_answers_help(second_teams, connector):
    teams, app = second_teams
    from bot.app import SERVICES

    school = app[SERVICES].school
    assert school.name == "Saltmarsh Lane Primary School"
    await teams.say(person(school, "fnwachukwu"), "help")
    [card] = connector.cards()
    flat = json.dumps(card)
    assert card["body"][0]["text"] == "What you can do, Folasade"
    assert "DSL team" in flat and "allocator" in flat and "Attendance" in flat and "Kestrel" not in flat
    connector.clear()
    await teams.say(person(school, "gpetrakis"), "help")
    [card] = connector.cards()
    assert card["body"][0]["text"] == "What you can do, Giorgos" and "Attendance" not in json.dumps(card)


async def test_plain_request_and_disclosure_on_another_school(second_teams, connector):
    teams, app = second_teams
    from bot.app import SERVICES

    school = app[SERVICES].school
    await teams.say(person(school, "mokonkwo"), "can I have some supervision?")
    [form] = connector.cards()
    assert form["body"][0]["text"] == "Request supervision"
    connector.clear()
    await teams.say(person(school, "mokonkwo"), "a pupil told me her dad hits her")
    [card] = connector.cards()
    flat = json.dumps(card)
    assert "Folasade Nwachukwu" in flat and "Bo Lindgren" in flat and "the concerns log" in flat
    [link] = card["actions"]
    assert (link["type"], link["title"], link["url"]) == (
        "Action.OpenUrl",
        "Open the concerns log",
        "https://concerns.saltmarsh.example/log",
    )
