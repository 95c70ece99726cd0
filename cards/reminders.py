"""The DSL team's reminder preview: who a round sent now would reach, who cannot be reached, when the next
automatic round is, and "Send now" (issue #5 reminders, on demand)."""

from __future__ import annotations

from dataclasses import dataclass, field

import adaptive_cards.card as ac

from cards.base import card, facts, text, title

V_PREVIEW = "reminders.preview"
V_SEND = "reminders.send"
#: Names listed per section before "and N more" (keeps the card well under 28 KB for a big school).
NAMES_SHOWN = 40


def _button(title_: str, verb: str, data: dict | None = None, *, style: str | None = None) -> ac.ActionExecute:
    return ac.ActionExecute(title=title_, verb=verb, data=data or {}, style=style, associated_inputs="none")


def _names(names: tuple[str, ...]) -> str:
    shown = ", ".join(names[:NAMES_SHOWN])
    return shown + (f" and {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else "")


@dataclass(frozen=True)
class PreviewView:
    half_term_name: str | None
    facts: tuple[tuple[str, str], ...] = ()  # Deadline, Days left, Next automatic round …
    round_line: str | None = None  # which round Send now sends, and whether brought forward
    reachable: tuple[str, ...] = ()  # names
    unreachable: tuple[tuple[str, str], ...] = ()  # (name, why)
    already_line: str | None = None
    window_line: str | None = None  # why Send now is not offered, when it is not
    progress: tuple[str, ...] = ()  # this half term's rounds so far
    notice: str | None = None  # what the last "Send now" did
    send_data: dict | None = None  # None: no Send now button
    marker_note: str = field(default="Each person gets at most one reminder per point, however often it is sent.")


def preview_card(v: PreviewView) -> dict:
    heading = f"Reminders — {v.half_term_name}" if v.half_term_name else "Reminders"
    body: list = [title(heading)]
    if v.notice:
        body.append(text(v.notice, color="good"))
    if v.facts:
        body.append(facts(v.facts))
    if v.round_line:
        body.append(text(v.round_line))
    if v.send_data is not None or v.reachable or v.unreachable:
        body.append(text(f"**Would be reminded now ({len(v.reachable)})**"))
        body.append(text(_names(v.reachable) if v.reachable else "Nobody who can be reached.", size="small"))
        if v.unreachable:
            body.append(text(f"**Can't be reached ({len(v.unreachable)})**"))
            body.append(
                text(
                    "; ".join(f"{n} ({why})" for n, why in v.unreachable[:NAMES_SHOWN])
                    + (f" and {len(v.unreachable) - NAMES_SHOWN} more" if len(v.unreachable) > NAMES_SHOWN else ""),
                    size="small",
                )
            )
            body.append(
                text(
                    "I'll try to install the bot for anyone who hasn't opened it, so the next round can reach them.",
                    subtle=True,
                    size="small",
                )
            )
    if v.already_line:
        body.append(text(v.already_line, subtle=True))
    if v.window_line:
        body.append(text(v.window_line, color="warning"))
    for line in v.progress:
        body.append(text(line, subtle=True, size="small"))
    body.append(text(v.marker_note, subtle=True, size="small"))
    actions = []
    if v.send_data is not None:
        actions.append(_button("Send now", V_SEND, v.send_data, style="positive"))
    actions.append(_button("Refresh", V_PREVIEW))
    return card(body, actions)
