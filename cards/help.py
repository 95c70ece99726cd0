"""The help / welcome card."""

from __future__ import annotations

from cards.base import card, execute, facts, text, title


def help_card(
    *,
    school_name: str,
    person_name: str | None,
    role_names: list[str],
    commands: list[tuple[str, str, str, str | None]],
    welcome: bool = False,
    unknown_text: str | None = None,
    at_school: str | None = None,
    helpline: str | None = None,
) -> dict:
    """commands: (title, description, word to type, verb to open it or None)."""
    body = []
    if person_name is None:
        body.append(title(f"Safeguarding supervision — {school_name}"))
        body.append(
            text(
                "I can't find you on the school's staff list, so I can't open supervision for you yet. "
                "Please ask your Designated Safeguarding Lead to check that you are on the roster."
            )
        )
        return card(body)
    heading = f"Welcome, {person_name}" if welcome else f"What you can do, {person_name}"
    body.append(title(heading))
    if welcome:
        body.append(
            text(
                f"I help {school_name} run staff safeguarding supervision: requesting 1:1 support, "
                "group supervision every half term, and keeping records where the policy says."
            )
        )
    if unknown_text:
        body.append(text("I didn't recognise that. Here is what you can ask me:", subtle=True))
    if at_school:
        # In a trust, which school this conversation is for (someone on two schools' staff can switch).
        body.append(
            text(f"At {at_school}. Working at another school of the trust? Type **switch school**.", subtle=True)
        )
    if role_names:
        body.append(text("Your roles: " + ", ".join(role_names), subtle=True))
    body.append(facts([(f"**{word}**", f"{t} — {d}") for t, d, word, _ in commands] or [("help", "Show this card")]))
    body.append(text("Type a word above, or use a button.", subtle=True, size="small"))
    if helpline:
        body.append(text(helpline, size="small"))
    actions = [execute(t, v) for t, _, _, v in commands if v][:6]
    return card(body, actions)
