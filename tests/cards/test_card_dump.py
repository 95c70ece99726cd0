"""cards.base.card returns exactly the JSON adaptive-cards-py writes (model_dump in JSON mode, not to_json + loads)."""

from __future__ import annotations

import json

import adaptive_cards.card as ac

from cards import base
from cards import request as request_cards


def test_card_is_the_json_adaptive_cards_py_writes():
    body = [base.title("Request sent"), base.text("note", subtle=True), base.facts([("Kind", "1:1")])]
    actions = [base.execute("Open", "request.open", {"request_id": 7}, style="positive")]
    written = json.loads(
        ac.AdaptiveCard.new().version(base.TEAMS_SCHEMA_VERSION).add_items(body).add_actions(actions).create().to_json()
    )
    assert base.card(body, actions) == written


def test_a_built_card_holds_only_plain_json_values():
    card = request_cards.allocation_notice(request_id=5, requester_name="Tom Hollis", kind="one_to_one", urgency="week")
    assert json.loads(json.dumps(card)) == card  # no enums, no models: survives a JSON round trip unchanged
    assert base.validation_errors(card) == []
