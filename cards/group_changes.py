"""Cards for moving or cancelling a booked group session — a class or staff-group session, the mop-up, a
specialist, emergency or enrichment session — and the notice everyone invited gets (seed 003 Appendix 1 §4: a
cancellation agrees an alternative date; seed 001 §3.1: the mop-up in the last week of the half term)."""

from __future__ import annotations

from dataclasses import dataclass, field

import adaptive_cards.card as ac

from cards.base import card, facts, text, title
from cards.request import act, banner, button_row, field_error, refresh

VIEW = "gsession.view"
MOVE = "gsession.move"
CANCEL = "gsession.cancel"


def join_action(join_url: str | None) -> list:
    """The meeting's Teams join link as a button (Graph's onlineMeeting.joinUrl), when the calendar has one."""
    if not join_url or not join_url.startswith("https://"):
        return []
    return [ac.ActionOpenUrl(title="Join the meeting", url=join_url)]


@dataclass
class SessionView:
    session_id: int
    heading: str  # "Group supervision – Willow Class"
    when: str  # "Wed 25 Nov 2026 14:00–15:00"
    facilitator: str
    invited: int
    status: str  # scheduled | recorded | cancelled
    can_change: bool = False
    past: bool = False
    rule: str | None = None  # "The mop-up goes in the last week of the half term: Mon 14 Dec to Fri 18 Dec."
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    message: str | None = None
    good: bool = False
    min_date: str | None = None
    max_date: str | None = None
    join_url: str | None = None


def session_card(v: SessionView) -> dict:
    """A group session as it stands; whoever may change it can move it to a new date and time or cancel it."""
    body: list = [title(v.heading)]
    body += banner(v.message, good=v.good)
    if v.status == "cancelled":
        body.append(text(f"The session on {v.when} was cancelled."))
    else:
        body.append(facts([("When", v.when), ("Facilitator", v.facilitator), ("Invited", str(v.invited))]))
        if v.status == "recorded":
            body.append(text("This session has been recorded.", subtle=True))
    actions: list = []
    if v.status == "scheduled" and not v.past:
        actions += join_action(v.join_url)
    if v.can_change and v.status == "scheduled" and not v.past:
        body.append(text("**Move it**: choose the new date and start time. Everyone invited is told.", size="small"))
        if v.rule:
            body.append(text(v.rule, subtle=True, size="small"))
        body.append(
            ac.InputDate(
                id="gs_date",
                label="New date",
                value=v.values.get("gs_date"),
                max=v.max_date,
                is_required=True,
                error_message="Choose the new date.",
            )
        )
        body += field_error(v.errors, "gs_date")
        body.append(
            ac.InputTime(
                id="gs_time",
                label="New start time",
                value=v.values.get("gs_time"),
                is_required=True,
                error_message="Choose the new start time.",
            )
        )
        body += field_error(v.errors, "gs_time")
        body.append(
            button_row(
                [
                    act("Move to this time", MOVE, {"session_id": v.session_id}, inputs=True),
                    act("Cancel the session", CANCEL, {"session_id": v.session_id}, style="destructive"),
                ]
            )
        )
    built = card(body, actions, refresh=refresh(VIEW, {"session_id": v.session_id}))
    if v.min_date:  # adaptive-cards-py's InputDate has no `min`; the schema does
        for el in built["body"]:
            if el.get("id") == "gs_date":
                el["min"] = v.min_date
    return built


def change_notice(
    *, session_id: int, heading: str, actor_name: str, old_when: str, new_when: str | None, join_url: str | None = None
) -> dict:
    """What everyone invited is told when a group session moves or is cancelled."""
    if new_when:
        lines = [
            title(f"{heading}: moved"),
            text(f"{actor_name} moved the session from {old_when} to **{new_when}**."),
            text("Your calendar has been updated.", subtle=True),
        ]
    else:
        lines = [
            title(f"{heading}: cancelled"),
            text(f"{actor_name} cancelled the session on {old_when}."),
            text(
                "It has been taken out of your calendar. If you still need to attend group supervision this half "
                "term, you will be invited to another session.",
                subtle=True,
            ),
        ]
    actions = [act("See the session", VIEW, {"session_id": session_id})]
    actions += join_action(join_url) if new_when else []
    return card(lines, actions)
