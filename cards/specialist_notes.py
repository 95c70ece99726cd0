"""Cards for the notes of a specialist group supervision session (seed 001 §3.3): the notes form its supervisor
fills in, what they see once it is submitted, and the notice each attendee gets when the notes are shared."""

from __future__ import annotations

from dataclasses import dataclass, field

import adaptive_cards.card as ac

from bot.records.templates import RecordTemplate
from cards.base import card, choice_set, facts, text, title
from cards.group_record import template_fields
from cards.request import act, banner, field_error, refresh

OPEN = "specnotes.open"
SAVE = "specnotes.save"
SUBMIT = "specnotes.submit"
DISCARD = "specnotes.discard"
FILE = "specnotes.file"


@dataclass
class NotesView:
    session_id: int
    draft_key: str
    template: RecordTemplate
    heading: str  # "Specialist supervision"
    when: str  # "Tue 24 Nov 2026 10:00–11:00"
    people: list[tuple[str, str]]  # (staff id, name) of those invited
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    message: str | None = None
    good: bool = False
    has_draft: bool = False


def notes_card(v: NotesView) -> dict:
    """The supervisor's notes of the session, shared with the attendees once submitted."""
    body: list = [
        title(f"Notes: {v.heading}"),
        facts([("When", v.when)]),
        text(
            "These notes are yours: they go to your OneDrive and are shared with the people who came, nobody "
            "else (they are not stored centrally). Use initials or the system reference, never a pupil's full "
            "name.",
            subtle=True,
            size="small",
        ),
    ]
    body += banner(v.message, good=v.good)
    body.append(
        choice_set(
            "sn_attendees",
            "Who came",
            v.people,
            value=v.values.get("sn_attendees") or ",".join(i for i, _ in v.people),
            multi=True,
            expanded=len(v.people) <= 8,
        )
    )
    body += field_error(v.errors, "sn_attendees")
    body += template_fields(v.template, v.values, v.errors)
    data = {"session_id": v.session_id, "draft_key": v.draft_key}
    actions = [
        act("Submit and share", SUBMIT, data, inputs=True, style="positive"),
        act("Save draft", SAVE, data, inputs=True),
    ]
    if v.has_draft:
        actions.append(act("Delete draft", DISCARD, data, style="destructive"))
    return card(body, actions)


@dataclass
class NotesDoneView:
    note_id: int
    heading: str
    when: str
    shared_with: int
    state: str  # "sharing" | "shared" | "not shared yet"
    web_url: str | None = None
    already: bool = False


def done_card(v: NotesDoneView) -> dict:
    """What the supervisor (and, through the notice, each attendee) sees of submitted notes."""
    body: list = [
        title(f"Notes: {v.heading}"),
        facts([("When", v.when), ("Shared with", f"{v.shared_with} attendees"), ("File", v.state)]),
    ]
    if v.already:
        body.append(text("These notes were submitted already.", subtle=True))
    actions: list = []
    if v.web_url and v.web_url.startswith(("https://", "file://")):
        actions.append(ac.ActionOpenUrl(title="Open the notes", url=v.web_url))
    return card(body, actions, refresh=refresh(FILE, {"note_id": v.note_id}))


def shared_notice(*, note_id: int, heading: str, when: str, supervisor: str) -> dict:
    """Told to each attendee once the notes are in the supervisor's OneDrive and shared with them."""
    return card(
        [
            title("Notes from your supervision session"),
            text(f"{supervisor} has shared the notes of the {heading.lower()} session on {when} with you."),
            text("They are in their OneDrive, shared with the people who came only.", subtle=True),
        ],
        [act("Open the notes", FILE, {"note_id": note_id})],
    )
