"""Cards for booking a term's 1:1 sessions in one go (seed 003 Appendix 1 §2: dates fixed a term ahead): the form,
the dates it makes (with any that clash), what was booked — each session then moved or cancelled on its own."""

from __future__ import annotations

from dataclasses import dataclass, field

import adaptive_cards.card as ac

from cards.base import card, choice_set, text, title
from cards.request import act, banner, button_row, field_error

START = "series.start"
PREVIEW = "series.preview"
BOOK = "series.book"
MEETING_VIEW = "meeting.view"


@dataclass
class SeriesFormView:
    supervisees: list[tuple[str, str]]  # (staff id, name)
    every: list[tuple[str, str]]  # ("10", "Every 2 weeks (10 school days)")
    until: list[tuple[str, str]]  # (ISO date, "End of Autumn 2 (Fri 18 Dec)")
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    message: str | None = None
    min_date: str | None = None
    max_date: str | None = None


def form_card(v: SeriesFormView) -> dict:
    """Choose the supervisee, the first date and time, how often, and until when."""
    body: list = [
        title("Book a term of supervision"),
        text(
            "Fix the dates a term ahead: the sessions go in both calendars now, every so many school days "
            "(holidays, closures and weekends are skipped). Each one can be moved or cancelled on its own later.",
            subtle=True,
        ),
    ]
    body += banner(v.message)
    if not v.supervisees:
        body.append(text("Nobody is allocated to you for 1:1 supervision at the moment."))
        return card(body)
    body.append(
        choice_set(
            "sr_supervisee",
            "Who with",
            v.supervisees,
            value=v.values.get("sr_supervisee") or (v.supervisees[0][0] if len(v.supervisees) == 1 else None),
            required=True,
            error_message="Choose who the sessions are with.",
        )
    )
    body += field_error(v.errors, "sr_supervisee")
    body.append(
        ac.InputDate(
            id="sr_first",
            label="First session",
            value=v.values.get("sr_first"),
            max=v.max_date,
            is_required=True,
            error_message="Choose the date of the first session.",
        )
    )
    body += field_error(v.errors, "sr_first")
    body.append(
        ac.InputTime(
            id="sr_time",
            label="Start time",
            value=v.values.get("sr_time"),
            is_required=True,
            error_message="Choose the start time.",
        )
    )
    body += field_error(v.errors, "sr_time")
    body.append(
        choice_set(
            "sr_every",
            "How often",
            v.every,
            value=v.values.get("sr_every"),
            required=True,
            error_message="Choose how often.",
        )
    )
    body += field_error(v.errors, "sr_every")
    body.append(
        choice_set(
            "sr_until",
            "Until",
            v.until,
            value=v.values.get("sr_until"),
            required=True,
            error_message="Choose until when.",
        )
    )
    body += field_error(v.errors, "sr_until")
    built = card(body, [act("Check the dates", PREVIEW, inputs=True, style="positive")])
    if v.min_date:  # adaptive-cards-py's InputDate has no `min`; the schema does
        for el in built["body"]:
            if el.get("id") == "sr_first":
                el["min"] = v.min_date
    return built


@dataclass
class SeriesPreviewView:
    nonce: str
    supervisee_name: str
    free: list[str]  # labels of the sessions that will be booked
    busy: list[str]  # labels of dates where a calendar is busy then (not booked)
    back_values: dict[str, str]
    warning: str | None = None


def preview_card(v: SeriesPreviewView) -> dict:
    """The dates the series makes, before anything is booked."""
    body: list = [title(f"Supervision with {v.supervisee_name}")]
    body += banner(v.warning)
    if v.free:
        body.append(text(f"**{len(v.free)} sessions** will go in both calendars:"))
        body.append(text("\n".join(f"- {x}" for x in v.free)))
    else:
        body.append(text("None of these dates is free in both calendars."))
    if v.busy:
        body.append(
            text(
                "Not booked — someone's calendar is busy then (book those separately from **sessions**):\n"
                + "\n".join(f"- {x}" for x in v.busy),
                size="small",
            )
        )
    actions = []
    if v.free:
        actions.append(act(f"Book these {len(v.free)} sessions", BOOK, {"offer": v.nonce}, style="positive"))
    actions.append(act("Change the dates", START, v.back_values))
    return card(body, actions)


@dataclass
class SeriesBookedView:
    supervisee_name: str
    sessions: list[tuple[int, str]]  # (meeting id, label)
    message: str | None = None
    for_supervisee: bool = False
    supervisor_name: str = ""


def booked_card(v: SeriesBookedView) -> dict:
    """What the series booked, each session with its own card (move it, cancel it)."""
    if v.for_supervisee:
        head = f"{v.supervisor_name} booked your supervision for the term"
        intro = "These sessions are in your calendar. If one doesn't suit, open it to move or cancel it."
    else:
        head = f"Booked: supervision with {v.supervisee_name}"
        intro = "They are in both calendars as a private Teams meeting called \"Supervision\"."
    body: list = [title(head)]
    body += banner(v.message, good=True)
    body.append(text(intro, subtle=True))
    for mid, label in v.sessions:
        body.append(
            ac.Container(
                separator=True,
                items=[text(label), button_row([act("Open", MEETING_VIEW, {"meeting_id": mid})])],
            )
        )
    return card(body)
