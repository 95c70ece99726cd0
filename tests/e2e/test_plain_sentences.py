"""Plain sentences in the Playground, as a new member of staff would type them: a request in their own words
opens the request form, an unsure one offers the likeliest commands as buttons, and a safeguarding disclosure gets
the safe answer (the DSL team and the school's safeguarding system), never a form."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def test_a_teaching_assistant_asking_in_their_own_words_gets_the_request_form(teams):
    tom = teams("tom.hollis").open_personal_chat()
    card = tom.ask("I'd like some supervision please")
    assert card.title() == "Request supervision"
    assert "Send request" in card.buttons()


def test_a_disclosure_typed_into_the_chat_gets_the_safe_answer_not_a_form(teams):
    grace = teams("grace.mensah").open_personal_chat()
    card = grace.ask("a pupil told me their dad hits them")
    assert card.title() == "If a child may be at risk"
    assert "call 999" in card.text()
    assert "Send request" not in card.buttons()
