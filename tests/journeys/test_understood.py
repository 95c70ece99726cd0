"""Free text over real HTTP: a plain sentence opens the form, an unsure one gets a short choice whose buttons work,
a disclosure gets the safe answer (never a form, nothing kept, nothing logged), and command words work as before."""

from __future__ import annotations

import json
import logging

from sqlalchemy import func, select

from bot.store.models_request import SupervisionRequest
from cards.base import validation_errors
from tests.fakes.teams import person


def _inputs(card: dict) -> list[dict]:
    found = []

    def walk(n):
        if isinstance(n, dict):
            if str(n.get("type", "")).startswith("Input."):
                found.append(n)
            for v in n.values():
                walk(v)
        elif isinstance(n, list):
            for v in n:
                walk(v)

    walk(card)
    return found


async def test_a_plain_sentence_opens_the_request_form(teams, connector, school):
    await teams.say(person(school, "tom.hollis"), "I'd like some supervision please")
    [card] = connector.cards()
    assert not validation_errors(card)
    assert {i["id"] for i in _inputs(card)} >= {"kind", "preferred", "topics", "urgency", "times"}


async def test_compliance_opens_the_attendance_card_for_the_dsl(teams, connector, school):
    await teams.say(person(school, "amara.okafor"), "compliance")
    [card] = connector.cards()
    assert "Autumn 2" in json.dumps(card) and "Still to attend" in json.dumps(card)


async def test_unsure_gets_two_or_three_buttons_that_open_the_command(teams, connector, school):
    amara = person(school, "amara.okafor")
    await teams.say(amara, "write up session")
    [card] = connector.cards()
    assert not validation_errors(card)
    verbs = [a["verb"] for a in card["actions"]]
    assert verbs[:-1] == ["grouprec.start", "targeted.start"] and verbs[-1] == "help.show"
    assert "What you can do" not in json.dumps(card)  # not the whole help list
    status, body = await teams.submit(amara, verbs[0])
    assert status == 200 and body["type"] == "application/vnd.microsoft.card.adaptive"


async def test_a_disclosure_gets_the_safe_answer_and_no_form(teams, connector, db, school, caplog):
    caplog.set_level(logging.DEBUG)
    text = "can I have supervision, a pupil told me her dad hits her"
    await teams.say(person(school, "tom.hollis"), text)
    [card] = connector.cards()
    flat = json.dumps(card)
    assert not validation_errors(card) and not _inputs(card)
    assert "Designated Safeguarding Lead" in flat and "Amara Okafor" in flat and "999" in flat
    assert school.settings.safeguarding_system.name in flat
    assert "dad" not in flat and "hits" not in flat  # never repeated back
    assert "dad" not in caplog.text and "hits" not in caplog.text  # never logged
    async with db.session() as s:
        assert (await s.execute(select(func.count()).select_from(SupervisionRequest))).scalar_one() == 0


async def test_a_disclosure_from_someone_not_on_the_roster_is_still_answered(teams, connector):
    from tests.fakes.teams import Person

    stranger = Person("visitor", "99999999-0000-4000-8000-000000000000", "A Visitor")
    await teams.say(stranger, "a child told me she is scared to go home")
    [card] = connector.cards()
    assert "If a child may be at risk" in json.dumps(card)


async def test_command_words_keep_their_meaning(teams, connector, school):
    tom = person(school, "tom.hollis")
    await teams.say(tom, "attendance")  # not his: the journey's own refusal, as before
    assert "DSL team" in connector.texts()[0]
    connector.clear()
    await teams.say(tom, "what is this thing")
    [card] = connector.cards()
    assert "didn't recognise" in json.dumps(card)
