"""Export cards (issue 12): choose a half term and what to export; "on its way"; the links once the files are in
the Safeguarding channel's files; and "not saved" if the upload gave up."""

from __future__ import annotations

from dataclasses import dataclass, field

import adaptive_cards.card as ac

from cards.base import card, choice_set, error, execute, facts, text, title

RUN = "export.run"
START = "export.start"

#: What can be exported, in the order the card offers it (value, label).
PARTS = (
    ("register", "Attendance register: who attended which session, who is still to attend (.csv and .xlsx)"),
    ("summary", "Compliance summary by group (.csv and .xlsx)"),
    ("governors", "Governors' one-page summary with charts, figures only (.docx)"),
)


@dataclass(frozen=True)
class ExportFormView:
    nonce: str
    half_terms: tuple[tuple[str, str], ...]  # (index, "Autumn 2 (2 Nov – 18 Dec)")
    selected: str  # the half term index chosen
    parts: tuple[tuple[str, str], ...]  # what this person may export
    chosen: tuple[str, ...]  # ticked
    error: str | None = None
    audit_included: bool = True  # the inspection files carry the half term's audit trail


def export_form(v: ExportFormView) -> dict:
    """The half term (the current one unless changed) and what to export; the files go to the Safeguarding
    channel's files."""
    body: list = [title("Export for governors and inspection")]
    if v.error:
        body.append(error(v.error))
    body.append(
        text(
            "The files are saved in the Safeguarding channel's files (folder Exports); I'll send you the links "
            "once they are there.",
            subtle=True,
        )
    )
    body.append(
        choice_set(
            "ht", "Half term", v.half_terms, value=v.selected, required=True, error_message="Choose a half term."
        )
    )
    body.append(
        choice_set(
            "parts",
            "What to export",
            v.parts,
            value=",".join(v.chosen) or None,
            multi=True,
            expanded=True,
            required=True,
            error_message="Choose at least one thing to export.",
        )
    )
    if v.audit_included and any(p in ("register", "summary") for p, _ in v.parts):
        body.append(
            text("The register and summary come with the half term's audit trail, for inspection.", subtle=True)
        )
    return card(body, [execute("Export", RUN, {"nonce": v.nonce})])


@dataclass(frozen=True)
class ExportQueuedView:
    half_term: str
    file_names: tuple[str, ...]
    already: bool = False  # the same form was sent twice: the first one is on its way


def queued_card(v: ExportQueuedView) -> dict:
    heading = "Export already on its way" if v.already else "Export on its way"
    body: list = [title(heading), text(f"{v.half_term}: I'm saving these to the Safeguarding channel's files.")]
    body.append(facts((f"File {i}", n) for i, n in enumerate(v.file_names, start=1)))
    body.append(text("I'll send you the links here once they are saved.", subtle=True))
    return card(body, [execute("Export something else", START)])


@dataclass(frozen=True)
class ExportFile:
    name: str
    web_url: str | None


@dataclass(frozen=True)
class ExportDoneView:
    half_term: str
    files: tuple[ExportFile, ...] = field(default_factory=tuple)
    failed: tuple[str, ...] = ()  # names that could not be saved


def done_card(v: ExportDoneView) -> dict:
    """The links back, once every file of the export is in the channel's files (or has given up)."""
    if v.files and not v.failed:
        heading, lead = "Export saved", f"{v.half_term}: saved in the Safeguarding channel's files (folder Exports)."
    elif v.files:
        heading, lead = "Export partly saved", f"{v.half_term}: some files are in the Safeguarding channel's files."
    else:
        heading, lead = "Export not saved", f"{v.half_term}: I couldn't save the export to the Safeguarding channel."
    body: list = [title(heading), text(lead)]
    links = [f for f in v.files if f.web_url]
    if links:
        body.append(ac.ActionSet(actions=[ac.ActionOpenUrl(title=f.name, url=f.web_url) for f in links]))
    for f in v.files:
        if not f.web_url:
            body.append(text(f.name, size="small"))
    if v.failed:
        body.append(
            text(
                "Not saved after several tries: " + ", ".join(v.failed) + ". They are kept and can be retried: please "
                "ask whoever looks after the bot to check the outbox.",
                color="attention",
            )
        )
    return card(body)
