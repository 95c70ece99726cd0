"""The Teams edge: help per role, welcome on install, references saved, bad input refused safely."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from bot.store.models import ConversationRef
from cards.base import validation_errors
from tests.fakes.teams import person


def _all_text(card: dict) -> str:
    return json.dumps(card)


async def test_help_lists_what_a_dsl_can_do(teams, connector, school):
    amara = person(school, "amara.okafor")
    assert await teams.say(amara, "help") in (200, 201)
    [card] = connector.cards()
    assert not validation_errors(card)
    assert card["body"][0]["text"] == "What you can do, Amara"
    assert "DSL team" in _all_text(card)


async def test_help_for_teaching_assistant_has_no_roles_line(teams, connector, school):
    tom = person(school, "tom.hollis")
    await teams.say(tom, "help")
    [card] = connector.cards()
    assert card["body"][0]["text"] == "What you can do, Tom"
    assert "Your roles" not in _all_text(card)


async def test_unknown_text_gets_help_not_an_error(teams, connector, school):
    await teams.say(person(school, "grace.mensah"), "what is this thing")
    [card] = connector.cards()
    assert "didn't recognise" in _all_text(card)


async def test_someone_not_on_roster_is_told_kindly(teams, connector, school):
    from tests.fakes.teams import Person

    stranger = Person("visitor", "99999999-0000-4000-8000-000000000000", "A Visitor")
    await teams.say(stranger, "help")
    [card] = connector.cards()
    assert "staff list" in _all_text(card)


async def test_message_over_4000_characters_is_politely_refused(teams, connector, school):
    await teams.say(person(school, "tom.hollis"), "x" * 4001)
    assert not connector.cards()
    [msg] = connector.texts()
    assert "4001 characters" in msg and "limit is 4000" in msg


async def test_install_saves_reference_and_welcomes(teams, connector, db, school):
    tom = person(school, "tom.hollis")
    await teams.install(tom)
    [card] = connector.cards()
    assert card["body"][0]["text"] == "Welcome, Tom"
    async with db.session() as s:
        rows = (await s.execute(select(ConversationRef))).scalars().all()
    assert [(r.kind, r.key, r.service_url) for r in rows] == [("personal", "tom.hollis", connector.url)]
    assert rows[0].reference["conversation"]["id"] == tom.conversation_id


async def test_channel_message_saves_channel_reference(teams, connector, db, school):
    channel = {"id": "19:safeguarding@thread.tacv2", "name": "Safeguarding"}
    await teams.say(person(school, "amara.okafor"), "<at>Supervision</at> help", kind="channel", channel=channel)
    assert connector.cards()
    async with db.session() as s:
        rows = (await s.execute(select(ConversationRef).where(ConversationRef.kind == "channel"))).scalars().all()
    assert [(r.key, r.channel_name, r.team_id) for r in rows] == [(channel["id"], "Safeguarding", "kb-team")]


async def test_channel_reference_is_the_channel_root_and_knows_the_configured_name(teams, connector, db, school):
    """A channel message comes in a thread ('…;messageid=…') and, as in Teams, without the channel's name: the bot
    keeps the channel root (a proactive post starts its own thread) and names the configured Safeguarding channel."""
    cfg = school.settings.safeguarding_channel
    amara = person(school, "amara.okafor")
    for _ in range(2):  # two threads: the reference stays the channel root
        await teams.say(amara, "<at>Supervision</at> help", kind="channel", channel={"id": cfg.channel_id})
    async with db.session() as s:
        [row] = (await s.execute(select(ConversationRef).where(ConversationRef.kind == "channel"))).scalars().all()
    assert (row.key, row.conversation_id, row.channel_name) == (cfg.channel_id, cfg.channel_id, cfg.channel_name)
    assert row.reference["conversation"]["id"] == cfg.channel_id
    # Another channel of the team has no configured name: none is invented.
    await teams.say(amara, "<at>Supervision</at> help", kind="channel", channel={"id": "19:general@thread.tacv2"})
    async with db.session() as s:
        other = (
            await s.execute(select(ConversationRef).where(ConversationRef.key == "19:general@thread.tacv2"))
        ).scalar_one()
    assert other.channel_name is None and other.conversation_id == "19:general@thread.tacv2"


@pytest.mark.parametrize(
    "body,ctype,status",
    [
        (b"not json at all", "application/json", 400),
        (b"[1, 2, 3]", "application/json", 400),
        (b"{\"text\": \"hi\"}", "application/json", 400),  # no type
        (b"{\"type\": \"message\", \"text\": \"hi\"}", "application/json", 400),  # no conversation/serviceUrl
        (b"hello", "text/plain", 415),
    ],
)
async def test_malformed_bodies_are_refused_and_bot_keeps_serving(teams, connector, school, body, ctype, status):
    async with teams.http.post(teams.url, data=body, headers={"Content-Type": ctype}) as r:
        assert r.status == status
        assert "error" in await r.json()
    await teams.say(person(school, "tom.hollis"), "help")
    assert connector.cards(), "the bot stopped answering after bad input"


async def test_activity_without_sender_is_dropped_safely(teams, connector, school):
    act = teams._base(person(school, "tom.hollis")) | {"type": "message", "text": "help"}
    del act["from"]
    status, _ = await teams.post(act)
    assert status == 202
    assert not connector.sent


async def test_action_execute_answers_with_the_card_in_place(teams, connector, school):
    status, body = await teams.submit(person(school, "tom.hollis"), "help.show", {})
    assert status == 200
    assert body["statusCode"] == 200 and body["type"] == "application/vnd.microsoft.card.adaptive"
    assert body["value"]["body"][0]["text"] == "What you can do, Tom"
    assert not validation_errors(body["value"])


async def test_action_submit_type_is_refused_on_the_invoke_path(teams, school):
    act = teams._base(person(school, "tom.hollis")) | {
        "type": "invoke",
        "name": "adaptiveCard/action",
        "value": {"action": {"type": "Action.Submit", "verb": "help.show", "data": {}}},
    }
    status, body = await teams.post(act)
    assert status == 400


async def test_first_contact_race_gives_one_welcome_and_no_error(teams, connector, db, school):
    import asyncio

    tom = person(school, "tom.hollis")
    install = teams._base(tom) | {"type": "installationUpdate", "action": "add"}
    added = teams._base(tom) | {
        "type": "conversationUpdate",
        "membersAdded": [{"id": "28:kestrel-bot", "name": "Supervision"}, tom.account],
    }
    results = await asyncio.gather(teams.post(install), teams.post(added))
    assert all(status in (200, 201) for status, _ in results)
    welcomes = [c for c in connector.cards() if c["body"][0]["text"] == "Welcome, Tom"]
    assert len(welcomes) == 1
    assert not [t for t in connector.texts() if "went wrong" in t]
    # A later re-install does not welcome again.
    await teams.post(teams._base(tom) | {"type": "installationUpdate", "action": "add"})
    assert len([c for c in connector.cards() if c["body"][0]["text"] == "Welcome, Tom"]) == 1
