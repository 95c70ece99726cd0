"""Cards for sessions the DSL team sets up (seed 001 §3.3 specialist and emergency group supervision) and the
enrichment supervisor's end-of-week group session (§3.1)."""

from __future__ import annotations

from dataclasses import dataclass, field

import adaptive_cards.card as ac

from bot.domain.request_rules import GROUP_KINDS, LENGTHS, SOON
from cards.base import card, choice_set, facts, text, title
from cards.group_changes import VIEW as MOVE_OPEN
from cards.group_changes import join_action
from cards.request import act, banner, field_error

SETUP = "specialist.setup"
FIND = "specialist.find"
BOOK = "specialist.book"
SESSION_VIEW = "specialist.view"
SESSION_CANCEL = "specialist.cancel"
ENRICHMENT_OPEN = "enrichment.open"
ENRICHMENT_FIND = "enrichment.find"


@dataclass
class SetupView:
    nonce: str
    staff: list[tuple[str, str]]
    supervisors: list[tuple[str, str]]
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    message: str | None = None


def setup_card(v: SetupView) -> dict:
    """Set up specialist or emergency supervision: who is involved, who leads, and whether outside help joins."""
    val = v.values
    body: list = [
        title("Set up specialist or emergency supervision"),
        text(
            "For staff affected by an incident, a bereavement or another challenging situation. "
            "Everyone chosen gets the booking in their calendar as \"Supervision\" — nothing about "
            "why.",
            subtle=True,
        ),
    ]
    body += banner(v.message)
    body.append(
        choice_set(
            "kind",
            "Kind of session",
            list(GROUP_KINDS.items()),
            value=val.get("kind") or "emergency",
            required=True,
            expanded=True,
            error_message="Choose the kind of session.",
        )
    )
    body += field_error(v.errors, "kind")
    body.append(
        choice_set(
            "staff",
            "Staff involved",
            v.staff,
            value=val.get("staff") or None,
            required=True,
            multi=True,
            error_message="Choose the staff involved.",
            placeholder="Choose staff",
        )
    )
    body += field_error(v.errors, "staff")
    body.append(
        choice_set(
            "supervisors",
            "Led by",
            v.supervisors,
            value=val.get("supervisors") or None,
            required=True,
            multi=True,
            error_message="Choose who will lead it.",
            placeholder="Choose supervisors",
        )
    )
    body += field_error(v.errors, "supervisors")
    body.append(
        ac.InputToggle(
            id="external",
            title="External support will join (e.g. a bereavement service)",
            value=val.get("external") or "false",
            value_on="true",
            value_off="false",
        )
    )
    body.append(
        choice_set(
            "minutes",
            "Length",
            list(LENGTHS.items()),
            value=val.get("minutes") or "60",
            required=True,
            error_message="Choose a length.",
        )
    )
    body += field_error(v.errors, "minutes")
    body.append(
        choice_set(
            "soon",
            "How soon?",
            list(SOON.items()),
            value=val.get("soon") or "urgent",
            required=True,
            expanded=True,
            error_message="Choose how soon.",
        )
    )
    body += field_error(v.errors, "soon")
    return card(body, [act("Find times", FIND, {"setup": v.nonce}, inputs=True, style="positive")])


@dataclass
class GroupOfferView:
    nonce: str
    heading: str
    people: list[str]
    leaders: list[str]
    minutes: int
    slots: list[tuple[str, str]]
    external: bool = False
    warning: str | None = None
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    message: str | None = None
    min_date: str | None = None
    max_date: str | None = None
    back: tuple[str, str, dict] | None = None


def group_offer_card(v: GroupOfferView) -> dict:
    """Times free for everyone involved, or a time typed in (an emergency may need one today)."""
    body: list = [title(v.heading)]
    body += banner(v.message)
    pairs = [
        ("Led by", ", ".join(v.leaders)),
        ("Staff", ", ".join(v.people) or "—"),
        ("Length", f"{v.minutes} minutes"),
    ]
    if v.external:
        pairs.append(("External support", "Yes — invite them from the calendar event"))
    body.append(facts(pairs))
    if v.warning:
        body.append(text(v.warning, color="attention"))
    if v.slots:
        body.append(
            choice_set(
                "slot",
                "A time free for everyone",
                [("", "— I'll enter a time below —")] + v.slots,
                value=v.values.get("slot", v.slots[0][0]),
                expanded=True,
            )
        )
    else:
        body.append(
            text("No time is free for everyone in the days I looked at; enter a time below.", color="attention")
        )
    body += field_error(v.errors, "slot")
    body.append(text("Or enter a time (used when no time above is chosen):", subtle=True))
    date_input = ac.InputDate(id="date", label="Date", value=v.values.get("date") or None, max=v.max_date)
    body.append(date_input)
    body += field_error(v.errors, "date")
    body.append(ac.InputTime(id="time", label="Start time", value=v.values.get("time") or None))
    body += field_error(v.errors, "time")
    actions = [act("Book and invite everyone", BOOK, {"offer": v.nonce}, inputs=True, style="positive")]
    if v.back:
        actions.append(act(v.back[0], v.back[1], v.back[2]))
    built = card(body, actions)
    if v.min_date:  # adaptive-cards-py's InputDate has no `min`; the schema does
        for el in built["body"]:
            if el.get("id") == "date":
                el["min"] = v.min_date
    return built


@dataclass
class GroupSessionView:
    session_id: int
    heading: str
    when: str
    leaders: list[str]
    people_count: int
    status: str = "scheduled"
    external: bool = False
    can_cancel: bool = False
    message: str | None = None
    viewer_is_invitee: bool = True
    join_url: str | None = None  # the Teams meeting's join link, once the calendar has it
    can_move: bool = False  # the DSL team, the facilitator or the organiser (bot/journeys/group_changes.py)
    can_note: bool = False  # a leader of a specialist session: writes up its notes (seed 001 §3.3)


def group_session_card(v: GroupSessionView) -> dict:
    """The booking as everyone involved sees it (the organiser can cancel it)."""
    body: list = [title(v.heading)]
    body += banner(v.message, good=v.status == "scheduled")
    if v.status == "cancelled":
        body.append(text(f"The session on {v.when} has been cancelled."))
    else:
        body.append(text(f"**{v.when}**, led by {', '.join(v.leaders)}."))
        body.append(
            text(
                f"{v.people_count} {'person is' if v.people_count == 1 else 'people are'} invited. It's in "
                "the calendar as a private Teams meeting called \"Supervision\".",
                subtle=True,
            )
        )
        if v.external:
            body.append(text("External support will join this session.", subtle=True))
    actions: list = []
    if v.status == "scheduled":
        actions += join_action(v.join_url)
    if v.can_move and v.status == "scheduled":
        actions.append(act("Move", MOVE_OPEN, {"session_id": v.session_id}))
    if v.can_note and v.status != "cancelled":
        actions.append(act("Write up the notes", "specnotes.open", {"session_id": v.session_id}))
    if v.can_cancel and v.status == "scheduled":
        actions.append(act("Cancel the session", SESSION_CANCEL, {"session_id": v.session_id}, style="destructive"))
    return card(
        body,
        actions,
        refresh={"action": {"type": "Action.Execute", "verb": SESSION_VIEW, "data": {"session_id": v.session_id}}},
    )


@dataclass
class EnrichmentView:
    week_label: str  # "8–12 Feb 2027"
    requested: int  # people who asked for supervision that week so far
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    message: str | None = None
    booked_label: str | None = None  # already booked


def enrichment_card(v: EnrichmentView) -> dict:
    """The enrichment supervisor's card: book the end-of-week group session for staff."""
    body: list = [
        title("Enrichment week supervision"),
        text(
            f"You are the enrichment supervisor for {v.week_label}. Requests made that week come to you, "
            "and you hold a group supervision session at the end of the week."
        ),
    ]
    body += banner(v.message)
    if v.booked_label:
        body.append(text(f"End-of-week session booked: **{v.booked_label}**.", color="good"))
    body.append(
        text(
            f"{v.requested} {'person has' if v.requested == 1 else 'people have'} asked for supervision "
            "this week so far.",
            subtle=True,
        )
    )
    body.append(
        choice_set(
            "invite",
            "Who to invite",
            [("all", "All staff"), ("requested", "Only staff who asked this week")],
            value=v.values.get("invite") or "all",
            required=True,
            expanded=True,
            error_message="Choose who to invite.",
        )
    )
    body += field_error(v.errors, "invite")
    body.append(
        choice_set(
            "minutes",
            "Length",
            list(LENGTHS.items()),
            value=v.values.get("minutes") or "60",
            required=True,
            error_message="Choose a length.",
        )
    )
    body += field_error(v.errors, "minutes")
    return card(body, [act("Find times at the end of the week", ENRICHMENT_FIND, {}, inputs=True, style="positive")])
