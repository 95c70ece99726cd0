"""Cards of a multi-academy trust (issue 10): choosing a school, and the trust leads' side-by-side picture.

The trust picture is figures only (seed 004 §4: trust-level oversight sees the process, never a record): counts
below the small-number threshold are shown as "fewer than N", and no breakdown that could identify a person.
"""

from __future__ import annotations

from dataclasses import dataclass

import adaptive_cards.card as ac

from cards.base import card, execute, facts, text, title

CHOOSE = "school.choose"
TRUST = "trust.show"


def choose_school_card(trust_name: str, schools: list[tuple[str, str]], *, said: str = "") -> dict:
    """Asks someone on more than one school's staff which school this is for (once; 'switch school' asks again)."""
    body = [
        title("Which school is this for?"),
        text(
            f"You are on the staff of more than one school of {trust_name}. Choose the school, and I will carry on "
            "there. You can change it later by typing **switch school**."
        ),
    ]
    actions = [execute(name, CHOOSE, {"choose": key, "said": said[:200]}) for key, name in schools]
    return card(body, actions)


@dataclass(frozen=True)
class SchoolFigures:
    name: str
    half_term: str  # "Autumn 2" (each school's own half term)
    deadline: str  # "Fri 18 Dec"
    days_left: int
    staff: int  # due this half term
    attended: int
    percent: float | None
    outstanding: int
    supervisors: tuple[tuple[str, int], ...]  # ("internal", 5), ("from another school", 1), ("external", 1)
    mop_up_booked: bool


@dataclass(frozen=True)
class TrustView:
    trust_name: str
    schools: tuple[SchoolFigures, ...]
    threshold: int
    viewer: str


def _count(n: int, threshold: int) -> str:
    return f"fewer than {threshold}" if 0 < n < threshold else str(n)


def _attended(f: SchoolFigures, threshold: int) -> str:
    if f.staff < threshold:
        return f"fewer than {threshold} staff due: in the trust's figure only"
    pct = f"{f.percent:.0f}%" if f.percent is not None else "—"
    return f"{f.attended} of {f.staff} ({pct})"


def trust_card(v: TrustView) -> dict:
    """The trust leads' picture: every school's group-supervision compliance side by side — counts, never names."""
    body: list = [
        title(f"Safeguarding supervision across {v.trust_name}"),
        text(
            "Each school on its own half-term dates. Figures only: names and records stay in each school.", subtle=True
        ),
    ]
    total_staff = sum(f.staff for f in v.schools)
    total_att = sum(f.attended for f in v.schools)
    if total_staff:
        body.append(
            facts(
                [
                    ("Whole trust", f"{total_att} of {total_staff} attended ({100 * total_att / total_staff:.0f}%)"),
                    ("Still to attend", _count(sum(f.outstanding for f in v.schools), v.threshold)),
                ]
            )
        )
    columns = []
    for f in v.schools:
        sup = ", ".join(f"{n} {kind}" for kind, n in f.supervisors if n) or "none yet"
        columns.append(
            ac.Container(
                items=[
                    ac.TextBlock(text=f.name, weight="bolder", wrap=True),
                    facts(
                        [
                            (f.half_term, f"deadline {f.deadline} ({f.days_left} school days)"),
                            ("Attended", _attended(f, v.threshold)),
                            ("Still to attend", _count(f.outstanding, v.threshold)),
                            ("Mop-up", "booked" if f.mop_up_booked else "not booked yet"),
                            ("Supervisors", sup),
                        ]
                    ),
                ],
                separator=True,
                spacing="medium",
            )
        )
    body.extend(columns)
    body.append(text(f"Counts under {v.threshold} are shown as 'fewer than {v.threshold}'.", subtle=True, size="small"))
    return card(body, [execute("Refresh", TRUST, {})])
