"""Cards for the handover of a supervisee to a new supervisor (seed 004 §5): the DSL team's form, its result, and
the notices to the three people concerned. Pure builders: a view model in, a v1.5 card dict out. Names, dates and
counts only: never a record's content."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cards.base import card, choice_set, error, execute, facts, no_inputs, text, title

V_FORM = "handover.form"
V_SUBMIT = "handover.submit"

WHAT_HAPPENS = (
    "The new supervisor gets read access to the 1:1 records of the last six months (nothing older), the "
    "previous supervisor's access to them ends, and all of it goes on the audit trail. Open 1:1 actions move "
    "to the new pair (the previous supervisor's become the new supervisor's); the new pair make their own agreement."
)


@dataclass
class HandoverFormView:
    supervisees: list[tuple[str, str]]  # (staff id, "Tom Hollis — now with Priya Raman")
    supervisors: list[tuple[str, str]]  # (staff id, "Marcus Fenwick (2 supervisees)")
    nonce: str
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    notice: str | None = None


def form_card(v: HandoverFormView) -> dict:
    body: list[Any] = [title("Hand a supervisee over to a new supervisor")]
    if v.notice:
        body.append(text(v.notice, color="good"))
    if not v.supervisees:
        body.append(text("Nobody has a 1:1 supervisor at the moment, so there is no one to hand over."))
        return card(body, [])
    body.append(
        choice_set(
            "ho_supervisee",
            "Who is moving to a new supervisor?",
            v.supervisees,
            value=v.values.get("ho_supervisee"),
            placeholder="Choose a supervisee",
        )
    )
    if "ho_supervisee" in v.errors:
        body.append(error(v.errors["ho_supervisee"]))
    body.append(
        choice_set(
            "ho_successor",
            "Their new supervisor",
            v.supervisors,
            value=v.values.get("ho_successor"),
            placeholder="Choose from the trained supervisors",
        )
    )
    if "ho_successor" in v.errors:
        body.append(error(v.errors["ho_successor"]))
    body.append(text(WHAT_HAPPENS, subtle=True, size="small"))
    return card(body, [execute("Hand over", V_SUBMIT, {"nonce": v.nonce}, style="positive")])


@dataclass
class HandoverDoneView:
    supervisee: str
    predecessor: str
    successor: str
    since_label: str
    shared: int
    revoked: int
    already: bool = False


def done_card(v: HandoverDoneView) -> dict:
    body: list[Any] = [title("Handover done")]
    if v.already:
        body.append(text("This handover was already made; nothing was done twice.", subtle=True))
    body.append(
        facts(
            [
                ("Supervisee", v.supervisee),
                ("From", v.predecessor),
                ("To", v.successor),
                ("Records shared", f"{v.shared} (sessions since {v.since_label})"),
                ("Earlier access ended", str(v.revoked)),
            ]
        )
    )
    body.append(
        text(
            "The three of them are told. The files stay where they are, in the OneDrive of whoever wrote them; "
            "the new supervisor is given read access to each.",
            size="small",
        )
    )
    return card(body, [no_inputs("Another handover", V_FORM)])


def successor_notice(*, supervisee: str, since_label: str, records: list[tuple[int, str]], by: str) -> dict:
    """To the new supervisor: who, from when, and a button per record (the file card checks access again)."""
    body: list[Any] = [
        title("A supervisee has been handed over to you"),
        facts([("Supervisee", supervisee), ("Handed over by", by), ("Records since", since_label)]),
        text(
            f"You can read their 1:1 records from the last six months ({len(records)}). Make a new supervision "
            "agreement together at your first session (type agreement).",
            size="small",
        ),
    ]
    actions = [no_inputs(f"Record of {label}", "targeted.file", {"record_id": rid}) for rid, label in records[:5]]
    return card(body, actions)


def predecessor_notice(*, supervisee: str, successor: str) -> dict:
    return card(
        [
            title("A supervisee has moved to a new supervisor"),
            facts([("Supervisee", supervisee), ("New supervisor", successor)]),
            text(
                "The DSL team handed them over. Their last six months of 1:1 records are shared with the new "
                "supervisor, and this app no longer opens them for you.",
                size="small",
            ),
        ]
    )


def supervisee_notice(*, successor: str, predecessor: str) -> dict:
    return card(
        [
            title("You have a new supervisor"),
            facts([("New supervisor", successor), ("Previously", predecessor)]),
            text(
                "The DSL team has arranged this. Your new supervisor can read your 1:1 records from the last six "
                "months, so you don't have to start again; older records are not shared.",
                size="small",
            ),
        ]
    )
