"""The Bot Framework send (bot/teams/sender.py) against the connector double: what Teams receives, and every
channel error turned into a status the throttled sender can act on."""

from __future__ import annotations

import pytest

from bot.delivery import Message, Outcome, RetryPolicy, ThrottledSender
from bot.messaging import SendError

CARD = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "Hello"}]}


@pytest.fixture
async def send(settings, connector):
    from bot.teams.adapter import build_adapter
    from bot.teams.sender import BotFrameworkSender

    _, auth = build_adapter(settings)
    yield BotFrameworkSender(auth, settings.app_id)
    await auth.close()


def _ref(connector, who="tom.hollis"):
    return {
        "channelId": "msteams",
        "serviceUrl": connector.url,
        "conversation": {"id": f"a:personal-{who}", "conversationType": "personal"},
        "user": {"id": f"29:{who}"},
        "bot": {"id": "28:kestrel-bot"},
    }


async def test_sends_the_card_to_the_stored_conversation(send, connector):
    activity_id = await send(_ref(connector), CARD)
    assert activity_id
    [sent] = connector.sent
    assert sent.conversation_id == "a:personal-tom.hollis"
    assert sent.activity["attachments"][0]["content"] == CARD
    assert sent.activity["recipient"]["id"] == "29:tom.hollis" and sent.activity["from"]["id"] == "28:kestrel-bot"


@pytest.mark.parametrize("status", [403, 404, 412, 502, 503, 504, 400])
async def test_channel_errors_become_send_errors_with_the_status(send, connector, status):
    connector.faults = [status]
    with pytest.raises(SendError) as err:
        await send(_ref(connector), CARD)
    assert err.value.status == status
    assert connector.faults == []  # no hidden retry inside the SDK: one request, one answer


async def test_429_carries_retry_after(send, connector):
    connector.faults, connector.retry_after = [429], 3
    with pytest.raises(SendError) as err:
        await send(_ref(connector), CARD)
    assert (err.value.status, err.value.retry_after) == (429, 3.0)


async def test_network_failure_is_a_status_less_error(send):
    ref = {
        "channelId": "msteams",
        "serviceUrl": "http://127.0.0.1:9/",
        "conversation": {"id": "a:x"},
        "user": {"id": "29:x"},
        "bot": {"id": "28:b"},
    }
    with pytest.raises(SendError) as err:
        await send(ref, CARD)
    assert err.value.status is None


async def test_through_the_throttled_sender(send, connector):
    connector.faults, connector.retry_after = [429, 503], 0.01
    sender = ThrottledSender(send, policy=RetryPolicy(base=0.01, cap=0.02))
    ref = _ref(connector)
    res = await sender.deliver(Message("r1", ref["conversation"]["id"], ref, CARD))
    assert res.outcome is Outcome.SENT and res.attempts == 3 and len(connector.sent) == 1
    connector.faults = [403]
    res = await sender.deliver(Message("r2", ref["conversation"]["id"], ref, CARD))
    assert res.outcome is Outcome.UNREACHABLE and res.status == 403
