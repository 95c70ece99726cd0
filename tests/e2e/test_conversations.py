"""Beyond the personal chat: the team's Safeguarding channel and the staff group chat, as the Playground shows them.
In both, Teams delivers a message to the bot only when it @mentions the bot; the page object adds the mention."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.proactive import stored_reference

pytestmark = pytest.mark.e2e

SAFEGUARDING_CHANNEL_ID = "19:kb-safeguarding@thread.tacv2"  # infra/playground/make_configs.py
TEAM_ID = "kb-team"


def test_mention_in_safeguarding_channel_gets_a_reply_in_the_thread(teams, e2e_bot):
    pg = teams("daniel.whitcombe").open_channel("Safeguarding")
    card = pg.ask("help")
    assert card.title() == "What you can do, Daniel"
    # The reply is inside the post's thread (a channel post is a card with its replies and a reply box).
    thread = pg.page.get_by_role("group").filter(has=card.locator)
    assert thread.get_by_text("help", exact=True).count() == 1

    # What the Playground sent (the shape real Teams uses for a channel message).
    sent = pg.last_sent("message")
    assert sent["text"] == f"<at>{pg.bot_name}</at> help"
    assert sent["conversation"]["conversationType"] == "channel"
    assert sent["conversation"]["id"].startswith(SAFEGUARDING_CHANNEL_ID + ";messageid=")  # the thread
    assert sent["channelData"]["channel"] == {"id": SAFEGUARDING_CHANNEL_ID}  # no name, as in Teams
    assert sent["channelData"]["team"] == {"id": TEAM_ID}
    assert {
        "type": "mention",
        "mentioned": {"id": pg.config["bot"]["id"], "name": pg.bot_name},
        "text": f"<at>{pg.bot_name}</at>",
    } in sent["entities"]

    ref = stored_reference(e2e_bot.db_path, SAFEGUARDING_CHANNEL_ID, kind="channel")
    assert ref is not None, "the bot stored no reference for the Safeguarding channel"
    assert ref.team_id == TEAM_ID
    assert ref.service_url == pg.process.service_url


def test_channel_post_without_mention_is_not_delivered(teams):
    pg = teams("daniel.whitcombe").open_channel("Safeguarding")
    token = uuid.uuid4().hex[:8]
    pg.send(f"help unmentioned {token}", mention=False)
    expect(pg.page.get_by_text(f"help unmentioned {token}")).to_be_visible()
    # Posted after it: once this one is answered, the first would have been too, had it been delivered.
    card = pg.ask(f"help mentioned {token}")
    assert card.title() == "What you can do, Daniel"
    assert pg.last_sent("message")["text"] == f"<at>{pg.bot_name}</at> help mentioned {token}"  # waits for the log
    delivered = [text for kind, _, text in pg.sent_to_bot() if kind == "message" and token in text]
    assert delivered == [f"<at>{pg.bot_name}</at> help mentioned {token}"]
    assert pg.new_card_count() == 0


def test_mention_in_group_chat_gets_a_reply(teams):
    pg = teams("priya.raman").open_group_chat()
    card = pg.ask("help")
    assert card.title() == "What you can do, Priya"
    sent = pg.last_sent("message")
    assert sent["conversation"]["conversationType"] == "groupChat"
    assert sent["conversation"]["id"] == pg.config["groupChat"]["id"]
    assert "team" not in sent["channelData"] and "channel" not in sent["channelData"]


def test_personal_chat_message_shape(teams):
    pg = teams("tom.hollis").open_personal_chat()
    pg.ask("help")
    sent = pg.last_sent("message")
    assert sent["conversation"]["conversationType"] == "personal"
    assert sent["conversation"]["id"] == pg.config["personalChat"]["id"]
    assert sent["from"] == {"id": pg.user["id"], "name": pg.name, "aadObjectId": pg.aad_object_id}
    assert sent["serviceUrl"] == pg.process.service_url
    assert sent["channelId"] == "msteams"
    assert set(sent["channelData"]) == {"tenant"}


def test_stored_channel_reference_points_at_the_channel_not_a_thread(teams, e2e_bot):
    pg = teams("daniel.whitcombe").open_channel("Safeguarding")
    pg.ask("help")
    ref = stored_reference(e2e_bot.db_path, SAFEGUARDING_CHANNEL_ID, kind="channel")
    assert ref.conversation_id == SAFEGUARDING_CHANNEL_ID
    assert ref.reference["conversation"]["id"] == SAFEGUARDING_CHANNEL_ID


def test_stored_channel_reference_knows_the_channel_name(teams, e2e_bot):
    pg = teams("daniel.whitcombe").open_channel("Safeguarding")
    pg.ask("help")
    ref = stored_reference(e2e_bot.db_path, SAFEGUARDING_CHANNEL_ID, kind="channel")
    assert ref.channel_name == "Safeguarding"
