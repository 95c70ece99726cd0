"""Choosing a school (issue 10): a member of staff on two schools' rosters says, once, which school a conversation
is for; 'switch school' asks again. Handled by bot/teams/handler.py before any school's journey runs, because until
then there is no school to run it in."""

from __future__ import annotations

from cards import trust as cards

CHOOSE_VERB = cards.CHOOSE
SWITCH_WORDS = ("switch school", "change school", "choose school", "other school")


def choose_school_card(deployment, keys: list[str], *, said: str = "") -> dict:
    options = [(k, deployment.schools[k].name) for k in keys] or [(k, s.name) for k, s in deployment.schools.items()]
    return cards.choose_school_card(deployment.name, options, said=said)
