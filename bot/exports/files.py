"""The export files, built from plain view models (pure: no I/O, no clock).

- CSV: UTF-8 with a byte-order mark, so Excel shows names with accents correctly; one table per file.
- .xlsx (openpyxl): one sheet per table, a native bar chart of attendance by group on the summary sheet (drawn by
  the spreadsheet program itself, so no image library is needed).
- .docx (python-docx): the governors' one-page summary. Its charts are tables of bars (block characters in a
  coloured run): pygal could draw them, but only as SVG — its PNG output needs cairosvg and the system cairo
  library, which the App Service image does not promise — and Word viewers differ on SVG.

Cells that start with = + - @ (or a tab / carriage return) are written as text with a leading apostrophe, so a
name or id can never become a spreadsheet formula (CSV/formula injection).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

REGISTER_HEADER = ("Name", "Staff id", "Staff group", "Job title", "Status", "Session date", "Session", "Facilitator")
SUMMARY_HEADER = ("Group", "Due", "Attended", "Still to attend", "Missed", "Exempt", "Attended %")
AUDIT_HEADER = ("When (school time)", "Who", "Staff id", "Action", "What", "Id")
BAR_CELLS = 20  # a full bar (100 %) is this many blocks
BAR = "\u2588"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class RegisterLine:
    name: str
    staff_id: str
    group: str
    job_title: str
    status: str  # "Attended", "Still to attend", "Missed", "Exempt (joined late)" …
    session_date: dt.date | None = None
    session: str = ""
    facilitator: str = ""


@dataclass(frozen=True)
class SummaryLine:
    group: str
    due: int
    attended: int
    outstanding: int
    missed: int
    exempt: int
    percent: float | None


@dataclass(frozen=True)
class AuditLine:
    when: str
    who: str
    staff_id: str
    action: str
    what: str
    object_id: str


@dataclass(frozen=True)
class Bar:
    label: str
    percent: float | None  # None: not shown (too few people, or not started)
    note: str = ""  # e.g. "fewer than 5 due", "not started"


@dataclass(frozen=True)
class GovernorsView:
    school_name: str
    half_term: str  # "Autumn 2 2026-27"
    dates: str  # "2 Nov 2026 – 18 Dec 2026"
    generated: str  # "2 Dec 2026, 09:00"
    threshold: int
    figures: tuple[tuple[str, str], ...]  # (label, protected value)
    by_group: tuple[Bar, ...]
    trend: tuple[Bar, ...]  # whole school, each half term of the year so far
    mop_up: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExportData:
    school_name: str
    label: str  # "2026-27 Autumn 2": the half term's label everywhere in the bot
    generated: str
    register: tuple[RegisterLine, ...] = ()
    summary: tuple[SummaryLine, ...] = ()  # the groups, then "Whole school"
    audit: tuple[AuditLine, ...] = ()
    summary_facts: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # deadline, mop-up week …


def safe(value: object) -> object:
    """A cell value that a spreadsheet will never run as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _percent(p: float | None) -> str:
    return "" if p is None else f"{p:.1f}"


def _register_rows(d: ExportData) -> list[tuple]:
    return [
        (
            r.name,
            r.staff_id,
            r.group,
            r.job_title,
            r.status,
            r.session_date.isoformat() if r.session_date else "",
            r.session,
            r.facilitator,
        )
        for r in d.register
    ]


def _summary_rows(d: ExportData) -> list[tuple]:
    return [(s.group, s.due, s.attended, s.outstanding, s.missed, s.exempt, _percent(s.percent)) for s in d.summary]


def _audit_rows(d: ExportData) -> list[tuple]:
    return [(a.when, a.who, a.staff_id, a.action, a.what, a.object_id) for a in d.audit]


def _csv(header: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(header)
    for row in rows:
        w.writerow([safe(v) for v in row])
    return out.getvalue().encode("utf-8-sig")


def register_csv(d: ExportData) -> bytes:
    return _csv(REGISTER_HEADER, _register_rows(d))


def summary_csv(d: ExportData) -> bytes:
    return _csv(SUMMARY_HEADER, _summary_rows(d))


def audit_csv(d: ExportData) -> bytes:
    return _csv(AUDIT_HEADER, _audit_rows(d))


# ---- .xlsx ---------------------------------------------------------------------------------------------------
# openpyxl (~18 MB) and python-docx are imported when an export is made, not at the bot's start-up (bench/load.py).
def _sheet(wb, title: str, intro: Sequence[tuple[str, str]], header: Sequence[str], rows: list[tuple]):
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    head, head_fill = Font(bold=True), PatternFill("solid", fgColor="E8E8F6")
    ws = wb.create_sheet(title)
    for label, value in intro:
        ws.append([safe(label), safe(value)])
        ws.cell(ws.max_row, 1).font = head
    if intro:
        ws.append([])
    ws.append(list(header))
    head_row = ws.max_row
    for c in range(1, len(header) + 1):
        ws.cell(head_row, c).font = head
        ws.cell(head_row, c).fill = head_fill
    for row in rows:
        ws.append([safe(v) for v in row])
    ws.freeze_panes = ws.cell(head_row + 1, 1)
    for c, name in enumerate(header, start=1):
        width = max([len(str(name))] + [len(str(r[c - 1])) for r in rows[:500]])
        ws.column_dimensions[get_column_letter(c)].width = min(60, width + 2)
    return ws, head_row


def workbook(d: ExportData, *, register: bool, summary: bool, audit: bool) -> bytes:
    """The inspection workbook: the sheets asked for, each a table with its header row frozen."""
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, Reference

    wb = Workbook()
    wb.remove(wb.active)
    intro = (("School", d.school_name), ("Half term", d.label), ("Exported", d.generated))
    if summary:
        rows = [
            (s.group, s.due, s.attended, s.outstanding, s.missed, s.exempt, s.percent) for s in d.summary
        ]  # numbers as numbers here, so the chart and any formula work
        ws, head = _sheet(wb, "Compliance summary", intro + d.summary_facts, SUMMARY_HEADER, rows)
        groups = [s for s in d.summary if s.group != "Whole school"]
        if groups:
            chart = BarChart()
            chart.type = "bar"
            chart.title = "Attended % by group"
            chart.y_axis.scaling.min, chart.y_axis.scaling.max = 0, 100
            chart.legend = None
            data = Reference(ws, min_col=7, min_row=head, max_row=head + len(groups))
            cats = Reference(ws, min_col=1, min_row=head + 1, max_row=head + len(groups))
            chart.add_data(data, titles_from_data=True)
            chart.set_categories(cats)
            chart.height, chart.width = max(6.0, 0.8 * len(groups)), 16.0
            ws.add_chart(chart, f"I{head}")
    if register:
        _sheet(wb, "Attendance register", intro, REGISTER_HEADER, _register_rows(d))
    if audit:
        _sheet(wb, "Audit trail", intro, AUDIT_HEADER, _audit_rows(d))
    wb.properties.title = f"Supervision export – {d.label}"
    wb.properties.creator = d.school_name
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# ---- the governors' .docx -----------------------------------------------------------------------------------
def _bars(doc, title: str, bars: Sequence[Bar]) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt, RGBColor

    bar_colour, empty_colour = RGBColor(0x5B, 0x5F, 0xC7), RGBColor(0xE1, 0xE1, 0xE1)
    doc.add_heading(title, level=2)
    table = doc.add_table(rows=0, cols=3)
    table.style = "Table Grid"
    for b in bars:
        cells = table.add_row().cells
        cells[0].text = b.label
        p = cells[1].paragraphs[0]
        if b.percent is None:
            run = p.add_run(b.note or "not shown")
            run.italic = True
        else:
            full = round(BAR_CELLS * max(0.0, min(100.0, b.percent)) / 100)
            run = p.add_run(BAR * full)
            run.font.color.rgb = bar_colour
            rest = p.add_run(BAR * (BAR_CELLS - full))
            rest.font.color.rgb = empty_colour
        cells[2].text = "" if b.percent is None else f"{b.percent:.0f}%"
        cells[2].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
        for c in cells:
            for par in c.paragraphs:
                par.paragraph_format.space_after = Pt(0)
                for r in par.runs:
                    r.font.size = Pt(9)
    widths = (Cm(5.5), Cm(9.0), Cm(2.0))
    for row in table.rows:
        for cell, w in zip(row.cells, widths, strict=True):
            cell.width = w


def governors_docx(v: GovernorsView) -> bytes:
    """One page: the half term's figures, attendance by group and the year's trend as bar tables, the mop-up
    session, and how small numbers are protected. Figures only: no names anywhere."""
    from docx import Document
    from docx.shared import Cm, Pt

    doc = Document()
    for section in doc.sections:
        section.top_margin = section.bottom_margin = Cm(1.6)
        section.left_margin = section.right_margin = Cm(1.8)
    style = doc.styles["Normal"]
    style.font.name = "Calibri"
    style.font.size = Pt(10)
    props = doc.core_properties
    props.title, props.subject, props.author = "Group supervision summary", "Governors' summary", v.school_name
    props.comments, props.keywords = "", ""
    doc.add_heading("Group safeguarding supervision: governors' summary", level=1)
    intro = doc.add_paragraph()
    intro.add_run(f"{v.school_name} · {v.half_term} ({v.dates})").bold = True
    intro.add_run(f"\nPrepared {v.generated}. Figures only; no person is named.")
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for label, value in v.figures:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = label, value
    _bars(doc, "Attendance by group this half term", v.by_group)
    _bars(doc, "Whole-school attendance, half term by half term", v.trend)
    doc.add_heading("Mop-up session", level=2)
    doc.add_paragraph(v.mop_up)
    notes = doc.add_paragraph()
    for n in (
        f"Counts below {v.threshold} are shown as \u201cfewer than {v.threshold}\u201d, and groups with fewer than "
        f"{v.threshold} people due are shown together (or not at all), so no figure points at one person.",
        *v.notes,
    ):
        r = notes.add_run(n + "\n")
        r.font.size = Pt(8)
        r.italic = True
    from bot.records import docx_io

    return docx_io.save(doc)  # released at once: its XML is memory the garbage collector cannot see
