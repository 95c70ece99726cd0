"""The help card is valid for Teams in every variant."""

from __future__ import annotations

import pytest

from cards.base import card, execute, text, title, validation_errors
from cards.help import help_card


@pytest.mark.parametrize(
    "person,roles,commands,welcome",
    [
        (None, [], [], False),
        ("Tom", [], [("Request supervision", "Ask for 1:1 support", "request", "request.open")], False),
        ("Amara", ["DSL team"], [("Record", "Complete a group record", "record", None)] * 3, True),
    ],
)
def test_help_card_variants_are_valid(person, roles, commands, welcome):
    c = help_card(
        school_name="Kestrel Brook School", person_name=person, role_names=roles, commands=commands, welcome=welcome
    )
    assert validation_errors(c) == []


def test_validator_catches_schema_and_size_problems():
    bad = card([title("x")])
    bad["body"][0]["type"] = "Not.AnElement"
    assert validation_errors(bad)
    huge = card([text("x" * 30000)])
    assert any("over Teams" in e for e in validation_errors(huge))
    dup = card([title("x")], [execute("a", "v")])
    dup["body"] += [{"type": "Input.Text", "id": "a"}, {"type": "Input.Text", "id": "a"}]
    assert any("duplicate input ids" in e for e in validation_errors(dup))
