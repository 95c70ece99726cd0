"""Reading a record card: tampering is refused, mistakes become errors beside their fields, nothing is lost."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.records.rules import (
    Person,
    Tampered,
    clean_text,
    draft_values,
    form_values_from_record,
    parse_record_form,
    record_file_name,
    resolve_names,
    split_ids,
)
from bot.records.templates import load_template

DAY = dt.date(2026, 11, 23)
GROUP = ["tom.hollis", "isla.brennan", "nadia.farouk"]
OTHERS = [
    Person("grace.mensah", "Grace Mensah", "grace.mensah@kestrelbrook.example"),
    Person("delia.moss", "Delia Moss", "delia.moss@kestrelbrook.example"),
]
OWNERS = ["amara.okafor", "marcus.fenwick"]


def parse(data, template="default", **kw):
    kw.setdefault("session_date", DAY)
    return parse_record_form(load_template(template), data, group_ids=GROUP, others=OTHERS, owner_ids=OWNERS, **kw)


def good(**extra):
    return {
        "att_group": "tom.hollis,isla.brennan",
        "f_summary": "  Talked about  lunchtimes.\r\nAgreed a plan. ",
        "f_confidentiality": "true",
        **extra,
    }


def test_a_good_record_parses():
    form = parse(
        good(att_other="grace.mensah", act_0_text="Check the rota", act_0_owner="amara.okafor", act_0_due="2026-12-01")
    )
    assert form.ok, form.errors
    assert form.attendees == ["tom.hollis", "isla.brennan", "grace.mensah"]
    assert form.answers["summary"] == "Talked about  lunchtimes.\nAgreed a plan."
    assert form.answers["confidentiality"] == "true"
    assert [(a.text, a.owner_id, a.due_on) for a in form.actions] == [
        ("Check the rota", "amara.okafor", dt.date(2026, 12, 1))
    ]


def test_required_fields_and_attendees_are_errors_beside_fields():
    form = parse({"f_confidentiality": "false"})
    assert form.errors == {
        "att_group": "Add at least one person who came.",
        "f_summary": "Please fill this in.",
        "f_confidentiality": "Please confirm this before submitting.",
    }


@pytest.mark.parametrize(
    "data, what",
    [
        ({"att_group": "tom.hollis,grace.mensah"}, "group roster"),  # ticked someone not in the group
        ({"att_other": "not.on.roster"}, "school roster"),
        ({"act_0_text": "x", "act_0_owner": "tom.hollis", "act_0_due": "2026-12-01"}, "DSL team"),
    ],
)
def test_values_no_card_offered_are_tampering(data, what):
    with pytest.raises(Tampered, match=what):
        parse(good(**data))


def test_typed_other_attendees_are_matched_by_name_or_email_and_unknowns_reported():
    form = parse(good(att_other_text="grace mensah, DELIA.MOSS@kestrelbrook.example"))
    assert form.ok and form.attendees[-2:] == ["grace.mensah", "delia.moss"]
    form = parse(good(att_other_text="Grace Mensah, Nobody Known"))
    assert form.errors == {
        "att_other_text": "I couldn't find these on the staff list: Nobody Known. Use their full name or school e-mail."
    }


@pytest.mark.parametrize(
    "row, error_key, message",
    [
        ({"act_1_text": "", "act_1_due": "2026-12-01"}, "act_1_text", "Say what the action is"),
        ({"act_1_text": "Do it", "act_1_owner": "amara.okafor"}, "act_1_due", "Give a due date."),
        ({"act_1_text": "Do it", "act_1_owner": "amara.okafor", "act_1_due": "1/12/26"}, "act_1_due", "Use a date"),
        ({"act_1_text": "Do it", "act_1_owner": "amara.okafor", "act_1_due": "2026-11-20"}, "act_1_due", "before"),
        (
            {"act_1_text": "Do it", "act_1_owner": "amara.okafor", "act_1_due": "2028-01-01"},
            "act_1_due",
            "within a year",
        ),
        ({"act_1_text": "Do it", "act_1_due": "2026-12-01"}, "act_1_owner", "Choose who"),
        ({"act_1_text": "x" * 141, "act_1_owner": "amara.okafor", "act_1_due": "2026-12-01"}, "act_1_text", "141"),
    ],
)
def test_action_row_mistakes(row, error_key, message):
    form = parse(good(**row))
    assert list(form.errors) == [error_key] and message in form.errors[error_key]


def test_over_long_answer_is_an_error_not_a_silent_cut():
    form = parse(good(f_summary="y" * 4001))
    assert form.errors == {"f_summary": "That is 4001 characters; the limit is 4000."}


def test_group_q11_date_field_and_required_questions():
    t = "group_q11"
    form = parse(
        {
            "att_group": "tom.hollis",
            "f_q1": "Fine",
            "f_q11": "Yes",
            "f_confidentiality": "true",
            "f_next_session": "2027-01-11",
        },
        template=t,
    )
    assert form.ok and form.answers["next_session"] == "2027-01-11" and form.answers["q2"] == ""
    form = parse({"att_group": "tom.hollis", "f_q1": "Fine", "f_q11": "", "f_next_session": "soon"}, template=t)
    assert set(form.errors) == {"f_q11", "f_next_session", "f_confidentiality"}


def test_amendment_needs_a_note_and_keeps_action_ids():
    form = parse(
        good(act_0_text="Keep", act_0_owner="amara.okafor", act_0_due="2026-12-01"), amending=True, action_ids={0: 41}
    )
    assert form.errors == {"amend_note": form.errors["amend_note"]} and "what changed" in form.errors["amend_note"]
    form = parse(
        good(act_0_text="Keep", act_0_owner="amara.okafor", act_0_due="2026-12-01", amend_note="Added Isla"),
        amending=True,
        action_ids={0: 41},
    )
    assert form.ok and form.actions[0].action_id == 41 and form.amend_note == "Added Isla"


def test_draft_values_keep_only_known_inputs_within_limits():
    t = load_template("default")
    vals = draft_values(
        t,
        {
            "f_summary": "a" * 5000,
            "att_group": ["tom.hollis", "isla.brennan"],
            "evil": "x",
            "act_0_text": "t",
            "act_9_text": "beyond the rows",
            "f_confidentiality": "",
        },
    )
    assert vals == {"f_summary": "a" * 4000, "att_group": "tom.hollis,isla.brennan", "act_0_text": "t"}


def test_form_values_from_record_round_trip():
    t = load_template("default")
    form = parse(good(att_other="grace.mensah", act_0_text="Check", act_0_owner="amara.okafor", act_0_due="2026-12-01"))
    vals = form_values_from_record(
        t, attendees=form.attendees, group_ids=GROUP, answers=form.answers, actions=form.actions
    )
    again = parse({**vals, "f_confidentiality": vals["f_confidentiality"]})
    assert again.attendees == form.attendees and again.answers == form.answers and again.actions == form.actions


@pytest.mark.parametrize(
    "day, group, version, name",
    [
        (DAY, "Willow Class", 1, "2026-11-23 Group supervision - Willow Class.docx"),
        (DAY, "Willow Class", 2, "2026-11-23 Group supervision - Willow Class-v2.docx"),
        (DAY, 'Office / "site" team: #1?', 3, "2026-11-23 Group supervision - Office - -site- team- -1-v3.docx"),
        (DAY, "Équipe santé", 1, "2026-11-23 Group supervision - Equipe sante.docx"),
        (DAY, "***", 1, "2026-11-23 Group supervision - Group.docx"),
    ],
)
def test_file_names_come_from_date_and_group_and_are_safe(day, group, version, name):
    assert record_file_name(day, group, version) == name


def test_small_helpers():
    assert split_ids("a, b,,a") == ["a", "b"] and split_ids(["x", "x"]) == ["x"] and split_ids(None) == []
    assert clean_text("a\x00b\r\nc  ") == "ab\nc" and clean_text(" a \n b ", multiline=False) == "a b"
    assert resolve_names("", OTHERS) == ([], [])
