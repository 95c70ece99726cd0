"""find_slots: free-in-both meeting times on school days, in school hours, spread across days, DST-proof."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.domain.calendar import TermCalendar
from bot.domain.slots import Busy, BusyStatus, Slot, blocking_intervals, find_slots

pytestmark = pytest.mark.usefixtures("process_tz")  # nothing here may depend on the process's local zone

LON = ZoneInfo("Europe/London")
UTC = dt.timezone.utc
D = dt.date
HOUR = dt.timedelta(hours=1)


def L(y, m, d, h=0, mi=0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, tzinfo=LON)


def busy(start, end, status=BusyStatus.BUSY, all_day=False) -> Busy:
    return Busy(start, end, status, all_day)


def find(
    busy_by_person,
    cal,
    earliest,
    *,
    count=4,
    horizon=10,
    start=dt.time(8, 30),
    end=dt.time(16, 30),
    duration=HOUR,
    **kw,
):
    return find_slots(
        busy_by_person,
        calendar=cal,
        tz=LON,
        day_start=start,
        day_end=end,
        duration=duration,
        earliest=earliest,
        horizon_school_days=horizon,
        count=count,
        **kw,
    )


def local_starts(slots):
    return [s.start.astimezone(LON).replace(tzinfo=None) for s in slots]


def N(y, m, d, h, mi=0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi)


@pytest.fixture(scope="module")
def dst_cal() -> TermCalendar:
    """A calendar whose half terms run straight through both 2026-27 clock changes (no holiday in the way)."""
    return TermCalendar(
        [("Autumn", D(2026, 10, 19), D(2026, 10, 30)), ("Spring", D(2027, 3, 22), D(2027, 4, 2))], bank_holidays={}
    )


# ---- the basics ---------------------------------------------------------------------------------------------------
def test_empty_calendars_give_one_slot_per_day_at_the_start_of_the_day(cal):
    slots = find({"a": [], "b": []}, cal, L(2026, 11, 3, 7, 0))
    assert local_starts(slots) == [
        N(2026, 11, 3, 8, 30),
        N(2026, 11, 4, 8, 30),
        N(2026, 11, 5, 8, 30),
        N(2026, 11, 6, 8, 30),
    ]
    assert all(s.end - s.start == HOUR for s in slots)
    assert all(s.start.tzinfo is UTC for s in slots)


def test_a_slot_needs_both_people_free(cal):
    day = (2026, 11, 3)
    a = [busy(L(*day, 8, 30), L(*day, 10, 0))]
    b = [busy(L(*day, 10, 0), L(*day, 12, 0))]
    slots = find({"a": a, "b": b}, cal, L(*day, 7), count=1, horizon=1)
    assert local_starts(slots) == [N(*day, 12, 0)]


def test_back_to_back_meetings_leave_exactly_the_gap(cal):
    day = (2026, 11, 3)
    a = [busy(L(*day, 8, 30), L(*day, 11, 0)), busy(L(*day, 12, 0), L(*day, 16, 30))]
    slots = find({"a": a}, cal, L(*day, 7), count=3, horizon=1)
    assert local_starts(slots) == [N(*day, 11, 0)]  # 11:00-12:00 fits exactly; nothing else that day


def test_overlapping_busy_entries_are_merged(cal):
    day = (2026, 11, 3)
    a = [
        busy(L(*day, 8, 30), L(*day, 10, 30)),
        busy(L(*day, 9, 0), L(*day, 11, 0)),
        busy(L(*day, 10, 0), L(*day, 10, 15)),
    ]
    b = [busy(L(*day, 10, 45), L(*day, 13, 0))]
    assert blocking_intervals({"a": a, "b": b}, tz=LON) == [
        (L(*day, 8, 30).astimezone(UTC), L(*day, 13, 0).astimezone(UTC))
    ]
    assert local_starts(find({"a": a, "b": b}, cal, L(*day, 7), count=1, horizon=1)) == [N(*day, 13, 0)]


def test_back_to_back_busy_entries_merge_into_one_block():
    day = (2026, 11, 3)
    a = [busy(L(*day, 9), L(*day, 10))]
    b = [busy(L(*day, 10), L(*day, 11)), busy(L(*day, 12), L(*day, 13), BusyStatus.FREE)]
    assert blocking_intervals({"a": a, "b": b}, tz=LON) == [(L(*day, 9).astimezone(UTC), L(*day, 11).astimezone(UTC))]


def test_a_short_event_blocks_every_slot_it_touches(cal):
    day = (2026, 11, 3)
    a = [busy(L(*day, 8, 30), L(*day, 9, 15)), busy(L(*day, 9, 45), L(*day, 9, 50))]
    # 08:30 and 09:00 overlap the first event; 09:30 and 09:00 overlap the second; 10:00 is the first free start
    assert local_starts(find({"a": a}, cal, L(*day, 7), count=1, horizon=1)) == [N(*day, 10, 0)]


def test_event_spanning_midnight_blocks_the_next_morning(cal):
    a = [busy(L(2026, 11, 2, 22, 0), L(2026, 11, 3, 10, 0))]  # an overnight residential trip
    slots = find({"a": a}, cal, L(2026, 11, 2, 20, 0), count=1, horizon=1)
    assert local_starts(slots) == [N(2026, 11, 3, 10, 0)]


def test_all_day_event_blocks_the_whole_day_whatever_its_hours(cal):
    # Graph sends all-day events as midnight to midnight; the flag wins even if a client wrote odd hours.
    a = [busy(L(2026, 11, 3), L(2026, 11, 4), all_day=True), busy(L(2026, 11, 5, 12), L(2026, 11, 5, 13), all_day=True)]
    slots = find({"a": a}, cal, L(2026, 11, 3, 7), count=2, horizon=4)
    assert [s.start.astimezone(LON).date() for s in slots] == [D(2026, 11, 4), D(2026, 11, 6)]


def test_multi_day_all_day_event_blocks_each_day(cal):
    a = [busy(L(2026, 11, 3), L(2026, 11, 6), all_day=True)]  # Tue, Wed, Thu (end exclusive)
    slots = find({"a": a}, cal, L(2026, 11, 3, 7), count=2, horizon=5)
    assert [s.start.astimezone(LON).date() for s in slots] == [D(2026, 11, 6), D(2026, 11, 9)]


def test_all_day_event_written_in_another_zone_blocks_the_schools_date(cal):
    ny = ZoneInfo("America/New_York")
    a = [busy(dt.datetime(2026, 11, 3, tzinfo=ny), dt.datetime(2026, 11, 4, tzinfo=ny), all_day=True)]
    slots = find({"a": a}, cal, L(2026, 11, 3, 7), count=1, horizon=2)
    assert [s.start.astimezone(LON).date() for s in slots] == [D(2026, 11, 4)]


@pytest.mark.parametrize(
    "status, blocks",
    [
        (BusyStatus.BUSY, True),
        (BusyStatus.OOF, True),
        (BusyStatus.WORKING_ELSEWHERE, True),
        (BusyStatus.UNKNOWN, True),
        (BusyStatus.TENTATIVE, True),
        (BusyStatus.FREE, False),
        ("oof", True),
        ("free", False),
        ("workingElsewhere", True),
    ],
)
def test_statuses(cal, status, blocks):
    day = (2026, 11, 3)
    a = [busy(L(*day, 8, 30), L(*day, 9, 30), status)]
    first = local_starts(find({"a": a}, cal, L(*day, 7), count=1, horizon=1))[0]
    assert first == (N(*day, 9, 30) if blocks else N(*day, 8, 30))


def test_tentative_can_be_treated_as_free(cal):
    day = (2026, 11, 3)
    a = [busy(L(*day, 8, 30), L(*day, 9, 30), BusyStatus.TENTATIVE)]
    slots = find({"a": a}, cal, L(*day, 7), count=1, horizon=1, tentative_is_busy=False)
    assert local_starts(slots) == [N(*day, 8, 30)]


def test_events_in_other_time_zones_are_compared_as_instants(cal):
    # 04:00-05:00 New York on 3 Nov 2026 (EST, UTC-5) is 09:00-10:00 UTC = 09:00-10:00 London (GMT).
    ny = ZoneInfo("America/New_York")
    tokyo = ZoneInfo("Asia/Tokyo")
    a = [busy(dt.datetime(2026, 11, 3, 3, 30, tzinfo=ny), dt.datetime(2026, 11, 3, 5, 0, tzinfo=ny))]
    # 17:30-19:00 Tokyo (UTC+9) is 08:30-10:00 London
    b = [busy(dt.datetime(2026, 11, 3, 17, 30, tzinfo=tokyo), dt.datetime(2026, 11, 3, 19, 0, tzinfo=tokyo))]
    c = [busy(dt.datetime(2026, 11, 3, 10, 0, tzinfo=UTC), dt.datetime(2026, 11, 3, 10, 30, tzinfo=UTC))]
    slots = find({"a": a, "b": b, "c": c}, cal, L(2026, 11, 3, 7), count=1, horizon=1)
    assert local_starts(slots) == [N(2026, 11, 3, 10, 30)]


def test_nothing_in_the_past_and_nothing_after_hours(cal):
    slots = find({}, cal, L(2026, 11, 3, 9, 10), count=8, horizon=1)
    starts = local_starts(slots)
    assert starts[0] == N(2026, 11, 3, 9, 30)
    assert all(s.end.astimezone(LON).time() <= dt.time(16, 30) for s in slots)
    assert starts[-1] <= N(2026, 11, 3, 15, 30)


def test_asking_after_school_hours_starts_tomorrow_without_losing_a_day_of_horizon(cal):
    slots = find({}, cal, L(2026, 11, 3, 17, 0), count=2, horizon=2)
    assert [s.start.astimezone(LON).date() for s in slots] == [D(2026, 11, 4), D(2026, 11, 5)]


def test_earliest_is_compared_as_an_instant(cal):
    # 09:10 London expressed in Los Angeles time (01:10 PST)
    earliest = dt.datetime(2026, 11, 3, 1, 10, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert local_starts(find({}, cal, earliest, count=1, horizon=1)) == [N(2026, 11, 3, 9, 30)]


def test_naive_datetimes_are_rejected(cal):
    with pytest.raises(ValueError, match="aware"):
        find({}, cal, dt.datetime(2026, 11, 3, 9, 0))
    with pytest.raises(ValueError, match="aware"):
        Busy(dt.datetime(2026, 11, 3, 9, 0), L(2026, 11, 3, 10))
    with pytest.raises(ValueError, match="before it starts"):
        Busy(L(2026, 11, 3, 10), L(2026, 11, 3, 9))


# ---- school days only ---------------------------------------------------------------------------------------------
def test_weekends_holidays_and_inset_days_are_skipped(cal):
    # Friday 23 Oct 2026 is the last day of Autumn 1; 26-30 Oct is half term; Mon 2 Nov is an INSET day.
    slots = find({}, cal, L(2026, 10, 23, 12, 0), count=3, horizon=3, start=dt.time(12, 0), end=dt.time(13, 0))
    assert [s.start.astimezone(LON).date() for s in slots] == [D(2026, 10, 23), D(2026, 11, 3), D(2026, 11, 4)]


def test_christmas_gap(cal):
    slots = find({}, cal, L(2026, 12, 18, 15, 0), count=3, horizon=3)
    assert [s.start.astimezone(LON).date() for s in slots] == [D(2026, 12, 18), D(2027, 1, 5), D(2027, 1, 6)]


def test_easter_2027_good_friday_and_easter_monday(cal):
    slots = find({}, cal, L(2027, 3, 25, 16, 0), count=2, horizon=2)
    # 25 Mar is over; Good Friday, the Easter holiday and Easter Monday are skipped; Summer 1 starts 12 Apr
    assert [s.start.astimezone(LON).date() for s in slots] == [D(2027, 4, 12), D(2027, 4, 13)]


@pytest.mark.parametrize(
    "earliest, expected",
    [
        (L(2027, 4, 30, 17), [D(2027, 5, 4), D(2027, 5, 5)]),  # May Day 3 May
        (L(2027, 5, 28, 17), [D(2027, 6, 7), D(2027, 6, 8)]),  # Whitsun holiday incl. Spring bank holiday 31 May
    ],
)
def test_may_bank_holidays(cal, earliest, expected):
    slots = find({}, cal, earliest, count=2, horizon=2)
    assert [s.start.astimezone(LON).date() for s in slots] == expected


def test_end_of_the_school_year_gives_what_is_left(cal):
    # Only two school days remain: the horizon of 10 cannot be met, so both days are doubled up.
    slots = find({}, cal, L(2027, 7, 20, 7), count=4, horizon=10)
    assert local_starts(slots) == [
        N(2027, 7, 20, 8, 30),
        N(2027, 7, 20, 9, 30),
        N(2027, 7, 21, 8, 30),
        N(2027, 7, 21, 9, 30),
    ]


# ---- spreading ----------------------------------------------------------------------------------------------------
def test_one_slot_per_day_before_doubling_up(cal):
    slots = find({}, cal, L(2026, 11, 3, 7), count=5, horizon=3)
    starts = local_starts(slots)
    assert starts == [
        N(2026, 11, 3, 8, 30),
        N(2026, 11, 3, 9, 30),
        N(2026, 11, 4, 8, 30),
        N(2026, 11, 4, 9, 30),
        N(2026, 11, 5, 8, 30),
    ]
    # no two offers on the same day overlap
    for x in slots:
        for y in slots:
            if x is not y:
                assert x.end <= y.start or y.end <= x.start


def test_busy_days_are_skipped_in_favour_of_free_ones(cal):
    a = [busy(L(2026, 11, 3), L(2026, 11, 4), all_day=True), busy(L(2026, 11, 4, 8, 30), L(2026, 11, 4, 15, 0))]
    slots = find({"a": a}, cal, L(2026, 11, 3, 7), count=3, horizon=3)
    assert local_starts(slots) == [N(2026, 11, 4, 15, 0), N(2026, 11, 5, 8, 30), N(2026, 11, 5, 9, 30)]


def test_nobody_free_gives_no_slots(cal):
    a = [busy(L(2026, 11, 1), L(2026, 12, 1), BusyStatus.OOF)]
    assert find({"a": a}, cal, L(2026, 11, 3, 7)) == []


def test_horizon_limits_the_search(cal):
    a = [busy(L(2026, 11, 3), L(2026, 11, 10), all_day=True)]  # Tue 3 .. Mon 9: five school days
    assert find({"a": a}, cal, L(2026, 11, 3, 7), horizon=5) == []
    assert [s.start.astimezone(LON).date() for s in find({"a": a}, cal, L(2026, 11, 3, 7), horizon=6, count=1)] == [
        D(2026, 11, 10)
    ]


def test_step_and_duration(cal):
    day = (2026, 11, 3)
    slots = find(
        {},
        cal,
        L(*day, 7),
        count=3,
        horizon=1,
        duration=dt.timedelta(minutes=45),
        step_minutes=15,
        start=dt.time(9),
        end=dt.time(11),
    )
    assert local_starts(slots) == [N(*day, 9, 0), N(*day, 9, 45)]  # 10:30 would end at 11:15


def test_bad_parameters(cal):
    with pytest.raises(ValueError):
        find({}, cal, L(2026, 11, 3, 7), duration=dt.timedelta(0))
    with pytest.raises(ValueError):
        find({}, cal, L(2026, 11, 3, 7), start=dt.time(12), end=dt.time(9))
    with pytest.raises(ValueError):
        find({}, cal, L(2026, 11, 3, 7), step_minutes=0)
    assert find({}, cal, L(2026, 11, 3, 7), count=0) == []


# ---- clock changes ----------------------------------------------------------------------------------------------
def test_autumn_clock_change_week_keeps_london_wall_time(dst_cal):
    # Clocks go back at 02:00 BST on Sunday 25 Oct 2026.
    slots = find({}, dst_cal, L(2026, 10, 22, 7), count=4, horizon=4, start=dt.time(9), end=dt.time(10))
    assert local_starts(slots) == [N(2026, 10, 22, 9), N(2026, 10, 23, 9), N(2026, 10, 26, 9), N(2026, 10, 27, 9)]
    assert [s.start.hour for s in slots] == [8, 8, 9, 9]  # UTC: BST then GMT
    assert all(s.end - s.start == HOUR for s in slots)


def test_spring_clock_change_week_keeps_london_wall_time(dst_cal):
    # Clocks go forward at 01:00 GMT on Sunday 28 Mar 2027 (Easter Sunday).
    slots = find({}, dst_cal, L(2027, 3, 25, 7), count=4, horizon=4, start=dt.time(9), end=dt.time(10))
    assert local_starts(slots) == [N(2027, 3, 25, 9), N(2027, 3, 26, 9), N(2027, 3, 29, 9), N(2027, 3, 30, 9)]
    assert [s.start.hour for s in slots] == [9, 9, 8, 8]


def test_busy_time_sent_in_utc_across_the_change(dst_cal):
    # A Graph getSchedule answer in UTC: 08:00-09:00Z on Mon 26 Oct is 08:00-09:00 GMT (not BST).
    a = [busy(dt.datetime(2026, 10, 26, 8, 0, tzinfo=UTC), dt.datetime(2026, 10, 26, 9, 0, tzinfo=UTC))]
    slots = find({"a": a}, dst_cal, L(2026, 10, 26, 7), count=1, horizon=1, start=dt.time(8), end=dt.time(10))
    assert local_starts(slots) == [N(2026, 10, 26, 9)]
    # The same UTC times on the Friday before (BST) are 09:00-10:00 local: 08:00 is free then.
    a2 = [busy(dt.datetime(2026, 10, 23, 8, 0, tzinfo=UTC), dt.datetime(2026, 10, 23, 9, 0, tzinfo=UTC))]
    slots2 = find({"a": a2}, dst_cal, L(2026, 10, 23, 7), count=2, horizon=1, start=dt.time(8), end=dt.time(10))
    assert local_starts(slots2) == [N(2026, 10, 23, 8)]


def test_candidates_inside_a_spring_forward_gap_are_never_offered(dst_cal):
    # School hours never meet London's 01:00 change, so exercise the candidate builder directly on the gap day
    # with night-time hours: wall times that do not exist must be skipped, not shifted.
    from bot.domain.slots import _day_candidates

    cands = _day_candidates(
        D(2027, 3, 28),
        tz=LON,
        day_start=dt.time(0, 30),
        day_end=dt.time(3, 0),
        duration=dt.timedelta(minutes=30),
        step=dt.timedelta(minutes=30),
    )
    local = [s.start.astimezone(LON).time() for s in cands]
    assert dt.time(1, 0) not in local and dt.time(1, 30) not in local  # 01:00-02:00 does not exist
    assert local == [dt.time(0, 30), dt.time(2, 0), dt.time(2, 30)]
    assert all(s.end - s.start == dt.timedelta(minutes=30) for s in cands)


# ---- Slot ---------------------------------------------------------------------------------------------------------
def test_slot_is_stored_in_utc_and_renders_local():
    s = Slot(L(2026, 11, 2, 9), L(2026, 11, 2, 10))
    assert s.start == dt.datetime(2026, 11, 2, 9, tzinfo=UTC) and s.start.tzinfo is UTC
    assert s.label(LON) == "Mon 2 Nov, 09:00–10:00"
    assert s.label("America/New_York") == "Mon 2 Nov, 04:00–05:00"
    summer = Slot(L(2027, 6, 7, 9), L(2027, 6, 7, 10))
    assert summer.start.hour == 8 and summer.label(LON) == "Mon 7 Jun, 09:00–10:00"
    start, end = summer.local(LON)
    assert (start.hour, end.hour) == (9, 10) and start.utcoffset() == dt.timedelta(hours=1)
    with pytest.raises(AttributeError):
        s.start = s.end  # type: ignore[misc]
    with pytest.raises(ValueError):
        Slot(dt.datetime(2026, 11, 2, 9), dt.datetime(2026, 11, 2, 10))
