"""Cards for the trained supervisor pool (seed 001 §3.2: a central list of trained supervisors; new supervisors
join once trained). The DSL lists, adds (with training date) and retires supervisors."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import adaptive_cards.card as ac

from cards.base import card, choice_set, text, title
from cards.request import act, banner, button_row, field_error

POOL_SHOW = "pool.show"
POOL_ADD = "pool.add"
POOL_RETIRE = "pool.retire"


@dataclass
class PoolRow:
    staff_id: str
    name: str
    job_title: str
    trained_on: str  # "14 Jun 2023"
    load: int
    capacity: int
    default_capacity: bool


@dataclass
class PoolView:
    active: list[PoolRow]
    retired: list[tuple[str, str]]  # (name, retired on)
    candidates: list[tuple[str, str]]  # (staff id, name) who can be added or updated
    today_iso: str
    default_capacity: int
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    message: str | None = None
    good: bool = True


def pool_card(v: PoolView) -> dict:
    """The pool: who is in it, their caseload, retire buttons, and a form to add or update a supervisor."""
    body: list = [title("Trained supervisor pool")]
    body += banner(v.message, good=v.good)
    body.append(
        text(
            "Staff choose from this list when they request supervision; allocators see caseloads "
            "against each capacity.",
            subtle=True,
        )
    )
    if not v.active:
        body.append(text("Nobody is in the pool. Add a trained supervisor below.", color="attention"))
    for r in v.active:
        cap = f"{r.capacity}" + (" (school default)" if r.default_capacity else "")
        body.append(
            ac.Container(
                separator=True,
                items=[
                    text(f"**{r.name}**" + (f", {r.job_title}" if r.job_title else "")),
                    text(f"Trained {r.trained_on} · supervising {r.load} of {cap}", subtle=True, size="small"),
                    button_row([act("Retire from pool", POOL_RETIRE, {"staff_id": r.staff_id})]),
                ],
            )
        )
    if v.retired:
        body.append(text("Retired: " + "; ".join(f"{n} ({d})" for n, d in v.retired), subtle=True, size="small"))
    body.append(text("**Add a supervisor, or update one**", size="medium"))
    body.append(
        choice_set(
            "staff",
            "Member of staff",
            v.candidates,
            value=v.values.get("staff") or None,
            required=True,
            error_message="Choose a member of staff.",
            placeholder="Choose someone",
        )
    )
    body += field_error(v.errors, "staff")
    body.append(
        ac.InputDate(
            id="trained_on",
            label="Date their supervision training finished",
            value=v.values.get("trained_on") or None,
            max=v.today_iso,
            is_required=True,
            error_message="Enter the training date (not in the future).",
        )
    )
    body += field_error(v.errors, "trained_on")
    body.append(
        ac.InputNumber(
            id="capacity",
            label=f"Most supervisees at once (blank: {v.default_capacity})",
            value=_num(v.values.get("capacity")),
            min=1,
            max=50,
            error_message="A whole number from 1 to 50.",
        )
    )
    body += field_error(v.errors, "capacity")
    return card(body, [act("Add or update", POOL_ADD, {}, inputs=True, style="positive")])


def _num(raw: str | None):
    """The typed capacity back on the card when it is a whole number (the card's Input.Number takes integers
    only: "2.5" used to fail building the card); anything else comes back empty beside its error message. Never
    NaN or infinity, which JSON can't carry ("nan", "1e999")."""
    try:
        n = float(raw) if raw not in (None, "") else None
    except (TypeError, ValueError):
        return None
    if n is None or not math.isfinite(n):
        return None
    return int(n) if n.is_integer() and abs(n) < 10**9 else None


def retire_confirm(*, staff_id: str, name: str, load: int) -> dict:
    """Asks before retiring; says what happens to the people they supervise now."""
    detail = (
        f"{name} supervises {load} {'person' if load == 1 else 'people'} now. Those sessions carry on; "
        "nobody new will be allocated to them, and their supervisees will be asked to choose again when "
        "they next request."
        if load
        else f"{name} supervises nobody at the moment."
    )
    return card(
        [title(f"Retire {name} from the pool?"), text(detail)],
        [
            act("Retire", POOL_RETIRE, {"staff_id": staff_id, "confirm": True}, style="destructive"),
            act("Back to the pool", POOL_SHOW, {}),
        ],
    )
