"""Marking a record's action done or open again, and the "review of actions" that opens a pair's or a group's next
record (seed 002 App. 2: "Review of agreed Actions from the last meeting"): the same rules for group-record and
1:1 actions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.records.rules import Tampered, clean_text
from bot.store.models_group_record import DONE, DROPPED  # the 1:1 actions use the same status words

#: How an earlier action is marked in the next record's review.
REVIEW_DONE, REVIEW_CARRIED, REVIEW_DROPPED = "done", "carried", "dropped"
REVIEW_MARKS = (REVIEW_DONE, REVIEW_CARRIED, REVIEW_DROPPED)
REVIEW_LABELS = {REVIEW_DONE: "Done", REVIEW_CARRIED: "Carried forward", REVIEW_DROPPED: "Dropped"}
REVIEW_PROMPT = "Mark this one: done, carry forward or drop it."


def set_action_status(action: Any, status: str, *, by: str, now: dt.datetime) -> str:
    """Set status (and who/when it was done) on an action row; returns the notice for the card."""
    if action.status == status:
        return "That was already marked done." if status == DONE else "That action is already open."
    action.status = status
    action.done_by = by if status == DONE else None
    action.done_at = now if status == DONE else None
    return "Marked done." if status == DONE else "Reopened."


def review_values(data: Any) -> dict[str, str]:
    """The review marks a card sent (`rev_<action id>`), for its draft: only well-formed ones."""
    return {
        k: v
        for k, v in data.items()
        if isinstance(k, str) and k.startswith("rev_") and k[4:].isdigit() and v in REVIEW_MARKS
    }


def parse_review(data: Any, actions: Any, errors: dict[str, str]) -> dict[int, str]:
    """Each earlier open action's mark; a missing one is a mistake to show, a mark no card offers is tampering.
    Marks for anything but these actions (which the store chose) are ignored."""
    marks: dict[int, str] = {}
    for a in actions:
        raw = clean_text(data.get(f"rev_{a.id}"), multiline=False)
        if not raw:
            errors[f"rev_{a.id}"] = REVIEW_PROMPT
        elif raw not in REVIEW_MARKS:
            raise Tampered("review mark not offered")
        else:
            marks[a.id] = raw
    return marks


def review_actions(actions: Any, marks: dict[int, str], *, record_id: int, by: str, now: dt.datetime) -> None:
    """Apply the review's marks to the action rows (in the submit's transaction): done (who and when), carried
    forward (still open, reviewed again next time), or dropped; each remembers the record that reviewed it."""
    for a in actions:
        mark = marks.get(a.id)
        if mark is None:
            continue
        a.reviewed_in_id = record_id
        if mark == REVIEW_DONE:
            a.status, a.done_by, a.done_at = DONE, by, now
        elif mark == REVIEW_DROPPED:
            a.status, a.done_by, a.done_at = DROPPED, by, None
