"""Rule 11: the agreement's frequency drives what a 1:1 pair is owed, and a shortfall escalates as seed 002
"Entitlement" says — level 1 (supervisor and supervisee resolve it), then level 2 (the DSL team)."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.domain.entitlement import MISSED, NO_AGREEMENT, NOT_EXPECTED, OK, PairFacts, pair_entitlement

D = dt.date


def pair(frequency, *sessions, started=D(2026, 9, 1), agreed=None) -> PairFacts:
    return PairFacts(1, "sup", "see", started, frequency, agreed, tuple(sessions))


def test_no_agreement_and_as_needed_owe_nothing_by_the_calendar(cal):
    assert pair_entitlement(pair(None), cal, D(2027, 3, 1)).status == NO_AGREEMENT
    assert pair_entitlement(pair("as_needed"), cal, D(2027, 3, 1)).status == NOT_EXPECTED


def test_six_weekly_is_thirty_school_days_restarted_by_each_session(cal):
    due = cal.add_school_days(cal.first_day, 30)
    assert pair_entitlement(pair("six_weekly"), cal, due).status == OK  # on the due date: still in time
    e = pair_entitlement(pair("six_weekly"), cal, cal.add_school_days(due, 1))
    assert (e.status, e.level, e.missed_since) == (MISSED, 1, due)
    # A session restarts the clock: no shortfall until 30 school days after it.
    met = D(2026, 10, 5)
    e = pair_entitlement(pair("six_weekly", met), cal, cal.add_school_days(met, 30))
    assert e.status == OK and e.next_due == cal.add_school_days(met, 30)
    # A further interval with still no session: level 2 (the DSL team), same episode.
    later = cal.add_school_days(due, 31)
    e = pair_entitlement(pair("six_weekly"), cal, later)
    assert (e.status, e.level, e.missed_since) == (MISSED, 2, due)


def test_a_future_dated_session_does_not_count(cal):
    today = cal.add_school_days(cal.first_day, 31)
    assert pair_entitlement(pair("six_weekly", today + dt.timedelta(days=3)), cal, today).status == MISSED


@pytest.mark.parametrize("frequency,days", [("fortnightly", 10), ("monthly", 20)])
def test_shorter_intervals(cal, frequency, days):
    due = cal.add_school_days(cal.first_day, days)
    assert pair_entitlement(pair(frequency), cal, due).status == OK
    assert pair_entitlement(pair(frequency), cal, cal.add_school_days(due, 1)).level == 1


def test_the_clock_starts_when_the_agreement_was_made(cal):
    agreed = D(2026, 11, 2)
    today = cal.add_school_days(agreed, 29)
    assert pair_entitlement(pair("six_weekly", agreed=agreed), cal, today).status == OK


def test_half_termly_misses_a_finished_half_term_and_escalates_after_two(cal):
    autumn1_end, autumn2_end = D(2026, 10, 23), D(2026, 12, 18)
    assert pair_entitlement(pair("half_termly"), cal, autumn1_end).status == OK
    e = pair_entitlement(pair("half_termly"), cal, D(2026, 11, 2))
    assert (e.status, e.level, e.missed_since, e.next_due) == (MISSED, 1, autumn1_end, autumn2_end)
    # They meet in Autumn 2: back on track at once.
    assert pair_entitlement(pair("half_termly", D(2026, 11, 10)), cal, D(2026, 11, 11)).status == OK
    # Neither half term: level 2, the episode named by the first missed half term.
    e = pair_entitlement(pair("half_termly"), cal, D(2027, 1, 4))
    assert (e.level, e.missed_since) == (2, autumn1_end)
    # A session in Autumn 1 only: Autumn 2 is the one missed (level 1).
    e = pair_entitlement(pair("half_termly", D(2026, 10, 1)), cal, D(2027, 1, 4))
    assert (e.level, e.missed_since) == (1, autumn2_end)


def test_half_termly_a_late_start_is_not_owed_that_half_term(cal):
    started = D(2026, 10, 19)  # the last week of Autumn 1: fewer than 10 school days left
    assert pair_entitlement(pair("half_termly", started=started), cal, D(2026, 11, 5)).status == OK
