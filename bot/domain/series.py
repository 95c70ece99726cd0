"""Dates fixed a term ahead (seed 003 Appendix 1 §2: "the supervision dates will be fixed at least 1 term in
advance"): a series of sessions every N school days, so weekends, bank holidays, INSET days and school holidays
are stepped over and never used up (seed 003 §1: "at least six weekly" — 30 school days, as the compliance rules
read six weeks). Pure: the calendar and dates are passed in.
"""

from __future__ import annotations

import datetime as dt

from bot.domain.calendar import HalfTerm, OutsideCalendarError, TermCalendar

#: How often, in school days: weekly, fortnightly, three-weekly, four-weekly, half-termly-ish, six-weekly.
EVERY_CHOICES = (5, 10, 15, 20, 30)
MAX_SESSIONS = 16  # a term of weekly sessions; keeps the cards small


def series_dates(
    cal: TermCalendar, first: dt.date, every: int, until: dt.date, *, limit: int = MAX_SESSIONS
) -> list[dt.date]:
    """`first` (the next school day if it is not one), then every `every` school days, up to `until`."""
    if every < 1:
        raise ValueError("every must be at least one school day")
    try:
        day = cal.add_school_days(first, 0)
    except OutsideCalendarError:
        return []
    out: list[dt.date] = []
    while day <= until and len(out) < limit:
        out.append(day)
        try:
            day = cal.add_school_days(day, every)
        except OutsideCalendarError:
            break
    return out


def term_end(cal: TermCalendar, day: dt.date) -> HalfTerm | None:
    """The last half term of the term `day` falls in (or, in a holiday, of the next term): half terms named
    "<Term> 1", "<Term> 2" make one term; a half term named otherwise is a term of its own."""
    ht = cal.half_term_for(day) or cal.current_or_next_half_term(day)
    if ht is None:
        return None
    term = ht.name.rsplit(" ", 1)[0] if " " in ht.name else ht.name
    last = ht
    for other in cal.half_terms[ht.index + 1 :]:
        if (other.name.rsplit(" ", 1)[0] if " " in other.name else other.name) != term:
            break
        last = other
    return last
