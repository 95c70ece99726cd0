"""Cards for the follow-through reminders (bot/reminders/followup.py): an overdue action, an agreement review
coming up, a 1:1 supervision with no agreement, and a missed entitlement (seed 002 "Entitlement"). Pure builders.
Names, dates and an action's own short title only: never a record's content."""

from __future__ import annotations

from cards.base import card, facts, no_inputs, text, title

V_MYACTIONS = "targeted.actions"
V_AGREEMENTS = "agreement.show"
V_ATTENDANCE = "compliance.attendance"


def action_overdue_card(*, action_text: str, due_label: str, source: str, group: bool = False) -> dict:
    """To the action's owner, once."""
    return card(
        [
            title("An action from supervision is overdue"),
            facts([("Action", action_text), ("Was due", due_label), ("From", source)]),
            text(
                "Mark it done on your list once it is, or talk it over at the next session."
                + (" The DSL team ticks off actions from group sessions." if group else ""),
                size="small",
            ),
        ],
        [no_inputs("My actions", V_MYACTIONS, style="positive")],
    )


def review_due_card(*, other: str, other_label: str, review_label: str, weeks: str) -> dict:
    """A month, then a week, before the annual review date (seed 001 App. 1: reviewed at least once a year)."""
    return card(
        [
            title(f"Your supervision agreement is due for review in {weeks}"),
            facts([(other_label, other), ("Review due by", review_label)]),
            text(
                "Go through it together at your next session, change what needs changing, and record the review "
                "(type agreement).",
                size="small",
            ),
        ],
        [no_inputs("Agreements", V_AGREEMENTS, style="positive")],
    )


def no_agreement_card(*, supervisee: str, since_label: str) -> dict:
    """To the supervisor of a pairing with no agreement confirmed by both (seed 001 App. 1: made at the start)."""
    return card(
        [
            title("No supervision agreement yet"),
            facts([("Supervisee", supervisee), ("Supervising since", since_label)]),
            text(
                "An agreement is made at the start of a supervision: how often and how long you meet, where, "
                "cancelling, contact between sessions, confidentiality and its limits, and who keeps the record. "
                "Make it together and record it (type agreement). The DSL team sees which pairs have none.",
                size="small",
            ),
        ],
        [no_inputs("Agreements", V_AGREEMENTS, style="positive")],
    )


def entitlement_card(*, supervisor: str, supervisee: str, frequency: str, missed_label: str, for_whom: str) -> dict:
    """Seed 002 "Entitlement". for_whom: supervisor | supervisee (level 1) | dsl (level 2)."""
    if for_whom == "dsl":
        heading = "1:1 supervision still not happening at the agreed frequency"
        body = (
            "The supervisor and supervisee were told when it was first missed and it has not been put right. "
            "The policy's next step is a three-way meeting of the supervisor, a line manager or the head, and "
            "the supervisee, to agree how it will happen."
        )
        actions = [no_inputs("Attendance and 1:1s", V_ATTENDANCE)]
    else:
        heading = "1:1 supervision is behind the agreed frequency"
        body = (
            "The policy says to sort it out between you first: book the next session together. If that isn't "
            "possible, it goes to the DSL team for a three-way meeting."
        )
        actions = [no_inputs("Agreements", V_AGREEMENTS)]
    return card(
        [
            title(heading),
            facts(
                [
                    ("Supervisor", supervisor),
                    ("Supervisee", supervisee),
                    ("Agreed frequency", frequency),
                    ("Missed since", missed_label),
                ]
            ),
            text(body, size="small"),
        ],
        actions,
    )
