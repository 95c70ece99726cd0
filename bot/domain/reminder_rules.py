"""When the bot may speak, which reminder point is live, when the mop-up is proposed, and which session to offer.

These complete the compliance engine (``bot.domain.compliance``) for the reminder journey (issue #5). Rules:

1. **Sending window** (issue #5: "never outside school hours, at weekends or in holidays"): a proactive message may
   go only on a school day (``TermCalendar.is_school_day``: weekday, in a half term, not a bank holiday or closure)
   between ``send_at`` (default 09:00) and the end of the school day, both read as wall-clock time in the school's
   zone. So 09:00 means 09:00 in London in the BST and the GMT weeks alike, whatever zone the server runs in.
2. **Reminder points** (seed 001 §3.1 "attend at least once every half term"; the user asked for reminders before
   the deadline): points are "school days left before the deadline, today included" (default 10 and 3). A point is
   *reached* on the school day its count of days left arrives. The live point on a day is the smallest point
   reached so far; if the bot was down on the day a point fell, the point is still live on the following school
   days until the next point is reached, so a missed morning is caught up rather than lost. Each person gets at
   most one reminder per point (enforced by the store), and a point reached after a later one is never sent.
3. **Mop-up proposal** (seed 001 §3.1: "a 'mop-up' session will be scheduled during the last week of each half
   term"): the DSL team is asked ``lead_school_days`` (default 5) school days before the mop-up week starts, so
   people can be told a week ahead; if that morning was missed the proposal is still made on any later school day
   up to the mop-up week's second-to-last day (a mop-up on the deadline day itself leaves no room to move).
4. **Mop-up times**: the facilitator must be free; among those times, the ones most of the outstanding staff can
   make come first (a mop-up nobody can attend is no mop-up), then earlier times.
5. **The session to name in a reminder** (seed 001 §3.1: "attend an alternative session within the same half
   term"): any scheduled group session of the same half term that has not started counts. Preference: one the
   person is already invited to; their own group's; the mop-up; then any other, earliest first.

Pure: no clock reads, no I/O; ``now`` is passed in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.domain.calendar import MOP_UP_WEEK_SCHOOL_DAYS, HalfTerm, TermCalendar

__all__ = [
    "SendingWindow",
    "SessionOption",
    "half_term_label",
    "live_point",
    "mop_up_proposal_due",
    "next_sessions_for",
    "point_day",
    "rank_mop_up_times",
]

#: Session kinds that are group safeguarding supervision and so count for half-term compliance.
COUNTING_KINDS = frozenset({"class", "non_class", "mop_up", "enrichment", "ad_hoc"})


def half_term_label(academic_year: str, half_term_name: str) -> str:
    """The label the shared session/attendance tables use for a half term, e.g. "2026-27 Autumn 2"."""
    return f"{academic_year} {half_term_name}"


@dataclass(frozen=True, slots=True)
class SendingWindow:
    """The hours on school days when the bot may send proactive messages, as the school's wall-clock times."""

    calendar: TermCalendar
    tz: ZoneInfo
    opens: dt.time  # reminders.send_at, e.g. 09:00
    closes: dt.time  # end of the school day, e.g. 16:30

    def __post_init__(self) -> None:
        if self.closes <= self.opens:
            raise ValueError(f"sending window closes at {self.closes} before it opens at {self.opens}")

    def _local(self, now: dt.datetime) -> dt.datetime:
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("now must be an aware datetime")
        return now.astimezone(self.tz)

    def is_open(self, now: dt.datetime) -> bool:
        """True when ``now`` is on a school day within the window (opens inclusive, closes exclusive)."""
        local = self._local(now)
        return self.calendar.is_school_day(local.date()) and self.opens <= local.time() < self.closes

    def bounds(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        """The window on ``day`` as aware UTC instants (a wall time in a DST gap moves forward, as zoneinfo does)."""
        start = dt.datetime.combine(day, self.opens, tzinfo=self.tz).astimezone(dt.timezone.utc)
        end = dt.datetime.combine(day, self.closes, tzinfo=self.tz).astimezone(dt.timezone.utc)
        return start, end

    def next_opening(self, now: dt.datetime) -> dt.datetime | None:
        """``now`` if the window is open, else when it next opens; None after the configured school year."""
        if self.is_open(now):
            return now
        local = self._local(now)
        for day in self.calendar.school_days_from(local.date()):
            start, _ = self.bounds(day)
            if start > now:
                return start
        return None

    def closes_at(self, now: dt.datetime) -> dt.datetime | None:
        """When the open window containing ``now`` closes (None if it is not open)."""
        if not self.is_open(now):
            return None
        return self.bounds(self._local(now).date())[1]


def point_day(point: int, half_term: HalfTerm, calendar: TermCalendar) -> dt.date | None:
    """The school day on which ``point`` school days are left (today included); None if the half term is shorter."""
    days = calendar.school_days_in(half_term)
    if point < 1 or point > len(days):
        return None
    return days[len(days) - point]


def live_point(points: Sequence[int], half_term: HalfTerm, today: dt.date, calendar: TermCalendar) -> int | None:
    """The reminder point live on ``today`` (rule 2): the smallest point already reached, or None.

    None on days that are not school days of ``half_term`` and before the first point is reached.
    """
    if not calendar.is_school_day(today) or today not in half_term:
        return None
    left = calendar.school_days_left(half_term, today)
    reached = [p for p in points if p >= left and point_day(p, half_term, calendar) is not None]
    return min(reached) if reached else None


def mop_up_proposal_due(
    half_term: HalfTerm, today: dt.date, calendar: TermCalendar, *, lead_school_days: int = 5
) -> bool:
    """Whether a mop-up proposal may be made on ``today`` (rule 3)."""
    if not calendar.is_school_day(today) or today not in half_term:
        return False
    days = calendar.school_days_in(half_term)
    week = min(MOP_UP_WEEK_SCHOOL_DAYS, len(days))
    first_day = days[max(0, len(days) - week - lead_school_days)]
    last_day = days[-2] if len(days) >= 2 else days[-1]
    return first_day <= today <= last_day


@dataclass(frozen=True, slots=True)
class RankedTime:
    start: dt.datetime
    end: dt.datetime
    attendees_free: int
    attendees_total: int


def rank_mop_up_times(
    candidates: Iterable[tuple[dt.datetime, dt.datetime]],
    attendee_busy: Mapping[str, Sequence[tuple[dt.datetime, dt.datetime]]],
    *,
    limit: int = 4,
) -> list[RankedTime]:
    """Order facilitator-free times by how many outstanding staff are free then (rule 4), then by time.

    ``attendee_busy`` maps each outstanding person to their blocking intervals (aware, any zone). People whose
    calendar could not be read should be left out rather than given an empty list, so they do not look free.
    Returns at most ``limit`` times, one per day first where possible so the DSL gets a real choice.
    """
    total = len(attendee_busy)
    scored: list[RankedTime] = []
    for start, end in candidates:
        free = sum(1 for blocks in attendee_busy.values() if all(e <= start or s >= end for s, e in blocks))
        scored.append(RankedTime(start, end, free, total))
    scored.sort(key=lambda r: (-r.attendees_free, r.start))
    chosen: list[RankedTime] = []
    days: set[dt.date] = set()
    for r in scored:  # best per day first …
        if len(chosen) >= limit:
            break
        if r.start.date() not in days:
            chosen.append(r)
            days.add(r.start.date())
    for r in scored:  # … then fill with the next best
        if len(chosen) >= limit:
            break
        if r not in chosen:
            chosen.append(r)
    chosen.sort(key=lambda r: (-r.attendees_free, r.start))
    return chosen


@dataclass(frozen=True, slots=True)
class SessionOption:
    """A scheduled group session as the reminder rules see it."""

    id: int
    kind: str
    group_id: str | None
    starts_at: dt.datetime
    ends_at: dt.datetime
    half_term: str
    status: str = "scheduled"


def next_sessions_for(
    staff_id: str,
    group_id: str,
    sessions: Iterable[SessionOption],
    *,
    half_term: str,
    now: dt.datetime,
    invited: Iterable[int] = (),
    limit: int = 5,
) -> list[SessionOption]:
    """The sessions ``staff_id`` could still attend this half term, best first (rule 5)."""
    invited_ids = set(invited)

    def rank(s: SessionOption) -> tuple:
        if s.id in invited_ids:
            tier = 0
        elif s.group_id == group_id:
            tier = 1
        elif s.kind == "mop_up":
            tier = 2
        else:
            tier = 3
        return (tier, s.starts_at, s.id)

    open_ = [
        s
        for s in sessions
        if s.status == "scheduled" and s.half_term == half_term and s.kind in COUNTING_KINDS and s.starts_at > now
    ]
    return sorted(open_, key=rank)[:limit]
