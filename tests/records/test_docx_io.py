"""A finished .docx gives its memory back at once: once a record is written, read back or stamped, no python-docx
part still holds its XML waiting for the cyclic garbage collector (bot/records/docx_io.py)."""

from __future__ import annotations

import gc

import pytest
from docx import Document
from docx.opc.part import Part

from bot.records import docx_io
from bot.records.docx_writer import SignOffRow, read_answers, read_signoff, render_docx, stamp_signoff
from tests.records.test_docx import _doc


def _parts_holding_xml() -> int:
    """Parts alive in this process that still hold something (their XML, blob, relationships)."""
    return sum(1 for o in gc.get_objects() if isinstance(o, Part) and vars(o))


@pytest.fixture
def no_cyclic_gc():
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()


def test_a_document_left_to_the_garbage_collector_keeps_its_parts(no_cyclic_gc):
    # The reason for docx_io: without it a dead document's parts (and their XML) stay until a full collection.
    before = _parts_holding_xml()
    doc = Document()
    doc.add_paragraph("x")
    del doc
    assert _parts_holding_xml() > before


def test_writing_reading_and_stamping_a_record_leave_no_part_holding_xml(no_cyclic_gc):
    template = _doc().template
    before = _parts_holding_xml()
    content = render_docx(_doc())
    answers = read_answers(content, template)
    stamped = stamp_signoff(content, [SignOffRow("Attended", "Tom Hollis", "23 Nov 2026 15:10")], version=1)
    rows = read_signoff(stamped)
    assert _parts_holding_xml() == before
    # What was read is whole after the release.
    assert answers["summary"].startswith("First paragraph.") and answers["confidentiality"] == "true"
    assert rows == [SignOffRow("Attended", "Tom Hollis", "23 Nov 2026 15:10")]


def test_opened_releases_the_document_even_when_the_block_fails(no_cyclic_gc):
    content = render_docx(_doc())
    before = _parts_holding_xml()
    with pytest.raises(LookupError):
        with docx_io.opened(content) as doc:
            assert doc.paragraphs
            raise LookupError
    assert _parts_holding_xml() == before
