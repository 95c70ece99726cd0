"""1:1 supervision entitlement: whether a supervisor–supervisee pair meets as often as their agreement says, and
how far a shortfall has been escalated. Rule 11 of the compliance engine (bot/domain/compliance.py lists it).

Seed 002 "Frequency of Supervision": "The supervisor and supervisee should agree on the duration and frequency of
supervision" (on the contract); seed 003 App. 1: "at least six weekly"; seeds 002 / 004: "at least once a half
term". So the *agreement's* frequency is what the pair is owed:

* ``half_termly``: at least one recorded session in every half term of the pairing. The half term the pairing
  starts in counts only if at least ``MIN_SCHOOL_DAYS`` (10) school days of it remain from the start (the joiners'
  rule 4 of the compliance engine). A half term is *missed* once its last school day has passed with no session.
* ``six_weekly`` / ``monthly`` / ``fortnightly``: an interval of 30 / 20 / 10 school days (holidays do not use it
  up, as for the DSL team's six-weekly rule 9). The clock starts on the later of the pairing's start and the date
  the agreement was made; each session restarts it. The pair is *missed* once the next due date has passed.
* ``as_needed``, or no agreement: nothing is expected (a pair with no agreement is flagged for that instead).

Only sessions that were held *and recorded* count (a 1:1 record's session date), never a booking.

Escalation — seed 002 "Entitlement": a member of staff "not receiving supervision at the required frequency …
should: In the first instance arrange a one to one with their supervisor to discuss and resolve, where possible.
If they are unable to find a solution, … request a three-way meeting between their supervisor, line manager or the
Principal … and supervisee." So: ``level`` 1 as soon as one due date (or half term) is missed — the supervisor
(and the supervisee) are told, to resolve it between them; ``level`` 2 when a further interval (or half term)
passes with still no session — the DSL team is told, to arrange the three-way meeting. ``missed_since`` (the
first due date missed in the current run) names the episode, so each level is escalated once per episode.

Pure: facts, calendar and ``today`` are passed in; no I/O, no clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain.calendar import OutsideCalendarError, TermCalendar

HALF_TERMLY = "half_termly"
AS_NEEDED = "as_needed"
#: School days per interval (six weeks = 30 school days, as rule 9 of the compliance engine reads it).
INTERVAL_SCHOOL_DAYS = {"six_weekly": 30, "monthly": 20, "fortnightly": 10}
MIN_SCHOOL_DAYS = 10

OK, MISSED, NOT_EXPECTED, NO_AGREEMENT = "ok", "missed", "not_expected", "no_agreement"


@dataclass(frozen=True, slots=True)
class PairFacts:
    pairing_id: int
    supervisor_id: str
    supervisee_id: str
    started_on: dt.date  # the pairing's start (school-local date)
    frequency: str | None  # the agreement in force's frequency code; None: no agreement in force
    agreed_on: dt.date | None = None
    sessions: tuple[dt.date, ...] = ()  # recorded session dates of the pair, any order


@dataclass(frozen=True, slots=True)
class Entitlement:
    pairing_id: int
    supervisor_id: str
    supervisee_id: str
    frequency: str | None
    status: str  # ok | missed | not_expected | no_agreement
    level: int = 0  # 0 none, 1 supervisor (and supervisee) told, 2 the DSL team told
    missed_since: dt.date | None = None
    next_due: dt.date | None = None
    last_session: dt.date | None = None


def pair_entitlement(p: PairFacts, cal: TermCalendar, today: dt.date) -> Entitlement:
    """Where this pair stands on the day ``today`` (see the module docstring)."""
    sessions = sorted(d for d in p.sessions if d <= today)
    last = sessions[-1] if sessions else None
    base = dict(pairing_id=p.pairing_id, supervisor_id=p.supervisor_id, supervisee_id=p.supervisee_id)
    if p.frequency is None:
        return Entitlement(**base, frequency=None, status=NO_AGREEMENT, last_session=last)
    if p.frequency == HALF_TERMLY:
        return _half_termly(p, cal, today, sessions, base, last)
    interval = INTERVAL_SCHOOL_DAYS.get(p.frequency)
    if interval is None:  # as_needed, or a code this version does not know: nothing is owed by the calendar
        return Entitlement(**base, frequency=p.frequency, status=NOT_EXPECTED, last_session=last)
    anchor = max(p.started_on, p.agreed_on or p.started_on, cal.first_day)
    later = [d for d in sessions if d >= anchor]
    start = later[-1] if later else anchor
    due = _add(cal, start, interval)
    if due is None or today <= due:
        return Entitlement(**base, frequency=p.frequency, status=OK, next_due=due, last_session=last)
    again = _add(cal, due, interval)
    level = 2 if again is not None and today > again else 1
    return Entitlement(
        **base, frequency=p.frequency, status=MISSED, level=level, missed_since=due, next_due=due, last_session=last
    )


def _add(cal: TermCalendar, day: dt.date, n: int) -> dt.date | None:
    try:
        return cal.add_school_days(day, n)
    except OutsideCalendarError:
        return None  # falls after the configured year: not due within it


def _half_termly(p: PairFacts, cal: TermCalendar, today, sessions, base, last) -> Entitlement:
    start = max(p.started_on, p.agreed_on or p.started_on)
    owed = []
    for ht in cal.half_terms:
        deadline = cal.deadline(ht)
        if deadline < start:
            continue
        if start > ht.start and cal.school_days_left(ht, start) < MIN_SCHOOL_DAYS:
            continue  # started too late in it to be owed a session there
        owed.append((ht, deadline))
    # The latest run of finished half terms with no session, with no session since.
    run: list[dt.date] = []
    for ht, deadline in reversed([o for o in owed if o[1] < today]):
        if any(ht.start <= d <= deadline for d in sessions):
            break
        run.append(deadline)
    if run and any(d > run[0] for d in sessions):
        run = []  # they met after the latest missed half term: back on track
    current = next((deadline for ht, deadline in owed if deadline >= today), None)
    if not run:
        return Entitlement(**base, frequency=p.frequency, status=OK, next_due=current, last_session=last)
    return Entitlement(
        **base,
        frequency=p.frequency,
        status=MISSED,
        level=min(len(run), 2),
        missed_since=run[-1],
        next_due=current,
        last_session=last,
    )


def entitlements(pairs: Sequence[PairFacts], cal: TermCalendar, today: dt.date) -> list[Entitlement]:
    return [pair_entitlement(p, cal, today) for p in pairs]
