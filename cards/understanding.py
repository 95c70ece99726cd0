"""Cards for free text the bot did not take as a command: a short choice, and the safe answer to a disclosure."""

from __future__ import annotations

from dataclasses import dataclass, field

import adaptive_cards.card as ac

from cards.base import card, execute, text, title

HELP_VERB = "help.show"


@dataclass(frozen=True)
class Option:
    title: str
    description: str
    verb: str


def choice_card(*, person_name: str | None, options: list[Option]) -> dict:
    """ "Did you mean…": the likeliest two or three commands as buttons, and a way to see everything."""
    body = [title(f"Did you mean one of these{', ' + person_name if person_name else ''}?")]
    for o in options:
        body.append(text(f"**{o.title}** — {o.description}"))
    actions = [execute(o.title, o.verb) for o in options]
    actions.append(execute("Something else", HELP_VERB))
    return card(body, actions)


@dataclass(frozen=True)
class SafeguardingView:
    system_name: str  # the school's safeguarding system (school.safeguarding_system.name)
    system_url: str | None = None
    dsl_names: tuple[str, ...] = field(default_factory=tuple)


def safeguarding_card(v: SafeguardingView) -> dict:
    """The answer to a disclosure typed into the chat: tell the DSL, record it in the school's system, 999 if a
    child is in immediate danger (seed 004 §6). Never a form; nothing typed is repeated or kept."""
    if v.dsl_names:
        who = "a Designated Safeguarding Lead — " + _names(v.dsl_names)
    else:
        who = "a Designated Safeguarding Lead"
    body = [
        title("If a child may be at risk"),
        text(f"Please tell {who} — today, in person or by phone, and record your concern in {v.system_name}."),
        text("If a child is in immediate danger, call 999.", color="attention"),
        text(
            "Nobody has been told about what you wrote here, and this chat is not a safeguarding record.", subtle=True
        ),
        text(
            "If this has affected you and you would like supervision for yourself, type **request** when you "
            "are ready.",
            subtle=True,
            size="small",
        ),
    ]
    actions = [ac.ActionOpenUrl(title=f"Open {v.system_name}", url=v.system_url)] if v.system_url else []
    return card(body, actions)


def _names(names: tuple[str, ...]) -> str:
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " or " + names[-1]
