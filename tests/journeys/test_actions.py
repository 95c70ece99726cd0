"""The DSL team's action list: actions from group records with owner and due date, the viewer's own first,
overdue flagged, marked done (and reopened) by anyone in the DSL team; nobody else sees it."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from bot.store.models_group_record import RecordAction
from tests.fakes.teams import person
from tests.journeys.test_group_record import add_session, card_of, click, filled, open_record, text_of


async def _record_with_actions(teams, db, school):
    amara = person(school, "amara.okafor")
    sid = await add_session(db)
    card = await open_record(teams, amara, sid)
    await click(
        teams,
        amara,
        card,
        "Submit record",
        filled(
            act_0_text="Check the lunchtime rota",
            act_0_owner="amara.okafor",
            act_0_due="2026-12-01",
            act_1_text="Book refresher training",
            act_1_owner="marcus.fenwick",
            act_1_due="2026-11-24",
        ),
    )
    async with db.session() as s:
        return {a.text: a.id for a in (await s.execute(select(RecordAction))).scalars()}


def _sections(card: dict) -> str:
    return json.dumps(card, ensure_ascii=False)


async def test_actions_from_records_appear_with_owner_due_date_and_source(teams, connector, db, school):
    await _record_with_actions(teams, db, school)
    marcus = person(school, "marcus.fenwick")
    await teams.say(marcus, "actions")
    [card] = connector.cards()
    flat = _sections(card)
    assert "2 open" in flat and "overdue" not in flat
    # Marcus's own action first, then the rest of the team's.
    assert flat.index("Yours") < flat.index("Book refresher training") < flat.index("The rest of the DSL team")
    assert flat.index("The rest of the DSL team") < flat.index("Check the lunchtime rota")
    assert "Amara Okafor · due Tue 1 Dec" in flat and "From Willow Class, 23 Nov" in flat


async def test_overdue_actions_are_flagged(teams, db, school, clock):
    await _record_with_actions(teams, db, school)
    clock.advance(days=2)  # Wed 25 Nov: the 24 Nov action is overdue
    status, body = await teams.submit(person(school, "amara.okafor"), "actions.list", {})
    flat = _sections(card_of(body))
    assert "2 open, 1 overdue" in flat and "Marcus Fenwick · due Tue 24 Nov · **overdue**" in flat


async def test_mark_done_once_then_reopen(teams, db, school):
    ids = await _record_with_actions(teams, db, school)
    daniel = person(school, "daniel.whitcombe")  # any DSL-team member may tick one off at the meeting
    aid = ids["Check the lunchtime rota"]
    status, body = await teams.submit(daniel, "actions.done", {"action_id": aid})
    card = card_of(body)
    flat = _sections(card)
    assert "Marked done." in flat and "1 open" in flat
    assert "Done in the last 30 days" in flat and "done 23 Nov by Daniel Whitcombe" in flat
    status, body = await teams.submit(daniel, "actions.done", {"action_id": aid})
    assert "That was already marked done." in _sections(card_of(body))
    async with db.session() as s:
        row = await s.get(RecordAction, aid)
    assert (row.status, row.done_by) == ("done", "daniel.whitcombe")
    status, body = await click(teams, daniel, card, "Reopen")
    assert "Reopened." in _sections(card_of(body)) and "2 open" in _sections(card_of(body))
    async with db.session() as s:
        row = await s.get(RecordAction, aid)
    assert (row.status, row.done_by, row.done_at) == ("open", None, None)


async def test_show_and_hide_done(teams, db, school):
    ids = await _record_with_actions(teams, db, school)
    amara = person(school, "amara.okafor")
    await teams.submit(amara, "actions.done", {"action_id": ids["Book refresher training"]})
    status, body = await teams.submit(amara, "actions.list", {"show_done": False})
    hidden = card_of(body)
    assert "Book refresher training" not in _sections(hidden)
    status, body = await click(teams, amara, hidden, "Show done")
    assert "Book refresher training" in _sections(card_of(body))


@pytest.mark.parametrize("who", ["tom.hollis", "priya.raman", "ruth.calloway"])
async def test_only_the_dsl_team_sees_actions(teams, connector, db, school, who):
    ids = await _record_with_actions(teams, db, school)
    p = person(school, who)
    connector.clear()
    await teams.say(p, "actions")
    assert connector.texts() == ["Only the DSL team can see the action list."] and not connector.cards()
    status, body = await teams.submit(p, "actions.done", {"action_id": ids["Check the lunchtime rota"]})
    assert "Only the DSL team" in text_of(body)
    async with db.session() as s:
        assert (await s.get(RecordAction, ids["Check the lunchtime rota"])).status == "open"


@pytest.mark.parametrize("bad", [99999, "x", None, -1])
async def test_tampered_action_ids_are_refused(teams, db, school, bad):
    await _record_with_actions(teams, db, school)
    status, body = await teams.submit(person(school, "amara.okafor"), "actions.done", {"action_id": bad})
    assert "can't" in text_of(body)
