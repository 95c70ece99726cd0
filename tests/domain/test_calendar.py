"""TermCalendar: school days, half terms, mop-up week, enrichment weeks and validation, on the demo year 2026-27."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.domain.calendar import (
    CalendarError,
    Closure,
    EnrichmentWeek,
    HalfTerm,
    OutsideCalendarError,
    TermCalendar,
    england_bank_holidays,
    validate_terms,
)

D = dt.date
pytestmark = pytest.mark.usefixtures("process_tz")  # dates must not depend on the process's time zone


def small(**kw) -> TermCalendar:
    """A two-half-term calendar with no bank holidays unless given, for arithmetic tests."""
    kw.setdefault("bank_holidays", {})
    return TermCalendar([("A", D(2027, 1, 4), D(2027, 1, 15)), ("B", D(2027, 1, 25), D(2027, 1, 29))], **kw)


# ---- bank holidays come from the holidays package ------------------------------------------------------------------
def test_bank_holidays_come_from_the_holidays_library(cal):
    for day in (D(2027, 3, 26), D(2027, 3, 29), D(2027, 5, 3), D(2027, 5, 31), D(2026, 12, 25), D(2026, 12, 28)):
        assert day in cal.bank_holidays, day
    assert "Good Friday" in cal.bank_holidays[D(2027, 3, 26)]
    assert cal.bank_holidays == england_bank_holidays([2026, 2027])


def test_demo_year_has_six_half_terms_and_192_school_days(cal):
    assert [h.name for h in cal.half_terms] == ["Autumn 1", "Autumn 2", "Spring 1", "Spring 2", "Summer 1", "Summer 2"]
    assert [h.index for h in cal.half_terms] == list(range(6))
    assert cal.first_day == D(2026, 9, 2)  # 1 Sep is an INSET day
    assert cal.last_day == D(2027, 7, 21)
    assert cal.school_days_between(D(2026, 1, 1), D(2028, 1, 1)) == 192


# ---- is_school_day ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "day, expected, why",
    [
        (D(2026, 9, 1), False, "INSET day"),
        (D(2026, 9, 2), True, None),
        (D(2026, 9, 5), False, "Saturday"),
        (D(2026, 10, 26), False, "School holiday"),  # October half term week (and the week after the clocks change)
        (D(2026, 12, 21), False, "School holiday"),  # Christmas holiday gap
        (D(2026, 12, 25), False, "Bank holiday: Christmas Day"),
        (D(2027, 1, 4), False, "INSET day"),
        (D(2027, 1, 5), True, None),
        (D(2027, 3, 25), True, None),
        (D(2027, 3, 26), False, "Bank holiday: Good Friday"),  # inside Spring 2's published dates
        (D(2027, 3, 29), False, "Bank holiday: Easter Monday"),
        (D(2027, 5, 3), False, "Bank holiday: May Day"),  # inside Summer 1
        (D(2027, 5, 4), True, None),
        (D(2027, 5, 31), False, "Bank holiday: Spring Bank Holiday"),
        (D(2027, 7, 22), False, "Outside the school year"),
        (D(2026, 8, 31), False, "Bank holiday: Late Summer Bank Holiday"),
    ],
)
def test_is_school_day_and_why_closed(cal, day, expected, why):
    assert cal.is_school_day(day) is expected
    assert cal.why_closed(day) == why


# ---- half terms -----------------------------------------------------------------------------------------------------
def test_half_term_for(cal):
    assert cal.half_term_for(D(2026, 9, 1)).name == "Autumn 1"  # first day, even though closed
    assert cal.half_term_for(D(2026, 10, 24)) is None  # Saturday after Autumn 1 ends
    assert cal.half_term_for(D(2026, 10, 18)).name == "Autumn 1"  # a Sunday inside the half term
    assert cal.half_term_for(D(2027, 3, 26)).name == "Spring 2"  # Good Friday is its published last day
    assert cal.half_term_for(D(2026, 12, 25)) is None
    assert cal.half_term_for(D(2026, 8, 31)) is None
    assert cal.half_term_for(D(2027, 7, 21)).name == "Summer 2"
    assert cal.half_term_for(D(2027, 7, 22)) is None


def test_current_or_next_half_term(cal):
    assert cal.current_or_next_half_term(D(2026, 8, 1)).name == "Autumn 1"
    assert cal.current_or_next_half_term(D(2026, 10, 23)).name == "Autumn 1"
    assert cal.current_or_next_half_term(D(2026, 10, 24)).name == "Autumn 2"
    assert cal.current_or_next_half_term(D(2026, 12, 25)).name == "Spring 1"  # Christmas gap
    assert cal.current_or_next_half_term(D(2027, 3, 29)).name == "Summer 1"  # Easter holiday
    assert cal.current_or_next_half_term(D(2027, 7, 22)) is None


def test_half_term_membership_and_dataclass_is_frozen(cal):
    ht = cal.half_terms[0]
    assert D(2026, 9, 15) in ht and D(2026, 10, 24) not in ht
    with pytest.raises(AttributeError):
        ht.name = "x"  # type: ignore[misc]


# ---- deadline, mop-up week, school days left -----------------------------------------------------------------------
def test_deadline_moves_back_when_the_last_day_is_a_bank_holiday(cal):
    spring2 = cal.half_terms[3]
    assert spring2.end == D(2027, 3, 26)
    assert cal.deadline(spring2) == D(2027, 3, 25)


@pytest.mark.parametrize(
    "index, first, last",
    [
        (0, D(2026, 10, 19), D(2026, 10, 23)),
        (1, D(2026, 12, 14), D(2026, 12, 18)),
        (3, D(2027, 3, 19), D(2027, 3, 25)),  # Good Friday: the mop-up week reaches back to the Friday before
        (4, D(2027, 5, 24), D(2027, 5, 28)),
        (5, D(2027, 7, 15), D(2027, 7, 21)),  # ends on a Wednesday
    ],
)
def test_last_week_is_the_last_five_school_days(cal, index, first, last):
    ht = cal.half_terms[index]
    assert cal.last_week(ht) == (first, last)
    days = [d for d in cal.school_days_in(ht) if first <= d <= last]
    assert len(days) == 5
    assert cal.in_last_week(ht, first) and cal.in_last_week(ht, last)
    assert not cal.in_last_week(ht, cal.add_school_days(first, -1))


def test_last_week_of_a_short_half_term_is_all_of_it():
    c = small()
    b = c.half_terms[1]
    assert c.last_week(b) == (D(2027, 1, 25), D(2027, 1, 29))
    c2 = TermCalendar([("Tiny", D(2027, 1, 6), D(2027, 1, 8))], bank_holidays={})
    assert c2.last_week(c2.half_terms[0]) == (D(2027, 1, 6), D(2027, 1, 8))


def test_school_days_left(cal):
    summer1 = cal.half_terms[4]
    assert len(cal.school_days_in(summer1)) == 34  # 7 weeks less the May Day bank holiday
    assert cal.school_days_left(summer1, D(2027, 4, 1)) == 34  # before it starts: the whole half term
    assert cal.school_days_left(summer1, D(2027, 5, 28)) == 1  # last day: today
    assert cal.school_days_left(summer1, D(2027, 5, 29)) == 0
    assert cal.school_days_left(summer1, D(2027, 5, 24)) == 5
    assert cal.school_days_left(summer1, D(2027, 5, 22)) == 5  # Saturday: Monday..Friday
    # On a bank holiday the count starts from the next school day: May Day and the day after agree.
    assert cal.school_days_left(summer1, D(2027, 5, 3)) == cal.school_days_left(summer1, D(2027, 5, 4)) == 19


# ---- counting and offsets -----------------------------------------------------------------------------------------
def test_school_days_between_is_half_open_and_antisymmetric(cal):
    a, b = D(2027, 3, 22), D(2027, 4, 13)  # across Good Friday, Easter Monday and the Easter holiday
    # 22,23,24,25 Mar then 12 Apr
    assert cal.school_days_between(a, b) == 5
    assert cal.school_days_between(b, a) == -5
    assert cal.school_days_between(a, a) == 0
    assert cal.school_days_between(D(2026, 12, 18), D(2027, 1, 6)) == 2  # 18 Dec and 5 Jan (4 Jan INSET)


@pytest.mark.parametrize(
    "start, n, expected",
    [
        (D(2026, 12, 17), 1, D(2026, 12, 18)),
        (D(2026, 12, 17), 2, D(2027, 1, 5)),  # Christmas gap and the January INSET day skipped
        (D(2027, 3, 24), 2, D(2027, 4, 12)),  # Good Friday, Easter Monday, Easter holiday skipped
        (D(2027, 4, 30), 1, D(2027, 5, 4)),  # May Day skipped
        (D(2027, 5, 27), 2, D(2027, 6, 7)),  # Whitsun half term with the 31 May bank holiday
        (D(2026, 10, 24), 0, D(2026, 11, 3)),  # n=0 rolls a non-school day forward (2 Nov is INSET)
        (D(2026, 11, 3), 0, D(2026, 11, 3)),
        (D(2027, 1, 5), -1, D(2026, 12, 18)),
        (D(2027, 1, 4), -1, D(2026, 12, 18)),  # from a closed day, -1 is the last school day before it
        (D(2027, 5, 4), -1, D(2027, 4, 30)),
    ],
)
def test_add_school_days(cal, start, n, expected):
    assert cal.add_school_days(start, n) == expected


def test_add_and_between_are_inverse(cal):
    for start in (D(2026, 12, 17), D(2027, 3, 25), D(2027, 5, 28), D(2027, 4, 12)):
        for n in (1, 5, 10, 30):
            assert cal.school_days_between(start, cal.add_school_days(start, n)) == n
            assert cal.school_days_between(start, cal.add_school_days(start, -n)) == -n


def test_add_school_days_outside_the_year_raises(cal):
    with pytest.raises(OutsideCalendarError, match="outside the school year"):
        cal.add_school_days(D(2027, 7, 20), 5)
    with pytest.raises(OutsideCalendarError):
        cal.add_school_days(D(2026, 9, 3), -5)


def test_school_days_from_yields_in_order_to_the_end(cal):
    it = list(cal.school_days_from(D(2027, 7, 17)))
    assert it == [D(2027, 7, 19), D(2027, 7, 20), D(2027, 7, 21)]


def test_enrichment_week_for(cal):
    assert cal.enrichment_week_for(D(2027, 2, 8)).supervisor == "marcus.fenwick"
    assert cal.enrichment_week_for(D(2027, 2, 12)).end == D(2027, 2, 12)
    assert cal.enrichment_week_for(D(2027, 2, 13)) is None
    assert cal.enrichment_week_for(D(2027, 7, 14)).supervisor == "priya.raman"
    assert cal.enrichment_week_for(D(2026, 9, 14)) is None


def test_local_date_uses_the_school_zone_not_the_process_zone(cal):
    # 23:30 UTC on 25 Oct 2026 (after the clocks went back) is 23:30 in London: still the 25th.
    assert cal.local_date(dt.datetime(2026, 10, 25, 23, 30, tzinfo=dt.timezone.utc)) == D(2026, 10, 25)
    # 23:30 UTC in BST is 00:30 the next day in London.
    assert cal.local_date(dt.datetime(2026, 9, 1, 23, 30, tzinfo=dt.timezone.utc)) == D(2026, 9, 2)
    assert cal.local_date(dt.datetime(2026, 9, 2, 8, 0, tzinfo=ZoneInfo("Asia/Tokyo"))) == D(2026, 9, 2)
    assert cal.local_date(dt.datetime(2026, 9, 2, 7, 59, tzinfo=ZoneInfo("Asia/Tokyo"))) == D(2026, 9, 1)
    with pytest.raises(ValueError, match="naive"):
        cal.local_date(dt.datetime(2026, 9, 2, 9, 0))


# ---- validation -------------------------------------------------------------------------------------------------
def test_demo_config_validates_cleanly(school):
    hts = [HalfTerm(i, h.name, h.start, h.end) for i, h in enumerate(school.terms.half_terms)]
    assert validate_terms(hts, [Closure(c.date, c.reason) for c in school.terms.closures]) == []


def test_overlapping_half_terms_are_named():
    with pytest.raises(CalendarError) as err:
        TermCalendar(
            [("Autumn 1", D(2026, 9, 1), D(2026, 10, 23)), ("Autumn 2", D(2026, 10, 19), D(2026, 12, 18))],
            bank_holidays={},
        )
    assert "'Autumn 1' (2026-09-01..2026-10-23) and 'Autumn 2' (2026-10-19..2026-12-18) overlap" in str(err.value)


def test_unordered_half_terms_are_named():
    problems = validate_terms(
        [
            HalfTerm(0, "Spring 1", D(2027, 1, 4), D(2027, 2, 12)),
            HalfTerm(1, "Autumn 1", D(2026, 9, 1), D(2026, 10, 23)),
        ],
        bank_holidays={},
    )
    assert problems == [
        "half terms 'Spring 1' (2027-01-04..2027-02-12) and 'Autumn 1' (2026-09-01..2026-10-23) are out of order"
    ]


def test_end_before_start_and_bad_index_and_duplicate_name():
    problems = validate_terms(
        [HalfTerm(0, "A", D(2027, 1, 8), D(2027, 1, 4)), HalfTerm(5, "a", D(2027, 2, 1), D(2027, 2, 5))],
        bank_holidays={},
    )
    assert "half term 'A' ends 2027-01-04 before it starts 2027-01-08" in problems
    assert "half term 'a' has index 5, expected 1 (its position in the year)" in problems
    assert "half term name 'a' is used twice" in problems


def test_half_term_with_no_school_days_is_named():
    # A weekend, and a week whose weekdays are all closures or bank holidays.
    with pytest.raises(CalendarError) as err:
        TermCalendar(
            [("Weekend", D(2027, 1, 9), D(2027, 1, 10)), ("Closed", D(2027, 1, 11), D(2027, 1, 15))],
            {D(2027, 1, 11): "INSET", D(2027, 1, 12): "INSET", D(2027, 1, 13): "INSET", D(2027, 1, 14): "INSET"},
            bank_holidays={D(2027, 1, 15): "Made-up holiday"},
        )
    msg = str(err.value)
    assert "half term 'Weekend' (2027-01-09..2027-01-10) contains no school days" in msg
    assert "half term 'Closed' (2027-01-11..2027-01-15) contains no school days" in msg
    assert len(err.value.problems) == 2


def test_bad_closures_are_named():
    problems = validate_terms(
        [HalfTerm(0, "Summer 1", D(2027, 4, 12), D(2027, 5, 28))],
        [
            Closure(D(2027, 5, 1), "INSET"),
            Closure(D(2027, 5, 3), "INSET"),
            Closure(D(2027, 6, 1), "INSET"),
            Closure(D(2027, 4, 13), "INSET"),
            Closure(D(2027, 4, 13), "INSET again"),
        ],
    )
    assert "closure 2027-05-01 (INSET) falls on a Saturday" in problems
    assert "closure 2027-05-03 (INSET) falls on a bank holiday (May Day)" in problems
    assert "closure 2027-06-01 (INSET) is not inside any half term" in problems
    assert "closure 2027-04-13 is listed twice" in problems
    assert len(problems) == 4


def test_bad_enrichment_weeks_are_named():
    hts = [HalfTerm(0, "A", D(2027, 1, 4), D(2027, 2, 12)), HalfTerm(1, "B", D(2027, 2, 22), D(2027, 3, 26))]
    problems = validate_terms(
        hts,
        enrichment_weeks=[
            EnrichmentWeek(D(2027, 2, 8), D(2027, 2, 5), "x"),
            EnrichmentWeek(D(2027, 2, 8), D(2027, 2, 23), "x"),
            EnrichmentWeek(D(2027, 1, 11), D(2027, 1, 15), "x"),
            EnrichmentWeek(D(2027, 1, 14), D(2027, 1, 20), "y"),
        ],
        bank_holidays={},
    )
    assert "enrichment week 2027-02-08..2027-02-05 ends before it starts" in problems
    assert "enrichment week 2027-02-08..2027-02-23 is not inside a single half term" in problems
    assert "enrichment weeks 2027-01-11..2027-01-15 and 2027-01-14..2027-01-20 overlap" in problems


def test_no_half_terms():
    assert validate_terms([]) == ["no half terms are configured"]
    with pytest.raises(CalendarError):
        TermCalendar([])


def test_plain_constructor_with_mapping_closures_and_explicit_bank_holidays():
    c = small(closures={D(2027, 1, 5): "INSET"})
    assert not c.is_school_day(D(2027, 1, 5))
    assert c.why_closed(D(2027, 1, 5)) == "INSET"
    assert c.school_days_between(D(2027, 1, 4), D(2027, 1, 16)) == 9
    assert c.school_days_between(D(2027, 1, 16), D(2027, 1, 25)) == 0  # holiday between half terms
    assert c.tz == ZoneInfo("Europe/London")
    # Bank holidays supplied by the caller are used as given (the holidays package is the default, not forced).
    c2 = small(bank_holidays={D(2027, 1, 6): "Test day"})
    assert not c2.is_school_day(D(2027, 1, 6))
    assert c2.why_closed(D(2027, 1, 6)) == "Bank holiday: Test day"
