"""Supervisor suggestion: preference when there is room, otherwise parity of caseload; never yourself."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from bot.domain.allocation import (
    Suggestion,
    SuggestionReason,
    Supervisor,
    has_capacity,
    suggest_supervisor,
    supervisor_pool,
)
from bot.school.config import Role

POOL = [
    Supervisor("ava", 4, name="Ava"),
    Supervisor("ben", 4, name="Ben"),
    Supervisor("cat", 2, name="Cat"),
    Supervisor("dan", 6, name="Dan"),
]


def pick(pool=POOL, caseload=None, *, requester="zed", preferred=None) -> Suggestion | None:
    return suggest_supervisor(pool, caseload or {}, requester_id=requester, preferred_id=preferred)


def test_has_capacity():
    s = Supervisor("a", 2)
    assert has_capacity(s, {})
    assert has_capacity(s, {"a": 1})
    assert not has_capacity(s, {"a": 2})
    assert not has_capacity(s, {"a": 3})  # over capacity (e.g. capacity lowered later)
    assert not has_capacity(Supervisor("a", 2, retired=True), {})
    assert not has_capacity(Supervisor("a", 2, available=False), {})
    assert not has_capacity(Supervisor("a", 0), {})


def test_preferred_with_capacity_is_suggested_even_if_busier():
    s = pick(caseload={"ava": 3, "ben": 0}, preferred="ava")
    assert s.supervisor_id == "ava" and s.reason is SuggestionReason.PREFERRED and s.preferred_not_used is None


@pytest.mark.parametrize(
    "pool, caseload, preferred, note",
    [
        (POOL, {"ava": 4}, "ava", "at capacity (4 of 4)"),
        ([Supervisor("ava", 4, retired=True, name="Ava"), *POOL[1:]], {}, "ava", "no longer taking supervisees"),
        ([Supervisor("ava", 4, available=False, name="Ava"), *POOL[1:]], {}, "ava", "currently away"),
        (POOL, {}, "stranger", "not in the trained supervisor pool"),
    ],
)
def test_preferred_without_capacity_falls_back_to_lightest_and_says_why(pool, caseload, preferred, note):
    caseload = {"ava": 2, "ben": 1, "cat": 1, "dan": 0, **caseload}
    s = pick(pool, caseload, preferred=preferred)
    assert s.supervisor_id == "dan"
    assert s.reason is SuggestionReason.LIGHTEST_CASELOAD
    assert s.preferred_not_used == note


def test_lightest_caseload_wins():
    s = pick(caseload={"ava": 2, "ben": 1, "cat": 1, "dan": 3})
    # ben and cat both carry 1: ben's ratio 1/4 beats cat's 1/2
    assert s.supervisor_id == "ben"
    assert s.preferred_not_used is None


def test_ties_on_load_and_ratio_go_to_name_then_id():
    pool = [
        Supervisor("x2", 4, name="Same"),
        Supervisor("x1", 4, name="Same"),
        Supervisor("b", 4, name="Zed"),
        Supervisor("a", 4, name="alice"),
    ]
    assert pick(pool, {"a": 1, "b": 1, "x1": 1, "x2": 1}).supervisor_id == "a"  # "alice" < "same" < "zed"
    assert pick(pool[:2], {"x1": 1, "x2": 1}).supervisor_id == "x1"  # same name: id decides
    ratio_tie = [Supervisor("p", 3, name="P"), Supervisor("q", 6, name="Q")]
    assert pick(ratio_tie, {"p": 1, "q": 1}).supervisor_id == "q"  # 1/6 < 1/3


def test_answer_does_not_depend_on_pool_order():
    caseload = {"ava": 1, "ben": 1, "cat": 0, "dan": 0}
    answers = {pick(list(order), caseload).supervisor_id for order in itertools.permutations(POOL)}
    assert answers == {"cat"}  # cat and dan both carry 0 (ratio 0): the name decides, "Cat" < "Dan"


def test_never_suggests_the_requester():
    # The requester is a supervisor with the lightest load and even names themselves as preferred.
    s = pick(caseload={"ava": 0, "ben": 2, "cat": 1, "dan": 3}, requester="ava", preferred="ava")
    assert s.supervisor_id == "cat"
    assert s.preferred_not_used == "you cannot supervise yourself"
    only_me = [Supervisor("me", 4)]
    assert pick(only_me, {}, requester="me") is None


def test_nobody_with_capacity_gives_none():
    full = {"ava": 4, "ben": 4, "cat": 2, "dan": 6}
    assert pick(caseload=full) is None
    assert pick(caseload=full, preferred="ava") is None
    assert pick([], {}) is None
    retired = [Supervisor("a", 4, retired=True), Supervisor("b", 4, available=False)]
    assert pick(retired, {}) is None


def test_capacity_only_counts_the_supervisors_own_caseload():
    s = pick([Supervisor("a", 1), Supervisor("b", 1)], {"a": 1, "someone_else": 0})
    assert s.supervisor_id == "b"


def test_negative_capacity_is_rejected():
    with pytest.raises(ValueError, match="capacity"):
        Supervisor("a", -1)


def test_supervisor_pool_from_the_demo_roster(school):
    pool = supervisor_pool(
        school.staff.values(), default_capacity=school.settings.supervisor_capacity_default, today=dt.date(2026, 11, 20)
    )
    ids = {s.id for s in pool}
    assert ids == {m.id for m in school.with_role(Role.SUPERVISOR)}
    assert all(s.capacity == 4 and not s.retired and s.available for s in pool)
    assert all(s.name for s in pool)


class _Absence:
    def __init__(self, from_, until=None):
        self.from_, self.until = from_, until


class _Member:
    def __init__(self, id, roles, capacity=None, left_on=None, absence=None):
        self.id, self.name, self.roles = id, id.title(), roles
        self.supervisor_capacity, self.left_on, self.absence = capacity, left_on, absence


def test_supervisor_pool_marks_leavers_retired_and_absentees_away():
    d = dt.date
    staff = [
        _Member("a", ["supervisor"], capacity=7),
        _Member("b", ["supervisor"], left_on=d(2026, 11, 20)),
        _Member("c", ["supervisor"], left_on=d(2026, 11, 21)),
        _Member("e", ["supervisor"], absence=_Absence(d(2026, 11, 1), d(2026, 11, 30))),
        _Member("f", ["supervisor"], absence=_Absence(d(2026, 9, 1), d(2026, 10, 30))),
        _Member("g", ["dsl"]),
    ]
    pool = {s.id: s for s in supervisor_pool(staff, default_capacity=4, today=d(2026, 11, 20))}
    assert set(pool) == {"a", "b", "c", "e", "f"}
    assert pool["a"].capacity == 7 and pool["c"].capacity == 4
    assert pool["b"].retired and not pool["c"].retired
    assert not pool["e"].available and pool["f"].available
    s = suggest_supervisor(pool.values(), {"a": 3}, requester_id="zz")
    assert s.supervisor_id == "c"  # b retired, e away; c and f at 0 -> "C" < "F"
