"""Half-term compliance: who has had the supervision the policies promise, who still needs it, and by when.

Rules (each traceable to a seed policy; the numbers are parameters, defaults shown):

1. **Group safeguarding supervision, every half term** (seed 001 §3.1). Every member of staff must attend at least
   one group safeguarding supervision session in each half term. Any group session counts — their own class or
   staff-group session, an alternative session ("those unable to attend must attend an alternative session within
   the same half term"), the mop-up session in the last week, or the enrichment supervisor's group session.
   A session counts for the half term whose published dates contain its date, and only once it has happened
   (``on <= today``); a future-dated attendance fact is a booking, not attendance.
2. **Deadline** = the half term's last *school* day (a bank holiday or INSET day at the end moves it earlier).
   "School days left" counts school days from today (included if it is one) to the deadline, inclusive.
3. **Status** of someone who is due: *compliant* once they have attended; otherwise *outstanding* while school
   days remain (including before the half term starts), and *missed* once the deadline has passed.
4. **Joiners** (``started_on`` inside a half term): due for that half term only if at least
   ``min_school_days_after_start`` (10) school days of it remain from their start date, counting the start date;
   otherwise they are shown as exempt ("joined too late") and are due from the next half term. Staff whose
   ``started_on`` is after a half term's end are not on the roster for it at all.
5. **Leavers**: staff whose ``left_on`` is before the half term's deadline are not counted for it. Those who left
   during the half term are shown as exempt ("left"); those who left before it started are not shown at all.
   Someone leaving on the deadline day itself was present for the whole half term and is counted.
6. **Long-term absence**: when ``long_term_absence_exempts`` is set, staff whose recorded absence covers the
   deadline (``from <= deadline`` and ``until`` open or ``>= deadline``) are exempt for that half term and shown
   with the absence reason. An absence that ends before the deadline leaves time to attend (the mop-up week
   exists for this), so it does not exempt. With the setting off they are due like everyone else.
7. Precedence when several apply: left → joined too late → long-term absence. Exempt staff are outside the
   group totals and percentages, even if they attended (their attendance is still shown).
8. **Group totals**: per staff group and whole school, ``due`` = compliant + outstanding + missed; ``percent`` =
   compliant / due × 100, or None when nobody is due.
9. **DSL-team individual supervision** (everyone with the ``dsl`` role, and anyone holding one of ``dsl_roles`` —
   seed 003 names pastoral leaders and ELSAs too; the same roster rules 4–6 apply). A fact is a session that was
   held *and recorded* (the I/O side reads filed records, never bookings):
   * ``half_termly`` (seed 002: "at least once every half term, about an hour"): judged per half term exactly like
     rule 3, using individual-supervision facts instead of group attendance;
   * ``six_weekly`` (seed 003: "at least six weekly"): six weeks is read as ``six_weekly_school_days`` (30) school
     days, so holidays do not use up the interval. The clock starts at the later of the first school day of the
     year and the person's start date; each session restarts it. At the report date (today, or the deadline for a
     half term already over) the status is *compliant* when the next due date has not passed, else *overdue*;
     due dates missed during the half term are listed even if a later session put things right.
10. **Overdue items** (optional input): open actions or supervision agreements whose ``due_on`` is before today
    are listed per person (seed 001 Appendix 1: agreements reviewed at least yearly; seed 002: actions with
    by-dates), so an oversight card can show them next to attendance.
11. **1:1 entitlement** (bot/domain/entitlement.py): each 1:1 pair is owed sessions at the frequency of their
    supervision agreement (half-termly, or every 30 / 20 / 10 school days), counted from held and recorded
    sessions; a shortfall escalates as seed 002 "Entitlement" says (first the supervisor, then the DSL team).

Pure: staff, calendar, facts and ``today`` are passed in; no I/O and no clock. Attendance is indexed by half term
once, so a full report is linear in staff × half terms plus facts.
"""

from __future__ import annotations

import datetime as dt
import enum
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.domain.calendar import HalfTerm, OutsideCalendarError, TermCalendar

__all__ = [
    "DSL_ROLE",
    "Attendance",
    "ComplianceReport",
    "DslFrequency",
    "DslStatus",
    "Exemption",
    "ExemptReason",
    "GroupTotals",
    "HalfTermReport",
    "IndividualSupervision",
    "OpenItem",
    "Phase",
    "StaffRecord",
    "Status",
    "compliance_report",
    "reminder_due",
]

DSL_ROLE = "dsl"


class Status(str, enum.Enum):
    COMPLIANT = "compliant"
    OUTSTANDING = "outstanding"  # not yet attended, school days remain
    MISSED = "missed"  # deadline passed without attending
    OVERDUE = "overdue"  # six-weekly DSL supervision: the next due date has passed
    EXEMPT = "exempt"


class ExemptReason(str, enum.Enum):
    LEFT = "left"
    JOINED_LATE = "joined_late"
    ABSENT = "long_term_absence"


class Phase(str, enum.Enum):
    UPCOMING = "upcoming"  # today is before the half term starts
    CURRENT = "current"  # today is within the half term, deadline not passed
    CLOSED = "closed"  # the deadline has passed


class DslFrequency(str, enum.Enum):
    HALF_TERMLY = "half_termly"
    SIX_WEEKLY = "six_weekly"


@dataclass(frozen=True, slots=True)
class StaffRecord:
    """What the rules need to know about one member of staff."""

    id: str
    group: str
    roles: frozenset[str] = frozenset()
    started_on: dt.date | None = None
    left_on: dt.date | None = None
    absence_from: dt.date | None = None
    absence_until: dt.date | None = None
    absence_reason: str = "long_term"

    @classmethod
    def from_member(cls, member: Any) -> StaffRecord:
        """From a roster entry (``bot.school.config.StaffMember`` or anything shaped like it)."""
        absence = getattr(member, "absence", None)
        return cls(
            id=member.id,
            group=member.group,
            # Role is a str enum whose hash is its name, not its value: normalise to plain strings.
            roles=frozenset(str(getattr(r, "value", r)) for r in member.roles),
            started_on=member.started_on,
            left_on=member.left_on,
            absence_from=absence.from_ if absence is not None else None,
            absence_until=absence.until if absence is not None else None,
            absence_reason=absence.reason if absence is not None else "long_term",
        )

    @property
    def is_dsl(self) -> bool:
        return DSL_ROLE in self.roles


@dataclass(frozen=True, slots=True)
class Attendance:
    """``staff_id`` attended a group safeguarding supervision session held ``on``."""

    staff_id: str
    on: dt.date


@dataclass(frozen=True, slots=True)
class IndividualSupervision:
    """``staff_id`` (a DSL-team member, the supervisee) had individual supervision ``on``."""

    staff_id: str
    on: dt.date


@dataclass(frozen=True, slots=True)
class OpenItem:
    """An action or agreement review that belongs to ``staff_id`` and is due ``due_on``; ``kind`` e.g. "action"."""

    staff_id: str
    kind: str
    due_on: dt.date
    ref: str = ""


@dataclass(frozen=True, slots=True)
class Exemption:
    staff_id: str
    group: str
    reason: ExemptReason
    detail: str  # readable, e.g. "joined 2026-10-19, 5 school days before the deadline"
    attended: bool


@dataclass(frozen=True, slots=True)
class GroupTotals:
    group: str
    compliant: int = 0
    outstanding: int = 0
    missed: int = 0
    exempt: int = 0

    @property
    def due(self) -> int:
        return self.compliant + self.outstanding + self.missed

    @property
    def percent(self) -> float | None:
        return None if self.due == 0 else round(100.0 * self.compliant / self.due, 1)


@dataclass(frozen=True, slots=True)
class DslStatus:
    """One DSL-team member's individual supervision, as of ``as_of``."""

    staff_id: str
    status: Status
    last_session: dt.date | None
    next_due: dt.date | None = None  # six-weekly only: the date by which the next session must happen
    school_days_left: int | None = None  # until the half-term deadline (half-termly) or next_due (six-weekly)
    missed_due_dates: tuple[dt.date, ...] = ()
    exemption: Exemption | None = None


@dataclass(frozen=True, slots=True)
class HalfTermReport:
    """Compliance for one half term. Outstanding people share the half term's ``school_days_left``."""

    half_term: HalfTerm
    phase: Phase
    deadline: dt.date
    school_days_left: int
    in_mop_up_week: bool
    mop_up_week: tuple[dt.date, dt.date]
    compliant: tuple[str, ...]
    outstanding: tuple[str, ...]
    missed: tuple[str, ...]
    exempt: tuple[Exemption, ...]
    groups: Mapping[str, GroupTotals]
    totals: GroupTotals
    dsl: tuple[DslStatus, ...] = ()

    def status_of(self, staff_id: str) -> Status | None:
        """A single person's group-supervision status (linear; for one-off look-ups, not loops)."""
        if staff_id in self.compliant:
            return Status.COMPLIANT
        if staff_id in self.outstanding:
            return Status.OUTSTANDING
        if staff_id in self.missed:
            return Status.MISSED
        if any(e.staff_id == staff_id for e in self.exempt):
            return Status.EXEMPT
        return None


@dataclass(frozen=True, slots=True)
class ComplianceReport:
    today: dt.date
    dsl_frequency: DslFrequency
    half_terms: tuple[HalfTermReport, ...]
    overdue_items: Mapping[str, tuple[OpenItem, ...]] = field(default_factory=dict)
    unplaced_attendance: int = 0  # attendance facts dated outside every half term: a data problem to look at

    def for_half_term(self, half_term: HalfTerm | int) -> HalfTermReport | None:
        index = half_term if isinstance(half_term, int) else half_term.index
        return next((r for r in self.half_terms if r.half_term.index == index), None)


# ---- roster rules ----------------------------------------------------------------------------------------------
def _roster_exemption(
    s: StaffRecord,
    ht: HalfTerm,
    deadline: dt.date,
    cal: TermCalendar,
    *,
    min_school_days_after_start: int,
    absence_exempts: bool,
    attended: bool,
) -> Exemption | None | Literal[False]:
    """False: not on the roster for this half term (not shown). None: due. Otherwise the exemption."""
    if s.left_on is not None and s.left_on < deadline:
        if s.left_on < ht.start:
            return False
        return Exemption(s.id, s.group, ExemptReason.LEFT, f"left {s.left_on}", attended)
    if s.started_on is not None and s.started_on > ht.start:
        if s.started_on > ht.end:
            return False
        remaining = cal.school_days_left(ht, s.started_on)
        if remaining < min_school_days_after_start:
            return Exemption(
                s.id,
                s.group,
                ExemptReason.JOINED_LATE,
                f"joined {s.started_on} with {remaining} school days of the half term left "
                f"(fewer than {min_school_days_after_start}); due from the next half term",
                attended,
            )
    if (
        absence_exempts
        and s.absence_from is not None
        and s.absence_from <= deadline
        and (s.absence_until is None or s.absence_until >= deadline)
    ):
        until = f" until {s.absence_until}" if s.absence_until else ""
        return Exemption(
            s.id,
            s.group,
            ExemptReason.ABSENT,
            f"{s.absence_reason.replace('_', ' ')} absence from {s.absence_from}{until}",
            attended,
        )
    return None


def _index_by_half_term(facts: Iterable[Any], cal: TermCalendar, today: dt.date) -> tuple[dict[int, set[str]], int]:
    starts = [h.start for h in cal.half_terms]
    ends = [h.end for h in cal.half_terms]
    by_ht: dict[int, set[str]] = defaultdict(set)
    unplaced = 0
    for f in facts:
        on = f.on
        i = bisect_right(starts, on) - 1
        if i < 0 or on > ends[i]:
            unplaced += 1
            continue
        if on <= today:
            by_ht[i].add(f.staff_id)
    return by_ht, unplaced


def _phase(ht: HalfTerm, deadline: dt.date, today: dt.date) -> Phase:
    if today < ht.start:
        return Phase.UPCOMING
    if today > deadline:
        return Phase.CLOSED
    return Phase.CURRENT


# ---- DSL individual supervision ----------------------------------------------------------------------------------
def _six_weekly(
    sessions: Sequence[dt.date],
    anchor: dt.date,
    window_start: dt.date,
    as_of: dt.date,
    cal: TermCalendar,
    interval: int,
) -> tuple[Status, dt.date | None, dt.date | None, int | None, tuple[dt.date, ...]]:
    """Walk the chain of due dates from ``anchor``; each session on/before its due date restarts the interval."""

    def due_after(day: dt.date) -> dt.date:
        try:
            return cal.add_school_days(day, interval)
        except OutsideCalendarError:
            return dt.date.max  # the next due date falls after the configured year: not due within it

    due = due_after(anchor)
    missed: list[dt.date] = []
    last: dt.date | None = None
    for on in sessions:
        if on > as_of:
            break
        if on < anchor:
            last = on
            continue
        if on > due and window_start <= due:
            missed.append(due)
        last = on
        due = due_after(on)
    if as_of > due and window_start <= due:
        missed.append(due)
    status = Status.OVERDUE if as_of > due else Status.COMPLIANT
    # due dates are school days, so this counts as_of (if a school day) through the due date inclusive
    left = None if due == dt.date.max or as_of > due else cal.school_days_between(as_of, due) + 1
    return status, last, (None if due == dt.date.max else due), left, tuple(missed)


# ---- the report ------------------------------------------------------------------------------------------------
def compliance_report(
    staff: Iterable[StaffRecord],
    calendar: TermCalendar,
    attendance: Iterable[Attendance],
    today: dt.date,
    *,
    dsl_sessions: Iterable[IndividualSupervision] = (),
    dsl_frequency: DslFrequency | str = DslFrequency.HALF_TERMLY,
    open_items: Iterable[OpenItem] = (),
    long_term_absence_exempts: bool = True,
    min_school_days_after_start: int = 10,
    six_weekly_school_days: int = 30,
    half_terms: Iterable[HalfTerm] | None = None,
    dsl_roles: Iterable[str] = (DSL_ROLE,),
) -> ComplianceReport:
    """The compliance picture for each half term (all of the year's unless ``half_terms`` is given), as of
    ``today``. See the module docstring for the rules."""
    freq = DslFrequency(dsl_frequency)
    roster = list(staff)
    chosen = calendar.half_terms if half_terms is None else tuple(half_terms)
    dsl_sessions = list(dsl_sessions)
    attended_by_ht, unplaced = _index_by_half_term(attendance, calendar, today)
    dsl_by_ht, _ = _index_by_half_term(dsl_sessions, calendar, today)
    dsl_dates: dict[str, list[dt.date]] = defaultdict(list)
    for f in dsl_sessions:
        dsl_dates[f.staff_id].append(f.on)
    for dates in dsl_dates.values():
        dates.sort()
    supervised_roles = frozenset(str(getattr(r, "value", r)) for r in dsl_roles) | {DSL_ROLE}
    dsl_staff = [s for s in roster if s.roles & supervised_roles]

    reports: list[HalfTermReport] = []
    for ht in chosen:
        deadline = calendar.deadline(ht)
        phase = _phase(ht, deadline, today)
        left = calendar.school_days_left(ht, today)
        attended = attended_by_ht.get(ht.index, set())
        compliant: list[str] = []
        pending: list[str] = []
        exempt: list[Exemption] = []
        counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # compliant, pending, exempt
        for s in roster:
            # Fast path: the common case (no start/leave/absence dates) skips the roster rules entirely.
            if s.started_on is None and s.left_on is None and s.absence_from is None:
                ex = None
            else:
                ex = _roster_exemption(
                    s,
                    ht,
                    deadline,
                    calendar,
                    min_school_days_after_start=min_school_days_after_start,
                    absence_exempts=long_term_absence_exempts,
                    attended=s.id in attended,
                )
                if ex is False:
                    continue
            c = counts[s.group]
            if ex is not None:
                exempt.append(ex)
                c[2] += 1
            elif s.id in attended:
                compliant.append(s.id)
                c[0] += 1
            else:
                pending.append(s.id)
                c[1] += 1
        closed = phase is Phase.CLOSED
        groups = {
            g: GroupTotals(
                g, compliant=v[0], outstanding=0 if closed else v[1], missed=v[1] if closed else 0, exempt=v[2]
            )
            for g, v in sorted(counts.items())
        }
        totals = GroupTotals(
            "*",
            compliant=len(compliant),
            outstanding=0 if closed else len(pending),
            missed=len(pending) if closed else 0,
            exempt=len(exempt),
        )
        dsl = _dsl_statuses(
            dsl_staff,
            ht,
            deadline,
            phase,
            left,
            today,
            calendar,
            freq,
            dsl_by_ht,
            dsl_dates,
            long_term_absence_exempts,
            min_school_days_after_start,
            six_weekly_school_days,
        )
        reports.append(
            HalfTermReport(
                half_term=ht,
                phase=phase,
                deadline=deadline,
                school_days_left=left,
                in_mop_up_week=phase is Phase.CURRENT and calendar.in_last_week(ht, today),
                mop_up_week=calendar.last_week(ht),
                compliant=tuple(compliant),
                outstanding=() if closed else tuple(pending),
                missed=tuple(pending) if closed else (),
                exempt=tuple(exempt),
                groups=groups,
                totals=totals,
                dsl=dsl,
            )
        )

    overdue: dict[str, list[OpenItem]] = defaultdict(list)
    for item in open_items:
        if item.due_on < today:
            overdue[item.staff_id].append(item)
    return ComplianceReport(
        today=today,
        dsl_frequency=freq,
        half_terms=tuple(reports),
        overdue_items={
            k: tuple(sorted(v, key=lambda i: (i.due_on, i.kind, i.ref))) for k, v in sorted(overdue.items())
        },
        unplaced_attendance=unplaced,
    )


def _dsl_statuses(
    dsl_staff: Sequence[StaffRecord],
    ht: HalfTerm,
    deadline: dt.date,
    phase: Phase,
    left: int,
    today: dt.date,
    cal: TermCalendar,
    freq: DslFrequency,
    dsl_by_ht: Mapping[int, set[str]],
    dsl_dates: Mapping[str, list[dt.date]],
    absence_exempts: bool,
    min_days: int,
    interval: int,
) -> tuple[DslStatus, ...]:
    out: list[DslStatus] = []
    had = dsl_by_ht.get(ht.index, set())
    for s in dsl_staff:
        dates = dsl_dates.get(s.id, [])
        ex = _roster_exemption(
            s,
            ht,
            deadline,
            cal,
            min_school_days_after_start=min_days,
            absence_exempts=absence_exempts,
            attended=s.id in had,
        )
        if ex is False:
            continue
        if ex is not None:
            last = _last_on_or_before(dates, min(today, deadline))
            out.append(DslStatus(s.id, Status.EXEMPT, last, exemption=ex))
            continue
        if freq is DslFrequency.HALF_TERMLY:
            last = _last_on_or_before(dates, min(today, deadline))
            if s.id in had:
                status = Status.COMPLIANT
            else:
                status = Status.MISSED if phase is Phase.CLOSED else Status.OUTSTANDING
            out.append(DslStatus(s.id, status, last, school_days_left=None if status is Status.COMPLIANT else left))
        else:
            as_of = min(today, deadline)
            anchor = cal.first_day if s.started_on is None else max(cal.first_day, s.started_on)
            status, last, next_due, days_left, missed = _six_weekly(dates, anchor, ht.start, as_of, cal, interval)
            out.append(
                DslStatus(s.id, status, last, next_due=next_due, school_days_left=days_left, missed_due_dates=missed)
            )
    return tuple(out)


def _last_on_or_before(dates: Sequence[dt.date], day: dt.date) -> dt.date | None:
    i = bisect_right(dates, day)
    return dates[i - 1] if i else None


def reminder_due(points: Sequence[int], half_term: HalfTerm, today: dt.date, calendar: TermCalendar) -> int | None:
    """The reminder point (school days left before the deadline, today included) that falls on ``today``, if any.

    Only school days inside the half term can carry a reminder, so a point that would land on a weekend or bank
    holiday is not silently moved; with points such as [10, 3] each fires on exactly one school day. A point larger
    than the half term's length never fires.
    """
    if not calendar.is_school_day(today) or today not in half_term:
        return None
    left = calendar.school_days_left(half_term, today)
    return left if left in points else None
