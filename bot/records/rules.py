"""Pure rules for group records: reading the record card's answers, file names, labels.

No I/O and no clock: the caller passes the school's roster view and the session date. Everything a card sends is
treated as untrusted — values a card could never have produced (a staff id that was not offered, an action id
from another record) raise `Tampered`; mistakes a person can make come back as field errors keyed by input id,
so the card can show each one beside its field.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.records.templates import ACTION_TEXT_MAX, RecordTemplate

AMEND_NOTE_MAX = 300
OTHERS_TEXT_MAX = 1000
#: Session kinds whose notes the DSL team records centrally (seed 001 §3.1 group sessions and mop-up, §3.3
#: emergency group supervision, enrichment week group session). Specialist sessions are left out: their notes
#: are kept by the supervisor, not stored centrally (seed 001 §3.3).
RECORDABLE_KINDS = ("class", "non_class", "mop_up", "emergency", "enrichment", "ad_hoc")

KIND_LABELS = {
    "class": "Class group session",
    "non_class": "Staff group session",
    "mop_up": "Mop-up session",
    "emergency": "Emergency group session",
    "enrichment": "Enrichment week group session",
    "specialist": "Specialist group session",
    "ad_hoc": "Group session (not scheduled in advance)",
}


class Tampered(ValueError):
    """The payload holds something the card never offered. The message says what, never the content."""


@dataclass(frozen=True)
class Person:
    """What the rules need to know about one member of staff."""

    id: str
    name: str
    email: str = ""


@dataclass(frozen=True)
class ActionItem:
    text: str
    owner_id: str
    due_on: dt.date
    action_id: int | None = None  # an existing action being amended


@dataclass
class RecordForm:
    attendees: list[str]
    answers: dict[str, str]
    actions: list[ActionItem]
    amend_note: str | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


# ---- small helpers ----------------------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value: Any, *, multiline: bool = True) -> str:
    """Trim, normalise line endings and Unicode, and drop control characters a document can't hold."""
    if value is None:
        return ""
    s = unicodedata.normalize("NFC", str(value)).replace("\r\n", "\n").replace("\r", "\n")
    s = _CONTROL.sub("", s)
    if not multiline:
        s = " ".join(s.split())
    return s.strip()


def split_ids(value: Any) -> list[str]:
    """A multi-select ChoiceSet sends "a,b,c"; a list is accepted too. Order kept, duplicates dropped."""
    if value is None:
        return []
    items = value if isinstance(value, list) else str(value).split(",")
    out: list[str] = []
    for item in items:
        s = str(item).strip()
        if s and s not in out:
            out.append(s)
    return out


def parse_date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return None


def parse_time(value: Any) -> dt.time | None:
    if value is None or value == "":
        return None
    m = re.match(r"^([01]?\d|2[0-3]):([0-5]\d)", str(value).strip())
    if not m:
        return None
    return dt.time(int(m.group(1)), int(m.group(2)))


def half_term_label(academic_year: str, half_term_name: str) -> str:
    """How half terms are named in the shared tables, e.g. "2026-27 Autumn 2"."""
    return f"{academic_year} {half_term_name}"


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, "Group session")


_UNSAFE = re.compile(r"[^A-Za-z0-9 ._()&'+-]+")


def record_file_name(day: dt.date, group_label: str, version: int = 1) -> str:
    """ "2026-11-23 Group supervision - Willow Class.docx"; amendments "...-v2.docx". Safe on SharePoint and disk."""
    label = unicodedata.normalize("NFKD", group_label).encode("ascii", "ignore").decode()
    label = " ".join(_UNSAFE.sub("-", label).split()).strip(" .-") or "Group"
    label = label[:80].rstrip(" .-")
    suffix = "" if version <= 1 else f"-v{version}"
    return f"{day.isoformat()} Group supervision - {label}{suffix}.docx"


# ---- the record card's answers ----------------------------------------------------------------------------------


def draft_values(template: RecordTemplate, data: Mapping[str, Any]) -> dict[str, str]:
    """The card inputs worth keeping in a draft: known keys only, each cut to its field's limit.

    Drafts are saved without validation (people save half-finished work), but never hold more than the card could.
    """
    out: dict[str, str] = {}

    def keep(key: str, limit: int, multiline: bool = True) -> None:
        v = data.get(key)
        if v is None or v == "":
            return
        if isinstance(v, list):
            v = ",".join(str(x) for x in v)
        out[key] = clean_text(v, multiline=multiline)[:limit]

    for key in ("att_group", "att_other"):
        keep(key, 20_000, multiline=False)
    keep("att_other_text", OTHERS_TEXT_MAX)
    keep("amend_note", AMEND_NOTE_MAX)
    for f in template.fields:
        keep(f.input_id, f.value_limit, multiline=f.kind == "multiline")
    if template.actions.enabled:
        for i in range(template.actions.max_items):
            keep(f"act_{i}_text", ACTION_TEXT_MAX, multiline=False)
            keep(f"act_{i}_owner", 120, multiline=False)
            keep(f"act_{i}_due", 10, multiline=False)
    return out


def resolve_names(text: str, people: Iterable[Person]) -> tuple[list[str], list[str]]:
    """Match typed names / e-mails / staff ids (comma or new-line separated) to people. → (ids, not found)."""
    by_key: dict[str, str] = {}
    for p in people:
        for key in (p.id, p.name, p.email):
            if key:
                by_key[" ".join(key.lower().split())] = p.id
    ids: list[str] = []
    missing: list[str] = []
    for part in re.split(r"[,;\n]+", text or ""):
        key = " ".join(part.lower().split())
        if not key:
            continue
        pid = by_key.get(key)
        if pid is None:
            missing.append(part.strip())
        elif pid not in ids:
            ids.append(pid)
    return ids, missing


def parse_record_form(
    template: RecordTemplate,
    data: Mapping[str, Any],
    *,
    group_ids: Iterable[str],
    others: Iterable[Person],
    owner_ids: Iterable[str],
    session_date: dt.date,
    amending: bool = False,
    action_ids: Mapping[int, int] | None = None,
) -> RecordForm:
    """Read and check a submitted record card.

    group_ids: the group roster the card offered as tick boxes; others: everyone else the card could offer;
    owner_ids: who may own an action (the DSL team); action_ids: row index → existing action id (amendments).
    Raises Tampered for values no card could send; returns field errors for everything a person could get wrong.
    """
    errors: dict[str, str] = {}
    group_set = set(group_ids)
    others_list = list(others)
    others_set = {p.id for p in others_list}
    owners = set(owner_ids)

    ticked = split_ids(data.get("att_group"))
    if any(i not in group_set for i in ticked):
        raise Tampered("attendee outside the group roster")
    extra = split_ids(data.get("att_other"))
    if any(i not in others_set and i not in group_set for i in extra):
        raise Tampered("attendee outside the school roster")
    typed = clean_text(data.get("att_other_text"))
    if len(typed) > OTHERS_TEXT_MAX:
        errors["att_other_text"] = f"That is {len(typed)} characters; the limit is {OTHERS_TEXT_MAX}."
    elif typed:
        found, missing = resolve_names(typed, others_list)
        if missing:
            errors["att_other_text"] = (
                "I couldn't find these on the staff list: "
                + ", ".join(missing[:5])
                + ". Use their full name or school e-mail."
            )
        extra += [i for i in found if i not in extra]
    attendees = ticked + [i for i in extra if i not in ticked]
    if not attendees:
        errors["att_group"] = "Add at least one person who came."

    answers = parse_answers(template, data, errors)
    actions = parse_actions(template, data, errors, owner_ids=owners, session_date=session_date, action_ids=action_ids)

    note = None
    if amending:
        note = clean_text(data.get("amend_note"))
        if not note:
            errors["amend_note"] = "Say briefly what changed, so readers of the channel know which version to trust."
        elif len(note) > AMEND_NOTE_MAX:
            errors["amend_note"] = f"That is {len(note)} characters; the limit is {AMEND_NOTE_MAX}."
    return RecordForm(attendees=attendees, answers=answers, actions=actions, amend_note=note, errors=errors)


def parse_answers(template: RecordTemplate, data: Mapping[str, Any], errors: dict[str, str]) -> dict[str, str]:
    """The template's answers from a submitted card, keyed by field id; mistakes go into `errors` by input id."""
    answers: dict[str, str] = {}
    for f in template.fields:
        raw = data.get(f.input_id)
        if f.kind == "confirm":
            val = "true" if str(raw).lower() == "true" else "false"
            if f.required and val != "true":
                errors[f.input_id] = "Please confirm this before submitting."
            answers[f.id] = val
        elif f.kind == "checklist":
            ticked = set(split_ids(raw))
            unknown = ticked - {o.id for o in f.options}
            if unknown:
                raise Tampered("checklist item the card never offered")
            if f.required and not ticked:
                errors[f.input_id] = "Tick what this session covered."
            answers[f.id] = ",".join(o.id for o in f.options if o.id in ticked)
        elif f.kind == "date":
            val = clean_text(raw, multiline=False)
            d = parse_date(val)
            if val and d is None:
                errors[f.input_id] = "Use a date like 2026-11-30."
            elif f.required and d is None:
                errors[f.input_id] = "Please choose a date."
            answers[f.id] = d.isoformat() if d else ""
        else:
            val = clean_text(raw, multiline=f.kind == "multiline")
            if f.required and not val:
                errors[f.input_id] = "Please fill this in."
            elif f.max_length and len(val) > f.max_length:
                errors[f.input_id] = f"That is {len(val)} characters; the limit is {f.max_length}."
            answers[f.id] = val
    return answers


def parse_actions(
    template: RecordTemplate,
    data: Mapping[str, Any],
    errors: dict[str, str],
    *,
    owner_ids: Iterable[str],
    session_date: dt.date,
    action_ids: Mapping[int, int] | None = None,
    owner_prompt: str = "Choose who will take this to the DSL meeting.",
    owner_scope: str = "the DSL team",
) -> list[ActionItem]:
    """The action rows of a submitted card (text, owner, due date). An owner the card never offered raises
    Tampered; a person's mistakes go into `errors` beside the row's inputs."""
    owners = set(owner_ids)
    actions: list[ActionItem] = []
    ids = dict(action_ids or {})
    if template.actions.enabled:
        for i in range(template.actions.max_items):
            text = clean_text(data.get(f"act_{i}_text"), multiline=False)
            owner = clean_text(data.get(f"act_{i}_owner"), multiline=False)
            due_raw = clean_text(data.get(f"act_{i}_due"), multiline=False)
            if owner and owner not in owners:
                raise Tampered(f"action owner outside {owner_scope}")
            if not text:
                if due_raw:
                    errors[f"act_{i}_text"] = "Say what the action is, or clear its due date."
                continue
            if len(text) > ACTION_TEXT_MAX:
                errors[f"act_{i}_text"] = f"Keep actions short: {len(text)} characters, the limit is {ACTION_TEXT_MAX}."
                continue
            if not owner:
                errors[f"act_{i}_owner"] = owner_prompt
                continue
            due = parse_date(due_raw)
            if due is None:
                errors[f"act_{i}_due"] = "Give a due date." if not due_raw else "Use a date like 2026-11-30."
                continue
            if due < session_date:
                errors[f"act_{i}_due"] = "The due date can't be before the session."
                continue
            if due > session_date + dt.timedelta(days=366):
                errors[f"act_{i}_due"] = "Choose a due date within a year of the session."
                continue
            actions.append(ActionItem(text=text, owner_id=owner, due_on=due, action_id=ids.get(i)))
    return actions


def form_values_from_record(
    template: RecordTemplate,
    *,
    attendees: Iterable[str],
    group_ids: Iterable[str],
    answers: Mapping[str, str],
    actions: Iterable[ActionItem],
) -> dict[str, str]:
    """The card values that show an existing record again (for an amendment)."""
    group_set = set(group_ids)
    att = list(attendees)
    vals: dict[str, str] = {
        "att_group": ",".join(a for a in att if a in group_set),
        "att_other": ",".join(a for a in att if a not in group_set),
    }
    for f in template.fields:
        if answers.get(f.id):
            vals[f.input_id] = answers[f.id]
    for i, a in enumerate(list(actions)[: template.actions.max_items]):
        vals[f"act_{i}_text"] = a.text
        vals[f"act_{i}_owner"] = a.owner_id
        vals[f"act_{i}_due"] = a.due_on.isoformat()
    return {k: v for k, v in vals.items() if v}
