"""The school year as the policies count it: half terms, school days, the mop-up week and enrichment weeks.

Every rule in the product is stated in half terms and school days (seed 001 §3.1: "at least once every half term",
"a mop-up session in the last week of each half term"; seed 002: DSL supervision "once every half term"), so this
module is the one place that knows which dates are school days. A date is a school day when it is a weekday
inside a configured half term, is not an England bank holiday (from the maintained ``holidays`` package, never a
hand-typed list that goes stale) and is not a school closure (INSET day).

Everything here is a pure function of dates: no clock reads, no I/O. Datetimes enter only through
:meth:`TermCalendar.local_date`, which converts an aware instant to the school's own calendar date so that the
answer never depends on the server's time zone.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import holidays

if TYPE_CHECKING:  # the config is only read, never imported at run time, to keep the domain free of pydantic
    from bot.school.config import School

__all__ = [
    "MOP_UP_WEEK_SCHOOL_DAYS",
    "CalendarError",
    "Closure",
    "EnrichmentWeek",
    "HalfTerm",
    "OutsideCalendarError",
    "TermCalendar",
    "england_bank_holidays",
    "validate_terms",
]

#: The "last week" of a half term (seed 001 §3.1 mop-up session) is its last five school days, so a bank holiday
#: or INSET day in the final week pulls the week back a day rather than shrinking it.
MOP_UP_WEEK_SCHOOL_DAYS = 5

_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class CalendarError(ValueError):
    """The term dates cannot be used. ``problems`` lists every problem found, each naming the dates involved."""

    def __init__(self, problems: Sequence[str]):
        self.problems = tuple(problems)
        super().__init__("term calendar is not usable:\n- " + "\n- ".join(self.problems))


class OutsideCalendarError(ValueError):
    """A question about school days reached past the configured school year (no term dates to answer from)."""


@dataclass(frozen=True, slots=True)
class HalfTerm:
    """One half term. ``start``/``end`` are the dates the school publishes (inclusive); ``index`` is its position
    in the year (0 = first), so the next half term is always ``index + 1``."""

    index: int
    name: str
    start: dt.date
    end: dt.date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.start <= day <= self.end


@dataclass(frozen=True, slots=True)
class Closure:
    """A weekday inside a half term when the school is closed to staff supervision (INSET day, polling day …)."""

    date: dt.date
    reason: str = "School closed"


@dataclass(frozen=True, slots=True)
class EnrichmentWeek:
    """A week with one named enrichment supervisor for all staff (seed 001 §3.1 Enrichment Week Supervision)."""

    start: dt.date
    end: dt.date
    supervisor: str

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.start <= day <= self.end


def england_bank_holidays(years: Iterable[int]) -> dict[dt.date, str]:
    """England's bank holidays (including "observed" substitute days) from the maintained ``holidays`` package."""
    table = holidays.country_holidays("GB", subdiv="ENG", years=sorted(set(years)))
    return {day: str(name) for day, name in table.items()}


def _years_spanned(half_terms: Sequence[HalfTerm]) -> range:
    if not half_terms:
        return range(0)
    first = min(h.start.year for h in half_terms)
    last = max(h.end.year for h in half_terms)
    return range(first, last + 1)


def validate_terms(
    half_terms: Sequence[HalfTerm],
    closures: Sequence[Closure] = (),
    enrichment_weeks: Sequence[EnrichmentWeek] = (),
    bank_holidays: Mapping[dt.date, str] | None = None,
) -> list[str]:
    """Every problem with a set of term dates, each message naming the dates, in a stable order.

    Returned rather than raised so a set-up screen can show them all at once; :class:`TermCalendar` raises
    :class:`CalendarError` with the same list. Closures that fall on a weekend, a bank holiday or in a holiday
    are reported because they are almost always a mistyped date, and a silent no-op would hide the real INSET day.
    """
    problems: list[str] = []
    if bank_holidays is None:
        bank_holidays = england_bank_holidays(_years_spanned(half_terms))
    if not half_terms:
        return ["no half terms are configured"]

    names: dict[str, int] = {}
    for pos, h in enumerate(half_terms):
        if h.index != pos:
            problems.append(f"half term {h.name!r} has index {h.index}, expected {pos} (its position in the year)")
        if h.end < h.start:
            problems.append(f"half term {h.name!r} ends {h.end} before it starts {h.start}")
        key = h.name.strip().casefold()
        if key in names:
            problems.append(f"half term name {h.name!r} is used twice")
        names[key] = pos
    for a, b in zip(half_terms, half_terms[1:]):
        if b.start <= a.end:
            what = "overlap" if b.start >= a.start else "are out of order"
            problems.append(f"half terms {a.name!r} ({a.start}..{a.end}) and {b.name!r} ({b.start}..{b.end}) {what}")

    closed = {c.date for c in closures}
    seen_closures: set[dt.date] = set()
    for c in closures:
        if c.date in seen_closures:
            problems.append(f"closure {c.date} is listed twice")
        seen_closures.add(c.date)
        if c.date.weekday() >= 5:
            problems.append(f"closure {c.date} ({c.reason}) falls on a {_WEEKDAY_NAMES[c.date.weekday()]}")
        elif c.date in bank_holidays:
            problems.append(f"closure {c.date} ({c.reason}) falls on a bank holiday ({bank_holidays[c.date]})")
        elif not any(c.date in h for h in half_terms):
            problems.append(f"closure {c.date} ({c.reason}) is not inside any half term")

    for h in half_terms:
        if h.end < h.start:
            continue  # already reported; counting its days would only add noise
        if not any(_is_open(d, closed, bank_holidays) for d in _dates(h.start, h.end)):
            problems.append(f"half term {h.name!r} ({h.start}..{h.end}) contains no school days")

    for w in enrichment_weeks:
        if w.end < w.start:
            problems.append(f"enrichment week {w.start}..{w.end} ends before it starts")
            continue
        if not any(w.start in h and w.end in h for h in half_terms):
            problems.append(f"enrichment week {w.start}..{w.end} is not inside a single half term")
    ordered = sorted(enrichment_weeks, key=lambda w: w.start)
    for a, b in zip(ordered, ordered[1:]):
        if b.start <= a.end:
            problems.append(f"enrichment weeks {a.start}..{a.end} and {b.start}..{b.end} overlap")
    return problems


def _dates(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    day = first
    one = dt.timedelta(days=1)
    while day <= last:
        yield day
        day += one


def _is_open(day: dt.date, closed: set[dt.date] | Mapping[dt.date, Any], bank: Mapping[dt.date, str]) -> bool:
    return day.weekday() < 5 and day not in bank and day not in closed


class TermCalendar:
    """School days of one school year, answering the date questions every policy rule needs.

    Built once per config load (``TermCalendar.from_school``) and then read-only. School days are held as a sorted
    list so counts and offsets are binary searches, which keeps the compliance report cheap for large rosters.
    """

    def __init__(
        self,
        half_terms: Sequence[HalfTerm] | Sequence[tuple[str, dt.date, dt.date]],
        closures: Iterable[Closure] | Mapping[dt.date, str] = (),
        enrichment_weeks: Iterable[EnrichmentWeek] = (),
        *,
        bank_holidays: Mapping[dt.date, str] | None = None,
        timezone: str | ZoneInfo = "Europe/London",
    ):
        """``half_terms`` may be :class:`HalfTerm` objects or plain ``(name, start, end)`` tuples (indexed in the
        order given). ``bank_holidays`` defaults to England's from the ``holidays`` package; tests may pass their
        own. Raises :class:`CalendarError` listing every problem found."""
        hts: list[HalfTerm] = []
        for pos, item in enumerate(half_terms):
            if isinstance(item, HalfTerm):
                hts.append(item)
            else:
                name, start, end = item
                hts.append(HalfTerm(pos, name, start, end))
        if isinstance(closures, Mapping):
            closure_list = [Closure(d, r) for d, r in closures.items()]
        else:
            closure_list = list(closures)
        weeks = list(enrichment_weeks)
        bank = dict(bank_holidays) if bank_holidays is not None else england_bank_holidays(_years_spanned(hts))
        problems = validate_terms(hts, closure_list, weeks, bank)
        if problems:
            raise CalendarError(problems)

        self.tz: ZoneInfo = timezone if isinstance(timezone, ZoneInfo) else ZoneInfo(timezone)
        self.half_terms: tuple[HalfTerm, ...] = tuple(hts)
        self.closures: dict[dt.date, str] = {c.date: c.reason for c in closure_list}
        self.enrichment_weeks: tuple[EnrichmentWeek, ...] = tuple(sorted(weeks, key=lambda w: w.start))
        self.bank_holidays: dict[dt.date, str] = bank
        self._starts = [h.start for h in self.half_terms]
        self._ends = [h.end for h in self.half_terms]
        days: list[dt.date] = []
        per_half_term: list[tuple[dt.date, ...]] = []
        for h in self.half_terms:
            mine = tuple(d for d in _dates(h.start, h.end) if _is_open(d, self.closures, bank))
            per_half_term.append(mine)
            days.extend(mine)
        self._days: list[dt.date] = days
        self._day_set: frozenset[dt.date] = frozenset(days)
        self._by_half_term: tuple[tuple[dt.date, ...], ...] = tuple(per_half_term)

    @classmethod
    def from_school(cls, school: School, *, bank_holidays: Mapping[dt.date, str] | None = None) -> TermCalendar:
        """The calendar for a loaded school config (``bot.school.config.School``)."""
        terms = school.terms
        return cls(
            [HalfTerm(i, h.name, h.start, h.end) for i, h in enumerate(terms.half_terms)],
            [Closure(c.date, c.reason) for c in terms.closures],
            [EnrichmentWeek(w.start, w.end, w.supervisor) for w in terms.enrichment_weeks],
            bank_holidays=bank_holidays,
            timezone=school.settings.timezone,
        )

    # ---- the year ---------------------------------------------------------------------------------------------
    @property
    def first_day(self) -> dt.date:
        """First school day of the year."""
        return self._days[0]

    @property
    def last_day(self) -> dt.date:
        """Last school day of the year."""
        return self._days[-1]

    def local_date(self, instant: dt.datetime) -> dt.date:
        """The school's calendar date at an aware instant (never the server's local date)."""
        if instant.tzinfo is None or instant.utcoffset() is None:
            raise ValueError(f"{instant!r} is naive; pass an aware datetime so the school's date is unambiguous")
        return instant.astimezone(self.tz).date()

    # ---- half terms -------------------------------------------------------------------------------------------
    def half_term_for(self, day: dt.date) -> HalfTerm | None:
        """The half term whose published dates include ``day`` (weekends inside it included), else None."""
        i = bisect_right(self._starts, day) - 1
        if i >= 0 and day <= self._ends[i]:
            return self.half_terms[i]
        return None

    def current_or_next_half_term(self, day: dt.date) -> HalfTerm | None:
        """The half term containing ``day``, or during a holiday the one that follows; None after the year ends."""
        i = bisect_left(self._ends, day)
        return self.half_terms[i] if i < len(self.half_terms) else None

    def school_days_in(self, half_term: HalfTerm) -> tuple[dt.date, ...]:
        """Every school day of a half term, in order."""
        return self._by_half_term[half_term.index]

    def deadline(self, half_term: HalfTerm) -> dt.date:
        """The last school day of a half term: the date by which its supervision must have happened."""
        return self._by_half_term[half_term.index][-1]

    def last_week(self, half_term: HalfTerm) -> tuple[dt.date, dt.date]:
        """First and last date of the mop-up week: the half term's last five school days (fewer if it is short)."""
        days = self._by_half_term[half_term.index]
        tail = days[-MOP_UP_WEEK_SCHOOL_DAYS:]
        return tail[0], tail[-1]

    def in_last_week(self, half_term: HalfTerm, day: dt.date) -> bool:
        """Whether ``day`` falls within the half term's mop-up week."""
        first, last = self.last_week(half_term)
        return first <= day <= last

    def school_days_left(self, half_term: HalfTerm, day: dt.date) -> int:
        """School days from ``day`` (counted if it is a school day) to the half term's deadline, inclusive.

        So on the last school day the answer is 1 ("today is the last day"), after it 0, and before the half term
        starts it is the half term's whole length.
        """
        days = self._by_half_term[half_term.index]
        return len(days) - bisect_left(days, day)

    def enrichment_week_for(self, day: dt.date) -> EnrichmentWeek | None:
        """The enrichment week containing ``day``, if any."""
        for w in self.enrichment_weeks:
            if day in w:
                return w
        return None

    # ---- school days ------------------------------------------------------------------------------------------
    def is_school_day(self, day: dt.date) -> bool:
        """Weekday, inside a half term, not a bank holiday, not a closure."""
        return day in self._day_set

    def why_closed(self, day: dt.date) -> str | None:
        """Why ``day`` is not a school day, in words a person can read; None when it is one."""
        if day in self._day_set:
            return None
        if day.weekday() >= 5:
            return _WEEKDAY_NAMES[day.weekday()]
        if day in self.bank_holidays:
            return f"Bank holiday: {self.bank_holidays[day]}"
        if day in self.closures:
            return self.closures[day]
        if day < self._starts[0] or day > self._ends[-1]:
            return "Outside the school year"
        return "School holiday"

    def school_days_between(self, a: dt.date, b: dt.date) -> int:
        """Number of school days ``d`` with ``a <= d < b`` (half-open, like ``range``); negative when ``b < a``.

        Half-open so that ``school_days_between(a, add_school_days(a, n)) == n`` for a school day ``a``.
        """
        if b < a:
            return -self.school_days_between(b, a)
        return bisect_left(self._days, b) - bisect_left(self._days, a)

    def add_school_days(self, day: dt.date, n: int) -> dt.date:
        """The ``n``-th school day after ``day`` (before it when ``n < 0``); ``n == 0`` gives ``day`` itself if it
        is a school day, else the next school day. Raises :class:`OutsideCalendarError` past the school year."""
        if n >= 0:
            i = bisect_left(self._days, day) if n == 0 else bisect_right(self._days, day) + n - 1
        else:
            i = bisect_left(self._days, day) + n
        if not 0 <= i < len(self._days):
            raise OutsideCalendarError(
                f"{abs(n)} school days {'after' if n >= 0 else 'before'} {day} is outside the school year "
                f"({self._days[0]}..{self._days[-1]})"
            )
        return self._days[i]

    def school_days_from(self, day: dt.date) -> Iterator[dt.date]:
        """School days on or after ``day``, in order, to the end of the configured year."""
        for i in range(bisect_left(self._days, day), len(self._days)):
            yield self._days[i]

    def __repr__(self) -> str:
        return (
            f"TermCalendar({len(self.half_terms)} half terms, {self._starts[0]}..{self._ends[-1]}, "
            f"{len(self._days)} school days)"
        )
