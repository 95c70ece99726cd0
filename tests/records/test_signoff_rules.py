"""Pure rules of issue 11 parts 1–3: the case summary's pupil references, escalation categories, and the .docx
sign-off table stamped in place."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from docx import Document

from bot.records import case_summary as cs
from bot.records import docx_writer as d
from bot.records import escalation as esc
from bot.records.rules import Tampered
from bot.records.templates import one_to_one_template


@pytest.mark.parametrize(
    "ref", ["Jane Smith", "jane smith", "Jane", "J Smith", "SMITH J", "Smith-Jones", "jo li", "x" * 13]
)
def test_a_name_is_not_a_pupil_reference(ref):
    assert cs.looks_like_a_name(ref)


@pytest.mark.parametrize("ref", ["J.S.", "JS", "CP-1043", "A123", "Jo", "CIN 4", "UPN 12345", "J.S. (Y4)"])
def test_initials_and_system_ids_are(ref):
    assert not cs.looks_like_a_name(ref)


def test_case_rows_are_read_with_a_clear_error_per_field():
    errors: dict[str, str] = {}
    rows = cs.parse(
        {
            "cs_0_ref": "J.S.",
            "cs_0_needs": "n",
            "cs_0_seen": "true",
            "cs_1_ref": "Jane Smith",
            "cs_1_action": "a",
            "cs_2_needs": "no reference",
            "cs_3_ref": "AB",
            "cs_3_progress": "p" * 201,
        },
        errors,
    )
    assert rows == [cs.CaseRow("J.S.", "n", "", "", True)]
    assert errors == {
        "cs_1_ref": cs.NAME_ERROR,
        "cs_2_ref": "Give the pupil's initials or system id for this row, or clear the row.",
        "cs_3_progress": "That is 201 characters; the limit is 200.",
    }
    assert cs.parse({}, {}) == []


def test_only_offered_escalation_categories_are_taken():
    assert esc.read({}) is None and esc.read({"esc_category": ""}) is None
    assert esc.read({"esc_category": "illegal"}) == "illegal"
    with pytest.raises(Tampered):
        esc.read({"esc_category": "anything else"})
    assert esc.keep({"esc_category": "nope"}) == {} and esc.keep({"esc_category": "harm"}) == {"esc_category": "harm"}


def _doc(**kw) -> bytes:
    return d.render_targeted_docx(
        d.TargetedDocument(
            "Kestrel Brook School",
            "Priya Raman, SENCo",
            "Tom Hollis, Teaching assistant",
            dt.date(2026, 11, 19),
            one_to_one_template(),
            {"discussion": "Talked."},
            **kw,
        )
    )


def test_the_signoff_table_is_stamped_in_place_and_the_rest_is_untouched():
    rows = [d.SignOffRow("Supervisor", "Priya Raman", "19 Nov 2026 15:00"), d.SignOffRow("Supervisee", "Tom Hollis")]
    first = _doc(signoff=rows, cases=[d.CaseLine("J.S.", "n", "a", "p", False)])
    assert d.read_signoff(first) == rows
    both = [rows[0], d.SignOffRow("Supervisee", "Tom Hollis", "20 Nov 2026 09:10")]
    stamped = d.stamp_signoff(first, both, version=1)
    assert d.read_signoff(stamped) == both
    assert d.read_answers(stamped, one_to_one_template())["discussion"] == "Talked."
    assert d.read_cases(stamped) == [d.CaseLine("J.S.", "n", "a", "p", False)]
    status = [p.text for p in Document(io.BytesIO(stamped)).paragraphs if p.text.startswith("Status: ")]
    assert status == [d.signoff_status(both, 1)] and "final" in status[0]
    # Stamping again with the same rows changes nothing.
    assert d.read_signoff(d.stamp_signoff(stamped, both, version=1)) == both


def test_a_document_whose_signoff_table_was_removed_by_hand_gets_one_back():
    doc = Document(io.BytesIO(_doc(signoff=[d.SignOffRow("Supervisor", "P", "x")])))
    for t in doc.tables:
        if t.rows[0].cells[0].text == "Role":
            t._tbl.getparent().remove(t._tbl)
    buf = io.BytesIO()
    doc.save(buf)
    stamped = d.stamp_signoff(buf.getvalue(), [d.SignOffRow("Supervisor", "P", "x")], version=2)
    assert d.read_signoff(stamped) == [d.SignOffRow("Supervisor", "P", "x")]
