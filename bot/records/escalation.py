"""Confidentiality escalation (seed 004 §6): the few circumstances in which what was said in supervision cannot
stay between the people in the room. Pure: the categories, and reading a card's choice.

Categories are codes from a fixed list (our own words for seed 004's table: harm to self or others; illegal
activity; child protection and vulnerable adults; gross misconduct, disrepute or conduct that puts children at
risk). Only the code is stored (bot/store/models_signoff.Escalation); the DSL team is told that an escalation
was raised, by whom, when and in which category — never what was discussed, which belongs in the school's
safeguarding system.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.records.rules import Tampered, clean_text

INPUT = "esc_category"

#: code → the label on the card and in the DSL team's notice.
CATEGORIES: dict[str, str] = {
    "harm": "Risk of harm to the member of staff or to someone else",
    "illegal": "Possible illegal activity",
    "child_protection": "A child protection (or vulnerable adult) concern",
    "misconduct": "Possible gross misconduct, or conduct that puts children at risk or the school in disrepute",
}


def label(code: str) -> str:
    return CATEGORIES.get(code, "Escalation")


def read(data: Mapping[str, Any]) -> str | None:
    """The category a record card asks to escalate, or None. A value the card never offered raises Tampered."""
    raw = clean_text(data.get(INPUT), multiline=False)
    if not raw:
        return None
    if raw not in CATEGORIES:
        raise Tampered("escalation category not on the card")
    return raw


def keep(data: Mapping[str, Any]) -> dict[str, str]:
    """The card's escalation choice for a draft (only a code the card offers)."""
    raw = clean_text(data.get(INPUT), multiline=False)
    return {INPUT: raw} if raw in CATEGORIES else {}
