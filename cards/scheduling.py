"""Cards for booking supervision: the times offered, the booking confirmation with Rearrange/Cancel, the
cancel-or-move card (seed 003: a cancellation agrees an alternative date), and "my supervision"."""

from __future__ import annotations

from dataclasses import dataclass, field

import adaptive_cards.card as ac

from bot.domain.request_rules import DAYS, KINDS, TIMES, TOPICS, URGENCIES
from cards.base import card, choice_set, error, facts, text, title
from cards.group_changes import VIEW as GROUP_VIEW
from cards.group_changes import join_action
from cards.request import act, banner, button_row, field_error, labels, refresh

OFFER = "schedule.offer"
BOOK = "schedule.book"
MEETING_VIEW = "meeting.view"
REARRANGE = "meeting.rearrange"
CANCEL_START = "meeting.cancel_start"
CANCEL = "meeting.cancel"
MINE = "schedule.mine"
PAIRING_OFFER = "schedule.pairing_offer"
PAIRING_END = "schedule.pairing_end"


@dataclass
class RequestDetails:
    """What the supervisor sees about a request (the note only here, never in messages or calendars)."""

    kind: str
    topics: list[str]
    urgency: str
    times: list[str]
    days: list[str]
    note: str | None = None
    colleagues: list[str] = field(default_factory=list)  # names, for a group request


@dataclass
class OfferView:
    nonce: str
    heading: str  # "Book supervision with Tom Hollis"
    slots: list[tuple[str, str]]  # (ISO start, label)
    minutes: int
    details: RequestDetails | None = None
    warning: str | None = None  # calendars could not be read
    errors: dict[str, str] = field(default_factory=dict)
    message: str | None = None
    later_data: dict | None = None  # data for "Show later times" (None: no such button)
    later_verb: str = OFFER
    back: tuple[str, str, dict] | None = None  # (title, verb, data) e.g. keep the meeting as it is
    cancel_data: dict | None = None  # "Cancel without a new time" (the cancel flow)
    intro: str | None = None
    book_title: str = "Book this time"


def offer_card(v: OfferView) -> dict:
    """Times free in everyone's calendar, one to pick; booking puts one private "Supervision" event in each."""
    body: list = [title(v.heading)]
    body += banner(v.message)
    if v.intro:
        body.append(text(v.intro))
    if v.details:
        d = v.details
        pairs = [
            ("Kind", KINDS.get(d.kind, d.kind)),
            ("About", labels(d.topics, TOPICS)),
            ("How soon", URGENCIES.get(d.urgency, d.urgency)),
            ("Usually free", labels(d.times, TIMES) + (f" · {labels(d.days, DAYS)}" if d.days else "")),
        ]
        if d.colleagues:
            pairs.append(("Colleagues", ", ".join(d.colleagues)))
        body.append(facts(pairs))
        if d.note:
            body.append(text(f"Their note (only you see this): {d.note}", subtle=True))
    if v.warning:
        body.append(error(v.warning))
    actions: list = []
    if v.slots:
        body.append(
            choice_set(
                "slot",
                f"Choose a time ({v.minutes} minutes)",
                v.slots,
                required=True,
                expanded=True,
                value=v.slots[0][0],
                error_message="Choose one of the times.",
            )
        )
        body += field_error(v.errors, "slot")
        body.append(
            text(
                "Each time is free in everyone's calendar and inside the school day. The calendar entry "
                "says only \"Supervision\".",
                subtle=True,
                size="small",
            )
        )
        actions.append(act(v.book_title, BOOK, {"offer": v.nonce}, inputs=True, style="positive"))
    else:
        body.append(
            text(
                "There's no time free for everyone in the days I looked at. Try later times, or agree "
                "a time together and ask again."
            )
        )
    if v.later_data is not None:
        actions.append(act("Show later times", v.later_verb, v.later_data))
    if v.cancel_data is not None:
        actions.append(act("Cancel without a new time", CANCEL, v.cancel_data, style="destructive"))
    if v.back:
        actions.append(act(v.back[0], v.back[1], v.back[2]))
    return card(body, actions)


@dataclass
class MeetingView:
    meeting_id: int
    status: str  # booked | cancelled | rearranged
    when: str  # label
    other_name: str  # the other person (supervisor for the supervisee, and vice versa)
    viewer_is_supervisor: bool
    past: bool = False
    message: str | None = None
    new_when: str | None = None  # rearranged to
    propose_request_id: int | None = None  # the supervisor cancelled: offer to propose a new time now
    join_url: str | None = None  # the Teams meeting's join link, once the calendar has it


def meeting_card(v: MeetingView) -> dict:
    """The booking confirmation each person sees, with Rearrange and Cancel while it is still ahead."""
    heading = {
        "booked": "Supervision booked",
        "cancelled": "Supervision cancelled",
        "rearranged": "Supervision moved",
    }.get(v.status, "Supervision")
    body: list = [title(heading)]
    body += banner(v.message, good=v.status == "booked")
    role = "your supervisee" if v.viewer_is_supervisor else "your supervisor"
    if v.status == "booked":
        body.append(text(f"**{v.when}** with {v.other_name} ({role})."))
        body.append(text("It's in both calendars as a private Teams meeting called \"Supervision\".", subtle=True))
    elif v.status == "rearranged":
        body.append(
            text(
                f"The session on {v.when} with {v.other_name} was moved"
                + (f" to **{v.new_when}**." if v.new_when else ".")
            )
        )
    else:
        body.append(text(f"The session on {v.when} with {v.other_name} was cancelled."))
    actions: list = []
    if v.status == "booked" and not v.past:
        actions += join_action(v.join_url)
        actions.append(act("Rearrange", REARRANGE, {"meeting_id": v.meeting_id}))
        actions.append(act("Cancel", CANCEL_START, {"meeting_id": v.meeting_id}, style="destructive"))
    if v.propose_request_id is not None:
        actions.append(act("Propose a new time", OFFER, {"request_id": v.propose_request_id}, style="positive"))
    return card(body, actions, refresh=refresh(MEETING_VIEW, {"meeting_id": v.meeting_id}))


def change_notice(
    *, meeting_id: int, actor_name: str, old_when: str, new_when: str | None, supervisor_will_propose: bool
) -> dict:
    """Told to the other person when a session is moved or cancelled."""
    if new_when:
        body = [
            title("Supervision moved"),
            text(
                f"{actor_name} moved your supervision from {old_when} to **{new_when}**. "
                "Your calendar has been updated."
            ),
        ]
    else:
        follow = (
            " A new time will be proposed to you soon."
            if supervisor_will_propose
            else " Please propose a new time: it's waiting for you below."
        )
        body = [title("Supervision cancelled"), text(f"{actor_name} cancelled your supervision on {old_when}.{follow}")]
    return card(body, refresh=refresh(MEETING_VIEW, {"meeting_id": meeting_id}))


# ---- "my supervision" -------------------------------------------------------------------------------------------
@dataclass
class UpcomingItem:
    meeting_id: int | None
    when: str
    with_name: str
    changeable: bool = True
    group: bool = False
    session_id: int | None = None  # a group session: its own card (see, move, cancel: bot/journeys/group_changes.py)


@dataclass
class SuperviseeItem:
    pairing_id: int
    name: str
    since: str
    next_when: str | None


@dataclass
class MineView:
    person_name: str
    supervisor_name: str | None
    upcoming: list[UpcomingItem]
    open_requests: list[tuple[int, str]]  # (request id, status text)
    supervisees: list[SuperviseeItem] | None  # None: not a supervisor
    message: str | None = None


def mine_card(v: MineView) -> dict:
    """One place to see your supervision: your supervisor, booked sessions, and (for supervisors) supervisees."""
    body: list = [title(f"Your supervision, {v.person_name}")]
    body += banner(v.message, good=True)
    body.append(
        text(
            f"Your supervisor: **{v.supervisor_name}**"
            if v.supervisor_name
            else "You don't have a 1:1 supervisor at the moment. Type **request** to ask for one."
        )
    )
    body.append(text("**Booked sessions**"))
    if not v.upcoming:
        body.append(text("None booked.", subtle=True))
    for item in v.upcoming:
        parts: list = [text(f"{item.when} — {item.with_name}")]
        if item.changeable and item.meeting_id is not None and not item.group:
            parts.append(
                button_row(
                    [
                        act("Rearrange", REARRANGE, {"meeting_id": item.meeting_id}),
                        act("Cancel", CANCEL_START, {"meeting_id": item.meeting_id}),
                    ]
                )
            )
        elif item.group and item.session_id is not None:
            label = "Move or cancel" if item.changeable else "See it"
            parts.append(button_row([act(label, GROUP_VIEW, {"session_id": item.session_id})]))
        body.append(ac.Container(items=parts, separator=True))
    for rid, status in v.open_requests:
        body.append(
            ac.Container(
                separator=True,
                items=[text(f"Request: {status}"), button_row([act("Open", "request.status", {"request_id": rid})])],
            )
        )
    if v.supervisees is not None:
        body.append(text("**People you supervise**"))
        if not v.supervisees:
            body.append(text("Nobody at the moment.", subtle=True))
        for s in v.supervisees:
            line = f"{s.name} (since {s.since})" + (f" · next: {s.next_when}" if s.next_when else " · nothing booked")
            body.append(
                ac.Container(
                    separator=True,
                    items=[
                        text(line),
                        button_row(
                            [
                                act("Book a session", PAIRING_OFFER, {"pairing_id": s.pairing_id}),
                                act("End supervision", PAIRING_END, {"pairing_id": s.pairing_id}),
                            ]
                        ),
                    ],
                )
            )
    return card(body)


def pairing_end_confirm(
    *, pairing_id: int, supervisee_name: str, supervisor_name: str, viewer_is_supervisor: bool
) -> dict:
    other = supervisee_name if viewer_is_supervisor else supervisor_name
    return card(
        [
            title("End this supervision?"),
            text(
                f"This ends the 1:1 supervision between {supervisor_name} and {supervisee_name}. Booked "
                f"sessions stay in the calendar unless you cancel them. {other} will be told."
            ),
        ],
        [
            act("Yes, end it", PAIRING_END, {"pairing_id": pairing_id, "confirm": True}, style="destructive"),
            act("Keep it", MINE, {}),
        ],
    )
