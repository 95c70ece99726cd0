"""Suggesting a supervisor for a request for one-to-one supervision.

Seed 001 §3.2: staff choose a preferred supervisor from the trained pool and a supervisor is then allocated;
seed 000 asks for parity of caseload across the team, so when the preferred person cannot take anyone else the
suggestion is whoever carries the lightest load. The allocator (a person) always makes the final choice: this
module only proposes, and says why, so the card can explain the proposal.

Rules:
* a supervisor *has capacity* when they are in the pool, not retired, available, and their active caseload is
  below their capacity;
* nobody is ever suggested to supervise themselves;
* the preferred supervisor is suggested whenever they have capacity;
* otherwise the one with the fewest active supervisees; ties go to the lower caseload-to-capacity ratio (the one
  with more room relative to what they agreed to), then name, then id, so the answer never depends on the order
  the pool happened to be read in;
* nobody with capacity → None (the allocator must decide, e.g. ask someone to take one more).

Pure: pool, caseloads and the requester are passed in.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

__all__ = [
    "SUPERVISOR_ROLE",
    "Suggestion",
    "SuggestionReason",
    "Supervisor",
    "has_capacity",
    "suggest_supervisor",
    "supervisor_pool",
]

SUPERVISOR_ROLE = "supervisor"


@dataclass(frozen=True, slots=True)
class Supervisor:
    """A member of the trained pool. ``capacity`` is how many active supervisees they have agreed to carry;
    ``retired`` means they no longer take new supervisees; ``available`` is False while they are away."""

    id: str
    capacity: int
    retired: bool = False
    name: str = ""
    available: bool = True

    def __post_init__(self) -> None:
        if self.capacity < 0:
            raise ValueError(f"supervisor {self.id}: capacity cannot be negative ({self.capacity})")


class SuggestionReason(str, enum.Enum):
    PREFERRED = "preferred"  # the requester's choice, who has room
    LIGHTEST_CASELOAD = "lightest_caseload"  # parity of caseload (no preference, or the preference cannot take it)


@dataclass(frozen=True, slots=True)
class Suggestion:
    supervisor: Supervisor
    reason: SuggestionReason
    #: why the preference was not followed, for the allocator's card (None when it was, or there was none)
    preferred_not_used: str | None = None

    @property
    def supervisor_id(self) -> str:
        return self.supervisor.id


def has_capacity(supervisor: Supervisor, caseload: Mapping[str, int]) -> bool:
    """Whether ``supervisor`` can take one more supervisee given active caseload counts by supervisor id."""
    return not supervisor.retired and supervisor.available and caseload.get(supervisor.id, 0) < supervisor.capacity


def _parity_key(sup: Supervisor, caseload: Mapping[str, int]) -> tuple[int, Fraction, str, str]:
    load = caseload.get(sup.id, 0)
    # Fraction keeps the ratio exact, so 1/3 vs 2/6 tie properly and fall through to the name.
    return load, Fraction(load, sup.capacity), (sup.name or sup.id).casefold(), sup.id


def suggest_supervisor(
    pool: Iterable[Supervisor],
    caseload: Mapping[str, int],
    *,
    requester_id: str,
    preferred_id: str | None = None,
) -> Suggestion | None:
    """The supervisor to propose for ``requester_id``'s request (see the module rules), or None if nobody has room."""
    candidates = [s for s in pool if s.id != requester_id]
    note: str | None = None
    if preferred_id is not None:
        if preferred_id == requester_id:
            note = "you cannot supervise yourself"
        else:
            preferred = next((s for s in candidates if s.id == preferred_id), None)
            if preferred is None:
                note = "not in the trained supervisor pool"
            elif preferred.retired:
                note = "no longer taking supervisees"
            elif not preferred.available:
                note = "currently away"
            elif has_capacity(preferred, caseload):
                return Suggestion(preferred, SuggestionReason.PREFERRED)
            else:
                note = f"at capacity ({caseload.get(preferred.id, 0)} of {preferred.capacity})"
    open_ = [s for s in candidates if has_capacity(s, caseload)]
    if not open_:
        return None
    best = min(open_, key=lambda s: _parity_key(s, caseload))
    return Suggestion(best, SuggestionReason.LIGHTEST_CASELOAD, note)


def supervisor_pool(staff: Iterable[Any], *, default_capacity: int, today: dt.date) -> list[Supervisor]:
    """The trained pool from roster entries (``bot.school.config.StaffMember`` or alike) as of ``today``.

    A leaver (``left_on`` on or before today) is retired; someone whose recorded absence covers today is
    unavailable. Both stay in the list so the allocator can see why they are not suggested.
    """
    pool: list[Supervisor] = []
    for member in staff:
        roles = {str(getattr(r, "value", r)) for r in member.roles}
        if SUPERVISOR_ROLE not in roles:
            continue
        left_on = getattr(member, "left_on", None)
        absence = getattr(member, "absence", None)
        away = absence is not None and absence.from_ <= today and (absence.until is None or absence.until >= today)
        pool.append(
            Supervisor(
                id=member.id,
                capacity=getattr(member, "supervisor_capacity", None) or default_capacity,
                retired=left_on is not None and left_on <= today,
                name=getattr(member, "name", ""),
                available=not away,
            )
        )
    return pool
