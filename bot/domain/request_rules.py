"""Rules of the targeted and specialist offers that are not about slot maths or caseload parity.

Where they come from:
* the request form's fields — seed 001 §2 "Staff Requesting Supervision" (choose a preferred supervisor from the
  trained pool), §3.2 (request → allocate → the supervisor arranges a meeting; Continuity of Support), §3.3
  (specialist support after an incident, e.g. bereavement), Appendix 2 (the record's headings: education,
  safeguarding, wellbeing, staff development, any other — used here as the "what is it about" list);
* routing — §3.2 continuity (skip allocation when the school allows it) and §3.1 enrichment weeks (requests that
  week go to the enrichment supervisor);
* how soon — seed 002 ("about an hour", supervision as needed) read as a search horizon in school days;
* changing a booked meeting — seed 003 Appendix 1 §4 (a cancellation agrees an alternative date at the time).

Pure: values come in, decisions come out; nothing reads the clock or the store.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from bot.domain.allocation import Supervisor, has_capacity
from bot.domain.calendar import TermCalendar
from bot.domain.slots import Slot

__all__ = [
    "CONTINUE",
    "DAYS",
    "KINDS",
    "NOTE_MAX",
    "NO_PREFERENCE",
    "PUPIL_CASES_MAX",
    "TIMES",
    "TOPICS",
    "URGENCIES",
    "FormResult",
    "GroupSetup",
    "RequestForm",
    "Route",
    "allocation_problem",
    "horizon_for",
    "parse_group_setup",
    "parse_manual_time",
    "parse_pool_add",
    "parse_request_form",
    "prefer_usual_times",
    "route_request",
    "split_multi",
    "time_band",
]

# ---- the form's fixed lists (codes stored; labels are ours, worded for staff) -------------------------------
KINDS: dict[str, str] = {
    "one_to_one": "1:1 supervision",
    "group": "Group supervision (with colleagues)",
    "specialist": "Specialist support after an incident (e.g. a bereavement)",
}
TOPICS: dict[str, str] = {
    "education": "Education and practice",
    "safeguarding": "Safeguarding",
    "wellbeing": "Wellbeing",
    "development": "Staff development",
    "other": "Something else",
}
URGENCIES: dict[str, str] = {
    "routine": "Routine",
    "week": "Within a week",
    "urgent": "Urgent (next school day or two)",
}
TIMES: dict[str, str] = {
    "morning": "Mornings (before 12:00)",
    "midday": "Around lunchtime (12:00–13:30)",
    "afternoon": "Afternoons (from 13:30)",
    "any": "Any time in the school day",
}
DAYS: dict[str, str] = {"mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday", "fri": "Friday"}
_DAY_INDEX = {code: i for i, code in enumerate(DAYS)}

NO_PREFERENCE = "none"
CONTINUE = "continue"
NOTE_MAX = 300
#: Open pupil cases a member of staff says they carry (seed 000 part 2: parity of caseload across teams). A count,
#: never names; optional. 200 is far above any one person's real caseload, so a larger number is a typing slip.
PUPIL_CASES_MAX = 200
MAX_COLLEAGUES = 15  # a group session checks everyone's calendar: getSchedule takes 20 people per call

_URGENT_DAYS = 2
_WEEK_DAYS = 5


def split_multi(value: object) -> list[str]:
    """A multi-select ChoiceSet arrives as "a,b,c" (Teams) or a list (other hosts); blanks dropped, order kept."""
    if value is None:
        return []
    items = value if isinstance(value, (list, tuple)) else str(value).split(",")
    out: list[str] = []
    for item in items:
        s = str(item).strip()
        if s and s not in out:
            out.append(s)
    return out


def _str(data: Mapping[str, object], key: str) -> str:
    v = data.get(key)
    if v is None:
        return ""
    if isinstance(v, (list, tuple)):
        return ",".join(str(x) for x in v)
    return str(v)


# ---- the request form --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RequestForm:
    """A valid request, as stored."""

    kind: str
    preferred_id: str | None  # a pool member, or None (no preference / continue)
    continue_current: bool
    topics: tuple[str, ...]
    urgency: str
    times: tuple[str, ...]
    days: tuple[str, ...]
    note: str | None
    colleagues: tuple[str, ...] = ()
    pupil_cases: int | None = None  # open pupil cases they carry (optional; a count, never names)


@dataclass
class FormResult:
    """What the user sent, as strings to put back in the card, the errors by field, and the form if valid."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    form: RequestForm | None = None

    @property
    def ok(self) -> bool:
        return not self.errors and self.form is not None


FORM_FIELDS = ("kind", "preferred", "topics", "urgency", "times", "days", "note", "colleagues", "pupil_cases")


def parse_pupil_cases(raw: str) -> tuple[int | None, str | None]:
    """The optional "open pupil cases" number → (value, error). Blank is no answer; anything else must be a whole
    number from 0 to PUPIL_CASES_MAX (Teams sends Input.Number as text, e.g. "12" or "12.0")."""
    raw = raw.strip()
    if not raw:
        return None, None
    problem = f"Open pupil cases is a whole number from 0 to {PUPIL_CASES_MAX} (or leave it blank)."
    if not re.fullmatch(r"[0-9]{1,4}(\.0+)?", raw):
        return None, problem
    n = int(raw.split(".")[0])
    if n > PUPIL_CASES_MAX:
        return None, problem
    return n, None


def parse_request_form(
    data: Mapping[str, object],
    *,
    requester_id: str,
    pool_ids: Collection[str],
    current_supervisor_id: str | None,
    allow_continue: bool,
    roster_ids: Collection[str],
) -> FormResult:
    """Validate a submitted request card again on the server (Teams validated first; the payload is untrusted).

    ``pool_ids``: active trained supervisors the requester may prefer (never themselves). ``current_supervisor_id``:
    their supervisor now, if any and still in the pool. Every error names the field it belongs beside.
    """
    values = {k: _str(data, k) for k in FORM_FIELDS}
    errors: dict[str, str] = {}

    kind = values["kind"].strip()
    if kind not in KINDS:
        errors["kind"] = "Choose the kind of supervision you would like."

    preferred = values["preferred"].strip() or NO_PREFERENCE
    preferred_id: str | None = None
    continue_current = False
    if preferred == CONTINUE:
        if current_supervisor_id is None:
            errors["preferred"] = "You don't have a current supervisor to continue with; choose someone from the list."
        else:
            continue_current = True
            if not allow_continue:
                preferred_id = current_supervisor_id  # the school allocates anyway; the wish becomes a preference
    elif preferred != NO_PREFERENCE:
        if preferred == requester_id:
            errors["preferred"] = "You can't be your own supervisor; choose someone else or no preference."
        elif preferred not in pool_ids:
            errors["preferred"] = "That person isn't in the trained supervisor pool now; choose again."
        else:
            preferred_id = preferred

    topics = split_multi(values["topics"])
    if not topics:
        errors["topics"] = "Choose at least one thing it is about."
    elif any(t not in TOPICS for t in topics):
        errors["topics"] = "Choose from the list."

    urgency = values["urgency"].strip()
    if urgency not in URGENCIES:
        errors["urgency"] = "Choose how soon you need it."

    times = split_multi(values["times"])
    if not times:
        errors["times"] = "Choose when you can usually meet (or any time)."
    elif any(t not in TIMES for t in times):
        errors["times"] = "Choose from the list."
    elif "any" in times:
        times = ["any"]

    days = split_multi(values["days"])
    if any(d not in DAYS for d in days):
        errors["days"] = "Choose weekdays from the list."
    elif len(days) == len(DAYS):
        days = []  # every day is the same as no restriction

    note = values["note"].strip()
    if len(note) > NOTE_MAX:
        errors["note"] = f"Please keep the note to {NOTE_MAX} characters (it has {len(note)})."
    elif "\x00" in note:
        errors["note"] = "The note contains a character I can't store; please retype it."

    colleagues = split_multi(values["colleagues"])
    if kind == "group":
        bad = [c for c in colleagues if c not in roster_ids or c == requester_id]
        if bad:
            errors["colleagues"] = "Choose colleagues from the list (not yourself)."
        elif len(colleagues) > MAX_COLLEAGUES:
            errors["colleagues"] = f"Choose up to {MAX_COLLEAGUES} colleagues; the DSL team can set up larger sessions."
    else:
        colleagues = []  # only a group request invites others; ignore stray values

    pupil_cases, problem = parse_pupil_cases(values["pupil_cases"])
    if problem:
        errors["pupil_cases"] = problem

    if errors:
        return FormResult(values, errors)
    return FormResult(
        values,
        {},
        RequestForm(
            kind=kind,
            preferred_id=preferred_id,
            continue_current=continue_current,
            topics=tuple(topics),
            urgency=urgency,
            times=tuple(times),
            days=tuple(days),
            note=note or None,
            colleagues=tuple(colleagues),
            pupil_cases=pupil_cases,
        ),
    )


# ---- routing -----------------------------------------------------------------------------------------------
class Route(str, enum.Enum):
    ALLOCATION = "allocation"  # allocators choose a supervisor (seed 001 §3.2)
    CONTINUE = "continue"  # same supervisor as now, no allocation (§3.2 Continuity of Support)
    ENRICHMENT = "enrichment"  # this week's enrichment supervisor (§3.1)


def route_request(
    form: RequestForm,
    *,
    requester_id: str,
    current_supervisor_id: str | None,
    allow_continue: bool,
    enrichment_supervisor_id: str | None,
) -> tuple[Route, str | None]:
    """Where a new request goes, and to whom when it skips allocation.

    Continuity comes first (an ongoing relationship is not broken by an enrichment week); then a request made in
    an enrichment week goes to that week's supervisor — unless the requester *is* that supervisor.
    """
    if form.continue_current and allow_continue and current_supervisor_id and current_supervisor_id != requester_id:
        return Route.CONTINUE, current_supervisor_id
    if enrichment_supervisor_id and enrichment_supervisor_id != requester_id:
        return Route.ENRICHMENT, enrichment_supervisor_id
    return Route.ALLOCATION, None


def horizon_for(urgency: str, default_school_days: int) -> int:
    """How many school days ahead to look for a time: urgent → 2, within a week → 5, routine → the school's."""
    if urgency == "urgent":
        return min(_URGENT_DAYS, default_school_days)
    if urgency == "week":
        return min(_WEEK_DAYS, default_school_days)
    return default_school_days


# ---- allocation --------------------------------------------------------------------------------------------
def allocation_problem(
    supervisor: Supervisor | None, caseload: Mapping[str, int], *, requester_id: str, already_supervises: bool
) -> str | None:
    """Why this supervisor cannot be allocated to this request (None: they can).

    Capacity is respected (max active supervisees); someone who already supervises the requester has them on
    their caseload already, so continuing with them adds nobody.
    """
    if supervisor is None:
        return "That person isn't in the trained supervisor pool."
    if supervisor.id == requester_id:
        return "Nobody can supervise themselves; choose someone else."
    if supervisor.retired:
        return f"{supervisor.name or supervisor.id} has left the supervisor pool."
    if not supervisor.available:
        return f"{supervisor.name or supervisor.id} is away at the moment."
    if already_supervises:
        return None
    if not has_capacity(supervisor, caseload):
        return (
            f"{supervisor.name or supervisor.id} is at capacity "
            f"({caseload.get(supervisor.id, 0)} of {supervisor.capacity}); choose someone else."
        )
    return None


# ---- offered times -----------------------------------------------------------------------------------------
def time_band(local_start: dt.datetime) -> str:
    """morning (before 12:00), midday (12:00–13:29) or afternoon (13:30 on), by the school's wall clock."""
    t = local_start.time()
    if t < dt.time(12, 0):
        return "morning"
    if t < dt.time(13, 30):
        return "midday"
    return "afternoon"


def prefer_usual_times(
    slots: Sequence[Slot], *, times: Iterable[str], days: Iterable[str], tz: ZoneInfo, count: int
) -> list[Slot]:
    """Up to ``count`` slots, those at the requester's usual times first, then the rest; returned in time order.

    Within each group the earliest slot of each day comes first, so the choice is spread over days.
    """
    want_times = set(times) - {"any"}
    want_days = {_DAY_INDEX[d] for d in days if d in _DAY_INDEX}

    def usual(s: Slot) -> bool:
        local = s.start.astimezone(tz)
        return (not want_times or time_band(local) in want_times) and (not want_days or local.weekday() in want_days)

    def spread(group: list[Slot]) -> list[Slot]:
        by_day: dict[dt.date, list[Slot]] = {}
        for s in sorted(group):
            by_day.setdefault(s.start.astimezone(tz).date(), []).append(s)
        out: list[Slot] = []
        rnd = 0
        while True:
            added = False
            for day in sorted(by_day):
                if rnd < len(by_day[day]):
                    out.append(by_day[day][rnd])
                    added = True
            if not added:
                return out
            rnd += 1

    preferred = [s for s in slots if usual(s)]
    rest = [s for s in slots if not usual(s)]
    chosen = (spread(preferred) + spread(rest))[:count]
    return sorted(chosen)


# ---- group / specialist set-up (DSL team) --------------------------------------------------------------------
GROUP_KINDS: dict[str, str] = {
    "specialist": "Specialist supervision (1:1 or a small group, after an incident)",
    "emergency": "Emergency group supervision",
}
LENGTHS: dict[str, str] = {"30": "30 minutes", "45": "45 minutes", "60": "1 hour", "90": "1 hour 30"}
SOON: dict[str, str] = {"urgent": "Today or the next school day", "week": "Within a week"}
MAX_GROUP = 40


@dataclass(frozen=True)
class GroupSetup:
    kind: str
    staff_ids: tuple[str, ...]
    supervisor_ids: tuple[str, ...]
    external_support: bool
    minutes: int
    soon: str


def parse_group_setup(
    data: Mapping[str, object], *, roster_ids: Collection[str], supervisor_choices: Collection[str]
) -> tuple[dict[str, str], dict[str, str], GroupSetup | None]:
    """Validate the DSL's specialist / emergency set-up card. Returns (values to re-render, errors, setup).

    Deliberately no "why" field: what happened is for the conversation, not for the store (minimum data)."""
    keys = ("kind", "staff", "supervisors", "external", "minutes", "soon")
    values = {k: _str(data, k) for k in keys}
    errors: dict[str, str] = {}
    kind = values["kind"].strip()
    if kind not in GROUP_KINDS:
        errors["kind"] = "Choose the kind of session."
    staff = split_multi(values["staff"])
    supervisors = split_multi(values["supervisors"])
    if not staff:
        errors["staff"] = "Choose the staff involved."
    elif any(s not in roster_ids for s in staff):
        errors["staff"] = "Choose staff from the list."
    elif len(staff) > MAX_GROUP:
        errors["staff"] = f"Choose up to {MAX_GROUP} people."
    if not supervisors:
        errors["supervisors"] = "Choose who will lead the session."
    elif any(s not in supervisor_choices for s in supervisors):
        errors["supervisors"] = "Choose supervisors from the list."
    elif len(supervisors) > 3:
        errors["supervisors"] = "Choose up to 3 supervisors."
    if not errors.get("staff") and not errors.get("supervisors"):
        staff = [s for s in staff if s not in supervisors]
        if not staff:
            errors["staff"] = "Choose at least one member of staff besides the supervisors."
    minutes = values["minutes"].strip() or "60"
    if minutes not in LENGTHS:
        errors["minutes"] = "Choose a length from the list."
    soon = values["soon"].strip() or "urgent"
    if soon not in SOON:
        errors["soon"] = "Choose how soon."
    external = values["external"].strip().lower() == "true"
    if errors:
        return values, errors, None
    return values, {}, GroupSetup(kind, tuple(staff), tuple(supervisors), external, int(minutes), soon)


# ---- a time typed by hand (emergency sessions, enrichment session) --------------------------------------------
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$")


def parse_manual_time(
    date_s: str,
    time_s: str,
    *,
    calendar: TermCalendar,
    day_start: dt.time,
    day_end: dt.time,
    minutes: int,
    now: dt.datetime,
) -> tuple[Slot | None, dict[str, str]]:
    """A date and start time typed on a card → a slot, if it is a school day, inside school hours and not past."""
    errors: dict[str, str] = {}
    date_s, time_s = (date_s or "").strip(), (time_s or "").strip()
    if not _DATE.match(date_s):
        errors["date"] = "Choose a date."
    if not _TIME.match(time_s):
        errors["time"] = "Choose a start time."
    if errors:
        return None, errors
    try:
        day = dt.date.fromisoformat(date_s)
    except ValueError:
        return None, {"date": "That isn't a real date."}
    at = dt.time.fromisoformat(time_s[:5])
    why = calendar.why_closed(day)
    if why:
        return None, {"date": f"{day:%d %b %Y} isn't a school day ({why})."}
    end_wall = (dt.datetime.combine(day, at) + dt.timedelta(minutes=minutes)).time()
    if at < day_start or end_wall > day_end or end_wall <= at:
        return None, {"time": f"The session must fit in the school day ({day_start:%H:%M}–{day_end:%H:%M})."}
    start = dt.datetime.combine(day, at, tzinfo=calendar.tz)
    if start.astimezone(dt.timezone.utc) <= now:
        return None, {"time": "That time has already passed."}
    return Slot(start, start + dt.timedelta(minutes=minutes)), {}


# ---- the pool (DSL) ----------------------------------------------------------------------------------------
def parse_pool_add(
    data: Mapping[str, object], *, roster_ids: Collection[str], today: dt.date
) -> tuple[dict[str, str], dict[str, str], tuple[str, dt.date, int | None] | None]:
    """Validate "add a trained supervisor": who, when they were trained (not in the future), optional capacity."""
    values = {k: _str(data, k) for k in ("staff", "trained_on", "capacity")}
    errors: dict[str, str] = {}
    staff = values["staff"].strip()
    if staff not in roster_ids:
        errors["staff"] = "Choose a member of staff from the list."
    trained: dt.date | None = None
    raw = values["trained_on"].strip()
    if not _DATE.match(raw):
        errors["trained_on"] = "Enter the date their supervision training finished."
    else:
        try:
            trained = dt.date.fromisoformat(raw)
        except ValueError:
            errors["trained_on"] = "That isn't a real date."
        else:
            if trained > today:
                errors["trained_on"] = "Only staff who have completed the training can join; the date is in the future."
    capacity: int | None = None
    cap = values["capacity"].strip()
    if cap:
        try:
            capacity = int(float(cap))
            if capacity != float(cap) or not 1 <= capacity <= 50:
                raise ValueError
        except (ValueError, OverflowError):  # "four", "2.5", "nan"; "inf" and "1e999" overflow int()
            errors["capacity"] = "Capacity is a whole number from 1 to 50 (or leave it blank for the default)."
    if errors or trained is None:
        return values, errors, None
    return values, {}, (staff, trained, capacity)
