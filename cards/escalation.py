"""The DSL team's notice that a confidentiality escalation was raised (seed 004 §6): who raised it, when, and in
which category — never anything from the record. Pure builder: a view model in, a v1.5 card dict out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import adaptive_cards.card as ac

from cards.base import card, facts, text, title


@dataclass(frozen=True)
class EscalationNotice:
    raised_by: str  # the supervisor's (or facilitator's) name
    when: str  # "23 Nov 2026 15:10", school time
    category: str  # the category's label
    record: str  # "a 1:1 supervision record" / "a group supervision record"
    reference: str  # "targeted_record 12": what `audit` takes
    system_name: str
    system_url: str | None = None


def escalation_notice_card(v: EscalationNotice) -> dict:
    body: list[Any] = [
        title("A confidentiality escalation was raised"),
        facts(
            [
                ("Raised by", v.raised_by),
                ("When", v.when),
                ("Category", v.category),
                ("On", v.record),
                ("Reference", v.reference),
            ]
        ),
        text(
            f"What was discussed is not shared here. {v.raised_by} has been asked to log the concern in "
            f"{v.system_name}; follow it up there, or speak to them directly.",
            size="small",
        ),
    ]
    actions = [ac.ActionOpenUrl(title=f"Open {v.system_name}", url=v.system_url)] if v.system_url else []
    return card(body, actions)
