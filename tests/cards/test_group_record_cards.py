"""Every group record / action list card is valid for Teams, keeps what was typed, shows errors beside fields,
and the record card stays under 28 KB with 60 attendees and the longest template."""

from __future__ import annotations

import json

import pytest

from bot.records.templates import builtin_templates, load_template
from cards import actions as action_cards
from cards import group_record as cards
from cards.base import TEAMS_MAX_CARD_BYTES, card_size, validation_errors

OWNERS = [("amara.okafor", "Amara Okafor"), ("marcus.fenwick", "Marcus Fenwick")]


def _people(prefix: str, n: int) -> list[tuple[str, str]]:
    # Long, realistic-looking ids and names so the size test is not flattered.
    return [
        (f"{prefix}.member{i:03d}.hyphen-surname", f"{prefix.title()}member{i:03d} Double-Barrelled") for i in range(n)
    ]


def _view(
    template="default", *, ticks=12, others=28, values=None, tick_label="Tick who came from Willow Class", **kw
) -> cards.RecordView:
    return cards.RecordView(
        template=load_template(template),
        heading=[("Group", "Willow Class"), ("When", "Mon 23 Nov 2026, 14:00")],
        tick_label=tick_label,
        group_people=_people("willow", ticks),
        others=_people("other", others),
        owners=OWNERS,
        default_owner="amara.okafor",
        data={"session_id": 7, "draft_key": "a" * 32},
        values=values or {},
        **kw,
    )


def _inputs(card: dict) -> dict[str, dict]:
    out = {}

    def walk(n):
        if isinstance(n, dict):
            if str(n.get("type", "")).startswith("Input."):
                out[n["id"]] = n
            for v in n.values():
                walk(v)
        elif isinstance(n, list):
            for v in n:
                walk(v)

    walk(card)
    return out


def _full_values(template: str, ticks: int) -> dict[str, str]:
    t = load_template(template)
    vals = {"att_group": ",".join(i for i, _ in _people("willow", ticks))}
    for f in t.fields:
        if f.kind in ("text", "multiline"):
            vals[f.input_id] = ("Quite a long answer with words. " * 200)[: f.max_length]
        elif f.kind == "date":
            vals[f.input_id] = "2026-12-07"
        else:
            vals[f.input_id] = "true"
    for i in range(t.actions.max_items):
        vals |= {f"act_{i}_text": "x" * 140, f"act_{i}_owner": "marcus.fenwick", f"act_{i}_due": "2026-12-01"}
    return vals


@pytest.mark.parametrize("template", builtin_templates())
def test_record_card_is_valid_and_nobody_is_preticked(template):
    c = cards.record_card(_view(template))
    assert validation_errors(c) == []
    att = _inputs(c)["att_group"]
    assert att["isMultiSelect"] and att["style"] == "expanded" and "value" not in att
    assert len(att["choices"]) == 12
    # Drafts must be savable half-written: Teams would block "Save draft" on an isRequired input.
    assert not any(i.get("isRequired") for i in _inputs(c).values())
    assert [a["verb"] for a in c["actions"]] == [cards.V_SUBMIT, cards.V_SAVE]
    assert all(a["data"] == {"session_id": 7, "draft_key": "a" * 32} for a in c["actions"])


def test_longest_template_is_the_group_q11_one():
    assert max(builtin_templates(), key=lambda n: load_template(n).narrative_chars) == "group_q11"


@pytest.mark.parametrize("template", builtin_templates())
def test_record_card_with_60_attendees_stays_under_28kb(template):
    empty = cards.record_card(_view(template, ticks=60, others=40))
    assert validation_errors(empty) == [] and card_size(empty) < 20 * 1024
    assert "att_other" in _inputs(empty)  # the staff list fits as a picker
    full = cards.record_card(_view(template, ticks=60, others=40, values=_full_values(template, 60)))
    assert validation_errors(full) == [], card_size(full)
    assert card_size(full) <= TEAMS_MAX_CARD_BYTES


def test_huge_roster_switches_to_typed_names_and_keeps_people_already_picked():
    v = _view(
        "group_q11",
        ticks=60,
        others=400,
        values=_full_values("group_q11", 60) | {"att_other": "other.member001.hyphen-surname"},
    )
    c = cards.record_card(v)
    ins = _inputs(c)
    assert validation_errors(c) == []
    assert "att_other" not in ins and ins["att_other_text"]["value"] == "Othermember001 Double-Barrelled"


def test_values_and_errors_are_shown_beside_their_fields():
    vals = {
        "att_group": "willow.member001.hyphen-surname",
        "f_summary": "Typed text kept",
        "f_confidentiality": "true",
        "act_0_text": "An action",
        "act_0_due": "2026-11-01",
    }
    c = cards.record_card(
        _view(
            values=vals,
            errors={"act_0_due": "The due date can't be before the session.", "f_confidentiality_note": "Too long"},
            top_error="Please check 2 fields",
        )
    )
    ins = _inputs(c)
    assert ins["f_summary"]["value"] == "Typed text kept" and ins["f_confidentiality"]["value"] == "true"
    assert ins["att_group"]["value"] == "willow.member001.hyphen-surname"
    assert ins["act_0_owner"]["value"] == "amara.okafor" and ins["act_0_due"]["value"] == "2026-11-01"
    flat = json.dumps(c)
    assert flat.index('"id": "act_0_due"') < flat.index("before the session") < flat.index('"id": "act_1_text"')
    assert flat.index('"id": "f_confidentiality_note"') < flat.index("Too long") < flat.index('"id": "act_0_text"')
    assert "Please check 2 fields" in flat and validation_errors(c) == []


def test_amendment_card_asks_what_changed_and_names_the_kept_file():
    c = cards.record_card(
        _view(
            amend_version=2,
            previous_file="2026-11-23 Group supervision - Willow Class.docx",
            done_actions=["Old action"],
            has_draft=True,
        )
    )
    flat = json.dumps(c)
    assert "amend_note" in _inputs(c) and "This makes version 2" in flat and "Done: Old action" in flat
    assert [a["title"] for a in c["actions"]] == ["Save version 2", "Save draft", "Delete draft"]
    assert validation_errors(c) == []


def test_mixed_group_card_has_one_picker_for_everyone():
    c = cards.record_card(_view(tick_label=None, ticks=0, errors={"att_group": "Add at least one person who came."}))
    ins = _inputs(c)
    assert "att_group" not in ins and ins["att_other"]["label"] == "Who came"
    assert "Add at least one person" in json.dumps(c) and validation_errors(c) == []


def test_picker_card_variants_are_valid():
    empty = cards.picker_card(cards.PickerView(half_term="2026-27 Autumn 2", upcoming=2))
    assert "2 more are scheduled" in json.dumps(empty) and validation_errors(empty) == []
    full = cards.picker_card(
        cards.PickerView(
            half_term="2026-27 Autumn 2",
            sessions=[cards.SessionChoice(1, "Willow Class · Mon 23 Nov, 14:00")],
            drafts=[cards.DraftChoice("b" * 32, "Rowan Class, Tue 24 Nov")],
            recorded=[
                cards.RecordedChoice(3, "Hazel Class · v1 · saved", "https://files.example/a.docx"),
                cards.RecordedChoice(4, "Birch Class · v1 · saving", None),
            ],
            notice="Draft deleted.",
            error="Choose the session you are recording.",
        )
    )
    assert validation_errors(full) == []
    ins = _inputs(full)
    assert ins["session_id"]["isRequired"] and ins["session_id"]["value"] == "1"
    # Buttons that don't need the session choice must not be blocked by its validation.
    for verb in (cards.V_ADHOC, cards.V_SCHEDULE, cards.V_RESUME, cards.V_AMEND):
        assert _no_inputs(full, verb), verb
    assert not _no_inputs(full, cards.V_OPEN)


def _no_inputs(card: dict, verb: str) -> bool:
    found = []

    def walk(n):
        if isinstance(n, dict):
            if n.get("verb") == verb:
                found.append(n.get("associatedInputs"))
            for v in n.values():
                walk(v)
        elif isinstance(n, list):
            for v in n:
                walk(v)

    walk(card)
    return bool(found) and all(f == "none" for f in found)


def test_adhoc_and_schedule_cards_validate_in_teams_first():
    a = cards.adhoc_card(
        cards.AdhocView(
            groups=[("willow", "Willow Class")],
            facilitators=OWNERS,
            values={"adhoc_date": "2026-11-20"},
            errors={"adhoc_time": "Give the time"},
            max_date="2026-11-23",
        )
    )
    assert validation_errors(a) == []
    ins = _inputs(a)
    assert all(
        ins[k]["isRequired"] for k in ("adhoc_kind", "adhoc_date", "adhoc_time", "adhoc_group", "adhoc_facilitator")
    )
    assert ins["adhoc_date"]["value"] == "2026-11-20" and "Give the time" in json.dumps(a)
    s = cards.schedule_card(
        cards.ScheduleView(
            half_term="2026-27 Autumn 2",
            groups=[("willow", "Willow Class"), ("_mop_up", "Mop-up session")],
            facilitators=OWNERS,
            durations=[("60", "60 minutes")],
            nonce="c" * 32,
            values={"sched_minutes": "60"},
            errors={"sched_date": "Not a school day"},
            scheduled=["Willow Class · Tue 24 Nov 14:00"],
            unscheduled=["Rowan Class"],
            notice="Scheduled.",
        )
    )
    assert validation_errors(s) == []
    assert s["actions"][0]["data"] == {"nonce": "c" * 32} and "Not a school day" in json.dumps(s)


def test_channel_summary_has_counts_and_link_but_no_narrative_fields():
    c = cards.channel_summary_card(
        cards.ChannelSummaryView(
            group_label="Willow Class",
            date_label="Mon 23 Nov 2026",
            facilitator="Amara Okafor",
            attendee_count=9,
            action_count=2,
            file_name="2026-11-23 Group supervision - Willow Class.docx",
            web_url="https://files.example/x.docx",
        )
    )
    assert validation_errors(c) == [] and c["actions"][0]["url"] == "https://files.example/x.docx"
    assert not _inputs(c)
    facts = {f["title"]: f["value"] for f in c["body"][1]["facts"]}
    assert facts == {
        "Group": "Willow Class",
        "Date": "Mon 23 Nov 2026",
        "Facilitator": "Amara Okafor",
        "Attended": "9",
        "Actions for the DSL meeting": "2",
        "File": "2026-11-23 Group supervision - Willow Class.docx",
    }
    v2 = cards.channel_summary_card(
        cards.ChannelSummaryView(
            group_label="Willow Class",
            date_label="Mon 23 Nov 2026",
            facilitator="Amara Okafor",
            attendee_count=9,
            action_count=2,
            file_name="x-v2.docx",
            web_url=None,
            version=2,
            previous_file="x.docx",
        )
    )
    assert "amended (version 2)" in json.dumps(v2) and "x.docx" in json.dumps(v2) and validation_errors(v2) == []


def test_other_small_cards_are_valid():
    for c in (
        cards.submitted_card(cards.SubmittedView("Willow Class", "Mon 23 Nov 2026", 9, 2, 1, "f.docx")),
        cards.submitted_card(
            cards.SubmittedView("Willow Class", "Mon 23 Nov 2026", 9, 2, 2, "f-v2.docx", already=True)
        ),
        cards.record_prompt_card(session_id=3, group_label="Willow Class", date_label="Mon 23 Nov, 14:00"),
        cards.message_card("Already recorded", "Use Amend."),
        cards.message_card("Not saved", "Ask IT.", back=False),
    ):
        assert validation_errors(c) == []


def _line(i, **kw):
    return action_cards.ActionLine(
        id=i, text=f"Action {i}", owner="Amara Okafor", due_label="Tue 1 Dec", source="Willow Class, 23 Nov", **kw
    )


def test_action_list_card_variants():
    empty = action_cards.action_list_card(action_cards.ActionListView())
    assert "Nothing open" in json.dumps(empty) and validation_errors(empty) == []
    v = action_cards.ActionListView(
        mine=[_line(1, overdue=True)],
        others=[_line(i) for i in range(2, 40)],
        done=[_line(99, done=True, done_label="done 30 Nov by Amara Okafor")],
        show_done=True,
        notice="Marked done.",
    )
    c = action_cards.action_list_card(v)
    flat = json.dumps(c)
    assert validation_errors(c) == [] and "39 open, 1 overdue" in flat and "more not shown" in flat
    assert '"verb": "actions.done"' in flat and '"verb": "actions.reopen"' in flat and "Hide done" in flat
    assert card_size(c) < TEAMS_MAX_CARD_BYTES
