"""The 1:1 record's small pure helpers (names, file names, keys, sign-off rows), shared by the 1:1 journey modules
(bot/journeys/one_to_one*.py). No I/O."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from bot.journeys.base import Services, Turn
from bot.labels import name_of, stamp
from bot.records import docx_writer
from bot.records.lifecycle import ONE_TO_ONE
from bot.store.models_targeted import DELIVERED, TargetedRecord

FORMER = "a former member of staff"


def _today(services: Services, turn: Turn) -> dt.date:
    return turn.now.astimezone(services.school.tz).date()


def _name(services: Services, staff_id: str) -> str:
    return name_of(services.school, staff_id, missing=FORMER)


def _name_and_role(services: Services, staff_id: str) -> str:
    m = services.school.staff.get(staff_id)
    return f"{m.name}, {m.job_title}".rstrip(", ") if m else FORMER


def _chain(record_id: int) -> str:
    """The outbox chain of one record: its file, then the supervisee's notice that it is there."""
    return f"{ONE_TO_ONE.prefix}{record_id}"


def told_key(record_id: int) -> str:
    return f"{ONE_TO_ONE.prefix}told:{record_id}"


_UNSAFE = re.compile(r"[^A-Za-z0-9 ._()&'+-]+")


def file_name(day: dt.date, supervisee_name: str, version: int = 1) -> str:
    """ "2026-11-23 Supervision record - Tom Hollis.docx" ("… - v2.docx" for an amendment): safe on OneDrive and
    on disk."""
    label = unicodedata.normalize("NFKD", supervisee_name).encode("ascii", "ignore").decode()
    label = " ".join(_UNSAFE.sub("-", label).split()).strip(" .-")[:80].rstrip(" .-") or "supervisee"
    return f"{day.isoformat()} Supervision record - {label}{f'-v{version}' if version > 1 else ''}.docx"


def system_of(services: Services) -> tuple[str, str | None]:
    """The school's safeguarding system (seed 002: CPOMS; seed 003: My Concern): its name and link."""
    sysinfo = services.school.settings.safeguarding_system
    return sysinfo.name, sysinfo.url


def signoff_state(services: Services, r: TargetedRecord, signed: set[str], asked: bool) -> str:
    """How far a version's sign-off has got, for the supervisor's list."""
    if {r.supervisor_id, r.supervisee_id} <= signed:
        return "signed by both"
    if asked:
        return "change asked"
    return f"waiting for {_name(services, r.supervisee_id)} to confirm" if r.status == DELIVERED else ""


def signoff_rows(services: Services, r: TargetedRecord, sigs) -> list[docx_writer.SignOffRow]:
    """The sign-off table of a 1:1 record version: the supervisor, then the supervisee."""
    when = {x.staff_id: stamp(x.signed_at, services.school.tz) for x in sigs}
    return [
        docx_writer.SignOffRow("Supervisor", _name(services, r.supervisor_id), when.get(r.supervisor_id, "")),
        docx_writer.SignOffRow("Supervisee", _name(services, r.supervisee_id), when.get(r.supervisee_id, "")),
    ]
