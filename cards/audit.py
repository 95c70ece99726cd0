"""The audit trail card (DSL team): the events of one record or one person — who, what, when; never content."""

from __future__ import annotations

from dataclasses import dataclass, field

from cards.base import card, choice_set, execute, facts, text, text_input, title

SHOW = "audit.show"

#: What the DSL can look up, in the order the card offers it.
SUBJECTS = (
    ("person", "A person (staff id)"),
    ("targeted_record", "A 1:1 record"),
    ("group_record", "A group record"),
    ("agreement", "A supervision agreement"),
    ("request", "A supervision request"),
    ("meeting", "A booked 1:1 session"),
    ("group_session", "A booked group session"),
    ("export", "An export"),
)


@dataclass(frozen=True)
class EventLine:
    when: str  # the school's wall clock, e.g. "Mon 23 Nov 2026, 10:00"
    who: str  # a name from the roster, or "someone not on the staff list"
    what: str  # "viewed 1:1 record 12", "was refused: verb audit.show"


@dataclass(frozen=True)
class TrailView:
    subject_label: str | None = None  # "1:1 record 12", "Tom Hollis" — None: nothing looked up yet
    lines: list[EventLine] = field(default_factory=list)
    kind: str = "person"
    object_id: str = ""
    error: str | None = None
    more: bool = False  # the trail is longer than the card shows


def trail_card(view: TrailView) -> dict:
    """The look-up form, and the trail of what was looked up (newest first)."""
    body: list = [title("Audit trail")]
    if view.error:
        body.append(text(view.error, color="attention"))
    if view.subject_label is not None:
        body.append(text(f"Trail for {view.subject_label}", subtle=True))
        if view.lines:
            body.append(facts((ln.when, f"{ln.who} {ln.what}") for ln in view.lines))
            if view.more:
                body.append(text("Older events are not shown.", subtle=True))
        else:
            body.append(text("Nothing recorded yet."))
    body.append(choice_set("audit_kind", "Look up", SUBJECTS, value=view.kind))
    body.append(
        text_input(
            "audit_id",
            "Id (a staff id or a record number)",
            value=view.object_id or None,
            max_length=120,
            required=True,
            error_message="Enter an id.",
        )
    )
    return card(body, [execute("Show the trail", SHOW)])
