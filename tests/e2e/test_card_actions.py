"""The page object's card helpers against a fixture card, and what the Playground sends when a card button is
clicked: Action.Submit arrives as a message whose value carries the inputs; Action.Execute arrives as an invoke
`adaptiveCard/action` (value.action.verb / data, inputs merged into data) and the card the bot answers with
replaces the clicked one in place.

The fixture card is posted straight to the person's Playground connector (the bot has no journey that shows every
input kind yet); its buttons use the help verb, which every person may use."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.proactive import card_activity, post_activity

pytestmark = pytest.mark.e2e


def fixture_card(token: str) -> dict:
    return {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [
            {"type": "TextBlock", "text": f"Harness check {token}", "weight": "bolder", "wrap": True},
            {"type": "Input.Text", "id": "note", "label": "Anything to add?"},
            {"type": "Input.Text", "id": "longer", "label": "Longer note", "isMultiline": True},
            {
                "type": "Input.ChoiceSet",
                "id": "when",
                "label": "When suits you?",
                "choices": [{"title": "Monday", "value": "mon"}, {"title": "Tuesday", "value": "tue"}],
            },
            {
                "type": "Input.ChoiceSet",
                "id": "kind",
                "label": "Kind of supervision",
                "style": "expanded",
                "choices": [{"title": "One to one", "value": "one"}, {"title": "Group", "value": "group"}],
            },
            {
                "type": "Input.ChoiceSet",
                "id": "topics",
                "label": "Topics",
                "style": "expanded",
                "isMultiSelect": True,
                "choices": [
                    {"title": "Workload", "value": "work"},
                    {"title": "Wellbeing", "value": "well"},
                    {"title": "Something else", "value": "other"},
                ],
            },
            {"type": "Input.Toggle", "id": "agree", "label": "Agreement", "title": "I agree to a record being kept"},
            {"type": "Input.Date", "id": "day", "label": "Which day?"},
            {"type": "Input.Time", "id": "at", "label": "What time?"},
            {"type": "Input.Number", "id": "mins", "label": "How many minutes?"},
        ],
        "actions": [
            {"type": "Action.Submit", "title": "Submit as message", "data": {"verb": "help.show", "token": token}},
            {"type": "Action.Execute", "title": "Execute as invoke", "verb": "help.show", "data": {"token": token}},
        ],
    }


def _post_fixture(pg) -> tuple[str, object]:
    token = uuid.uuid4().hex[:8]
    pg.open_personal_chat()
    pg.mark_cards_seen()
    conv = pg.config["personalChat"]["id"]
    status, _ = post_activity(
        pg.process.service_url, conv, card_activity(fixture_card(token), bot=pg.config["bot"], conversation_id=conv)
    )
    assert status in (200, 201)
    card = pg.wait_for_new_card()
    assert card.title() == f"Harness check {token}"
    return token, card


def _fill_everything(card) -> None:
    card.fill("Anything to add?", "Nothing else")
    card.fill("Longer note", "Line one")
    card.choose("When suits you?", "Tuesday")
    card.choose("Kind of supervision", "Group")
    card.tick("Workload").tick("Wellbeing").tick("Something else").tick("Workload", on=False)
    card.tick("I agree to a record being kept")
    card.fill("Which day?", "2026-12-01")
    card.fill("What time?", "14:30")
    card.fill("How many minutes?", "45")


EXPECTED_INPUTS = {
    "note": "Nothing else",
    "longer": "Line one",
    "when": "tue",
    "kind": "group",
    "topics": "well,other",
    "agree": "true",
    "day": "2026-12-01",
    "at": "14:30",
    "mins": "45",
}


def test_inputs_and_action_submit(teams):
    pg = teams("grace.mensah")
    token, card = _post_fixture(pg)
    _fill_everything(card)

    expect(card.input("Anything to add?")).to_have_value("Nothing else")
    expect(card.locator.get_by_role("combobox", name="When suits you?")).to_have_value("Tuesday")
    expect(card.radio("Group")).to_be_checked()
    expect(card.checkbox("Wellbeing")).to_be_checked()
    expect(card.checkbox("Workload")).not_to_be_checked()
    expect(card.input("Anything to add?")).to_have_value("Nothing else")  # still there after the other inputs
    assert card.buttons() == ["Submit as message", "Execute as invoke"]

    answer = card.click("Submit as message")
    assert answer.title() == "What you can do, Grace"

    sent = pg.last_sent("message")
    assert sent["value"] == {"verb": "help.show", "token": token, **EXPECTED_INPUTS}
    assert sent["from"]["aadObjectId"] == pg.aad_object_id


def test_action_execute_replaces_the_card_in_place(teams):
    pg = teams("grace.mensah")
    token, card = _post_fixture(pg)
    _fill_everything(card)
    cards_before = pg.page.locator(".ac-adaptiveCard:not(.ac-adaptiveCard .ac-adaptiveCard)").count()

    answer = card.click("Execute as invoke")

    assert answer.title() == "What you can do, Grace"
    # Replaced in place: no extra message, and the fixture card is gone.
    assert pg.page.locator(".ac-adaptiveCard:not(.ac-adaptiveCard .ac-adaptiveCard)").count() == cards_before
    assert pg.page.get_by_text(f"Harness check {token}").count() == 0
    invoke = pg.last_sent("invoke")
    assert invoke["name"] == "adaptiveCard/action"
    assert invoke["value"]["action"]["verb"] == "help.show"
    assert invoke["value"]["action"]["data"] == {"token": token, **EXPECTED_INPUTS}
    assert invoke["replyToId"]
