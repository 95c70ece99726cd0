"""Pure reminder rules: the sending window (school days, school hours, school zone, DST), the live reminder point,
when the mop-up is proposed, how its times are ranked, and which session a reminder names."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.domain.reminder_rules import (
    SendingWindow,
    SessionOption,
    live_point,
    mop_up_proposal_due,
    next_sessions_for,
    point_day,
    rank_mop_up_times,
)

LONDON = ZoneInfo("Europe/London")
UTC = dt.timezone.utc
D = dt.date


def _at(day, h, m=0, tz=LONDON):
    return dt.datetime(day.year, day.month, day.day, h, m, tzinfo=tz)


@pytest.fixture
def window(cal):
    return SendingWindow(cal, LONDON, dt.time(9), dt.time(16, 30))


@pytest.mark.parametrize(
    "when,open_",
    [
        (_at(D(2026, 12, 7), 9), True),  # Monday, school day, 09:00 exactly
        (_at(D(2026, 12, 7), 8, 59), False),  # before send_at
        (_at(D(2026, 12, 7), 16, 29), True),
        (_at(D(2026, 12, 7), 16, 30), False),  # school day over
        (_at(D(2026, 12, 5), 10), False),  # Saturday
        (_at(D(2026, 10, 28), 10), False),  # October half-term holiday
        (_at(D(2026, 11, 2), 10), False),  # INSET day
        (_at(D(2026, 12, 25), 10), False),  # Christmas (bank holiday, holiday)
        (_at(D(2027, 5, 3), 10), False),  # Early May bank holiday inside Summer 1
        (_at(D(2027, 5, 4), 10), True),
    ],
)
def test_window_is_school_days_and_school_hours(window, when, open_, process_tz):
    assert window.is_open(when) is open_
    assert window.is_open(when.astimezone(UTC)) is open_  # the instant matters, not how it is written


def test_window_is_london_wall_clock_across_both_clock_changes(window, cal, process_tz):
    # Autumn 1 ends in BST, Autumn 2 runs in GMT; Spring 2 ends in GMT, Summer 1 starts in BST.
    bst = window.bounds(D(2026, 10, 23))[0]
    gmt = window.bounds(D(2026, 11, 3))[0]
    assert (bst.hour, gmt.hour) == (8, 9)  # 09:00 London as UTC
    assert window.bounds(D(2027, 3, 26))[0].hour == 9
    assert window.bounds(D(2027, 4, 12))[0].hour == 8
    assert window.is_open(dt.datetime(2026, 10, 23, 8, 0, tzinfo=UTC))
    assert not window.is_open(dt.datetime(2026, 11, 3, 8, 30, tzinfo=UTC))


def test_next_opening_skips_weekends_holidays_and_closures(window, process_tz):
    fri_evening = _at(D(2026, 10, 23), 17)
    # half-term holiday, clocks go back on 25 Oct, INSET on 2 Nov → Tue 3 Nov 09:00 GMT
    assert window.next_opening(fri_evening) == dt.datetime(2026, 11, 3, 9, tzinfo=UTC)
    assert window.next_opening(_at(D(2026, 12, 7), 11)) == _at(D(2026, 12, 7), 11)
    assert window.next_opening(_at(D(2027, 7, 21), 17)) is None  # after the school year


def test_window_must_open_before_it_closes(cal):
    with pytest.raises(ValueError):
        SendingWindow(cal, LONDON, dt.time(17), dt.time(9))


def test_points_fall_on_the_right_school_days(cal):
    autumn2 = cal.half_terms[1]
    assert point_day(10, autumn2, cal) == D(2026, 12, 7)
    assert point_day(3, autumn2, cal) == D(2026, 12, 16)
    assert point_day(1, autumn2, cal) == D(2026, 12, 18)
    assert point_day(500, autumn2, cal) is None


def test_live_point_catches_up_but_never_goes_back(cal):
    autumn2 = cal.half_terms[1]
    points = [10, 3]
    assert live_point(points, autumn2, D(2026, 12, 4), cal) is None  # 11 left: nothing yet
    assert live_point(points, autumn2, D(2026, 12, 7), cal) == 10
    assert live_point(points, autumn2, D(2026, 12, 8), cal) == 10  # missed Monday: still 10 on Tuesday
    assert live_point(points, autumn2, D(2026, 12, 15), cal) == 10
    assert live_point(points, autumn2, D(2026, 12, 16), cal) == 3
    assert live_point(points, autumn2, D(2026, 12, 18), cal) == 3
    assert live_point(points, autumn2, D(2026, 12, 12), cal) is None  # Saturday
    assert live_point(points, autumn2, D(2026, 12, 21), cal) is None  # after the half term


def test_mop_up_is_proposed_a_week_before_the_last_week(cal):
    autumn2 = cal.half_terms[1]
    assert not mop_up_proposal_due(autumn2, D(2026, 12, 4), cal)
    assert mop_up_proposal_due(autumn2, D(2026, 12, 7), cal)  # 5 school days before 14 Dec
    assert mop_up_proposal_due(autumn2, D(2026, 12, 17), cal)  # late, but still room
    assert not mop_up_proposal_due(autumn2, D(2026, 12, 18), cal)  # the deadline day: too late
    assert not mop_up_proposal_due(autumn2, D(2026, 12, 12), cal)  # Saturday


def test_mop_up_times_ranked_by_who_can_come(process_tz):
    day = D(2026, 12, 14)
    t = [(_at(day, h).astimezone(UTC), _at(day, h + 1).astimezone(UTC)) for h in (9, 13, 15)]
    t.append((_at(D(2026, 12, 15), 15).astimezone(UTC), _at(D(2026, 12, 15), 16).astimezone(UTC)))
    busy = {"a": [t[0]], "b": [t[0], t[1]], "c": [], "d": [t[3]]}
    ranked = rank_mop_up_times(t, busy, limit=3)
    assert [(r.start, r.attendees_free) for r in ranked] == [(t[2][0], 4), (t[1][0], 3), (t[3][0], 3)]
    assert all(r.attendees_total == 4 for r in ranked)
    # with room for two, the second is on another day rather than the same afternoon (a real choice)
    assert [r.start for r in rank_mop_up_times(t, busy, limit=2)] == [t[2][0], t[3][0]]


def _opt(i, kind, group, day, h, ht="2026-27 Autumn 2", status="scheduled"):
    return SessionOption(i, kind, group, _at(day, h).astimezone(UTC), _at(day, h + 1).astimezone(UTC), ht, status)


def test_next_sessions_prefer_invited_then_own_group_then_mop_up():
    now = _at(D(2026, 12, 7), 9)
    sessions = [
        _opt(1, "class", "rowan", D(2026, 12, 8), 15),
        _opt(2, "mop_up", None, D(2026, 12, 15), 15),
        _opt(3, "class", "willow", D(2026, 12, 10), 15),
        _opt(4, "class", "willow", D(2026, 12, 4), 15),  # already happened
        _opt(5, "class", "willow", D(2026, 12, 9), 15, status="cancelled"),
        _opt(6, "emergency", None, D(2026, 12, 8), 9),  # not a group-supervision session
        _opt(7, "class", "willow", D(2027, 1, 12), 15, ht="2026-27 Spring 1"),
        _opt(8, "non_class", "office", D(2026, 12, 11), 15),
    ]
    got = next_sessions_for("tom.hollis", "willow", sessions, half_term="2026-27 Autumn 2", now=now)
    assert [s.id for s in got] == [3, 2, 1, 8]
    got = next_sessions_for("tom.hollis", "willow", sessions, half_term="2026-27 Autumn 2", now=now, invited=[8])
    assert [s.id for s in got] == [8, 3, 2, 1]
