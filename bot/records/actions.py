"""Marking a record's action done or open again: the same rule for group-record and 1:1 actions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.store.models_group_record import DONE  # the 1:1 actions use the same status words


def set_action_status(action: Any, status: str, *, by: str, now: dt.datetime) -> str:
    """Set status (and who/when it was done) on an action row; returns the notice for the card."""
    if action.status == status:
        return "That was already marked done." if status == DONE else "That action is already open."
    action.status = status
    action.done_by = by if status == DONE else None
    action.done_at = now if status == DONE else None
    return "Marked done." if status == DONE else "Reopened."
