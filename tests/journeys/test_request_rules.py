"""Pure rules of the request journey (bot/domain/request_rules.py): form validation, routing, horizons, usual times
(including the weeks the clocks change), capacity, typed times and the pool form. Runs under several process
time zones: nothing may depend on the server's zone."""

from __future__ import annotations

import datetime as dt
import os
import time
from zoneinfo import ZoneInfo

import pytest

from bot.domain.allocation import Supervisor
from bot.domain.calendar import TermCalendar
from bot.domain.request_rules import (
    CONTINUE,
    NO_PREFERENCE,
    Route,
    allocation_problem,
    horizon_for,
    parse_group_setup,
    parse_manual_time,
    parse_pool_add,
    parse_request_form,
    prefer_usual_times,
    route_request,
    split_multi,
    time_band,
)
from bot.domain.slots import Slot
from bot.school import load_school
from tests.conftest import DEMO_SCHOOL

LONDON = ZoneInfo("Europe/London")
GOOD = {
    "kind": "one_to_one",
    "preferred": "priya.raman",
    "topics": "wellbeing",
    "urgency": "routine",
    "times": "morning",
    "days": "",
    "note": "  a short note  ",
    "colleagues": "",
}
POOL = {"priya.raman", "amara.okafor", "marcus.fenwick"}
ROSTER = POOL | {"tom.hollis", "isla.brennan", "grace.mensah"}


@pytest.fixture(params=["Europe/London", "UTC", "America/Los_Angeles", "Asia/Kolkata", "Australia/Sydney"])
def process_tz(request):
    old = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    yield request.param
    if old is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = old
    time.tzset()


def parse(data, **kw):
    args = dict(
        requester_id="tom.hollis", pool_ids=POOL, current_supervisor_id=None, allow_continue=True, roster_ids=ROSTER
    )
    args.update(kw)
    return parse_request_form(data, **args)


# ---- the form ------------------------------------------------------------------------------------------------------
def test_valid_form_is_normalised():
    r = parse(GOOD)
    assert r.ok and r.form.note == "a short note" and r.form.preferred_id == "priya.raman"
    assert r.form.topics == ("wellbeing",) and r.form.days == () and r.form.colleagues == ()


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("kind", "", "Choose the kind"),
        ("kind", "therapy", "Choose the kind"),
        ("topics", "", "at least one"),
        ("topics", "wellbeing,gossip", "from the list"),
        ("urgency", "yesterday", "how soon"),
        ("times", "", "when you can usually meet"),
        ("times", "midnight", "from the list"),
        ("days", "sat", "weekdays"),
        ("preferred", "tom.hollis", "your own supervisor"),
        ("preferred", "grace.mensah", "isn't in the trained supervisor pool"),
        ("preferred", CONTINUE, "don't have a current supervisor"),
        ("note", "x" * 301, "300 characters"),
        ("note", "bad\x00byte", "can't store"),
    ],
)
def test_each_bad_answer_names_its_field(field, value, message):
    r = parse(dict(GOOD, **{field: value}))
    assert not r.ok and message in r.errors[field]
    assert r.values[field] == value  # kept for the re-rendered card


def test_many_errors_at_once_and_nothing_lost():
    r = parse({"kind": "x", "topics": "", "note": "y" * 400})
    assert set(r.errors) >= {"kind", "topics", "urgency", "times", "note"} and r.values["note"] == "y" * 400


def test_multi_select_as_list_or_string_and_all_days_means_any():
    assert split_multi("a, b,,a") == ["a", "b"] and split_multi(["a", " c "]) == ["a", "c"]
    assert split_multi(None) == []
    r = parse(dict(GOOD, days="mon,tue,wed,thu,fri", times="morning,any"))
    assert r.form.days == () and r.form.times == ("any",)


def test_note_at_the_limit_is_fine():
    assert parse(dict(GOOD, note="z" * 300)).ok


def test_continue_uses_current_supervisor_or_becomes_a_preference():
    r = parse(dict(GOOD, preferred=CONTINUE), current_supervisor_id="amara.okafor")
    assert r.form.continue_current and r.form.preferred_id is None
    r = parse(dict(GOOD, preferred=CONTINUE), current_supervisor_id="amara.okafor", allow_continue=False)
    assert r.form.continue_current and r.form.preferred_id == "amara.okafor"
    assert parse(dict(GOOD, preferred=NO_PREFERENCE)).form.preferred_id is None
    assert parse(dict(GOOD, preferred="")).form.preferred_id is None


def test_colleagues_only_for_group_requests():
    r = parse(dict(GOOD, kind="group", colleagues="isla.brennan,grace.mensah"))
    assert r.form.colleagues == ("isla.brennan", "grace.mensah")
    assert parse(dict(GOOD, kind="one_to_one", colleagues="isla.brennan")).form.colleagues == ()
    assert "colleagues" in parse(dict(GOOD, kind="group", colleagues="tom.hollis")).errors
    assert "colleagues" in parse(dict(GOOD, kind="group", colleagues="stranger")).errors


# ---- routing -------------------------------------------------------------------------------------------------------
def test_routes():
    f = parse(dict(GOOD, preferred=CONTINUE), current_supervisor_id="amara.okafor").form
    assert route_request(
        f,
        requester_id="tom.hollis",
        current_supervisor_id="amara.okafor",
        allow_continue=True,
        enrichment_supervisor_id="marcus.fenwick",
    ) == (Route.CONTINUE, "amara.okafor")
    assert route_request(
        f,
        requester_id="tom.hollis",
        current_supervisor_id="amara.okafor",
        allow_continue=False,
        enrichment_supervisor_id=None,
    ) == (Route.ALLOCATION, None)
    g = parse(GOOD).form
    assert route_request(
        g,
        requester_id="tom.hollis",
        current_supervisor_id=None,
        allow_continue=True,
        enrichment_supervisor_id="marcus.fenwick",
    ) == (Route.ENRICHMENT, "marcus.fenwick")
    assert route_request(
        g,
        requester_id="marcus.fenwick",
        current_supervisor_id=None,
        allow_continue=True,
        enrichment_supervisor_id="marcus.fenwick",
    ) == (Route.ALLOCATION, None)
    assert route_request(
        g, requester_id="tom.hollis", current_supervisor_id=None, allow_continue=True, enrichment_supervisor_id=None
    ) == (Route.ALLOCATION, None)


@pytest.mark.parametrize(
    "urgency,default,expected",
    [("urgent", 10, 2), ("week", 10, 5), ("routine", 10, 10), ("urgent", 1, 1), ("week", 3, 3)],
)
def test_horizon(urgency, default, expected):
    assert horizon_for(urgency, default) == expected


# ---- capacity ------------------------------------------------------------------------------------------------------
def test_allocation_problem():
    priya = Supervisor("priya.raman", 2, name="Priya Raman")
    assert allocation_problem(priya, {"priya.raman": 1}, requester_id="tom.hollis", already_supervises=False) is None
    assert "at capacity (2 of 2)" in allocation_problem(
        priya, {"priya.raman": 2}, requester_id="tom.hollis", already_supervises=False
    )
    # continuing with the same supervisor adds nobody to their caseload
    assert allocation_problem(priya, {"priya.raman": 2}, requester_id="tom.hollis", already_supervises=True) is None
    assert "themselves" in allocation_problem(priya, {}, requester_id="priya.raman", already_supervises=False)
    assert "left" in allocation_problem(
        Supervisor("x", 3, retired=True), {}, requester_id="t", already_supervises=False
    )
    assert "away" in allocation_problem(
        Supervisor("x", 3, available=False), {}, requester_id="t", already_supervises=False
    )
    assert "pool" in allocation_problem(None, {}, requester_id="t", already_supervises=False)


# ---- usual times ---------------------------------------------------------------------------------------------------
def _slot(day: dt.date, h: int, m: int = 0, tz=LONDON) -> Slot:
    start = dt.datetime.combine(day, dt.time(h, m), tzinfo=tz)
    return Slot(start, start + dt.timedelta(hours=1))


@pytest.mark.parametrize(
    "h,m,band",
    [
        (8, 30, "morning"),
        (11, 59, "morning"),
        (12, 0, "midday"),
        (13, 29, "midday"),
        (13, 30, "afternoon"),
        (15, 30, "afternoon"),
    ],
)
def test_time_band_by_the_school_wall_clock(h, m, band, process_tz):
    assert time_band(dt.datetime(2026, 11, 23, h, m, tzinfo=LONDON)) == band


def test_usual_times_first_then_the_rest_spread_over_days(process_tz):
    mon, tue, wed = dt.date(2026, 11, 23), dt.date(2026, 11, 24), dt.date(2026, 11, 25)
    slots = [
        _slot(mon, 9),
        _slot(mon, 10),
        _slot(mon, 14),
        _slot(tue, 9),
        _slot(tue, 14),
        _slot(tue, 15),
        _slot(wed, 9),
    ]
    got = prefer_usual_times(slots, times=["afternoon"], days=[], tz=LONDON, count=4)
    assert got == sorted([_slot(mon, 14), _slot(tue, 14), _slot(tue, 15), _slot(mon, 9)])
    only_wed = prefer_usual_times(slots, times=["any"], days=["wed"], tz=LONDON, count=3)
    assert _slot(wed, 9) in only_wed and len(only_wed) == 3
    assert prefer_usual_times([], times=["any"], days=[], tz=LONDON, count=4) == []


@pytest.mark.parametrize("day", [dt.date(2027, 3, 29), dt.date(2026, 10, 26)])  # after each clock change
def test_usual_times_read_the_wall_clock_in_clock_change_weeks(day, process_tz):
    # 14:00 London is 13:00 UTC in summer time and 14:00 UTC in winter: both are "afternoon".
    s = _slot(day, 14)
    morning = _slot(day, 9)
    assert prefer_usual_times([morning, s], times=["afternoon"], days=[], tz=LONDON, count=1) == [s]
    as_utc = Slot(s.start.astimezone(dt.timezone.utc), s.end.astimezone(dt.timezone.utc))
    assert time_band(as_utc.start.astimezone(LONDON)) == "afternoon"


# ---- a time typed in -----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cal():
    return TermCalendar.from_school(load_school(DEMO_SCHOOL))


def manual(cal, date, tm, minutes=60, now=dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone.utc)):
    return parse_manual_time(
        date, tm, calendar=cal, day_start=dt.time(8, 30), day_end=dt.time(16, 30), minutes=minutes, now=now
    )


def test_manual_time_ok_and_in_london_time(cal, process_tz):
    slot, errors = manual(cal, "2026-11-24", "15:30")
    assert not errors and slot.start == dt.datetime(2026, 11, 24, 15, 30, tzinfo=dt.timezone.utc)
    # summer time: 09:00 London is 08:00 UTC
    slot, _ = manual(cal, "2027-04-12", "09:00")
    assert slot.start == dt.datetime(2027, 4, 12, 8, 0, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize(
    "date,tm,field,text",
    [
        ("", "10:00", "date", "Choose a date"),
        ("2026-11-24", "", "time", "Choose a start time"),
        ("2026-13-40", "10:00", "date", "real date"),
        ("2026-11-28", "10:00", "date", "Saturday"),
        ("2026-12-25", "10:00", "date", "isn't a school day"),
        ("2027-05-03", "10:00", "date", "Bank holiday"),
        ("2026-11-24", "08:00", "time", "school day"),
        ("2026-11-24", "16:00", "time", "school day"),
        ("2026-11-23", "09:00", "time", "already passed"),
    ],
)
def test_manual_time_errors(cal, date, tm, field, text):
    slot, errors = manual(cal, date, tm)
    assert slot is None and text in errors[field]


# ---- group set-up and pool form ------------------------------------------------------------------------------------
def test_group_setup():
    values, errors, setup = parse_group_setup(
        {
            "kind": "emergency",
            "staff": "tom.hollis,priya.raman",
            "supervisors": "priya.raman",
            "external": "true",
            "minutes": "45",
            "soon": "week",
        },
        roster_ids=ROSTER,
        supervisor_choices=POOL,
    )
    assert not errors and setup.staff_ids == ("tom.hollis",) and setup.external_support and setup.minutes == 45
    _, errors, setup = parse_group_setup(
        {"kind": "emergency", "staff": "priya.raman", "supervisors": "priya.raman"},
        roster_ids=ROSTER,
        supervisor_choices=POOL,
    )
    assert setup is None and "besides the supervisors" in errors["staff"]
    _, errors, _ = parse_group_setup(
        {"kind": "x", "supervisors": "a,b,c,d"}, roster_ids=ROSTER, supervisor_choices={"a", "b", "c", "d"}
    )
    assert {"kind", "staff", "supervisors"} <= set(errors)


def test_pool_add():
    today = dt.date(2026, 11, 23)
    _, errors, parsed = parse_pool_add(
        {"staff": "grace.mensah", "trained_on": "2026-11-23", "capacity": ""}, roster_ids=ROSTER, today=today
    )
    assert parsed == ("grace.mensah", today, None)
    assert (
        parse_pool_add(
            {"staff": "grace.mensah", "trained_on": "2026-11-23", "capacity": 3.0}, roster_ids=ROSTER, today=today
        )[2][2]
        == 3
    )
    for bad, field in [
        ({"staff": "nobody", "trained_on": "2026-01-01"}, "staff"),
        ({"staff": "grace.mensah", "trained_on": "soon"}, "trained_on"),
        ({"staff": "grace.mensah", "trained_on": "2026-02-30"}, "trained_on"),
        ({"staff": "grace.mensah", "trained_on": "2026-11-24"}, "trained_on"),
        ({"staff": "grace.mensah", "trained_on": "2026-01-01", "capacity": "2.5"}, "capacity"),
        ({"staff": "grace.mensah", "trained_on": "2026-01-01", "capacity": "51"}, "capacity"),
        ({"staff": "grace.mensah", "trained_on": "2026-01-01", "capacity": "inf"}, "capacity"),
        ({"staff": "grace.mensah", "trained_on": "2026-01-01", "capacity": "1e999"}, "capacity"),
        ({"staff": "grace.mensah", "trained_on": "2026-01-01", "capacity": "nan"}, "capacity"),
    ]:
        assert field in parse_pool_add(bad, roster_ids=ROSTER, today=today)[1]
