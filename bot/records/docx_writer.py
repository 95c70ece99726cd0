"""Supervision records as Word documents (python-docx): the group record (to the Safeguarding channel's files)
and the 1:1 record (`render_targeted_docx`, to the supervisor's OneDrive, shared with the supervisee only).

Layout: title, the session facts (school, group, kind of session, date and time, half term, facilitator, version),
who attended (name, role, staff group), each template question with its answer, the actions table (action, owner,
due by), then a footer line saying where the record is kept. The document is the only place the narrative lives
once delivered (the bot keeps metadata only), so `read_answers` can read a record back for an amendment.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

from bot.records import docx_io
from bot.records.templates import RecordTemplate

TITLE = "Group safeguarding supervision record"
ATTENDEES_HEADING = "Who attended"
ACTIONS_HEADING = "Actions for the DSL meeting"
NOT_ANSWERED = "(not answered)"


@dataclass(frozen=True)
class Attendee:
    name: str
    role: str = ""
    group: str = ""


@dataclass(frozen=True)
class ActionRow:
    text: str
    owner: str
    due_on: dt.date


@dataclass(frozen=True)
class SignOffRow:
    """One line of a record's sign-off table: who, in what role, and when they confirmed it ("" = not yet)."""

    role: str  # "Supervisor", "Supervisee", "Attended"
    name: str
    signed: str = ""  # school-local, e.g. "23 Nov 2026 15:10"


@dataclass(frozen=True)
class CaseLine:
    ref: str
    needs: str
    action: str
    progress: str
    file_seen: bool


@dataclass(frozen=True)
class RecordDocument:
    school_name: str
    group_label: str
    session_kind: str  # a readable label, e.g. "Class group session"
    local_date: dt.date
    time_label: str  # e.g. "14:00–15:00"
    half_term: str
    facilitator: str  # "Name, job title"
    template: RecordTemplate
    answers: dict[str, str]
    attendees: list[Attendee]
    actions: list[ActionRow] = field(default_factory=list)
    version: int = 1
    previous_file: str | None = None
    amend_note: str | None = None
    recorded_by: str = ""
    recorded_at: str = ""  # school-local, e.g. "23 Nov 2026 15:10"
    reviewed: list[ReviewedAction] = field(default_factory=list)  # the group's earlier actions and their marks
    signoff: list[SignOffRow] | None = None  # the school asks attendees to confirm (group_record_signoff)
    escalation: str | None = None  # the category's label, if the facilitator raised one


def _date_label(d: dt.date) -> str:
    return f"{d.strftime('%A')} {d.day} {d.strftime('%B %Y')}"


def render_docx(rec: RecordDocument) -> bytes:
    """Build the .docx and return its bytes."""
    # Neutral metadata: a file list or search result shows nothing of the discussion.
    doc = _new_document(rec.school_name, title="Group supervision record", subject="Group supervision")
    doc.add_heading(TITLE, level=0)
    facts = [
        ("School", rec.school_name),
        ("Group", rec.group_label),
        ("Session", rec.session_kind),
        ("Date", _date_label(rec.local_date)),
        ("Time", rec.time_label),
        ("Half term", rec.half_term),
        ("Facilitator", rec.facilitator),
        ("Record", rec.template.name),
        ("Version", str(rec.version) if rec.version > 1 else "1 (first version)"),
    ]
    if rec.recorded_by:
        facts.append(("Recorded by", f"{rec.recorded_by}, {rec.recorded_at}".rstrip(", ")))
    _facts_table(doc, facts)

    if rec.version > 1:
        doc.add_heading("Amendment", level=1)
        doc.add_paragraph(f"This version replaces {rec.previous_file or 'the previous version'}, which is kept.")
        if rec.amend_note:
            doc.add_paragraph(f"What changed: {rec.amend_note}")

    doc.add_heading(ATTENDEES_HEADING, level=1)
    doc.add_paragraph(f"{len(rec.attendees)} attended.")
    att = doc.add_table(rows=1, cols=3)
    att.style = "Table Grid"
    for cell, head in zip(att.rows[0].cells, ("Name", "Role", "Staff group")):
        cell.text = head
        cell.paragraphs[0].runs[0].bold = True
    for a in rec.attendees:
        cells = att.add_row().cells
        cells[0].text, cells[1].text, cells[2].text = a.name, a.role, a.group

    _review_section(doc, rec.reviewed)
    _answers_section(doc, rec.template, rec.answers)
    if rec.template.actions.enabled:
        _actions_section(doc, ACTIONS_HEADING, rec.actions)
    _escalation_section(doc, rec.escalation)
    if rec.signoff is not None:
        _signoff_section(doc, rec.signoff, version=rec.version)
    _footer(
        doc,
        "Confidential: group safeguarding supervision. Kept in the school's Safeguarding channel "
        "files; earlier versions are kept alongside.",
    )
    return _bytes(doc)


# ---- the 1:1 (targeted) supervision record ------------------------------------------------------------------

TARGETED_TITLE = "1:1 supervision record"


@dataclass(frozen=True)
class TargetedDocument:
    """A 1:1 supervision record: kept by the supervisor (their OneDrive) and shared with the supervisee only."""

    school_name: str
    supervisor: str  # "Name, job title"
    supervisee: str  # "Name, job title"
    local_date: dt.date
    template: RecordTemplate
    answers: dict[str, str]
    actions: list[ActionRow] = field(default_factory=list)
    recorded_at: str = ""  # school-local, e.g. "23 Nov 2026 15:10"
    version: int = 1
    previous_file: str | None = None
    amend_note: str | None = None
    cases: list[CaseLine] = field(default_factory=list)
    escalation: str | None = None  # the category's label, if the supervisor raised one
    signoff: list[SignOffRow] = field(default_factory=list)
    reviewed: list[ReviewedAction] = field(default_factory=list)  # earlier actions and how they were marked


@dataclass(frozen=True)
class ReviewedAction:
    text: str
    owner: str
    due_on: dt.date
    outcome: str  # Done | Carried forward | Dropped


def _review_section(doc, reviewed: list[ReviewedAction]) -> None:
    """Seed 002 App. 2 item 1: "Review of agreed actions from the last meeting"."""
    if not reviewed:
        return
    doc.add_heading("Review of actions from last time", level=1)
    t = doc.add_table(rows=1, cols=4)
    t.style = "Table Grid"
    for cell, head in zip(t.rows[0].cells, ("Action", "Who", "Was due", "Outcome")):
        cell.text = head
        cell.paragraphs[0].runs[0].bold = True
    for a in reviewed:
        cells = t.add_row().cells
        cells[0].text, cells[1].text, cells[2].text, cells[3].text = (
            a.text,
            a.owner,
            a.due_on.strftime("%d %b %Y"),
            a.outcome,
        )


def render_targeted_docx(rec: TargetedDocument) -> bytes:
    """Build a 1:1 record's .docx: the people and date, each template question with its answer, the agreed
    actions with who and by when, and where the record is kept."""
    doc = _new_document(rec.school_name, title="Supervision record", subject="Supervision")
    doc.add_heading(TARGETED_TITLE, level=0)
    facts = [
        ("School", rec.school_name),
        ("Supervisor", rec.supervisor),
        ("Supervisee", rec.supervisee),
        ("Date of the session", _date_label(rec.local_date)),
        ("Record", rec.template.name),
        ("Version", str(rec.version) if rec.version > 1 else "1 (first version)"),
    ]
    if rec.recorded_at:
        facts.append(("Written up", rec.recorded_at))
    _facts_table(doc, facts)
    _review_section(doc, rec.reviewed)
    if rec.version > 1:
        doc.add_heading("Amendment", level=1)
        doc.add_paragraph(f"This version replaces {rec.previous_file or 'the previous version'}, which is kept.")
        if rec.amend_note:
            doc.add_paragraph(f"What changed: {rec.amend_note}")
    _answers_section(doc, rec.template, rec.answers)
    if rec.cases:
        _cases_section(doc, rec.cases)
    if rec.template.actions.enabled:
        _actions_section(doc, rec.template.actions.label, rec.actions, owner_head="Who")
    _escalation_section(doc, rec.escalation)
    _signoff_section(doc, rec.signoff, version=rec.version)
    _footer(
        doc,
        "Confidential: 1:1 supervision. Kept by the supervisor and shared with the supervisee only; "
        "not stored centrally. Decisions about a child belong on that child's record in the school's "
        "safeguarding system.",
    )
    return _bytes(doc)


# ---- building blocks shared by both documents ------------------------------------------------------------


def _new_document(author: str, *, title: str, subject: str):
    doc = Document()
    props = doc.core_properties
    props.title = title
    props.subject = subject
    props.author = author
    props.keywords = ""
    props.comments = ""
    normal = doc.styles["Normal"]
    normal.font.name = "Calibri"
    normal.font.size = Pt(11)
    return doc


def _facts_table(doc, facts: list[tuple[str, str]]) -> None:
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for k, v in facts:
        row = table.add_row().cells
        row[0].text = k
        row[1].text = v
        for r in row[0].paragraphs[0].runs:
            r.bold = True


#: How a checklist's items read in the document (and are read back): covered, or not covered this time.
COVERED = "Covered:"
NOT_COVERED = "Not covered this time:"


def _answers_section(doc, template: RecordTemplate, answers: dict[str, str]) -> None:
    """The "Record" section: one level-2 heading per field and its answer (what `read_answers` reads back)."""
    doc.add_heading("Record", level=1)
    for f in template.fields:
        doc.add_heading(f.label, level=2)
        value = answers.get(f.id, "")
        if f.kind == "checklist":
            ticked = set(value.split(",")) if value else set()
            for o in f.options:
                doc.add_paragraph(f"{COVERED if o.id in ticked else NOT_COVERED} {o.label}")
            continue
        if f.kind == "confirm":
            value = "Yes" if value == "true" else "No"
        elif f.kind == "date" and value:
            d = dt.date.fromisoformat(value)
            value = _date_label(d)
        if not value:
            doc.add_paragraph(NOT_ANSWERED)
            continue
        for para in value.split("\n"):
            doc.add_paragraph(para)


def _actions_section(doc, heading: str, actions: list[ActionRow], *, owner_head: str = "Owner") -> None:
    doc.add_heading(heading, level=1)
    if not actions:
        doc.add_paragraph("No actions were agreed.")
        return
    t = doc.add_table(rows=1, cols=3)
    t.style = "Table Grid"
    for cell, head in zip(t.rows[0].cells, ("Action", owner_head, "Due by")):
        cell.text = head
        cell.paragraphs[0].runs[0].bold = True
    for a in actions:
        cells = t.add_row().cells
        cells[0].text, cells[1].text, cells[2].text = a.text, a.owner, a.due_on.strftime("%d %b %Y")


CASES_HEADING = "Summary of cases discussed"
CASES_HEAD = ("Pupil (initials or id)", "Needs", "Action", "Progress", "File seen")
SIGNOFF_HEADING = "Sign-off"
SIGNOFF_HEAD = ("Role", "Name", "Confirmed accurate")
STATUS_PREFIX = "Status: "
AWAITING = "not yet"


def _cases_section(doc, cases: list[CaseLine]) -> None:
    """Seed 003 Appendix 4: the cases discussed, by reference only; each pupil's file is updated in the school's
    safeguarding system."""
    doc.add_heading(CASES_HEADING, level=1)
    t = doc.add_table(rows=1, cols=len(CASES_HEAD))
    t.style = "Table Grid"
    for cell, head in zip(t.rows[0].cells, CASES_HEAD):
        cell.text = head
        cell.paragraphs[0].runs[0].bold = True
    for c in cases:
        cells = t.add_row().cells
        for cell, value in zip(cells, (c.ref, c.needs, c.action, c.progress, "Yes" if c.file_seen else "No")):
            cell.text = value
    doc.add_paragraph("Update each pupil's file in the school's safeguarding system with what was decided.")


def _escalation_section(doc, escalation: str | None) -> None:
    if not escalation:
        return
    doc.add_heading("Escalation", level=1)
    doc.add_paragraph(
        f"Raised with the DSL team: {escalation}. The concern itself is recorded in the school's safeguarding "
        "system, not here."
    )


def signoff_status(rows: list[SignOffRow], version: int) -> str:
    if rows and all(r.signed for r in rows):
        return (
            f"{STATUS_PREFIX}version {version} confirmed by everyone above. It is final: any change makes a new "
            "version, confirmed again."
        )
    return f"{STATUS_PREFIX}version {version} is waiting for confirmation."


def _signoff_section(doc, rows: list[SignOffRow], *, version: int) -> None:
    """Who confirmed this version is accurate, and when (seed 003 "signed by both", seed 004 §5). Rewritten in
    place by `stamp_signoff` as people confirm."""
    doc.add_heading(SIGNOFF_HEADING, level=1)
    t = doc.add_table(rows=1, cols=len(SIGNOFF_HEAD))
    t.style = "Table Grid"
    for cell, head in zip(t.rows[0].cells, SIGNOFF_HEAD):
        cell.text = head
        cell.paragraphs[0].runs[0].bold = True
    _fill_signoff(t, rows)
    doc.add_paragraph(signoff_status(rows, version))


def _fill_signoff(table, rows: list[SignOffRow]) -> None:
    for extra in table.rows[1:]:
        extra._tr.getparent().remove(extra._tr)
    for r in rows:
        cells = table.add_row().cells
        cells[0].text, cells[1].text, cells[2].text = r.role, r.name, r.signed or AWAITING


def stamp_signoff(content: bytes, rows: list[SignOffRow], *, version: int) -> bytes:
    """The same document with its sign-off table (and status line) showing `rows`. A document whose table was
    removed by hand gets a new sign-off section at the end, so a confirmation is never lost."""
    doc = Document(io.BytesIO(content))
    table = next(
        (t for t in doc.tables if tuple(c.text for c in t.rows[0].cells) == SIGNOFF_HEAD),
        None,
    )
    if table is None:
        _signoff_section(doc, rows, version=version)
        return _bytes(doc)
    _fill_signoff(table, rows)
    status = next((p for p in doc.paragraphs if p.text.startswith(STATUS_PREFIX)), None)
    if status is not None:
        for run in status.runs[1:]:
            run._r.getparent().remove(run._r)
        if status.runs:
            status.runs[0].text = signoff_status(rows, version)
        else:
            status.add_run(signoff_status(rows, version))
    else:
        doc.add_paragraph(signoff_status(rows, version))
    return _bytes(doc)


def read_signoff(content: bytes) -> list[SignOffRow]:
    """The sign-off table as the document has it (tests, and a check after stamping)."""
    with docx_io.opened(content) as doc:
        for t in doc.tables:
            if tuple(c.text for c in t.rows[0].cells) == SIGNOFF_HEAD:
                return [
                    SignOffRow(r.cells[0].text, r.cells[1].text, "" if r.cells[2].text == AWAITING else r.cells[2].text)
                    for r in t.rows[1:]
                ]
    return []


def read_cases(content: bytes) -> list[CaseLine]:
    """The case summary rows of a 1:1 record this module wrote (for pre-filling an amendment)."""
    with docx_io.opened(content) as doc:
        for t in doc.tables:
            if tuple(c.text for c in t.rows[0].cells) == CASES_HEAD:
                return [
                    CaseLine(*(r.cells[i].text for i in range(4)), file_seen=r.cells[4].text == "Yes")
                    for r in t.rows[1:]
                ]
    return []


def _footer(doc, message: str) -> None:
    foot = doc.add_paragraph(message)
    foot.alignment = WD_ALIGN_PARAGRAPH.LEFT
    for r in foot.runs:
        r.italic = True
        r.font.size = Pt(9)


def _bytes(doc) -> bytes:
    """The finished document as bytes; its memory is given back at once (docx_io.release)."""
    return docx_io.save(doc)


def read_answers(content: bytes, template: RecordTemplate) -> dict[str, str]:
    """The answers in a record this module wrote, keyed by field id (for pre-filling an amendment).

    Reads the level-2 headings under "Record" (each a field label) and the paragraphs that follow them.
    Fields missing from the document (the template changed since) come back empty.
    """
    with docx_io.opened(content) as doc:
        paragraphs = [(p.style.name if p.style is not None else "", p.text) for p in doc.paragraphs]
    by_label = {f.label: f for f in template.fields}
    answers: dict[str, str] = {}
    current = None
    lines: list[str] = []

    def flush():
        if current is None:
            return
        text = "\n".join(lines).strip()
        if text == NOT_ANSWERED:
            text = ""
        if current.kind == "checklist":
            by_option = {o.label: o.id for o in current.options}
            ticked = {by_option.get(line[len(COVERED) :].strip()) for line in lines if line.startswith(COVERED)}
            text = ",".join(o.id for o in current.options if o.id in ticked)
        elif current.kind == "confirm":
            text = "true" if text == "Yes" else "false"
        elif current.kind == "date" and text:
            try:
                text = dt.datetime.strptime(text.split(" ", 1)[1], "%d %B %Y").date().isoformat()
            except (ValueError, IndexError):
                text = ""
        answers[current.id] = text

    in_record = False
    for style, value in paragraphs:
        if style == "Heading 1":
            flush()
            current, lines = None, []
            in_record = value == "Record"
            continue
        if not in_record:
            continue
        if style == "Heading 2":
            flush()
            current, lines = by_label.get(value), []
            continue
        if current is not None:
            lines.append(value)
    flush()
    return answers
