"""Cards of the request journey: the request form, the requester's status card, the allocator's card and list,
and the notices sent when a supervisor is allocated. Pure builders: view model in, card dict out."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import adaptive_cards.card as ac

from bot.domain.request_rules import (
    CONTINUE,
    DAYS,
    KINDS,
    NO_PREFERENCE,
    NOTE_MAX,
    PUPIL_CASES_MAX,
    TIMES,
    TOPICS,
    URGENCIES,
)
from cards.base import card, choice_set, error, facts, text, text_input, title

REQUEST_SUBMIT = "request.submit"
REQUEST_STATUS = "request.status"
REQUEST_WITHDRAW = "request.withdraw"
REQUEST_OPEN = "request.open"
ALLOCATION_VIEW = "request.allocation"
ALLOCATE = "request.allocate"


# ---- small shared helpers (used by the other card modules of this journey) -----------------------------------
def act(
    title_: str, verb: str, data: dict | None = None, *, inputs: bool = False, style: str | None = None
) -> ac.ActionExecute:
    """An Action.Execute button. ``inputs=False`` sends no inputs, so Teams does not block it on required fields
    (e.g. "Withdraw" on a form, "Show later times" on a list of times)."""
    return ac.ActionExecute(
        title=title_, verb=verb, data=data or {}, style=style, associated_inputs="auto" if inputs else "none"
    )


def refresh(verb: str, data: dict) -> dict:
    """A refresh clause: in a 1:1 chat Teams runs it whenever the card is shown, so it always shows the latest
    state, built for whoever is looking (user-specific views)."""
    return {"action": {"type": "Action.Execute", "verb": verb, "data": data}}


def button_row(actions: Iterable[ac.ActionExecute]) -> ac.ActionSet:
    return ac.ActionSet(actions=list(actions))


def field_error(errors: dict[str, str], key: str) -> list:
    return [error(errors[key])] if errors.get(key) else []


def labels(codes: Iterable[str], table: dict[str, str]) -> str:
    return ", ".join(table.get(c, c) for c in codes) or "—"


def banner(message: str | None, *, good: bool = False) -> list:
    if not message:
        return []
    return [text(message, color="good" if good else "attention")]


# ---- the request form ----------------------------------------------------------------------------------------
@dataclass
class RequestFormView:
    draft_id: str
    pool: list[tuple[str, str]]  # (staff id, label) of supervisors the person may prefer
    colleagues: list[tuple[str, str]]  # (staff id, name) for group requests
    current_supervisor: tuple[str, str] | None = None  # (id, name) when they have one still in the pool
    enrichment: str | None = None  # "Marcus Fenwick is this week's enrichment supervisor"
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    top_error: str | None = None
    helpline: str | None = None  # the school's employee assistance helpline (bot.labels.helpline_text)


def request_form(v: RequestFormView) -> dict:
    """The request card (seed 001 §3.2): required fields marked, validated by Teams and again by the server."""
    val = v.values
    body: list = [
        title("Request supervision"),
        text(
            "Tell us what you need and we'll find you a trained supervisor. Fields marked * are "
            "required. Everything here is seen only by the people who arrange your supervision.",
            subtle=True,
        ),
    ]
    if v.top_error:
        body.append(error(v.top_error))
    if v.helpline:
        body.append(text(v.helpline, size="small"))
    if v.enrichment:
        body.append(text(v.enrichment, color="accent"))
    body.append(
        choice_set(
            "kind",
            "What kind of supervision?",
            list(KINDS.items()),
            value=val.get("kind") or "one_to_one",
            required=True,
            expanded=True,
            error_message="Choose the kind of supervision.",
        )
    )
    body += field_error(v.errors, "kind")

    preferred_choices: list[tuple[str, str]] = []
    if v.current_supervisor:
        preferred_choices.append((CONTINUE, f"Continue with my current supervisor ({v.current_supervisor[1]})"))
    preferred_choices.append((NO_PREFERENCE, "No preference"))
    preferred_choices += v.pool
    default_pref = CONTINUE if v.current_supervisor else NO_PREFERENCE
    body.append(
        choice_set(
            "preferred",
            "Preferred supervisor",
            preferred_choices,
            value=val.get("preferred") or default_pref,
            required=True,
            error_message="Choose a supervisor or no preference.",
        )
    )
    body += field_error(v.errors, "preferred")

    body.append(
        choice_set(
            "topics",
            "What would you like to talk about?",
            list(TOPICS.items()),
            value=val.get("topics") or None,
            required=True,
            multi=True,
            expanded=True,
            error_message="Choose at least one.",
        )
    )
    body += field_error(v.errors, "topics")
    body.append(
        choice_set(
            "urgency",
            "How soon?",
            list(URGENCIES.items()),
            value=val.get("urgency") or "routine",
            required=True,
            expanded=True,
            error_message="Choose how soon you need it.",
        )
    )
    body += field_error(v.errors, "urgency")
    body.append(
        choice_set(
            "times",
            "When can you usually meet?",
            list(TIMES.items()),
            value=val.get("times") or None,
            required=True,
            multi=True,
            expanded=True,
            error_message="Choose at least one time (or any time).",
        )
    )
    body += field_error(v.errors, "times")
    body.append(
        choice_set(
            "days",
            "Which days suit you? (leave blank for any)",
            list(DAYS.items()),
            value=val.get("days") or None,
            multi=True,
            placeholder="Any weekday",
        )
    )
    body += field_error(v.errors, "days")
    if v.colleagues:
        body.append(
            choice_set(
                "colleagues",
                "Group supervision only: colleagues to invite",
                v.colleagues,
                value=val.get("colleagues") or None,
                multi=True,
                placeholder="Choose colleagues",
            )
        )
        body += field_error(v.errors, "colleagues")
    body.append(
        ac.InputNumber(
            id="pupil_cases",
            label="How many open pupil cases are you carrying at the moment? (optional: a number, never names)",
            value=_number(val.get("pupil_cases")),
            min=0,
            max=PUPIL_CASES_MAX,
            placeholder="For example 4",
            error_message=f"A whole number from 0 to {PUPIL_CASES_MAX}, or leave it blank.",
        )
    )
    body += field_error(v.errors, "pupil_cases")
    body.append(
        text_input(
            "note",
            f"Anything your supervisor should know first? (optional, up to {NOTE_MAX} characters)",
            value=val.get("note") or None,
            max_length=NOTE_MAX,
            multiline=True,
            placeholder="Please don't name pupils or colleagues here.",
            error_message=f"Up to {NOTE_MAX} characters.",
        )
    )
    body += field_error(v.errors, "note")
    body.append(
        # The note's placeholder already asks for no names: say once, not twice, what happens next.
        text("Your supervisor will talk it all through with you when you meet.", subtle=True, size="small")
    )
    return card(body, [act("Send request", REQUEST_SUBMIT, {"draft_id": v.draft_id}, inputs=True, style="positive")])


def _number(raw: str | None) -> int | None:
    """A number typed earlier, to put back in the card after an error (a non-number is not shown back)."""
    try:
        n = float(raw) if raw not in (None, "") else None
    except ValueError:
        return None
    # InputNumber's value must be a whole number: "2.5" or "1e9" typed earlier is not put back (the error says why).
    return int(n) if n is not None and math.isfinite(n) and n.is_integer() and abs(n) < 1e6 else None


# ---- the requester's status card -------------------------------------------------------------------------------
@dataclass
class RequestStatusView:
    request_id: int
    status: str  # submitted | allocated | booked | withdrawn
    kind: str
    topics: list[str]
    urgency: str
    supervisor_name: str | None = None
    route: str = "allocation"
    meeting_label: str | None = None  # "Tue 24 Nov, 09:00–10:00" when booked
    meeting_id: int | None = None
    group_session: bool = False
    message: str | None = None
    pupil_cases: int | None = None


_STATUS_HEADINGS = {
    "submitted": "Request sent",
    "allocated": "Supervisor allocated",
    "booked": "Supervision booked",
    "withdrawn": "Request withdrawn",
}


def request_status(v: RequestStatusView) -> dict:
    """The requester's view of their request; it refreshes itself so it always shows where things stand."""
    body: list = [title(_STATUS_HEADINGS.get(v.status, "Your request"))]
    body += banner(v.message, good=v.status != "withdrawn")
    if v.status == "submitted":
        body.append(
            text(
                "Thank you. The people who allocate supervisors have been told; you'll hear here "
                "who your supervisor is."
            )
        )
    elif v.status == "allocated":
        who = v.supervisor_name or "Your supervisor"
        body.append(
            text(f"Your supervisor is **{who}**. They will propose a time that is free in both of your calendars.")
        )
    elif v.status == "booked":
        body.append(
            text(
                f"You're meeting **{v.supervisor_name}** on **{v.meeting_label}**. It's in your "
                "calendar as \"Supervision\"."
                if v.meeting_label
                else "Your supervision is booked; it's in your calendar as \"Supervision\"."
            )
        )
    elif v.status == "withdrawn":
        body.append(text("You withdrew this request. You can send a new one at any time by typing **request**."))
    pairs = [
        ("Kind", KINDS.get(v.kind, v.kind)),
        ("About", labels(v.topics, TOPICS)),
        ("How soon", URGENCIES.get(v.urgency, v.urgency)),
    ]
    if v.pupil_cases is not None:
        pairs.append(("Open pupil cases", str(v.pupil_cases)))
    if v.supervisor_name:
        pairs.append(("Supervisor", v.supervisor_name))
    body.append(facts(pairs))
    actions: list = []
    if v.status == "booked" and v.meeting_id is not None:
        actions.append(act("Rearrange", "meeting.rearrange", {"meeting_id": v.meeting_id}))
        actions.append(act("Cancel", "meeting.cancel_start", {"meeting_id": v.meeting_id}))
    if v.status in ("submitted", "allocated"):
        actions.append(act("Withdraw request", REQUEST_WITHDRAW, {"request_id": v.request_id}))
    return card(body, actions, refresh=refresh(REQUEST_STATUS, {"request_id": v.request_id}))


# ---- allocators ----------------------------------------------------------------------------------------------
@dataclass
class PoolChoice:
    staff_id: str
    name: str
    load: int
    capacity: int
    full: bool = False
    away: bool = False

    @property
    def label(self) -> str:
        state = " — full" if self.full else (" — away" if self.away else "")
        return f"{self.name} ({self.load} of {self.capacity}){state}"


@dataclass
class AllocationView:
    request_id: int
    status: str
    requester_name: str
    requester_role: str
    kind: str
    topics: list[str]
    urgency: str
    preferred_name: str | None
    continue_name: str | None  # they asked to continue with this person (school allocates anyway)
    suggested_id: str | None
    suggested_name: str | None
    suggestion_reason: str | None
    choices: list[PoolChoice]
    created_label: str
    supervisor_name: str | None = None  # once allocated
    allocated_by_name: str | None = None
    can_allocate: bool = True
    chosen: str | None = None
    errors: dict[str, str] = field(default_factory=dict)
    message: str | None = None
    pupil_cases: int | None = None  # open pupil cases the requester says they carry


def allocation_card(v: AllocationView) -> dict:
    """An allocator's card for one request: who asked, what for, how soon, and a suggested supervisor."""
    urgent = v.urgency == "urgent"
    body: list = [title(("Urgent: " if urgent else "") + f"Supervision request from {v.requester_name}")]
    body += banner(v.message, good=v.status == "allocated" and not v.errors)
    pairs = [
        ("Who", f"{v.requester_name}" + (f", {v.requester_role}" if v.requester_role else "")),
        ("Kind", KINDS.get(v.kind, v.kind)),
        ("About", labels(v.topics, TOPICS)),
        ("How soon", URGENCIES.get(v.urgency, v.urgency)),
        ("Asked", v.created_label),
    ]
    if v.pupil_cases is not None:
        pairs.append(("Open pupil cases", str(v.pupil_cases)))
    if v.continue_name:
        pairs.append(("Preference", f"Continue with {v.continue_name}"))
    else:
        pairs.append(("Preference", v.preferred_name or "No preference"))
    body.append(facts(pairs))
    actions: list = []
    if v.status == "submitted" and v.can_allocate:
        if v.suggested_id and v.suggested_name:
            body.append(
                text(
                    f"Suggested: **{v.suggested_name}**" + (f" — {v.suggestion_reason}" if v.suggestion_reason else "")
                )
            )
        else:
            body.append(
                error(
                    "Nobody in the pool has room. Choose someone and ask them to take one more, or add "
                    "a supervisor to the pool."
                )
            )
        body.append(
            choice_set(
                "chosen",
                "Or choose another supervisor (caseload of capacity)",
                [(c.staff_id, c.label) for c in v.choices],
                value=v.chosen or v.suggested_id or None,
                required=True,
                error_message="Choose a supervisor.",
            )
        )
        body += field_error(v.errors, "chosen")
        if v.suggested_id and v.suggested_name:
            actions.append(
                act(
                    f"Allocate {v.suggested_name}",
                    ALLOCATE,
                    {"request_id": v.request_id, "use": "suggested", "supervisor_id": v.suggested_id},
                    style="positive",
                )
            )
        actions.append(
            act("Allocate chosen supervisor", ALLOCATE, {"request_id": v.request_id, "use": "chosen"}, inputs=True)
        )
    elif v.status == "submitted":
        body.append(text("You asked for this supervision yourself, so another allocator will choose.", subtle=True))
    elif v.status == "withdrawn":
        body.append(text("Withdrawn by the member of staff; nothing more to do.", subtle=True))
    else:
        by = f" by {v.allocated_by_name}" if v.allocated_by_name else ""
        body.append(text(f"Allocated to **{v.supervisor_name}**{by}.", color="good"))
    return card(body, actions, refresh=refresh(ALLOCATION_VIEW, {"request_id": v.request_id}))


def allocation_notice(*, request_id: int, requester_name: str, kind: str, urgency: str) -> dict:
    """Sent to each allocator: who asked and how soon. Opening it (or Teams refreshing it) shows the full card
    with the suggested supervisor and current caseloads."""
    urgent = urgency == "urgent"
    body = [
        title(("Urgent: " if urgent else "") + f"Supervision request from {requester_name}"),
        text(f"{KINDS.get(kind, kind)} · {URGENCIES.get(urgency, urgency)}"),
        text("Open it to see what they asked for and a suggested supervisor.", subtle=True),
    ]
    return card(
        body,
        [act("Open and allocate", ALLOCATION_VIEW, {"request_id": request_id}, style="positive")],
        refresh=refresh(ALLOCATION_VIEW, {"request_id": request_id}),
    )


@dataclass
class WaitingRequest:
    request_id: int
    requester_name: str
    kind: str
    urgency: str
    created_label: str


def requests_list(items: list[WaitingRequest], *, total_open: int) -> dict:
    """The allocators' list of requests still waiting for a supervisor (urgent first)."""
    body: list = [title("Requests waiting for a supervisor")]
    if not items:
        body.append(text("None — every request has a supervisor."))
    for it in items:
        flag = "**Urgent** · " if it.urgency == "urgent" else ""
        body.append(
            ac.Container(
                separator=True,
                items=[
                    text(f"{flag}{it.requester_name} — {KINDS.get(it.kind, it.kind)}"),
                    text(
                        f"Asked {it.created_label} · {URGENCIES.get(it.urgency, it.urgency)}", subtle=True, size="small"
                    ),
                    button_row([act("Open", ALLOCATION_VIEW, {"request_id": it.request_id})]),
                ],
            )
        )
    if total_open > len(items):
        body.append(text(f"Showing {len(items)} of {total_open}; allocate these to see the rest.", subtle=True))
    return card(body)


# ---- notices -----------------------------------------------------------------------------------------------
def supervisor_allocated_notice(*, request_id: int, supervisee_name: str, kind: str, urgency: str, route: str) -> dict:
    """Sent to the supervisor: a new supervisee. Details and times load when the card is opened (refresh), so
    nothing about the request sits in the message itself."""
    why = {
        "continue": f"{supervisee_name} asked to continue with you.",
        "enrichment": "You are this week's enrichment supervisor.",
    }.get(route, "An allocator chose you.")
    body = [
        title(f"New supervision: {supervisee_name}"),
        text(f"{KINDS.get(kind, kind)} · {URGENCIES.get(urgency, urgency)}. {why}"),
        text("Open the times to see what they asked for and book a time free in both calendars.", subtle=True),
    ]
    return card(
        body,
        [act("Propose times", "schedule.offer", {"request_id": request_id}, style="positive")],
        refresh=refresh("schedule.offer", {"request_id": request_id}),
    )


def requester_allocated_notice(*, request_id: int, supervisor_name: str, route: str) -> dict:
    """Sent to the requester: who their supervisor is."""
    lead = {
        "continue": "As you asked, you'll continue with",
        "enrichment": "This week's enrichment supervisor will see you:",
    }.get(route, "Your supervisor will be")
    return card(
        [
            title("Your supervisor"),
            text(f"{lead} **{supervisor_name}**."),
            text("They will propose a time that is free in both of your calendars.", subtle=True),
        ],
        [act("See my request", REQUEST_STATUS, {"request_id": request_id})],
    )
