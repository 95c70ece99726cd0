"""Half-term compliance engine: the rules in bot/domain/compliance.py's docstring, one test (or more) per rule."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.domain.compliance import (
    Attendance,
    DslFrequency,
    ExemptReason,
    IndividualSupervision,
    OpenItem,
    Phase,
    StaffRecord,
    Status,
    compliance_report,
    reminder_due,
)

D = dt.date
AUT1, AUT2, SPR1, SPR2, SUM1, SUM2 = range(6)


def staff(id, group="willow", **kw) -> StaffRecord:
    return StaffRecord(id=id, group=group, **kw)


def att(id, day) -> Attendance:
    return Attendance(id, day)


def report(cal, people, attendance=(), today=D(2026, 10, 1), **kw):
    return compliance_report(people, cal, attendance, today, **kw)


# ---- rule 1-3: attendance, deadline, status ------------------------------------------------------------------------
def test_attended_is_compliant_others_outstanding_with_school_days_left(cal):
    people = [staff("a"), staff("b"), staff("c", "office")]
    r = report(cal, people, [att("a", D(2026, 9, 15))], today=D(2026, 10, 12)).for_half_term(AUT1)
    assert r.phase is Phase.CURRENT
    assert r.compliant == ("a",)
    assert r.outstanding == ("b", "c")
    assert r.missed == ()
    assert r.deadline == D(2026, 10, 23)
    assert r.school_days_left == 10  # 12..16 and 19..23 Oct
    assert not r.in_mop_up_week
    assert r.status_of("a") is Status.COMPLIANT and r.status_of("b") is Status.OUTSTANDING
    assert r.status_of("nobody") is None


def test_any_session_in_the_half_term_counts_including_the_mop_up_week(cal):
    people = [staff("a"), staff("b")]
    facts = [att("a", D(2026, 10, 21)), att("b", D(2026, 10, 20)), att("b", D(2026, 9, 9))]
    r = report(cal, people, facts, today=D(2026, 10, 21)).for_half_term(AUT1)
    assert r.compliant == ("a", "b")
    assert r.in_mop_up_week
    assert r.mop_up_week == (D(2026, 10, 19), D(2026, 10, 23))


def test_attendance_counts_only_for_the_half_term_it_falls_in(cal):
    people = [staff("a")]
    rep = report(cal, people, [att("a", D(2026, 11, 3))], today=D(2026, 11, 4))
    assert rep.for_half_term(AUT1).missed == ("a",)
    assert rep.for_half_term(AUT2).compliant == ("a",)


def test_future_dated_attendance_is_a_booking_not_attendance(cal):
    r = report(cal, [staff("a")], [att("a", D(2026, 10, 20))], today=D(2026, 10, 12)).for_half_term(AUT1)
    assert r.outstanding == ("a",)


def test_missed_after_the_deadline(cal):
    rep = report(cal, [staff("a"), staff("b")], [att("b", D(2026, 10, 23))], today=D(2026, 10, 26))
    r = rep.for_half_term(AUT1)
    assert r.phase is Phase.CLOSED
    assert r.missed == ("a",) and r.outstanding == () and r.compliant == ("b",)
    assert r.school_days_left == 0
    assert r.status_of("a") is Status.MISSED
    assert r.totals.missed == 1 and r.totals.outstanding == 0


def test_deadline_is_the_last_school_day_good_friday(cal):
    rep = report(cal, [staff("a")], today=D(2027, 3, 25))
    r = rep.for_half_term(SPR2)
    assert r.deadline == D(2027, 3, 25) and r.school_days_left == 1 and r.phase is Phase.CURRENT
    # On Good Friday (still inside the published dates) the deadline has passed.
    r2 = report(cal, [staff("a")], today=D(2027, 3, 26)).for_half_term(SPR2)
    assert r2.phase is Phase.CLOSED and r2.missed == ("a",)


def test_upcoming_half_term(cal):
    r = report(cal, [staff("a")], today=D(2026, 10, 1)).for_half_term(SUM1)
    assert r.phase is Phase.UPCOMING
    assert r.outstanding == ("a",)
    assert r.school_days_left == 34  # Summer 1 less the May Day bank holiday


def test_attendance_outside_every_half_term_is_reported_not_counted(cal):
    rep = report(cal, [staff("a")], [att("a", D(2026, 12, 22)), att("a", D(2027, 8, 1))], today=D(2027, 1, 10))
    assert rep.unplaced_attendance == 2
    assert rep.for_half_term(AUT2).missed == ("a",)


# ---- rule 4: joiners ---------------------------------------------------------------------------------------------
def test_joiner_with_ten_or_more_school_days_left_is_due(cal):
    # Autumn 1: 9 Oct 2026 is a Friday; 9..23 Oct inclusive is 11 school days
    p = staff("new", started_on=D(2026, 10, 9))
    r = report(cal, [p], today=D(2026, 10, 9)).for_half_term(AUT1)
    assert r.outstanding == ("new",)


def test_joiner_exactly_at_the_threshold_is_due(cal):
    p = staff("new", started_on=D(2026, 10, 12))  # 12..23 Oct = 10 school days
    assert cal.school_days_left(cal.half_terms[AUT1], D(2026, 10, 12)) == 10
    assert report(cal, [p], today=D(2026, 10, 12)).for_half_term(AUT1).outstanding == ("new",)


def test_joiner_with_fewer_school_days_left_is_exempt_then_due_next_half_term(cal):
    p = staff("late", started_on=D(2026, 10, 13))  # 9 school days left
    rep = report(cal, [p, staff("old")], today=D(2026, 10, 14))
    r = rep.for_half_term(AUT1)
    assert r.outstanding == ("old",)
    (ex,) = r.exempt
    assert ex.staff_id == "late" and ex.reason is ExemptReason.JOINED_LATE and not ex.attended
    assert "joined 2026-10-13 with 9 school days" in ex.detail and "next half term" in ex.detail
    assert r.totals.due == 1 and r.totals.exempt == 1
    assert rep.for_half_term(AUT2).outstanding == ("late", "old")


def test_joiner_threshold_is_a_parameter(cal):
    p = staff("late", started_on=D(2026, 10, 13))
    r = report(cal, [p], today=D(2026, 10, 14), min_school_days_after_start=5).for_half_term(AUT1)
    assert r.outstanding == ("late",)


def test_joiner_starting_after_a_half_term_is_not_on_its_roster(cal):
    p = staff("later", started_on=D(2027, 1, 5))
    rep = report(cal, [p], today=D(2027, 1, 6))
    assert rep.for_half_term(AUT1).totals.due == 0 and rep.for_half_term(AUT1).exempt == ()
    assert rep.for_half_term(SPR1).outstanding == ("later",)


def test_joiner_who_starts_in_the_holiday_is_due_for_the_whole_next_half_term(cal):
    p = staff("h", started_on=D(2026, 10, 28))
    rep = report(cal, [p], today=D(2026, 11, 3))
    assert rep.for_half_term(AUT1).status_of("h") is None
    assert rep.for_half_term(AUT2).outstanding == ("h",)


def test_late_joiner_who_attended_anyway_stays_exempt_but_shows_it(cal):
    p = staff("keen", started_on=D(2026, 10, 19))
    r = report(cal, [p], [att("keen", D(2026, 10, 21))], today=D(2026, 10, 22)).for_half_term(AUT1)
    assert r.compliant == () and r.exempt[0].attended


# ---- rule 5: leavers ---------------------------------------------------------------------------------------------
def test_leaver_during_the_half_term_is_shown_exempt_and_not_counted(cal):
    people = [staff("gone", left_on=D(2026, 10, 9)), staff("stay")]
    rep = report(cal, people, today=D(2026, 10, 26))
    r = rep.for_half_term(AUT1)
    assert r.missed == ("stay",)
    assert [(e.staff_id, e.reason) for e in r.exempt] == [("gone", ExemptReason.LEFT)]
    assert r.exempt[0].detail == "left 2026-10-09"
    assert r.totals.due == 1
    # and from then on they are not on the roster at all
    assert rep.for_half_term(AUT2).status_of("gone") is None
    assert rep.for_half_term(AUT2).exempt == ()


def test_leaver_on_the_deadline_day_is_counted(cal):
    r = report(cal, [staff("last", left_on=D(2026, 10, 23))], today=D(2026, 10, 26)).for_half_term(AUT1)
    assert r.missed == ("last",)


def test_leaver_before_the_deadline_when_deadline_is_before_the_published_end(cal):
    # Spring 2's deadline is Thu 25 Mar 2027 (Good Friday 26 Mar): leaving on the 24th is "before it ends".
    r = report(cal, [staff("x", left_on=D(2027, 3, 24))], today=D(2027, 3, 29)).for_half_term(SPR2)
    assert r.exempt[0].reason is ExemptReason.LEFT


# ---- rule 6: long-term absence -----------------------------------------------------------------------------------
def test_absence_covering_the_deadline_exempts_and_says_why(cal):
    p = staff("away", absence_from=D(2026, 11, 2))
    rep = report(cal, [p, staff("here")], today=D(2026, 11, 20))
    r = rep.for_half_term(AUT2)
    assert r.outstanding == ("here",)
    (ex,) = r.exempt
    assert ex.reason is ExemptReason.ABSENT and ex.detail == "long term absence from 2026-11-02"
    # the half term before the absence began is unaffected
    assert rep.for_half_term(AUT1).missed == ("away", "here")


def test_absence_ending_before_the_deadline_does_not_exempt(cal):
    p = staff("back", absence_from=D(2026, 9, 1), absence_until=D(2026, 10, 9))
    r = report(cal, [p], today=D(2026, 10, 12)).for_half_term(AUT1)
    assert r.outstanding == ("back",)


def test_absence_ending_on_the_deadline_exempts(cal):
    p = staff("b", absence_from=D(2026, 9, 1), absence_until=D(2026, 10, 23), absence_reason="maternity")
    r = report(cal, [p], today=D(2026, 10, 12)).for_half_term(AUT1)
    assert r.exempt[0].detail == "maternity absence from 2026-09-01 until 2026-10-23"


def test_absence_does_not_exempt_when_the_school_says_so(cal):
    p = staff("away", absence_from=D(2026, 11, 2))
    r = report(cal, [p], today=D(2026, 11, 20), long_term_absence_exempts=False).for_half_term(AUT2)
    assert r.outstanding == ("away",) and r.exempt == ()


def test_precedence_left_before_joined_before_absent(cal):
    p = staff("all", started_on=D(2026, 10, 19), left_on=D(2026, 10, 20), absence_from=D(2026, 10, 20))
    r = report(cal, [p], today=D(2026, 10, 26)).for_half_term(AUT1)
    assert r.exempt[0].reason is ExemptReason.LEFT
    q = staff("q", started_on=D(2026, 10, 19), absence_from=D(2026, 10, 20))
    r = report(cal, [q], today=D(2026, 10, 26)).for_half_term(AUT1)
    assert r.exempt[0].reason is ExemptReason.JOINED_LATE


# ---- rule 8: group totals ----------------------------------------------------------------------------------------
def test_group_totals_and_percent(cal):
    people = [
        staff("w1"),
        staff("w2"),
        staff("w3"),
        staff("w4", absence_from=D(2026, 9, 1)),
        staff("o1", "office"),
        staff("n1", "nobody_due", left_on=D(2026, 9, 10)),
    ]
    facts = [att("w1", D(2026, 9, 10)), att("w2", D(2026, 9, 10)), att("w4", D(2026, 9, 10))]
    rep = report(cal, people, facts, today=D(2026, 10, 1))
    g = rep.for_half_term(AUT1).groups
    assert list(g) == ["nobody_due", "office", "willow"]
    assert (g["willow"].compliant, g["willow"].outstanding, g["willow"].exempt, g["willow"].due) == (2, 1, 1, 3)
    assert g["willow"].percent == 66.7
    assert g["office"].percent == 0.0
    assert g["nobody_due"].percent is None and g["nobody_due"].exempt == 1
    t = rep.for_half_term(AUT1).totals
    assert (t.compliant, t.outstanding, t.missed, t.exempt, t.percent) == (2, 2, 0, 2, 50.0)
    closed = report(cal, people, facts, today=D(2026, 11, 3)).for_half_term(AUT1).groups["willow"]
    assert (closed.outstanding, closed.missed) == (0, 1)


# ---- rule 9: DSL individual supervision --------------------------------------------------------------------------
DSL = frozenset({"dsl"})


def test_half_termly_dsl_supervision(cal):
    people = [staff("d1", roles=DSL), staff("d2", roles=DSL), staff("t", roles=frozenset({"supervisor"}))]
    sessions = [IndividualSupervision("d1", D(2026, 9, 20)), IndividualSupervision("d2", D(2026, 8, 1))]
    rep = report(cal, people, today=D(2026, 10, 12), dsl_sessions=sessions)
    dsl = {s.staff_id: s for s in rep.for_half_term(AUT1).dsl}
    assert set(dsl) == {"d1", "d2"}  # only the DSL team
    assert dsl["d1"].status is Status.COMPLIANT and dsl["d1"].last_session == D(2026, 9, 20)
    assert dsl["d2"].status is Status.OUTSTANDING and dsl["d2"].school_days_left == 10
    assert dsl["d2"].last_session == D(2026, 8, 1)
    later = {
        s.staff_id: s.status
        for s in report(cal, people, today=D(2026, 11, 3), dsl_sessions=sessions).for_half_term(AUT1).dsl
    }
    assert later == {"d1": Status.COMPLIANT, "d2": Status.MISSED}


def test_roles_from_the_config_enum_are_recognised(school):
    from bot.domain.compliance import StaffRecord as SR

    records = [SR.from_member(m) for m in school.staff.values()]
    dsl_ids = {r.id for r in records if r.is_dsl}
    assert dsl_ids == {m.id for m in school.staff.values() if any(getattr(r, "value", r) == "dsl" for r in m.roles)}
    assert len(dsl_ids) == 4
    away = next(r for r in records if r.absence_from is not None)
    assert away.absence_from == D(2026, 11, 2) and away.absence_until is None


def test_six_weekly_is_thirty_school_days_and_holidays_do_not_count(cal):
    people = [staff("d", roles=DSL)]
    # Last session Fri 9 Oct 2026; 30 school days later skips the October half term and the 2 Nov INSET day:
    # 10 in October, 4 in the week of 2 Nov, 15 more to 27 Nov, then Mon 30 Nov.
    due = cal.add_school_days(D(2026, 10, 9), 30)
    assert due == D(2026, 11, 30)
    sessions = [IndividualSupervision("d", D(2026, 9, 2)), IndividualSupervision("d", D(2026, 10, 9))]
    rep = report(cal, people, today=D(2026, 11, 20), dsl_sessions=sessions, dsl_frequency="six_weekly")
    (s,) = rep.for_half_term(AUT2).dsl
    assert rep.dsl_frequency is DslFrequency.SIX_WEEKLY
    assert s.status is Status.COMPLIANT and s.next_due == due and s.last_session == D(2026, 10, 9)
    assert s.school_days_left == 7  # 20, 23, 24, 25, 26, 27, 30 Nov
    on_the_day = report(cal, people, today=due, dsl_sessions=sessions, dsl_frequency="six_weekly")
    assert on_the_day.for_half_term(AUT2).dsl[0].status is Status.COMPLIANT
    assert on_the_day.for_half_term(AUT2).dsl[0].school_days_left == 1
    rep2 = report(cal, people, today=D(2026, 12, 1), dsl_sessions=sessions, dsl_frequency="six_weekly")
    (s2,) = rep2.for_half_term(AUT2).dsl
    assert s2.status is Status.OVERDUE and s2.school_days_left is None and s2.missed_due_dates == (due,)


def test_six_weekly_missed_due_date_stays_listed_after_a_late_session(cal):
    people = [staff("d", roles=DSL)]
    sessions = [IndividualSupervision("d", D(2026, 10, 9)), IndividualSupervision("d", D(2026, 12, 2))]
    rep = report(cal, people, today=D(2026, 12, 10), dsl_sessions=sessions, dsl_frequency="six_weekly")
    (s,) = rep.for_half_term(AUT2).dsl
    assert s.status is Status.COMPLIANT
    assert s.missed_due_dates == (D(2026, 11, 30),)
    assert s.next_due == cal.add_school_days(D(2026, 12, 2), 30)


def test_six_weekly_with_no_session_counts_from_the_first_school_day_or_start(cal):
    people = [staff("d", roles=DSL), staff("n", roles=DSL, started_on=D(2026, 11, 3))]
    rep = report(cal, people, today=D(2026, 11, 4), dsl_frequency="six_weekly")
    s = {x.staff_id: x for x in rep.for_half_term(AUT2).dsl}
    assert s["d"].next_due == cal.add_school_days(D(2026, 9, 2), 30) and s["d"].status is Status.OVERDUE
    assert s["n"].next_due == cal.add_school_days(D(2026, 11, 3), 30) and s["n"].status is Status.COMPLIANT


def test_six_weekly_past_half_term_is_judged_at_its_deadline(cal):
    people = [staff("d", roles=DSL)]
    sessions = [IndividualSupervision("d", D(2026, 9, 2))]
    rep = report(cal, people, today=D(2027, 1, 10), dsl_sessions=sessions, dsl_frequency="six_weekly")
    aut1 = rep.for_half_term(AUT1).dsl[0]
    assert aut1.status is Status.OVERDUE  # 30 school days after 2 Sep is 14 Oct, before the 23 Oct deadline
    assert aut1.missed_due_dates == (D(2026, 10, 14),)


def test_dsl_exemptions_follow_the_roster_rules(cal):
    people = [staff("d", roles=DSL, absence_from=D(2026, 9, 1))]
    (s,) = report(cal, people, today=D(2026, 10, 12)).for_half_term(AUT1).dsl
    assert s.status is Status.EXEMPT and s.exemption.reason is ExemptReason.ABSENT


# ---- rule 10: overdue items ---------------------------------------------------------------------------------------
def test_overdue_actions_and_agreements(cal):
    items = [
        OpenItem("a", "action", D(2026, 10, 1), "A-1"),
        OpenItem("a", "agreement", D(2026, 9, 1)),
        OpenItem("a", "action", D(2026, 10, 2), "A-2"),
        OpenItem("b", "action", D(2026, 10, 2)),
    ]
    rep = report(cal, [staff("a"), staff("b")], today=D(2026, 10, 2), open_items=items)
    assert list(rep.overdue_items) == ["a"]
    assert [(i.kind, i.due_on) for i in rep.overdue_items["a"]] == [
        ("agreement", D(2026, 9, 1)),
        ("action", D(2026, 10, 1)),
    ]


# ---- the demo school ---------------------------------------------------------------------------------------------
def test_demo_school_end_to_end(school, cal):
    records = [StaffRecord.from_member(m) for m in school.staff.values()]
    rep = compliance_report(
        records,
        cal,
        [Attendance("tom.hollis", D(2026, 11, 10))],
        D(2026, 11, 20),
        long_term_absence_exempts=school.settings.long_term_absence_exempts,
        dsl_frequency=school.settings.dsl_individual_supervision,
    )
    r = rep.for_half_term(AUT2)
    assert r.compliant == ("tom.hollis",)
    assert [e.staff_id for e in r.exempt] == ["owen.pryce"]  # long-term absence from 2 Nov
    assert r.totals.due == len(records) - 1
    assert len(rep.half_terms) == 6


def test_subset_of_half_terms(cal):
    rep = report(cal, [staff("a")], half_terms=[cal.half_terms[SPR1]])
    assert [h.half_term.name for h in rep.half_terms] == ["Spring 1"]
    assert rep.for_half_term(AUT1) is None


def test_large_roster_is_linear_and_correct(cal):
    # Correctness at scale (timing lives in a benchmark, not here): every 3rd attended in each half term.
    people = [staff(f"s{i:05d}", f"g{i % 40}") for i in range(10_000)]
    facts = [
        att(p.id, h.start + dt.timedelta(days=7)) for h in cal.half_terms for n, p in enumerate(people) if n % 3 == 0
    ]
    rep = compliance_report(people, cal, facts, D(2027, 7, 21))
    for h in rep.half_terms:
        assert h.totals.compliant == 3334 and h.totals.outstanding + h.totals.missed == 6666
        assert sum(g.due for g in h.groups.values()) == 10_000


# ---- reminders ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "today, expected",
    [
        (D(2026, 10, 12), 10),  # 10 school days left including today
        (D(2026, 10, 13), None),
        (D(2026, 10, 21), 3),
        (D(2026, 10, 23), None),  # 1 left; not a point
        (D(2026, 10, 10), None),  # Saturday
        (D(2026, 10, 26), None),  # holiday after the half term
    ],
)
def test_reminder_due(cal, today, expected):
    assert reminder_due([10, 3], cal.half_terms[AUT1], today, cal) == expected


def test_reminder_points_skip_bank_holidays_and_respect_the_deadline(cal):
    spr2 = cal.half_terms[SPR2]
    hits = {d: reminder_due([10, 3, 1], spr2, d, cal) for d in cal.school_days_in(spr2)}
    fired = {p: d for d, p in hits.items() if p is not None}
    assert fired == {10: D(2027, 3, 12), 3: D(2027, 3, 23), 1: D(2027, 3, 25)}
    assert reminder_due([1], spr2, D(2027, 3, 26), cal) is None  # Good Friday is not a school day
    summer1 = cal.half_terms[SUM1]
    # 10 school days before Summer 1's deadline: 10 school days ending Fri 28 May start Mon 17 May
    assert reminder_due([10], summer1, D(2027, 5, 17), cal) == 10
    assert reminder_due([50], summer1, D(2027, 4, 12), cal) is None
