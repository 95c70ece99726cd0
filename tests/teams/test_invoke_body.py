"""The invoke response is written without msrest (bot/teams/adapter.py `_invoke_body`): for every sample card of
tests/cards, every error shape and a message, it is exactly what botbuilder's own serializer gives."""

from __future__ import annotations

import pytest
from botbuilder.core.serializer_helper import serializer_helper
from botbuilder.schema import AdaptiveCardInvokeResponse, InvokeResponse

from bot.teams.adapter import _invoke_body
from tests.cards.test_every_card import SAMPLES

CARDS = [(name, i, c) for name, built in sorted(SAMPLES.items()) for i, c in enumerate(built)]


@pytest.mark.parametrize(("name", "i", "card"), CARDS, ids=[f"{n}[{i}]" for n, i, _ in CARDS])
def test_a_card_is_written_as_botbuilder_would(name, i, card):
    body = AdaptiveCardInvokeResponse(status_code=200, type="application/vnd.microsoft.card.adaptive", value=card)
    assert _invoke_body(body) == serializer_helper(body)


@pytest.mark.parametrize(
    "body",
    [
        AdaptiveCardInvokeResponse(
            status_code=400, type="application/vnd.microsoft.error", value={"code": "BadRequest", "message": "No."}
        ),
        AdaptiveCardInvokeResponse(status_code=200, value={"nested": [1, 2.5, None, True, {"a": "ü\u202e"}]}),
    ],
)
def test_errors_and_messages_are_written_as_botbuilder_would(body):
    assert _invoke_body(body) == serializer_helper(body)


def test_a_message_answer_is_written_where_botbuilders_serializer_fails():
    """Universal Actions' message answer has a string value; msrest's serializer raised SerializationError on it,
    so an Action.Execute answered with text was a 500 before the adapter wrote the body itself."""
    body = AdaptiveCardInvokeResponse(status_code=200, type="application/vnd.microsoft.activity.message", value="Done.")
    with pytest.raises(Exception, match="cannot be serialized"):
        serializer_helper(body)
    assert _invoke_body(body) == {
        "statusCode": 200,
        "type": "application/vnd.microsoft.activity.message",
        "value": "Done.",
    }


def test_anything_else_goes_through_botbuilders_serializer():
    other = InvokeResponse(status=200, body={"x": 1})
    assert _invoke_body(other) == serializer_helper(other)
    assert _invoke_body(None) is None
