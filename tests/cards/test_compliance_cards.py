"""Every compliance card is valid for Teams (v1.5 schema, under 28 KB) in its ordinary, empty, error and
very large forms, and carries what its reader needs — and nothing they should not see."""

from __future__ import annotations

import json

import pytest

from cards import compliance as c
from cards.base import TEAMS_MAX_CARD_BYTES, card_size, validation_errors


def _t(card: dict) -> str:
    return json.dumps(card, ensure_ascii=False)


CHOICES = (
    c.SessionChoice(11, "Willow Class session · Tue 8 Dec, 15:30–16:30"),
    c.SessionChoice(12, "Mop-up session · Tue 15 Dec, 15:30–16:30"),
)


def _reminder(**kw):
    base = dict(
        first_name="Tom",
        half_term_name="Autumn 2",
        half_term_index=1,
        days_left=10,
        deadline_label="Fri 18 Dec",
        choices=CHOICES,
    )
    return c.reminder_card(c.ReminderView(**(base | kw)))


def _inputs(card):
    return [e for e in card["body"] if str(e.get("type", "")).startswith("Input.")]


def test_reminder_offers_sessions_with_the_first_chosen_and_one_button():
    card = _reminder()
    assert not validation_errors(card)
    [choice] = _inputs(card)
    assert choice["id"] == "session_id" and choice["value"] == "11" and choice["isRequired"]
    assert choice["label"] and choice["errorMessage"]
    [action] = card["actions"]
    assert action["verb"] == c.ATTEND and action["data"] == {"ht": 1} and action["title"] == "I'll attend"
    assert "10 school days (last day Fri 18 Dec)" in _t(card)


def test_reminder_when_already_booked_says_so_and_offers_others():
    card = _reminder(choices=(c.SessionChoice(12, "Mop-up session · Tue 15 Dec", invited=True), CHOICES[0]))
    assert not validation_errors(card)
    assert "You're on the list for **Mop-up session · Tue 15 Dec**" in _t(card)
    [choice] = _inputs(card)
    assert choice["value"] == "11"  # the default is one they are not already on


def test_reminder_only_booked_session_has_no_button():
    card = _reminder(choices=(c.SessionChoice(12, "Mop-up session", invited=True),))
    assert not validation_errors(card) and not card.get("actions") and not _inputs(card)


def test_reminder_without_sessions_explains_and_keeps_error():
    card = _reminder(choices=(), error="That session has been cancelled — please choose another.", days_left=1)
    assert not validation_errors(card)
    assert "isn't a session you can join yet" in _t(card) and "cancelled" in _t(card)
    assert "1 school day " in _t(card)


def test_reminder_error_sits_beside_the_choice_and_keeps_the_selection():
    card = _reminder(selected=12, error="That session has already started — please choose another.")
    body = card["body"]
    i = next(i for i, e in enumerate(body) if e.get("id") == "session_id")
    assert body[i]["value"] == "12" and body[i + 1]["color"] == "attention"


def test_attend_done_card():
    for already in (False, True):
        card = c.attend_done_card(c.AttendDoneView("Tom", "Mop-up session · Tue 15 Dec", "Autumn 2", already))
        assert not validation_errors(card)
        assert ("already on the list" in _t(card)) is already


def _attendance(n_people=5, **kw):
    groups = tuple(
        c.GroupRow(f"Group {g}", 3, 5, 60.0, tuple(f"Person {g}-{i}" for i in range(n_people))) for g in range(8)
    )
    base = dict(
        half_term_name="Autumn 2",
        half_term_index=1,
        phase="current",
        deadline_label="Fri 18 Dec",
        days_left=20,
        mop_up_week_label="Mon 14 Dec – Fri 18 Dec",
        compliant=24,
        due=40,
        percent=60.0,
        groups=groups,
        mop_up="not planned yet.",
        exempt=("Owen Pryce — long-term absence",),
        reminders=("Reminders at 10 school days left: 4 sent.",),
        can_propose_mop_up=True,
        previous_index=0,
        next_index=2,
    )
    return c.attendance_card(c.AttendanceView(**(base | kw)))


def test_attendance_card_for_the_dsl_team():
    card = _attendance()
    assert not validation_errors(card)
    text = _t(card)
    assert "Whole school" in text and "24 of 40 attended (60%)" in text and "Group 0" in text
    assert "Person 0-0" in text and "Owen Pryce — long-term absence" in text
    verbs = [a["verb"] for a in card["actions"]]
    assert verbs == [c.ATTENDANCE, c.MOPUP_PROPOSE, c.ATTENDANCE, c.ATTENDANCE]
    assert all(a["associatedInputs"] == "none" for a in card["actions"])


def test_attendance_card_for_a_huge_school_stays_under_the_limit():
    card = _attendance(n_people=400)
    assert not validation_errors(card), card_size(card)
    assert card_size(card) < TEAMS_MAX_CARD_BYTES
    assert "and 370 more" in _t(card)


def test_attendance_card_closed_and_everyone_attended():
    closed = _attendance(phase="closed", groups=(c.GroupRow("Willow Class", 4, 5, 80.0, (), ("Tom Hollis",)),))
    assert "Missed" in _t(closed) and "ended on Fri 18 Dec" in _t(closed)
    full = _attendance(groups=(c.GroupRow("Willow Class", 5, 5, 100.0),), can_propose_mop_up=False)
    assert "Everyone due has attended" in _t(full)
    assert not validation_errors(closed) and not validation_errors(full)


def test_governor_card_has_figures_and_hides_small_groups():
    view = c.GovernorView(
        half_term_name="Autumn 2",
        half_term_index=1,
        phase="current",
        deadline_label="Fri 18 Dec",
        days_left=20,
        mop_up_week_label="Mon 14 Dec – Fri 18 Dec",
        compliant=24,
        due=39,
        percent=61.5,
        exempt=1,
        groups=(c.SummaryGroupRow("Willow Class", 3, 5, 60.0), c.SummaryGroupRow("Rowan Class", None, None, None)),
        mop_up="booked for Tue 15 Dec, 15:30–16:30.",
        suppressed_below=3,
    )
    card = c.governor_card(view)
    assert not validation_errors(card)
    text = _t(card)
    assert "24 of 39 attended (62%)" in text and "Rowan Class" in text and "fewer than 3 staff" in text
    assert "Figures only" in text


def _proposal(**kw):
    base = dict(
        proposal_id=7,
        half_term_name="Autumn 2",
        outstanding=12,
        week_label="Mon 14 Dec – Fri 18 Dec",
        options=(
            c.MopUpOption("0", "Tue 15 Dec, 15:30–16:30 · 9 of 12 free"),
            c.MopUpOption("1", "Wed 16 Dec, 15:30–16:30 · 8 of 12 free"),
        ),
        facilitators=(("amara.okafor", "Amara Okafor"), ("marcus.fenwick", "Marcus Fenwick")),
    )
    return c.mop_up_proposal_card(c.MopUpProposalView(**(base | kw)))


def test_mop_up_proposal_card():
    card = _proposal()
    assert not validation_errors(card)
    slot, fac = _inputs(card)
    assert (slot["id"], slot["value"], fac["id"], fac["value"]) == ("slot", "0", "facilitator", "amara.okafor")
    confirm, decline = card["actions"]
    assert confirm["verb"] == c.MOPUP_CONFIRM and confirm["data"] == {"proposal": 7}
    assert decline["verb"] == c.MOPUP_DECLINE and decline["associatedInputs"] == "none"
    assert "12 people have not yet" in _t(card)


def test_mop_up_proposal_errors_beside_fields_and_choices_kept():
    card = _proposal(
        selected_option="1",
        selected_facilitator="marcus.fenwick",
        errors={"facilitator": "Marcus Fenwick is busy then — choose another time or facilitator."},
    )
    assert not validation_errors(card)
    body = card["body"]
    i = next(i for i, e in enumerate(body) if e.get("id") == "facilitator")
    assert body[i]["value"] == "marcus.fenwick" and "busy then" in body[i + 1]["text"]
    assert next(e for e in body if e.get("id") == "slot")["value"] == "1"


def test_mop_up_proposal_with_no_times_or_unchecked_calendars():
    none = _proposal(options=())
    assert not validation_errors(none) and "No free time was found" in _t(none)
    assert [a["verb"] for a in none["actions"]] == [c.MOPUP_DECLINE]
    unchecked = _proposal(calendars_checked=False)
    assert "could not be checked" in _t(unchecked) and not validation_errors(unchecked)


def test_mop_up_outcome_and_invite_cards():
    booked = c.mop_up_outcome_card(
        c.MopUpOutcomeView("Autumn 2", True, "Tue 15 Dec, 15:30–16:30", "Marcus Fenwick", 12, "Daniel Whitcombe")
    )
    declined = c.mop_up_outcome_card(c.MopUpOutcomeView("Autumn 2", False, decided_by="Daniel Whitcombe"))
    invite = c.mop_up_invite_card(c.MopUpInviteView("Tom", "Autumn 2", "Tue 15 Dec, 15:30–16:30", "Marcus Fenwick"))
    for card in (booked, declined, invite):
        assert not validation_errors(card)
    assert "12 still to attend" in _t(booked) and "not needed" in _t(declined) and "Marcus Fenwick" in _t(invite)


def _digest(n=3, unreachable=2):
    return c.digest_card(
        c.DigestView(
            half_term_name="Autumn 2",
            half_term_index=1,
            days_left=10,
            deadline_label="Fri 18 Dec",
            compliant=35,
            due=39,
            percent=89.7,
            outstanding_by_group=tuple((f"Group {g}", tuple(f"Person {g}-{i}" for i in range(n))) for g in range(8)),
            unreachable=tuple((f"Person 0-{i}", "hasn't opened the bot in Teams") for i in range(unreachable)),
            reminded=4,
            mop_up="booked for Tue 15 Dec.",
        )
    )


def test_digest_card():
    card = _digest()
    assert not validation_errors(card)
    text = _t(card)
    assert "35 of 39 (90%)" in text and "Group 7: Person 7-0, Person 7-1, Person 7-2" in text
    assert "Person 0-1 (hasn't opened the bot in Teams)" in text
    assert card["actions"][0]["verb"] == c.ATTENDANCE


@pytest.mark.parametrize("n,unreachable", [(0, 0), (500, 500)])
def test_digest_card_extremes(n, unreachable):
    card = _digest(n, unreachable)
    assert not validation_errors(card), card_size(card)


def test_notice_card():
    assert not validation_errors(c.notice_card("Only the DSL team can do that."))
