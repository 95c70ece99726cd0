"""Finding times for a supervision meeting that are free in both people's calendars.

Graph's ``findMeetingTimes`` is delegated-only, so the bot reads free/busy (``getSchedule``) with application
permissions and chooses the times itself, here. The rules come from how supervision is actually booked in schools
(seed 001 §3.2 "the supervisor will arrange a meeting"; seed 002 "about an hour"):

* only school days (no weekends, bank holidays, INSET days or holidays between half terms) and only within the
  school day, read as wall-clock time in the school's time zone — so a 09:00 slot is 09:00 in London in both
  the BST and the GMT week of a clock change;
* a time is offered only if it is free for everyone (busy, out-of-office, working-elsewhere and unknown block it;
  tentative blocks it unless the caller says otherwise; free never does);
* an all-day event blocks the whole of each day it covers, whatever its hours say;
* events written in any time zone are compared as instants, never as wall-clock numbers;
* nothing before ``earliest`` (the caller's "now") is offered;
* offers are spread over different days first (one per day, earliest day first) and only then doubled up, because
  a choice of four times on one morning is not really a choice for a teacher with a fixed timetable.

Pure: the caller passes ``earliest``; nothing here reads the clock or the process's time zone.
"""

from __future__ import annotations

import datetime as dt
import enum
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.domain.calendar import TermCalendar

__all__ = ["Busy", "BusyStatus", "Slot", "blocking_intervals", "find_slots"]

_UTC = dt.timezone.utc
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class BusyStatus(str, enum.Enum):
    """Graph's free/busy statuses (``scheduleItem.status`` / ``event.showAs``)."""

    FREE = "free"
    TENTATIVE = "tentative"
    BUSY = "busy"
    OOF = "oof"
    WORKING_ELSEWHERE = "workingElsewhere"
    UNKNOWN = "unknown"


def _require_aware(value: dt.datetime, what: str) -> None:
    if not isinstance(value, dt.datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be an aware datetime, got {value!r}")


@dataclass(frozen=True, slots=True)
class Busy:
    """One calendar entry for one person. ``start``/``end`` are aware (any zone); ``end`` is exclusive.

    For ``all_day`` entries the *dates* of ``start`` and ``end`` as written (in their own zone) are what count,
    ``end`` exclusive as Graph sends them (a one-day event on 3 May runs 3 May 00:00 → 4 May 00:00).
    """

    start: dt.datetime
    end: dt.datetime
    status: BusyStatus = BusyStatus.BUSY
    all_day: bool = False

    def __post_init__(self) -> None:
        _require_aware(self.start, "Busy.start")
        _require_aware(self.end, "Busy.end")
        if self.end < self.start:
            raise ValueError(f"Busy ends {self.end.isoformat()} before it starts {self.start.isoformat()}")
        if not isinstance(self.status, BusyStatus):
            object.__setattr__(self, "status", BusyStatus(self.status))


@dataclass(frozen=True, slots=True, order=True)
class Slot:
    """A proposed meeting time, held in UTC so that comparisons and storage never depend on a zone."""

    start: dt.datetime
    end: dt.datetime

    def __post_init__(self) -> None:
        _require_aware(self.start, "Slot.start")
        _require_aware(self.end, "Slot.end")
        object.__setattr__(self, "start", self.start.astimezone(_UTC))
        object.__setattr__(self, "end", self.end.astimezone(_UTC))

    def local(self, tz: ZoneInfo | str) -> tuple[dt.datetime, dt.datetime]:
        """Start and end as wall-clock times in ``tz`` (the school's, or a viewer's)."""
        zone = tz if isinstance(tz, dt.tzinfo) else ZoneInfo(tz)
        return self.start.astimezone(zone), self.end.astimezone(zone)

    def label(self, tz: ZoneInfo | str) -> str:
        """Human label such as ``"Mon 2 Nov, 09:00–10:00"``; built by hand so the process locale cannot change it."""
        start, end = self.local(tz)
        return f"{_DAYS[start.weekday()]} {start.day} {_MONTHS[start.month - 1]}, {start:%H:%M}–{end:%H:%M}"


def _blocks(status: BusyStatus, tentative_is_busy: bool) -> bool:
    if status is BusyStatus.FREE:
        return False
    if status is BusyStatus.TENTATIVE:
        return tentative_is_busy
    return True  # busy, oof, workingElsewhere and unknown: never offer a time we cannot show is free


def _local_midnight(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=tz).astimezone(_UTC)


def blocking_intervals(
    busy_by_person: Mapping[str, Iterable[Busy]], *, tz: ZoneInfo, tentative_is_busy: bool = True
) -> list[tuple[dt.datetime, dt.datetime]]:
    """Everyone's blocking time as merged, sorted UTC intervals (a time must be free for *all* of them).

    All-day entries become whole days in ``tz`` (the school's zone), so an all-day "INSET at another school" in a
    supervisor's calendar blocks that school day even if the entry was written in another zone.
    """
    raw: list[tuple[dt.datetime, dt.datetime]] = []
    one = dt.timedelta(days=1)
    for entries in busy_by_person.values():
        for b in entries:
            if not _blocks(b.status, tentative_is_busy):
                continue
            if b.all_day:
                first = b.start.date()
                last_excl = max(b.end.date(), first + one)
                raw.append((_local_midnight(first, tz), _local_midnight(last_excl, tz)))
            elif b.end > b.start:
                raw.append((b.start.astimezone(_UTC), b.end.astimezone(_UTC)))
    raw.sort()
    merged: list[tuple[dt.datetime, dt.datetime]] = []
    for start, end in raw:
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _is_free(
    start: dt.datetime,
    end: dt.datetime,
    blocked: Sequence[tuple[dt.datetime, dt.datetime]],
    block_starts: Sequence[dt.datetime],
) -> bool:
    # The only interval that can overlap [start, end) is the last one starting before `end` (they are merged and
    # disjoint); back-to-back meetings (one ends exactly when the slot starts) do not overlap.
    i = bisect_left(block_starts, end) - 1
    return i < 0 or blocked[i][1] <= start


def _wall_time(day: dt.date, at: dt.time, tz: ZoneInfo) -> dt.datetime | None:
    """``day at`` in ``tz`` as UTC, or None when that wall time does not exist (inside a spring-forward gap)."""
    local = dt.datetime.combine(day, at, tzinfo=tz)
    utc = local.astimezone(_UTC)
    back = utc.astimezone(tz)
    if back.replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return utc


def _day_candidates(
    day: dt.date, *, tz: ZoneInfo, day_start: dt.time, day_end: dt.time, duration: dt.timedelta, step: dt.timedelta
) -> list[Slot]:
    out: list[Slot] = []
    end_utc = _wall_time(day, day_end, tz)
    cursor = dt.datetime.combine(day, day_start)  # naive wall clock: stepping it keeps 09:00 meaning 09:00
    last_naive = dt.datetime.combine(day, day_end)
    while cursor + duration <= last_naive:
        start_utc = _wall_time(day, cursor.time(), tz)
        if start_utc is not None:
            slot_end = start_utc + duration  # real elapsed time, even across a change of offset
            if end_utc is None or slot_end <= end_utc:
                out.append(Slot(start_utc, slot_end))
        cursor += step
    return out


def find_slots(
    busy_by_person: Mapping[str, Iterable[Busy]],
    *,
    calendar: TermCalendar,
    tz: ZoneInfo | str,
    day_start: dt.time,
    day_end: dt.time,
    duration: dt.timedelta,
    earliest: dt.datetime,
    horizon_school_days: int,
    count: int,
    step_minutes: int = 30,
    tentative_is_busy: bool = True,
) -> list[Slot]:
    """Up to ``count`` meeting times free for everyone in ``busy_by_person``, in time order.

    Candidates start at ``day_start`` and every ``step_minutes`` after it (wall clock in ``tz``) and must end by
    ``day_end``. The search covers the next ``horizon_school_days`` school days that still have a candidate at or
    after ``earliest`` (so asking at 17:00 does not waste one of the days on today). Choice: the earliest free
    time on each day, days in order; then a second non-overlapping time per day, and so on, so offers spread over
    as many days as the calendars allow. Fewer than ``count`` (possibly none) come back when that is all there is.
    """
    _require_aware(earliest, "earliest")
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    if duration <= dt.timedelta(0):
        raise ValueError("duration must be positive")
    if step_minutes < 1:
        raise ValueError("step_minutes must be at least 1")
    if day_end <= day_start:
        raise ValueError(f"day_end {day_end} must be after day_start {day_start}")
    if count < 1 or horizon_school_days < 1:
        return []

    blocked = blocking_intervals(busy_by_person, tz=zone, tentative_is_busy=tentative_is_busy)
    block_starts = [b[0] for b in blocked]
    step = dt.timedelta(minutes=step_minutes)
    earliest_utc = earliest.astimezone(_UTC)

    free_by_day: list[list[Slot]] = []
    days_seen = 0
    for day in calendar.school_days_from(earliest.astimezone(zone).date()):
        candidates = [
            s
            for s in _day_candidates(day, tz=zone, day_start=day_start, day_end=day_end, duration=duration, step=step)
            if s.start >= earliest_utc
        ]
        if not candidates:
            continue  # today after hours: not a day of the horizon
        days_seen += 1
        free_by_day.append([s for s in candidates if _is_free(s.start, s.end, blocked, block_starts)])
        if days_seen >= horizon_school_days:
            break

    chosen: list[Slot] = []
    picked: list[list[Slot]] = [[] for _ in free_by_day]
    progress = True
    while len(chosen) < count and progress:
        progress = False
        for i, free in enumerate(free_by_day):
            if len(chosen) >= count:
                break
            pick = next((s for s in free if all(s.end <= p.start or s.start >= p.end for p in picked[i])), None)
            if pick is not None:
                picked[i].append(pick)
                chosen.append(pick)
                progress = True
    return sorted(chosen)
