"""Policy packs (bot/records/packs.py): every pack's records and agreement render to a schema-valid card under
Teams' 28 KB limit and to a .docx that reads back; a school picks its pack in config; a bad pack or a pack name
that doesn't exist stops the start with a message naming the file and the field; the topic grid, the agenda
checklist, the group record's confidentiality confirmation and the helpline signpost do what the seeds ask."""

from __future__ import annotations

import datetime as dt
import io
import shutil
from pathlib import Path

import pytest
import yaml
from docx import Document

from bot.labels import helpline_text
from bot.records import packs
from bot.records.agreement_docx import AgreementDocument, render_agreement_docx
from bot.records.docx_writer import (
    COVERED,
    NOT_COVERED,
    ActionRow,
    TargetedDocument,
    read_answers,
    render_docx,
    render_targeted_docx,
)
from bot.records.dsl_supervision import record_template, template_of_record
from bot.records.rules import Tampered, draft_values, parse_answers
from bot.records.templates import ACTION_TEXT_MAX, TemplateError, load_template, one_to_one_template
from bot.school import SchoolConfigError, load_school
from cards import group_record as gcards
from cards import targeted as tcards
from cards.base import TEAMS_MAX_CARD_BYTES, card_size, validation_errors
from cards.help import help_card
from cards.request import RequestFormView, request_form

PACKS = packs.builtin_packs()
DEMO = Path(__file__).resolve().parents[2] / "infra" / "demo" / "school.yaml"


def test_one_pack_per_policy_style():
    assert PACKS == ["framework", "guided", "integrated", "questions"]
    sources = {p: packs.load_pack(p).source for p in PACKS}
    for pack, seed in (("integrated", "001"), ("framework", "002"), ("questions", "003"), ("guided", "004")):
        assert f"Seed {seed}" in sources[pack]


def _full(t) -> dict[str, str]:
    """Every input of a template at its limit: the worst case a card must carry."""
    vals = {f.input_id: "x" * (f.max_length or 10) for f in t.fields if f.kind in ("text", "multiline")}
    vals |= {f.input_id: "true" for f in t.fields if f.kind == "confirm"}
    vals |= {f.input_id: "2027-01-11" for f in t.fields if f.kind == "date"}
    vals |= {f.input_id: ",".join(o.id for o in f.options) for f in t.fields if f.kind == "checklist"}
    for i in range(t.actions.max_items if t.actions.enabled else 0):
        vals |= {f"act_{i}_text": "y" * ACTION_TEXT_MAX, f"act_{i}_owner": "tom.hollis", f"act_{i}_due": "2026-12-01"}
    return vals


def _answers(t) -> dict[str, str]:
    out = {}
    for f in t.fields:
        if f.kind == "confirm":
            out[f.id] = "true"
        elif f.kind == "date":
            out[f.id] = "2027-01-11"
        elif f.kind == "checklist":
            out[f.id] = ",".join(o.id for o in f.options[::2])  # some covered, some not
        else:
            out[f.id] = f"{f.id}: what was said.\nA second line — with “quotes” and <b>markup</b>."
    return out


def _one_to_one_card(t) -> dict:
    errors = {f.input_id: "Please fill this in." for f in t.fields}
    return tcards.record_card(
        tcards.RecordView(
            template=t,
            heading=[("Supervisor", "Priya Raman"), ("Supervisee", "Tom Hollis")],
            owners=[("priya.raman", "Priya Raman (supervisor)"), ("tom.hollis", "Tom Hollis (supervisee)")],
            default_owner="tom.hollis",
            data={"draft_key": "a" * 32, "supervisee": "tom.hollis"},
            session_date="2026-11-19",
            max_date="2026-11-23",
            values=_full(t),
            errors=errors,
            top_error="Please check",
            has_draft=True,
        )
    )


@pytest.mark.parametrize("pack", PACKS)
@pytest.mark.parametrize("which", ["one_to_one_record", "dsl_record"])
def test_every_pack_1to1_record_renders_to_a_valid_card_and_a_docx_that_reads_back(pack, which):
    t = one_to_one_template(getattr(packs.load_pack(pack), which))
    built = _one_to_one_card(t)
    assert validation_errors(built) == []
    assert card_size(built) < TEAMS_MAX_CARD_BYTES, card_size(built)
    answers = _answers(t)
    content = render_targeted_docx(
        TargetedDocument(
            school_name="Kestrel Brook School",
            supervisor="Priya Raman, Deputy DSL",
            supervisee="Tom Hollis, Teaching assistant",
            local_date=dt.date(2026, 11, 23),
            template=t,
            answers=answers,
            actions=[ActionRow("Check the rota", "Tom Hollis", dt.date(2026, 12, 1))],
        )
    )
    assert read_answers(content, t) == answers
    text = "\n".join(p.text for p in Document(io.BytesIO(content)).paragraphs)
    assert "<b>markup</b>" in text  # verbatim and inert


@pytest.mark.parametrize("pack", PACKS)
def test_every_pack_group_record_renders_and_keeps_the_confidentiality_confirmation(pack):
    t = load_template(packs.load_pack(pack).group_record)
    # Seed 002: "the group should clarify and agree the boundaries of confidentiality" - in every pack, 003's too.
    conf = [f for f in t.fields if f.kind == "confirm" and f.id == "confidentiality"]
    assert conf and conf[0].required
    from tests.cards.test_group_record_cards import _full_values, _view

    built = gcards.record_card(_view(t.id, ticks=60, others=40, values=_full_values(t.id, 60)))
    assert validation_errors(built) == []
    assert card_size(built) < TEAMS_MAX_CARD_BYTES
    answers = _answers(t)
    from tests.records.test_docx import _doc

    content = render_docx(_doc(t.id, answers=answers))
    assert read_answers(content, t) == answers


@pytest.mark.parametrize("pack", PACKS)
def test_every_pack_agreement_renders_to_a_valid_card_and_a_docx(pack):
    ag = packs.load_pack(pack).agreement
    values = {t.id: "x" * t.max_length for t in ag.terms} | {"ag_date": "2026-11-23", "ag_frequency": "half_termly"}
    v = tcards.AgreementFormView(
        pairing_id=1,
        other_name="Tom Hollis",
        other_label="Supervisee",
        nonce="n" * 32,
        max_date="2026-11-23",
        values=values,
        errors={t.id: "Write down what you agreed about this." for t in ag.terms},
        top_error="Please check",
        agreement=ag,
    )
    built = tcards.agreement_form_card(v)
    assert validation_errors(built) == []
    assert card_size(built) < TEAMS_MAX_CARD_BYTES
    card_text = str(built)
    assert all(t.label in card_text for t in ag.terms)
    assert ag.confidentiality_limits in card_text
    content = render_agreement_docx(
        AgreementDocument(
            school_name="Kestrel Brook School",
            supervisor="Priya Raman",
            supervisee="Tom Hollis",
            agreed_on=dt.date(2026, 11, 23),
            review_due=dt.date(2027, 11, 23),
            frequency="Half-termly",
            duration="60 minutes",
            terms={t.id: f"{t.id} agreed" for t in ag.terms},
            points=["We agree"],
            recorded_by="Priya Raman",
            recorded_at="23 Nov 2026 15:10",
            agreement=ag,
        )
    )
    paras = [p.text for p in Document(io.BytesIO(content)).paragraphs]
    assert all(t.label in paras and f"{t.id} agreed" in paras for t in ag.terms)
    assert ag.confidentiality_limits in paras and ag.record_holder in paras


def test_agreement_card_uses_the_pack_defaults_until_typed_over():
    ag = packs.load_pack("questions").agreement
    v = tcards.AgreementFormView(
        pairing_id=1, other_name="T", other_label="Supervisee", nonce="n" * 32, max_date="2026-11-23", agreement=ag
    )
    dates = next(t for t in ag.terms if t.id == "ag_dates")
    assert dates.default in str(tcards.agreement_form_card(v))  # seed 003: fixed a term in advance


# ---- a school chooses its pack ------------------------------------------------------------------------------------


def _school_with(tmp_path: Path, **settings) -> Path:
    raw = yaml.safe_load(DEMO.read_text())
    raw["school"].pop("policy_pack", None)
    raw["school"].pop("record_template", None)
    raw["school"].pop("employee_assistance", None)
    raw["school"].update(settings)
    path = tmp_path / "school.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def test_a_school_without_a_pack_gets_the_default(tmp_path):
    school = load_school(_school_with(tmp_path))
    assert school.settings.policy_pack == packs.DEFAULT_PACK
    assert record_template(school, "tom.hollis").id == "one_to_one"
    assert packs.group_template_name(school) == "default"


@pytest.mark.parametrize("pack", PACKS)
def test_the_pack_chooses_the_group_1to1_and_dsl_records(tmp_path, pack):
    school = load_school(_school_with(tmp_path, policy_pack=pack))
    p = packs.load_pack(pack)
    dsl = next(m.id for m in school.data.staff if "dsl" in {r.value for r in m.roles})
    assert record_template(school, "tom.hollis") == one_to_one_template(p.one_to_one_record)
    assert record_template(school, dsl) == one_to_one_template(p.dsl_record)
    assert packs.group_template_name(school) == p.group_record
    assert packs.agreement_terms(school) == p.agreement


def test_a_school_overrides_its_pack_record_by_record(tmp_path):
    school = load_school(
        _school_with(tmp_path, policy_pack="framework", record_template="group_q11", one_to_one_template="topic_grid")
    )
    assert packs.group_template_name(school) == "group_q11"
    assert record_template(school, "tom.hollis").id == "topic_grid"


def test_an_unknown_pack_stops_the_start_naming_the_packs(tmp_path):
    with pytest.raises(SchoolConfigError, match="policy_pack.*framework, guided, integrated, questions"):
        load_school(_school_with(tmp_path, policy_pack="nonesuch"))
    with pytest.raises(SchoolConfigError, match="one_to_one_template.*is not a built-in 1:1 template"):
        load_school(_school_with(tmp_path, one_to_one_template="nonesuch"))
    with pytest.raises(SchoolConfigError, match="record template not found"):
        load_school(_school_with(tmp_path, record_template="mine/missing.yaml"))


def test_a_broken_pack_names_its_file_and_field(tmp_path, monkeypatch):
    broken = tmp_path / "packs"
    shutil.copytree(packs.PACK_DIR, broken)
    raw = yaml.safe_load((broken / "guided.yaml").read_text())
    raw["one_to_one_record"] = "nonesuch"
    raw["agreement"]["terms"][0]["id"] = "ag_date"  # the card's own input
    (broken / "guided.yaml").write_text(yaml.safe_dump(raw))
    monkeypatch.setattr(packs, "PACK_DIR", broken)
    with pytest.raises(TemplateError) as exc:
        packs.load_pack("guided")
    msg = str(exc.value)
    assert "guided.yaml" in msg and "ag_date is used by the agreement card" in msg


def test_an_amendment_keeps_the_template_the_record_was_written_on(tmp_path):
    school = load_school(_school_with(tmp_path, policy_pack="questions"))

    class Rec:
        template_id = "topic_grid"
        supervisee_id = "tom.hollis"

    assert template_of_record(school, Rec()).id == "topic_grid"
    Rec.template_id = "withdrawn"
    assert template_of_record(school, Rec()).id == "questions"


# ---- the topic grid (seed 001 App. 2) and the agenda checklist (seed 003 App. 1, seed 004 §8) ----------------------


def test_the_topic_grid_asks_discussion_decisions_who_and_when_per_topic():
    t = one_to_one_template("topic_grid")
    sections = list(dict.fromkeys(f.section for f in t.fields if f.section))
    assert sections == [
        "Education",
        "Safeguarding",
        "Wellbeing (pupils or staff)",
        "Staff development",
        "Anything else we discussed",
    ]
    edu = [f.id for f in t.fields if f.section == "Education"]
    assert edu == ["education_discussion", "education_decision", "education_who", "education_when"]
    built = _one_to_one_card(t)
    headings = [b["text"] for b in built["body"] if b.get("type") == "TextBlock" and b.get("weight") == "bolder"]
    assert all(s in headings for s in sections)


def test_a_grid_that_repeats_labels_is_refused(tmp_path):
    bad = {
        "id": "bad",
        "name": "Bad",
        "fields": [
            {
                "grid": {
                    "id": "g",
                    "rows": [{"id": "a", "label": "A"}, {"id": "b", "label": "A"}],
                    "columns": [{"id": "x", "label": "x"}],
                }
            }
        ],
    }
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(bad))
    from bot.records.templates import load_template_file

    with pytest.raises(TemplateError, match="labels must be unique"):
        load_template_file(path)


@pytest.mark.parametrize("name", ["questions", "guided"])
def test_the_agenda_checklist_is_ticked_recorded_and_read_back(name):
    t = one_to_one_template(name)
    agenda = t.field("agenda")
    assert agenda.kind == "checklist" and len(agenda.options) == 8
    first, second = agenda.options[0].id, agenda.options[1].id
    errors: dict[str, str] = {}
    answers = parse_answers(t, {agenda.input_id: f"{second},{first}"}, errors)
    assert answers["agenda"] == f"{first},{second}"  # in the options' order
    with pytest.raises(Tampered):
        parse_answers(t, {agenda.input_id: f"{first},not_offered"}, {})
    # a draft keeps every tick, never more than the card could send
    kept = draft_values(t, {agenda.input_id: ",".join(o.id for o in agenda.options) + ",x" * 500})
    assert len(kept[agenda.input_id]) <= agenda.value_limit
    content = render_targeted_docx(
        TargetedDocument(
            school_name="S",
            supervisor="A",
            supervisee="B",
            local_date=dt.date(2026, 11, 23),
            template=t,
            answers={f.id: "" for f in t.fields} | {"agenda": f"{first},{second}"},
        )
    )
    paras = [p.text for p in Document(io.BytesIO(content)).paragraphs]
    assert f"{COVERED} {agenda.options[0].label}" in paras
    assert f"{NOT_COVERED} {agenda.options[2].label}" in paras
    assert read_answers(content, t)["agenda"] == f"{first},{second}"


# ---- the employee assistance helpline (seed 001) -------------------------------------------------------------------


def test_the_helpline_is_signposted_on_the_request_and_help_cards(tmp_path):
    school = load_school(
        _school_with(
            tmp_path, employee_assistance={"name": "Staff Support Line", "phone": "0808 157 0192", "hours": "24/7"}
        )
    )
    line = helpline_text(school)
    assert "Staff Support Line (24/7): call 0808 157 0192" in line
    form = request_form(RequestFormView(draft_id="d" * 32, pool=[], colleagues=[], helpline=line))
    assert line in str(form) and validation_errors(form) == []
    help_ = help_card(school_name="S", person_name="Tom", role_names=[], commands=[], helpline=line)
    assert line in str(help_) and validation_errors(help_) == []


def test_no_helpline_is_shown_when_the_school_sets_none(tmp_path):
    assert helpline_text(load_school(_school_with(tmp_path))) is None


def test_a_helpline_needs_a_way_to_reach_it(tmp_path):
    with pytest.raises(SchoolConfigError, match="phone number or a link"):
        load_school(_school_with(tmp_path, employee_assistance={"name": "Staff Support Line"}))
    with pytest.raises(SchoolConfigError, match="https"):
        load_school(_school_with(tmp_path, employee_assistance={"name": "Line", "url": "http://x.test"}))
