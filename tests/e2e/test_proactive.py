"""The GUIDE's open question (§3): with one Playground per person running at once against one bot, does a
proactive message sent to a stored conversation reference reach the right person's window?

It does: each Playground is its own mock Teams with its own connector, the bot stores each person's reference
with that window's serviceUrl, and the bot's own proactive sender (TeamsMessenger.send_card, local mode) posts
there. A reference is only good for the window that made it: another window's connector does not know the
conversation."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.proactive import card_activity, post_activity, send_card_as_bot, stored_reference

pytestmark = pytest.mark.e2e


def _card(token: str) -> dict:
    return {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [
            {"type": "TextBlock", "text": "Reminder", "weight": "bolder", "wrap": True},
            {"type": "TextBlock", "text": f"Proactive check {token}", "wrap": True},
        ],
    }


def _reference(e2e_bot, person: str):
    ref = stored_reference(e2e_bot.db_path, person)
    assert ref is not None, f"the bot stored no personal conversation reference for {person}"
    return ref


def test_proactive_message_reaches_the_right_window(teams, e2e_bot):
    amara = teams("amara.okafor").open_personal_chat()
    tom = teams("tom.hollis").open_personal_chat()

    ref_amara, ref_tom = _reference(e2e_bot, "amara.okafor"), _reference(e2e_bot, "tom.hollis")
    assert ref_tom.service_url == tom.process.service_url
    assert ref_amara.service_url == amara.process.service_url
    assert ref_tom.service_url != ref_amara.service_url

    for target, other, ref in ((tom, amara, ref_tom), (amara, tom, ref_amara)):
        token = uuid.uuid4().hex[:10]
        target.mark_cards_seen()
        other.mark_cards_seen()
        send_card_as_bot(ref.reference, _card(token))
        card = target.wait_for_new_card()
        assert card.lines() == ["Reminder", f"Proactive check {token}"]
        # The other window got nothing: no new card, and the text is nowhere on its page.
        assert other.page.get_by_text(token).count() == 0
        assert other.new_card_count() == 0


def test_a_reference_only_works_through_its_own_window(teams, e2e_bot):
    amara = teams("amara.okafor").open_personal_chat()
    teams("tom.hollis")
    ref_tom = _reference(e2e_bot, "tom.hollis")

    # Tom's conversation posted to Amara's connector: her Playground does not know it.
    status, _ = post_activity(
        amara.process.service_url,
        ref_tom.conversation_id,
        card_activity(_card("misrouted"), bot=ref_tom.reference["bot"], conversation_id=ref_tom.conversation_id),
    )
    assert status == 404
    assert amara.page.get_by_text("misrouted").count() == 0
