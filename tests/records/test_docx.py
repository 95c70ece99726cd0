"""The .docx record: everything the policy asks for is in it (read back with python-docx), metadata is neutral,
and a record can be read back for an amendment."""

from __future__ import annotations

import datetime as dt
import io

from docx import Document

from bot.records.docx_writer import ActionRow, Attendee, RecordDocument, read_answers, render_docx
from bot.records.templates import load_template


def _doc(template="default", **kw):
    t = load_template(template)
    answers = kw.pop(
        "answers",
        {
            "summary": "First paragraph.\n\nSecond — with “quotes”.",
            "confidentiality": "true",
            "confidentiality_note": "",
        },
    )
    base = dict(
        school_name="Kestrel Brook School",
        group_label="Willow Class",
        session_kind="Class group session",
        local_date=dt.date(2026, 11, 23),
        time_label="14:00–15:00",
        half_term="2026-27 Autumn 2",
        facilitator="Amara Okafor, Designated Safeguarding Lead",
        template=t,
        answers=answers,
        attendees=[
            Attendee("Isla Brennan", "Class teacher", "Willow Class"),
            Attendee("Tom Hollis", "Teaching assistant", "Willow Class"),
        ],
        actions=[ActionRow("Check the lunchtime rota", "Amara Okafor", dt.date(2026, 12, 1))],
        recorded_by="Amara Okafor",
        recorded_at="23 Nov 2026 15:10",
    )
    base.update(kw)
    return RecordDocument(**base)


def _text(content: bytes) -> tuple[str, list[list[list[str]]]]:
    d = Document(io.BytesIO(content))
    paras = "\n".join(p.text for p in d.paragraphs)
    tables = [[[c.text for c in r.cells] for r in t.rows] for t in d.tables]
    return paras, tables


def test_record_holds_school_group_date_facilitator_attendees_answers_and_actions():
    content = render_docx(_doc())
    paras, tables = _text(content)
    facts = dict((r[0], r[1]) for r in tables[0])
    assert facts["School"] == "Kestrel Brook School" and facts["Group"] == "Willow Class"
    assert facts["Date"] == "Monday 23 November 2026" and facts["Time"] == "14:00–15:00"
    assert facts["Facilitator"].startswith("Amara Okafor") and facts["Half term"] == "2026-27 Autumn 2"
    assert tables[1] == [
        ["Name", "Role", "Staff group"],
        ["Isla Brennan", "Class teacher", "Willow Class"],
        ["Tom Hollis", "Teaching assistant", "Willow Class"],
    ]
    assert "2 attended." in paras
    assert "Summary of the discussion" in paras and "Second — with “quotes”." in paras
    assert tables[2] == [["Action", "Owner", "Due by"], ["Check the lunchtime rota", "Amara Okafor", "01 Dec 2026"]]


def test_core_properties_are_neutral():
    d = Document(io.BytesIO(render_docx(_doc())))
    assert d.core_properties.title == "Group supervision record"
    assert "lunchtime" not in (d.core_properties.subject + d.core_properties.keywords + d.core_properties.comments)


def test_amendment_says_which_version_it_replaces():
    paras, tables = _text(
        render_docx(
            _doc(version=2, previous_file="2026-11-23 Group supervision - Willow Class.docx", amend_note="Added Isla.")
        )
    )
    assert dict((r[0], r[1]) for r in tables[0])["Version"] == "2"
    assert "replaces 2026-11-23 Group supervision - Willow Class.docx, which is kept" in paras
    assert "What changed: Added Isla." in paras


def test_no_actions_is_said_plainly():
    paras, _ = _text(render_docx(_doc(actions=[])))
    assert "No actions were agreed." in paras


def test_answers_read_back_for_both_templates():
    d = _doc()
    assert read_answers(render_docx(d), d.template) == d.answers
    t = load_template("group_q11")
    answers = {f.id: "" for f in t.fields} | {
        "q1": "Well.\nTired.",
        "q11": "Yes",
        "next_session": "2027-01-11",
        "venue": "Library",
        "confidentiality": "true",
    }
    d = _doc("group_q11", answers=answers)
    assert read_answers(render_docx(d), t) == answers
