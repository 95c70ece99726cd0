"""The dashboard's figures and charts, pure: small-number protection, small groups folded, charts offline."""

from __future__ import annotations

import datetime as dt

from bot.dashboard import figures, render
from bot.dashboard.figures import Person

HTS = [
    figures.HalfTermRef("2026-27 Autumn 1", "Autumn 1", dt.date(2026, 9, 2), dt.date(2026, 10, 23)),
    figures.HalfTermRef("2026-27 Autumn 2", "Autumn 2", dt.date(2026, 11, 2), dt.date(2026, 12, 18)),
    figures.HalfTermRef("2026-27 Spring 1", "Spring 1", dt.date(2027, 1, 5), dt.date(2027, 2, 12)),
]
TODAY = dt.date(2026, 11, 23)


def _staff() -> list[Person]:
    big = [Person(f"w{i}", f"Willow {i}", "Willow Class") for i in range(10)]
    small = [Person(f"n{i}", f"Nurse {i}", "Nursing") for i in range(2)]
    return big + small


def _build(**kw) -> figures.Dashboard:
    args = dict(
        threshold=5,
        today=TODAY,
        half_terms=HTS,
        staff=_staff(),
        attended=[("2026-27 Autumn 1", f"w{i}") for i in range(8)] + [("2026-27 Autumn 2", "w0")],
        reviews=[TODAY - dt.timedelta(days=1)] * 6 + [TODAY + dt.timedelta(days=3)],
        action_dues=[TODAY - dt.timedelta(days=2)] * 3 + [None] * 4,
        load=[("Priya", 3, 4)],
    )
    return figures.build(**{**args, **kw})


def test_counts_below_the_threshold_are_shown_as_fewer_than():
    assert figures.protect(0, 5) == "fewer than 5" and figures.protect(4, 5) == "fewer than 5"
    assert figures.protect(5, 5) == "5"
    d = _build()
    assert d.agreements["Overdue for review"] == ("6", 6)
    assert d.agreements["Due for review within 30 days"] == ("fewer than 5", None)  # no bar to measure
    assert d.actions == {"Open": ("7", 7), "Overdue": ("fewer than 5", None)}
    assert d.outstanding_label == "11"


def test_a_group_too_small_to_show_is_not_broken_down():
    d = _build()
    assert list(d.attendance) == ["Willow Class"]  # 2 nurses: not alone, and too few to fold
    assert d.attendance["Willow Class"] == [80.0, 10.0, None]
    assert "Nursing" not in d.outstanding_by_group and d.outstanding_by_group == {"Willow Class": "9"}
    assert d.notes
    more = _staff() + [Person(f"a{i}", f"Admin {i}", "Office") for i in range(3)]
    assert list(_build(staff=more).attendance) == ["Willow Class", figures.SMALL_GROUPS]


def test_load_is_a_share_of_capacity():
    assert _build().load == [("Priya", 75.0)]


def test_the_page_is_svg_without_scripts_or_remote_assets_and_keeps_protection():
    html = render.page(_build(), school_name="Demo School", viewer="Amara Okafor")
    assert html.count("<svg") == 4
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html
    assert "fewer than 5" in html and "Willow Class" in html and "Nursing" not in html
    assert 'name="viewport"' in html


def test_supervisor_parity_is_shown_in_protected_bands():
    load = [(f"S{i}", 1, 4) for i in range(6)] + [("Full", 4, 4), ("Over", 5, 4)]
    bands = figures.load_bands(_build(load=load))
    assert bands == {
        "Under half": ("6", 6),
        "Half or more": ("fewer than 5", None),
        "At capacity": ("fewer than 5", None),
        "Over capacity": ("fewer than 5", None),
    }


def test_the_chart_draws_the_whole_school_and_the_lowest_groups_the_grid_every_group():
    more = _staff() + [Person(f"r{i}", f"Rowan {i}", "Rowan Class") for i in range(5)]
    d = _build(staff=more)
    assert figures.lowest_groups(d, 1) == ["Rowan Class"]
    assert d.whole_school[0] == round(100 * 8 / 17, 1)
    grid = render.attendance_grid(d)
    assert "Rowan Class" in grid and "Willow Class" in grid and "80%" in grid


AT = dt.datetime(2026, 11, 10, 9, tzinfo=dt.timezone.utc)


def test_caseload_by_team_shows_the_middle_of_the_spread_never_one_persons_answer():
    reported = [(f"w{i}", n, AT) for i, n in enumerate([2, 4, 6, 8, 30, 5])]
    reported += [("w0", 3, AT + dt.timedelta(days=1))]  # a later answer replaces the earlier one
    reported += [("n0", 50, AT), ("n1", 60, AT)]  # two nurses: too few to show, even folded
    d = _build(pupil_cases=reported)
    teams = {r.team: r for r in d.caseload}
    assert set(teams) == {"Willow Class", figures.WHOLE_SCHOOL}
    willow = teams["Willow Class"]
    assert (willow.people, willow.median, willow.q1, willow.q3) == ("6", 5.5, 4.2, 7.5)  # of 3 4 5 6 8 30, to one place
    assert teams[figures.WHOLE_SCHOOL].people == "8"
    html = render.caseload_table(d)
    assert "30" not in html and "60" not in html  # the highest answers are one person's own numbers
    assert d.caseload_range is None  # one team: no spread across teams to speak of


def test_caseload_is_not_offered_below_the_threshold_and_the_spread_across_teams_is_given():
    few = [(f"w{i}", 3, AT) for i in range(4)]
    assert _build(pupil_cases=few).caseload == []
    page = render.page(_build(pupil_cases=few), school_name="Kestrel Brook School", viewer="Amara")
    assert "not enough staff have said" in page and "id=caseload" not in page
    staff = _staff() + [Person(f"o{i}", f"Office {i}", "Office") for i in range(5)]
    both = few + [("w4", 5, AT)] + [(f"o{i}", 10 + i, AT) for i in range(5)]
    d = _build(staff=staff, pupil_cases=both)
    assert [r.team for r in d.caseload] == ["Office", "Willow Class", figures.WHOLE_SCHOOL]
    assert d.caseload_range == (3.0, 12.0)
    page = render.page(d, school_name="Kestrel Brook School", viewer="Amara")
    assert "id=caseload" in page and "median runs from 3 to 12" in page


def test_themes_are_a_trend_per_half_term_with_small_counts_protected():
    topics = {"wellbeing": "Wellbeing", "safeguarding": "Safeguarding"}
    a1, a2 = dt.date(2026, 9, 20), dt.date(2026, 11, 5)
    requested = [(a1, ["wellbeing", "safeguarding"])] * 6 + [(a2, ["wellbeing"])] * 5 + [(a2, ["safeguarding"])] * 2
    requested += [(dt.date(2026, 10, 28), ["wellbeing"])] * 9  # half-term holiday: no half term to count it in
    d = _build(topics=topics, requested=requested)
    assert d.themes == {
        "Wellbeing": [("6", 6), ("5", 5), ("", None)],  # Spring 1 has not started
        "Safeguarding": [("6", 6), ("fewer than 5", None), ("", None)],
    }
    assert "fewer than 5" in render.themes_table(d) and "<svg" in render.themes_chart(d)
