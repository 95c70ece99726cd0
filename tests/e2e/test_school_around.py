"""The e2e bot's school calendar is the demo school's moved around today, so the date-dependent journeys run on
any day of any year (not an e2e test itself: it runs in the ordinary suite)."""

import datetime as dt

import pytest

from bot.domain.calendar import TermCalendar
from bot.domain.reminder_rules import point_day
from bot.school import load_school
from tests.e2e.processes import ANCHOR_MONDAY, DEMO_SCHOOL, school_around

DAYS = [
    dt.date(2026, 11, 23),
    dt.date(2026, 12, 2),
    dt.date(2027, 2, 14),
    dt.date(2027, 7, 30),
    dt.date(2028, 1, 1),
    dt.date(2029, 8, 15),
    dt.date(2031, 4, 9),
    dt.date(2035, 12, 25),
]


@pytest.mark.parametrize("today", DAYS, ids=str)
def test_today_falls_where_every_date_dependent_journey_can_run(today, tmp_path):
    school = load_school(school_around(today, dest_dir=tmp_path))
    cal = TermCalendar.from_school(school)
    ht = cal.half_term_for(today)
    assert ht is not None and ht.name == "Autumn 2"
    # a reminder point still ahead, with a school day after it (tests/e2e/test_reminder.py)
    ahead = [point_day(p, ht, cal) for p in school.settings.reminders.school_days_before_deadline]
    assert any(d is not None and d >= today and any(x > d for x in cal.school_days_in(ht)) for d in ahead)
    # school days to book in the next fortnight (tests/e2e/test_request_journey.py)
    assert cal.school_days_between(today, today + dt.timedelta(days=14)) >= 3
    # whole weeks: every half term still starts on the weekday it starts on in the demo school
    demo = load_school(DEMO_SCHOOL)
    assert [h.start.weekday() for h in school.terms.half_terms] == [h.start.weekday() for h in demo.terms.half_terms]


def test_everything_dated_moves_by_whole_weeks_and_nothing_else_changes(tmp_path):
    import yaml

    today = dt.date(2030, 3, 6)
    moved = yaml.safe_load(school_around(today, dest_dir=tmp_path).read_text(encoding="utf-8"))
    demo = yaml.safe_load(DEMO_SCHOOL.read_text(encoding="utf-8"))
    days = ((today - dt.timedelta(days=today.weekday())) - ANCHOR_MONDAY).days
    assert days % 7 == 0
    for a, b in zip(demo["terms"]["half_terms"], moved["terms"]["half_terms"]):
        assert dt.date.fromisoformat(str(b["start"])) - dt.date.fromisoformat(str(a["start"])) == dt.timedelta(days)
    assert [s["id"] for s in demo["staff"]] == [s["id"] for s in moved["staff"]]
    assert demo["school"] == moved["school"] and demo["groups"] == moved["groups"]
