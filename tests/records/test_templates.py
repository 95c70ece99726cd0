"""Record templates are data: both built-ins load, every field has what a card and a document need, and a bad
template fails with a message naming the file and the field."""

from __future__ import annotations

import pytest

from bot.records.packs import load_pack
from bot.records.templates import (
    NARRATIVE_BUDGET_CHARS,
    TemplateError,
    builtin_templates,
    load_template,
    school_template,
)


def test_builtins_are_default_and_group_q11():
    assert builtin_templates() == ["default", "group_q11"]


def test_default_template_has_summary_actions_and_confidentiality():
    t = load_template("default")
    assert [f.id for f in t.fields] == ["summary", "confidentiality", "confidentiality_note"]
    assert t.field("summary").required and t.field("summary").kind == "multiline"
    assert t.field("confidentiality").kind == "confirm" and t.field("confidentiality").required
    assert t.actions.enabled and t.actions.max_items == 5


def test_group_q11_has_eleven_questions_in_order():
    t = load_template("group_q11")
    qs = [f for f in t.fields if f.id.startswith("q")]
    assert [f.id for f in qs] == [f"q{i}" for i in range(1, 12)]
    assert all(f.label.startswith(f"{i}.") for i, f in enumerate(qs, 1))
    assert t.field("next_session").kind == "date"
    assert t.narrative_chars <= NARRATIVE_BUDGET_CHARS


def test_demo_school_picks_an_existing_template(school):
    assert school_template(school).id == load_pack(school.settings.policy_pack).group_record


def test_unknown_template_names_the_builtins():
    with pytest.raises(TemplateError, match="not found.*default, group_q11"):
        load_template("nonesuch")


def _write(tmp_path, text: str):
    p = tmp_path / "mine.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_a_school_can_use_its_own_template_file(tmp_path):
    _write(tmp_path, "id: ours\nname: Our record\nfields:\n  - id: notes\n    label: Notes\n")
    t = load_template("mine.yaml", base_dir=tmp_path)
    assert t.id == "ours" and t.field("notes").max_length == 1000 and t.actions.enabled


@pytest.mark.parametrize(
    "body, message",
    [
        ("id: x\nname: X\nfields:\n  - id: a\n    label: A\n  - id: a\n    label: B\n", "repeated: a"),
        ("id: x\nname: X\nfields:\n  - id: Bad-Id\n    label: A\n", "fields.0.id"),
        ("id: x\nname: X\nfields:\n  - id: a\n    label: A\n    kind: essay\n", "fields.0.kind"),
        (
            "id: x\nname: X\nfields:\n  - id: a\n    label: A\n    max_length: 4000\n  - id: b\n    label: B\n"
            "    max_length: 4000\n  - id: c\n    label: C\n    max_length: 4000\n",
            "most a record card can carry",
        ),
        ("id: x\nname: X\nfields:\n  - id: a\n    label: A\n    kind: confirm\n", "at least one text field"),
        ("id: x\nname: X\nfields: []\n", "fields"),
        ("id: x\nname: X\nfields:\n  - id: a\n    label: A\n    colour: red\n", "colour"),
        ("- just\n- a list\n", "expected a mapping"),
    ],
)
def test_bad_templates_fail_naming_file_and_field(tmp_path, body, message):
    p = _write(tmp_path, body)
    with pytest.raises(TemplateError) as exc:
        load_template(str(p))
    assert str(p) in str(exc.value) and message in str(exc.value)
