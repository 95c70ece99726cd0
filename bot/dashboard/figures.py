"""The dashboard's figures (pure: no I/O, no clock): attendance per group per half term, who is outstanding now,
agreements and actions due/overdue, supervisor load against capacity, caseload (open pupil cases staff report) by
team, and the themes staff bring per half term — with small-number protection.

Small-number protection (issue 12): a count below the threshold (a school setting, default 5) is shown as
"fewer than 5", and a breakdown that would point at a person is not offered: a group with fewer people than the
threshold is folded into "Smaller groups" (and that too is left out if it is still too small).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

SMALL_GROUPS = "Smaller groups"
DUE_SOON = dt.timedelta(days=30)


def protect(n: int, threshold: int) -> str:
    """A count as shown on the dashboard: "fewer than 5" below the threshold, the number otherwise."""
    return f"fewer than {threshold}" if n < threshold else str(n)


LOAD_BANDS = ("Under half", "Half or more", "At capacity", "Over capacity")


def load_bands(d: Dashboard) -> dict[str, tuple[str, int | None]]:
    """Parity: how many supervisors carry under half, half or more, all or more than their capacity (protected)."""
    counts = dict.fromkeys(LOAD_BANDS, 0)
    for _name, pct in d.load:
        band = 0 if pct < 50 else 1 if pct < 100 else 2 if pct == 100 else 3
        counts[LOAD_BANDS[band]] += 1
    return {k: _shown(n, d.threshold) for k, n in counts.items()}


def lowest_groups(d: Dashboard, n: int) -> list[str]:
    """The `n` groups with the lowest attendance in the latest half term that has started (the chart's lines)."""
    last = max((i for row in d.attendance.values() for i, v in enumerate(row) if v is not None), default=None)
    if last is None:
        return list(d.attendance)[:n]
    return sorted(d.attendance, key=lambda g: (d.attendance[g][last] or 0.0, g))[:n]


@dataclass(frozen=True)
class HalfTermRef:
    label: str  # "2026-27 Autumn 2" (the label attendance rows carry)
    short: str  # "Autumn 2"
    start: dt.date
    end: dt.date


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    group: str  # group name


@dataclass
class Dashboard:
    threshold: int
    half_terms: list[str]  # short labels, in order
    attendance: dict[str, list[float | None]]  # group → % per half term (None: not yet started)
    outstanding_label: str  # "12" / "fewer than 5"
    outstanding_by_group: dict[str, str]  # group → protected count
    outstanding_names: list[str]  # the DSL acts on names (seed 001 §3.1)
    agreements: dict[str, tuple[str, int | None]]  # label → (protected count, value to plot or None)
    actions: dict[str, tuple[str, int | None]]
    load: list[tuple[str, float]]  # (supervisor name, % of capacity in use)
    whole_school: list[float | None] = field(default_factory=list)  # % per half term, everyone
    current: str | None = None
    notes: list[str] = field(default_factory=list)
    caseload: list[CaseloadRow] = field(default_factory=list)  # by team (+ "Whole school" last), protected
    caseload_range: tuple[float, float] | None = None  # lowest and highest team median (the spread across teams)
    themes: dict[str, list[tuple[str, int | None]]] = field(default_factory=dict)  # topic → per half term


@dataclass(frozen=True)
class CaseloadRow:
    """Open pupil cases per person in one team: how many answered (protected) and the middle of the spread.

    Only the median and the middle half (quartiles) are shown, never the lowest or highest answer, which is one
    person's own number."""

    team: str
    people: str  # "12" / never below the threshold (such teams are folded or left out)
    median: float
    q1: float
    q3: float


def _quantile(sorted_values: Sequence[int], q: float) -> float:
    """Linear interpolation between closest ranks (the usual spreadsheet QUARTILE.INC)."""
    pos = (len(sorted_values) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return round(sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo), 1)


def caseload_by_team(
    staff: Sequence[Person], reported: Iterable[tuple[str, int, dt.datetime]], threshold: int
) -> tuple[list[CaseloadRow], tuple[float, float] | None]:
    """Each person's latest answer (from their requests), grouped by team; teams with fewer answers than the
    threshold are folded into "Smaller groups" (left out if still too few); the whole school last."""
    latest: dict[str, tuple[dt.datetime, int]] = {}
    for sid, n, at in reported:
        if sid not in latest or at >= latest[sid][0]:
            latest[sid] = (at, n)
    teams: dict[str, list[Person]] = {}
    for p in staff:
        if p.id in latest:
            teams.setdefault(p.group, []).append(p)
    rows: list[CaseloadRow] = []
    for team, people in _fold(dict(sorted(teams.items())), threshold).items():
        rows.append(_caseload_row(team, [latest[p.id][1] for p in people]))
    medians = [r.median for r in rows]
    spread = (min(medians), max(medians)) if len(rows) >= 2 else None
    everyone = [latest[p.id][1] for ps in teams.values() for p in ps]
    if len(everyone) >= threshold:
        rows.append(_caseload_row(WHOLE_SCHOOL, everyone))
    return rows, spread


def _caseload_row(team: str, values: list[int]) -> CaseloadRow:
    v = sorted(values)
    return CaseloadRow(team, str(len(v)), _quantile(v, 0.5), _quantile(v, 0.25), _quantile(v, 0.75))


WHOLE_SCHOOL = "Whole school"


def themes_by_half_term(
    half_terms: Sequence[HalfTermRef],
    topics: dict[str, str],
    requested: Iterable[tuple[dt.date, Sequence[str]]],
    threshold: int,
    today: dt.date,
) -> dict[str, list[tuple[str, int | None]]]:
    """How many requests brought each topic, per half term (a request with two topics counts for both): the
    label shown ("fewer than 5" below the threshold) and the value to plot (None: too small, or not started)."""
    counts = {code: [0] * len(half_terms) for code in topics}
    for day, codes in requested:
        i = next((i for i, ht in enumerate(half_terms) if ht.start <= day <= ht.end), None)
        if i is None:
            continue
        for code in set(codes):
            if code in counts:
                counts[code][i] += 1
    out: dict[str, list[tuple[str, int | None]]] = {}
    for code, label in topics.items():
        out[label] = [
            ("", None) if ht.start > today else _shown(n, threshold) for ht, n in zip(half_terms, counts[code])
        ]
    return out


def _shown(n: int, threshold: int) -> tuple[str, int | None]:
    """A count for a chart: its label, and the bar's height only when it is large enough to show."""
    return protect(n, threshold), (n if n >= threshold else None)


def _fold(groups: dict[str, list[Person]], threshold: int) -> dict[str, list[Person]]:
    """Groups too small to show on their own are merged into one (left out if still too small)."""
    out: dict[str, list[Person]] = {}
    small: list[Person] = []
    for name, people in groups.items():
        (out.setdefault(name, []) if len(people) >= threshold else small).extend(people)
    if len(small) >= threshold:
        out[SMALL_GROUPS] = small
    return out


def build(
    *,
    threshold: int,
    today: dt.date,
    half_terms: Sequence[HalfTermRef],
    staff: Iterable[Person],
    attended: Iterable[tuple[str, str]],
    reviews: Iterable[dt.date],
    action_dues: Iterable[dt.date | None],
    load: Iterable[tuple[str, int, int]],
    show_names: bool = True,
    pupil_cases: Iterable[tuple[str, int, dt.datetime]] = (),
    topics: dict[str, str] | None = None,
    requested: Iterable[tuple[dt.date, Sequence[str]]] = (),
) -> Dashboard:
    staff = list(staff)
    by_group: dict[str, list[Person]] = {}
    for p in staff:
        by_group.setdefault(p.group, []).append(p)
    groups = _fold(dict(sorted(by_group.items())), threshold)
    seen: dict[str, set[str]] = {}
    for label, sid in attended:
        seen.setdefault(label, set()).add(sid)

    attendance: dict[str, list[float | None]] = {}
    for name, people in groups.items():
        row: list[float | None] = []
        for ht in half_terms:
            if ht.start > today:
                row.append(None)
                continue
            came = seen.get(ht.label, set())
            row.append(round(100.0 * sum(1 for p in people if p.id in came) / len(people), 1))
        attendance[name] = row

    whole: list[float | None] = []
    for ht in half_terms:
        came = seen.get(ht.label, set())
        whole.append(
            None
            if ht.start > today or not staff
            else round(100.0 * sum(1 for p in staff if p.id in came) / len(staff), 1)
        )

    current = next((ht for ht in half_terms if ht.start <= today <= ht.end), None)
    missing = [p for p in staff if current is not None and p.id not in seen.get(current.label, set())]
    missing_groups: dict[str, list[Person]] = {}
    for p in missing:
        missing_groups.setdefault(p.group, []).append(p)
    out_by_group = {
        g: protect(len(ps), threshold)
        for g, ps in sorted(missing_groups.items())
        if len(by_group.get(g, ())) >= threshold
    }

    reviews = list(reviews)
    overdue_reviews = sum(1 for d in reviews if d < today)
    due_reviews = sum(1 for d in reviews if today <= d <= today + DUE_SOON)
    dues = list(action_dues)
    overdue_actions = sum(1 for d in dues if d is not None and d < today)
    notes = []
    if any(len(ps) < threshold for ps in by_group.values()):
        notes.append(
            f"Groups of fewer than {threshold} people are shown together as \u201c{SMALL_GROUPS}\u201d "
            "(or not at all), so no figure points at one person."
        )
    caseload, caseload_range = caseload_by_team(staff, pupil_cases, threshold)
    return Dashboard(
        caseload=caseload,
        caseload_range=caseload_range,
        themes=themes_by_half_term(half_terms, topics or {}, requested, threshold, today),
        threshold=threshold,
        half_terms=[ht.short for ht in half_terms],
        attendance=attendance,
        outstanding_label=protect(len(missing), threshold),
        outstanding_by_group=out_by_group,
        outstanding_names=sorted(p.name for p in missing) if show_names else [],
        agreements={
            "Due for review within 30 days": _shown(due_reviews, threshold),
            "Overdue for review": _shown(overdue_reviews, threshold),
        },
        actions={"Open": _shown(len(dues), threshold), "Overdue": _shown(overdue_actions, threshold)},
        # Load as a share of capacity (parity between supervisors): a ratio, never a count of supervisees.
        load=[(name, round(100.0 * n / cap, 1) if cap else 0.0) for name, n, cap in load],
        whole_school=whole,
        current=current.short if current else None,
        notes=notes,
    )
