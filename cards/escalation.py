"""The DSL team's notice that a confidentiality escalation was raised (seed 004 §6): who raised it, when, and in
which category — never anything from the record. Pure builder: a view model in, a v1.5 card dict out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import adaptive_cards.card as ac

from bot.records import escalation
from cards.base import card, choice_set, error, facts, text, title


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


def escalation_inputs(values: dict[str, str], errors: dict[str, str], escalated: str | None, system: str) -> list:
    """Seed 004 §6: mark that something discussed must be escalated. Only the category leaves the record."""
    body: list[Any] = [
        ac.TextBlock(text="Confidentiality", weight="bolder", wrap=True, separator=True, spacing="medium")
    ]
    if escalated:
        body.append(text(f"An escalation was raised with this record: {escalated}.", size="small"))
        return body
    body.append(
        choice_set(
            escalation.INPUT,
            "Does something discussed have to be passed on?",
            [("", "No: it stays confidential")] + list(escalation.CATEGORIES.items()),
            value=values.get(escalation.INPUT) or "",
        )
    )
    body += [error(errors[escalation.INPUT])] if errors.get(escalation.INPUT) else []
    body.append(
        text(
            "If so, the DSL team is told that an escalation was raised, by you, and its category - nothing "
            f"you wrote. Then log the concern itself in {system} straight away.",
            subtle=True,
            size="small",
        )
    )
    return body
