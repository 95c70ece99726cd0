"""The supervision agreement as a Word document (python-docx), for the supervisor's OneDrive shared with the
supervisee — the only place its typed terms are kept (bot/records/agreement_terms.py says what they are and where
each comes from in the policies)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.records.agreement_terms import AgreementDef, default_agreement
from bot.records.docx_writer import NOT_ANSWERED, _bytes, _date_label, _facts_table, _footer, _new_document

TITLE = "Supervision agreement"


@dataclass(frozen=True)
class AgreementDocument:
    school_name: str
    supervisor: str  # "Name, job title"
    supervisee: str
    agreed_on: dt.date
    review_due: dt.date
    frequency: str  # readable
    duration: str  # readable
    terms: dict[str, str]  # term id → text
    points: list[str]  # what both ticked
    recorded_by: str
    recorded_at: str
    review: bool = False
    agreement: AgreementDef | None = None  # the school's pack's terms (None: the default pack's)


def render_agreement_docx(a: AgreementDocument) -> bytes:
    doc = _new_document(a.recorded_by, title=TITLE, subject="Supervision agreement")
    doc.add_heading(f"{TITLE} (review)" if a.review else TITLE, level=0)
    _facts_table(
        doc,
        [
            ("School", a.school_name),
            ("Supervisor", a.supervisor),
            ("Supervisee", a.supervisee),
            ("Agreed on", _date_label(a.agreed_on)),
            ("Review due by", _date_label(a.review_due)),
        ],
    )
    doc.add_heading("Practical arrangements", level=1)
    _facts_table(doc, [("How often we meet", a.frequency), ("How long a session lasts", a.duration)])
    ag = a.agreement or default_agreement()
    doc.add_heading("Terms", level=1)
    for t in ag.terms:
        doc.add_heading(t.label, level=2)
        value = (a.terms.get(t.id) or "").strip()
        for para in (value or NOT_ANSWERED).split("\n"):
            doc.add_paragraph(para)
    doc.add_heading("Confidentiality and its limits", level=1)
    doc.add_paragraph(ag.confidentiality_limits)
    doc.add_heading("Recording, and who holds the record", level=1)
    doc.add_paragraph(ag.record_holder)
    doc.add_heading("We both agree that", level=1)
    for p in a.points:
        doc.add_paragraph(p, style="List Bullet")
    doc.add_heading("Confirmed", level=1)
    doc.add_paragraph(
        f"Recorded by {a.recorded_by} on {a.recorded_at}. The other person confirms it in Teams; both "
        "confirmations and their dates are kept with the agreement's metadata."
    )
    _footer(
        doc,
        "Kept in the supervisor's OneDrive and shared with the supervisee only. Review at least once a year, or "
        "sooner if either of you asks.",
    )
    return _bytes(doc)
