"""The case summary of a 1:1 record (seed 003 Appendix 4: "summary of cases discussed" — name, needs, action,
progress, file seen): an optional table on the record card, written into the .docx only. Pure rules.

A pupil is named by a reference, never by name: initials ("J.S.") or the school system's id ("CP-1043"). A full
name is refused with a clear error (two capitalised words such as "Jane Smith", a capitalised word that reads as
a first name, or anything longer than REF_MAX characters), and the card keeps everything typed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.records.rules import clean_text

MAX_ROWS = 4
REF_MAX = 12
TEXT_MAX = 200
COLUMNS = ("needs", "action", "progress")

NAME_ERROR = (
    "Use the pupil's initials or their id on the school's system, not their name (for example J.S. or CP-1043)."
)

_SPLIT = re.compile(r"[\s.,/_'\u2019-]+")


@dataclass(frozen=True)
class CaseRow:
    ref: str
    needs: str
    action: str
    progress: str
    file_seen: bool


def input_id(i: int, part: str) -> str:
    return f"cs_{i}_{part}"


def looks_like_a_name(ref: str) -> bool:
    """True for what reads as a person's name rather than initials or a system id: longer than REF_MAX, a word of
    three or more letters (other than a short capitalised code such as "CIN"), or two words of letters
    ("Jane Smith", "jo li")."""
    if len(ref) > REF_MAX:
        return True
    words = [w for w in _SPLIT.split(ref) if w]
    letters = [w for w in words if w.isalpha()]
    if any(len(w) >= 3 and not (w.isupper() and len(w) <= 3) for w in letters):
        return True
    return len([w for w in letters if len(w) >= 2 and not w.isupper()]) >= 2


def draft_values(data: Mapping[str, Any]) -> dict[str, str]:
    """The case summary inputs worth keeping (in a draft or a re-shown card), each cut to the card's limit."""
    out: dict[str, str] = {}
    for i in range(MAX_ROWS):
        for part, limit in (("ref", 40), *((c, TEXT_MAX) for c in COLUMNS)):
            v = clean_text(data.get(input_id(i, part)), multiline=part != "ref")[:limit]
            if v:
                out[input_id(i, part)] = v
        if str(data.get(input_id(i, "seen"))).lower() == "true":
            out[input_id(i, "seen")] = "true"
    return out


def parse(data: Mapping[str, Any], errors: dict[str, str]) -> list[CaseRow]:
    """The filled rows of the case summary; a person's mistakes go into `errors` by input id."""
    rows: list[CaseRow] = []
    for i in range(MAX_ROWS):
        ref = clean_text(data.get(input_id(i, "ref")), multiline=False)
        texts = {c: clean_text(data.get(input_id(i, c))) for c in COLUMNS}
        seen = str(data.get(input_id(i, "seen"))).lower() == "true"
        if not ref and not any(texts.values()):
            continue
        if not ref:
            errors[input_id(i, "ref")] = "Give the pupil's initials or system id for this row, or clear the row."
            continue
        if looks_like_a_name(ref):
            errors[input_id(i, "ref")] = NAME_ERROR
            continue
        too_long = [c for c in COLUMNS if len(texts[c]) > TEXT_MAX]
        for c in too_long:
            errors[input_id(i, c)] = f"That is {len(texts[c])} characters; the limit is {TEXT_MAX}."
        if too_long:
            continue
        rows.append(CaseRow(ref, texts["needs"], texts["action"], texts["progress"], seen))
    return rows


def form_values(rows: list[CaseRow]) -> dict[str, str]:
    """Card values that show these rows again (an amendment, read back from the document)."""
    out: dict[str, str] = {}
    for i, r in enumerate(rows[:MAX_ROWS]):
        out[input_id(i, "ref")] = r.ref
        for c in COLUMNS:
            if getattr(r, c):
                out[input_id(i, c)] = getattr(r, c)
        if r.file_seen:
            out[input_id(i, "seen")] = "true"
    return out
