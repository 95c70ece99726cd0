"""The notes of a specialist group supervision session (seed 001 §3.3), as a document and as deliveries: kept by
the session's supervisor in their OneDrive and shared with each attendee, read-only — the 1:1 record's pattern
(bot/journeys/one_to_one_delivery.py), shared here so neither 1:1 module needs to change.

One upload shared with every attendee (one invitation naming them all: Graph's driveItem invite takes several
recipients), as the lifecycle's file row (its delivered hook keeps the link); each attendee's notice is chained
after it, so nobody is told before the file is there. A share that gives up holds back the notices and tells the
supervisor.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from bot.outbox import effects
from bot.outbox.api import Effect
from bot.records import docx_writer
from bot.records.lifecycle import SPECIALIST_NOTES
from bot.records.templates import RecordTemplate, one_to_one_template

TEMPLATE = "specialist_group"
FOLDER = "Supervision records"
_UNSAFE = re.compile(r"[^A-Za-z0-9 ._()&'+-]+")


def template() -> RecordTemplate:
    return one_to_one_template(TEMPLATE)


def chain(note_id: int) -> str:
    return f"{SPECIALIST_NOTES.prefix}{note_id}"


def told_key(note_id: int, staff_id: str) -> str:
    return f"{SPECIALIST_NOTES.prefix}told:{note_id}:{staff_id}"


def file_name(day: dt.date, heading: str) -> str:
    """ "2026-11-24 Specialist supervision notes.docx": safe on OneDrive and on disk (no names of people)."""
    label = unicodedata.normalize("NFKD", heading).encode("ascii", "ignore").decode()
    label = " ".join(_UNSAFE.sub("-", label).split()).strip(" .-")[:60] or "Group supervision"
    return f"{day.isoformat()} {label} notes.docx"


@dataclass(frozen=True)
class NotesDocument:
    school_name: str
    heading: str  # "Specialist supervision"
    local_date: dt.date
    time_label: str
    supervisor: str  # "Name, job title"
    attendees: list[str]  # names
    template: RecordTemplate
    answers: dict[str, str]
    recorded_at: str = ""


def render_docx(rec: NotesDocument) -> bytes:
    """The notes as a .docx: the session's facts, who was there, each question with its answer, and where the
    notes are kept."""
    doc = docx_writer._new_document(rec.school_name, title="Supervision notes", subject="Supervision")
    doc.add_heading(rec.template.name, level=0)
    facts = [
        ("School", rec.school_name),
        ("Session", f"{rec.heading} (a group discussion)"),
        ("Date", docx_writer._date_label(rec.local_date)),
        ("Time", rec.time_label),
        ("Supervisor", rec.supervisor),
        ("Attendees", ", ".join(rec.attendees) or "—"),
    ]
    if rec.recorded_at:
        facts.append(("Written up", rec.recorded_at))
    docx_writer._facts_table(doc, facts)
    docx_writer._answers_section(doc, rec.template, rec.answers)
    docx_writer._footer(
        doc,
        "Confidential: specialist group supervision. Kept by the supervisor and shared with the attendees only; "
        "not stored centrally. Decisions about a child belong on that child's record in the school's "
        "safeguarding system.",
    )
    return docx_writer._bytes(doc)


def deliveries(
    note_id: int, name: str, content: bytes, *, owner_id: str, attendees: list[str], notice_for
) -> list[Effect]:
    """The outbox rows that deliver the notes: one upload to the owner's OneDrive shared with every attendee (one
    invitation naming them all), then each attendee's notice (`notice_for(id)` builds their card), chained after
    it so nobody is told before the file is there."""
    rows = [
        effects.personal_share(
            name,
            content,
            owner_id=owner_id,
            share_with_ids=attendees,
            key=SPECIALIST_NOTES.file_key(note_id),
            folder=FOLDER,
            chain=chain(note_id),
            note_id=note_id,
        )
    ]
    rows += [
        effects.notify(
            sid, notice_for(sid), key=told_key(note_id, sid), chain=chain(note_id), ref=f"specnotes:{note_id}"
        )
        for sid in attendees
    ]
    return rows
