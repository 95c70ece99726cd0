"""School config: a YAML file validated with pydantic; errors name the file and the field."""

from __future__ import annotations

import datetime as dt
import enum
import re
from functools import cached_property
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

# libyaml's safe loader where PyYAML was built with it (faster on a large roster); the same safe subset.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class SchoolConfigError(Exception):
    """The school config cannot be used; the message names the file and the field."""


class Role(str, enum.Enum):
    DSL = "dsl"  # DSL team: facilitates group supervision, keeps group records (seed 001 SOP §2)
    ALLOCATOR = "allocator"  # allocates a supervisor to each request (seed 001 §3.2: the co-heads)
    SUPERVISOR = "supervisor"  # trained supervisor pool (seed 001 §3.2)
    GOVERNOR = "governor"  # safeguarding governor: sees the compliance picture, no records (seed 004 §4)
    PASTORAL_LEAD = "pastoral_lead"  # pastoral leaders and ELSAs: DSL-style supervision where the policy says so (003)


class GroupKind(str, enum.Enum):
    CLASS = "class"  # class-based staff attend their class group session (seed 001 §3.1)
    NON_CLASS = "non_class"  # small groups for staff outside classroom teams (nurses, admin, SMT)


_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SchoolDay(_Model):
    start: dt.time
    end: dt.time

    @field_validator("start", "end", mode="before")
    @classmethod
    def _hhmm(cls, v):
        if isinstance(v, str) and not _HHMM.match(v):
            raise ValueError("use 24-hour HH:MM, e.g. 08:30")
        return v

    @model_validator(mode="after")
    def _order(self):
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class Reminders(_Model):
    school_days_before_deadline: list[int] = Field(default_factory=lambda: [10, 3])
    send_at: dt.time = dt.time(9, 0)

    @field_validator("school_days_before_deadline")
    @classmethod
    def _positive(cls, v):
        if any(d < 1 for d in v):
            raise ValueError("each reminder point is a whole number of school days, 1 or more")
        return sorted(set(v), reverse=True)


class Retention(_Model):
    """How long the bot keeps what it holds (bot/store/datamap.py; the daily job in bot/store/retention.py)."""

    abandoned_draft_days: int = Field(30, ge=1, le=3650)  # a draft untouched this long is deleted
    dead_letter_grace_days: int = Field(30, ge=1, le=365)  # a dead outbox row's payload is kept for a retry
    audit_days: int = Field(2555, ge=365, le=9125)  # the audit trail (default 7 years; inspection)


class SafeguardingChannel(_Model):
    team_id: str
    channel_name: str = "Safeguarding"
    channel_id: str | None = None


def _https_link(v: str) -> str:
    if not re.match(r"^https://[^\s/]+\S*$", v):
        raise ValueError("must be an https:// link")
    return v


#: A link a card opens: https only, no spaces.
HttpsLink = Annotated[str, AfterValidator(_https_link)]


class SafeguardingSystem(_Model):
    """Where the school records concerns about children (seed 002: CPOMS; seed 003: My Concern). A concern typed
    into the chat is answered by pointing there and to the DSL team, never kept."""

    name: str = Field("your school's safeguarding system", min_length=1, max_length=80)
    url: HttpsLink | None = None


class EmployeeAssistance(_Model):
    """The school's employee assistance programme (seed 001: a confidential helpline, day and night), signposted on
    the request and help cards. Only what the school publishes to its staff: a name, a phone number, a link."""

    name: str = Field(min_length=2, max_length=80)
    phone: str | None = Field(None, pattern=r"^\+?[0-9][0-9 ()-]{5,24}$")
    url: HttpsLink | None = None
    hours: str | None = Field(None, max_length=60)

    @model_validator(mode="after")
    def _reachable(self):
        if not self.phone and not self.url:
            raise ValueError("give a phone number or a link (or both), so staff can reach the helpline")
        return self


#: A school's key in a trust (and on every row it owns): lower-case letters, digits and hyphens.
KEY_PATTERN = r"^[a-z0-9][a-z0-9-]{0,39}$"


class SchoolSettings(_Model):
    name: str
    # The school's key on its rows (bot/store/tenancy.py). A school on its own may leave it out ("school"); in a
    # trust the trust file gives it. Never change it once rows exist: they would belong to nobody.
    key: str | None = Field(None, pattern=KEY_PATTERN)
    short_name: str | None = None
    timezone: str = "Europe/London"
    school_day: SchoolDay
    session_minutes: int = Field(60, ge=15, le=240)
    slot_horizon_school_days: int = Field(10, ge=1, le=40)
    slots_offered: int = Field(4, ge=3, le=5)
    # The policy pack (bot/records/packs.py): which group, 1:1 and DSL record templates and which agreement terms
    # the school's supervision follows. framework (seed 002, the default), integrated (001), questions (003) or
    # guided (004). record_template / one_to_one_template override the pack's group and 1:1 records.
    policy_pack: str = "framework"
    record_template: str | None = None
    one_to_one_template: str | None = None
    employee_assistance: EmployeeAssistance | None = None
    # Seed 003 App. 3 has each attendee sign the group record; seed 001 files it in the Safeguarding channel
    # without. True: every attendee is asked to confirm the group record is accurate (bot/journeys/
    # group_record_signoff.py), as the supervisee confirms a 1:1 record.
    group_record_signoff: bool = False
    allow_continue_with_current_supervisor: bool = True
    supervisor_capacity_default: int = Field(4, ge=1, le=50)
    dsl_individual_supervision: str = "half_termly"
    # Whose own supervision the policy frequency above applies to (seed 003: "all DSLs, pastoral leaders and
    # ELSAs"; seed 002: the DSL). Holders of any of these roles are supervised with the DSL record template and
    # counted in the DSL part of the compliance picture. The DSL team is always included.
    dsl_supervision_roles: frozenset[Role] = frozenset({Role.DSL})
    long_term_absence_exempts: bool = True
    reminders: Reminders = Field(default_factory=Reminders)
    retention: Retention = Field(default_factory=Retention)
    # The dashboard (issue 12): who besides the DSL team may open it, and the small-number threshold.
    senior_leaders_group: str | None = None
    small_number_threshold: int = Field(5, ge=2, le=50)
    safeguarding_channel: SafeguardingChannel
    safeguarding_system: SafeguardingSystem = Field(default_factory=SafeguardingSystem)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v):
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}") from None
        return v

    @field_validator("policy_pack")
    @classmethod
    def _pack(cls, v):
        from bot.records.packs import builtin_packs

        if v not in builtin_packs():
            raise ValueError(f"{v!r} is not a policy pack (built-in packs: {', '.join(builtin_packs())})")
        return v

    @field_validator("one_to_one_template")
    @classmethod
    def _one_to_one(cls, v):
        from bot.records.templates import one_to_one_templates

        if v is not None and v not in one_to_one_templates():
            raise ValueError(f"{v!r} is not a built-in 1:1 template ({', '.join(one_to_one_templates())})")
        return v

    @field_validator("dsl_supervision_roles")
    @classmethod
    def _with_dsl(cls, v):
        return frozenset(v) | {Role.DSL}

    @field_validator("dsl_individual_supervision")
    @classmethod
    def _freq(cls, v):
        if v not in ("half_termly", "six_weekly"):
            raise ValueError("must be half_termly (seed 002) or six_weekly (seed 003)")
        return v


class HalfTermDef(_Model):
    name: str
    start: dt.date
    end: dt.date

    @model_validator(mode="after")
    def _order(self):
        if self.end < self.start:
            raise ValueError(f"{self.name}: end {self.end} is before start {self.start}")
        return self


class Closure(_Model):
    date: dt.date
    reason: str = "School closed"


class EnrichmentWeek(_Model):
    start: dt.date
    end: dt.date
    supervisor: str


class Terms(_Model):
    academic_year: str
    half_terms: list[HalfTermDef] = Field(min_length=1)
    closures: list[Closure] = Field(default_factory=list)
    enrichment_weeks: list[EnrichmentWeek] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ordered(self):
        hts = self.half_terms
        for a, b in zip(hts, hts[1:]):
            if b.start <= a.end:
                raise ValueError(
                    f"half terms overlap or are out of order: {a.name} ends {a.end}, {b.name} starts {b.start}"
                )
        first, last = hts[0].start, hts[-1].end
        for c in self.closures:
            if not first <= c.date <= last:
                raise ValueError(f"closure {c.date} is outside the school year {first}..{last}")
        return self


class Group(_Model):
    id: str
    name: str
    kind: GroupKind


class Absence(_Model):
    from_: dt.date = Field(alias="from")
    until: dt.date | None = None
    reason: str = "long_term"


class StaffMember(_Model):
    id: str
    name: str
    email: str
    # None only for an external supervisor with no Teams account (seed 004 §5): they are reached by e-mail and
    # calendar invitation, and never act in the bot.
    aad_object_id: str | None = None
    job_title: str = ""
    # None only for a supervisor who is not on this school's staff (home_school or external below).
    group: str | None = None
    roles: frozenset[Role] = frozenset()
    # Seed 004 §5: internal supervision may be by a trained colleague "in the same school or another school of the
    # trust" (home_school: that school's key), or external by a commissioned supervisor outside the trust.
    home_school: str | None = Field(None, pattern=KEY_PATTERN)
    external: bool = False
    line_manager: str | None = None  # staff id: who may upload a record an external supervisor wrote
    supervisor_trained_on: dt.date | None = None
    supervisor_capacity: int | None = Field(None, ge=1, le=50)
    started_on: dt.date | None = None
    left_on: dt.date | None = None
    absence: Absence | None = None

    @model_validator(mode="after")
    def _trained(self):
        if Role.SUPERVISOR in self.roles and self.supervisor_trained_on is None:
            raise ValueError(f"{self.id}: a supervisor needs supervisor_trained_on (the pool is trained staff only)")
        if self.home_school and self.external:
            raise ValueError(f"{self.id}: either home_school (another school of the trust) or external, not both")
        if self.visiting:
            if self.roles != frozenset({Role.SUPERVISOR}):
                raise ValueError(
                    f"{self.id}: a supervisor from another school or outside the trust has the supervisor role only"
                )
        elif self.group is None:
            raise ValueError(f"{self.id}: group is required for a member of the school's staff")
        if self.aad_object_id is None and not self.external:
            raise ValueError(f"{self.id}: aad_object_id is required (only an external supervisor may have none)")
        return self

    @property
    def visiting(self) -> bool:
        """Supervises here but is not on this school's staff (another school of the trust, or external)."""
        return bool(self.home_school) or self.external

    @property
    def supervisor_kind(self) -> str:
        """How seed 004 §5 tells supervisors apart: internal (this school), trust (another school), external."""
        return "external" if self.external else "trust" if self.home_school else "internal"

    def has(self, role: Role) -> bool:
        return role in self.roles

    def active_on(self, day: dt.date) -> bool:
        """On the staff that day: started by then (if a start date is known) and not yet gone. `left_on` is the
        last day at school, so a leaver is still on the staff on that day (seed 001: everyone on the staff
        attends; compliance counts leavers up to their last day)."""
        if self.started_on is not None and self.started_on > day:
            return False
        return self.left_on is None or self.left_on >= day

    @property
    def first_name(self) -> str:
        return self.name.split()[0]


class DirectoryGroups(_Model):
    """Optional: the Entra groups `python -m bot.roster sync` reads the roster from (object ids). Staff are the
    members of `all_staff` (nested groups count); each role group grants its role; `groups` maps a school group id to
    the Entra group whose members belong to it (a class's team, say). A role without a group here is left as the
    roster has it. See bot/roster."""

    all_staff: str
    dsl: str | None = None
    allocators: str | None = None
    supervisors: str | None = None
    governors: str | None = None
    groups: dict[str, str] = Field(default_factory=dict)
    default_group: str | None = None  # the school group for a new member of staff in none of `groups`


class SchoolFile(_Model):
    school: SchoolSettings
    terms: Terms
    groups: list[Group] = Field(min_length=1)
    staff: list[StaffMember] = Field(min_length=1)
    directory: DirectoryGroups | None = None

    @model_validator(mode="after")
    def _references(self):
        gids = [g.id for g in self.groups]
        if len(set(gids)) != len(gids):
            raise ValueError("groups: ids must be unique")
        seen: dict[str, str] = {}
        for s in self.staff:
            for key in (s.id, (s.aad_object_id or "").lower(), s.email.lower()):
                if not key:
                    continue
                if key in seen:
                    raise ValueError(f"staff: {s.id} repeats {key!r} already used by {seen[key]}")
                seen[key] = s.id
            if s.group is not None and s.group not in gids:
                raise ValueError(f"staff: {s.id} is in unknown group {s.group!r}")
            if s.line_manager is not None and s.line_manager not in {m.id for m in self.staff}:
                raise ValueError(f"staff: {s.id}: line_manager {s.line_manager!r} is not on the roster")
        ids = {s.id: s for s in self.staff}
        for w in self.terms.enrichment_weeks:
            sup = ids.get(w.supervisor)
            if sup is None or Role.SUPERVISOR not in sup.roles:
                raise ValueError(f"terms.enrichment_weeks: {w.supervisor!r} is not a trained supervisor on the roster")
        if self.directory is not None:
            for gid in [
                *self.directory.groups,
                *([self.directory.default_group] if self.directory.default_group else []),
            ]:
                if gid not in gids:
                    raise ValueError(f"directory: {gid!r} is not one of the school's groups")
        if not any(Role.DSL in s.roles for s in self.staff):
            raise ValueError("staff: nobody has the dsl role; the DSL team keeps group records")
        if not any(Role.ALLOCATOR in s.roles for s in self.staff):
            raise ValueError("staff: nobody has the allocator role; requests could not be allocated")
        return self


class School:
    """The validated school config with the look-ups the rest of the bot needs."""

    def __init__(self, data: SchoolFile, path: Path | None = None, *, key: str | None = None):
        from bot.store.tenancy import DEFAULT_SCHOOL_KEY

        self.data = data
        self.path = path
        self.settings = data.school
        # The key its rows carry: the trust file's, else the school file's own, else the one-school default.
        self.key: str = key or data.school.key or DEFAULT_SCHOOL_KEY
        self.terms = data.terms
        self.groups = {g.id: g for g in data.groups}
        self.staff = {s.id: s for s in data.staff}
        self._by_aad = {s.aad_object_id.lower(): s for s in data.staff if s.aad_object_id}
        self.roster_source: Path | None = path  # the file the staff list came from (the YAML or the synced roster)
        self._active_ids: tuple[dt.date, frozenset[str]] | None = None

    @property
    def name(self) -> str:
        return self.settings.name

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.settings.timezone)

    def by_aad(self, aad_object_id: str | None) -> StaffMember | None:
        if not aad_object_id:
            return None
        return self._by_aad.get(aad_object_id.lower())

    def with_role(self, role: Role, *, on: dt.date | None = None) -> list[StaffMember]:
        """Everyone with this role (only those on the staff on `on`, when given), in roster order."""
        return [s for s in self.data.staff if role in s.roles and (on is None or s.active_on(on))]

    def active_on(self, day: dt.date) -> list[StaffMember]:
        """Everyone on the staff on `day`, in roster order (see StaffMember.active_on). A supervisor from another
        school or outside the trust is not on this school's staff: they supervise here, they are not counted."""
        return [s for s in self.data.staff if not s.visiting and s.active_on(day)]

    def active_ids_on(self, day: dt.date) -> frozenset[str]:
        """The ids of `active_on(day)`, kept for the last day asked: every card submit checks the names it carries
        against them, and the roster of a School does not change (a synced roster is a new School)."""
        hit = self._active_ids
        if hit is None or hit[0] != day:
            hit = self._active_ids = (day, frozenset(s.id for s in self.active_on(day)))
        return hit[1]

    def group_members(self, group_id: str) -> list[StaffMember]:
        return [s for s in self.data.staff if s.group == group_id]


def roster_override_path(path: Path | str) -> Path:
    """Where `python -m bot.roster sync --apply` writes the roster read from the tenant: beside the school YAML,
    `<name>.roster.yaml`. When it exists, its `staff` list replaces the YAML's (everything else stays the YAML's)."""
    path = Path(path)
    return path.with_name(f"{path.stem}.roster.yaml")


def _read_yaml(path: Path) -> dict:
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_SafeLoader)
    except FileNotFoundError:
        raise SchoolConfigError(f"{path}: file not found") from None
    except yaml.YAMLError as exc:
        raise SchoolConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise SchoolConfigError(f"{path}: expected a mapping")
    return raw


def load_school(path: Path | str, *, roster_override: bool = True, key: str | None = None) -> School:
    """The school YAML, with the synced roster (roster_override_path) in place of its staff list when one exists.
    `roster_override=False` reads the YAML alone (what the sync compares against on its first run)."""
    path = Path(path)
    raw = _read_yaml(path)
    source = {"staff": path}
    override = roster_override_path(path)
    if roster_override and override.is_file():
        synced = _read_yaml(override)
        if not isinstance(synced.get("staff"), list):
            raise SchoolConfigError(f"{override}: expected a staff list (written by python -m bot.roster sync)")
        raw = {**raw, "staff": synced["staff"]}
        source["staff"] = override
    try:
        data = SchoolFile.model_validate(raw)
    except ValidationError as exc:
        msgs = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
            where = source.get(str(err["loc"][0]) if err["loc"] else "", path)
            msgs.append(f"{where}: {loc}: {err['msg']}")
        raise SchoolConfigError("\n".join(msgs)) from None
    school = School(data, path, key=key)
    school.roster_source = source["staff"]
    _check_templates(school, path)
    return school


def _check_templates(school: School, path: Path) -> None:
    """A school's own group template (a path beside its config) is read now, so a mistake stops the start."""
    from bot.records.packs import check_school
    from bot.records.templates import TemplateError

    try:
        check_school(school)
    except TemplateError as exc:
        raise SchoolConfigError(f"{path}: school.record_template: {exc}") from None
