"""A deployment's schools: one school's YAML on its own, or a trust file listing the schools of a multi-academy trust
(seed 004: one trust policy over several schools, with trust-level oversight).

A trust file::

    trust:
      name: Heron Vale Learning Trust
      leads:                           # see every school's figures, no school's record content (seed 004 §4)
        - id: trust.lead
          name: ...
          email: ...
          aad_object_id: ...
          role: trust_safeguarding_lead  # or trust_leader
    schools:
      - key: kestrel-brook             # the key its rows carry: never change it once the school has rows
        file: school.yaml              # relative to the trust file; a school YAML exactly as a school on its own
        tenant_id: ...                 # optional: the Microsoft 365 tenant, when schools are in different tenants

Each school keeps its own term dates, groups, roster, roles, Safeguarding channel and settings. Errors name the file
and the field. A school YAML from before trusts loads unchanged as a deployment of one school.
"""

from __future__ import annotations

import enum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.school.config import KEY_PATTERN, School, SchoolConfigError, _read_yaml, load_school


class TrustRole(str, enum.Enum):
    SAFEGUARDING_LEAD = "trust_safeguarding_lead"  # the trust's safeguarding lead (seed 004 §4)
    LEADER = "trust_leader"  # CEO, trust board: the figures, never the content


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TrustLead(_Model):
    id: str
    name: str
    email: str
    aad_object_id: str
    role: TrustRole = TrustRole.SAFEGUARDING_LEAD

    @property
    def first_name(self) -> str:
        return self.name.split()[0]


class TrustSettings(_Model):
    name: str = Field(min_length=1, max_length=120)
    leads: list[TrustLead] = Field(default_factory=list)
    small_number_threshold: int = Field(5, ge=2, le=50)


class SchoolEntry(_Model):
    key: str = Field(pattern=KEY_PATTERN)
    file: str
    tenant_id: str | None = None


class TrustFile(_Model):
    trust: TrustSettings
    schools: list[SchoolEntry] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self):
        keys = [s.key for s in self.schools]
        if len(set(keys)) != len(keys):
            raise ValueError("schools: each school needs its own key")
        files = [s.file for s in self.schools]
        if len(set(files)) != len(files):
            raise ValueError("schools: a school file is listed twice")
        ids = [lead.aad_object_id.lower() for lead in self.trust.leads]
        if len(set(ids)) != len(ids):
            raise ValueError("trust.leads: the same person is listed twice")
        return self


class Deployment:
    """The schools one deployment of the bot serves, in the order configured (the first is the default)."""

    def __init__(
        self,
        schools: list[School],
        *,
        trust: TrustSettings | None = None,
        path: Path | None = None,
        tenants: dict[str, str | None] | None = None,
    ):
        self.trust = trust
        self.path = path
        self.schools: dict[str, School] = {s.key: s for s in schools}
        self.tenants = dict(tenants or {})
        self._leads = {lead.aad_object_id.lower(): lead for lead in (trust.leads if trust else [])}

    @property
    def is_trust(self) -> bool:
        return self.trust is not None

    @property
    def name(self) -> str:
        return self.trust.name if self.trust else self.first.name

    @property
    def first(self) -> School:
        return next(iter(self.schools.values()))

    def school(self, key: str) -> School | None:
        return self.schools.get(key)

    def schools_of(self, aad_object_id: str | None) -> list[School]:
        """Every school whose roster has this person (staff of two schools, or a supervisor visiting one)."""
        if not aad_object_id:
            return []
        return [s for s in self.schools.values() if s.by_aad(aad_object_id) is not None]

    def school_for_team(self, team_id: str | None) -> School | None:
        """The school whose Safeguarding channel is in this team."""
        if not team_id:
            return None
        for s in self.schools.values():
            if s.settings.safeguarding_channel.team_id == team_id:
                return s
        return None

    def trust_lead(self, aad_object_id: str | None) -> TrustLead | None:
        return self._leads.get((aad_object_id or "").lower())

    def tenant_of(self, key: str) -> str | None:
        return self.tenants.get(key)


def is_trust_file(raw: dict) -> bool:
    return "schools" in raw and "school" not in raw


def load_deployment(path: Path | str, *, roster_override: bool = True) -> Deployment:
    """The deployment a config file describes: a trust file, or one school's YAML (a deployment of one)."""
    path = Path(path)
    raw = _read_yaml(path)
    if not is_trust_file(raw):
        school = load_school(path, roster_override=roster_override)
        return Deployment([school], path=path)
    try:
        data = TrustFile.model_validate(raw)
    except ValidationError as exc:
        msgs = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
            msgs.append(f"{path}: {loc}: {err['msg']}")
        raise SchoolConfigError("\n".join(msgs)) from None
    schools: list[School] = []
    problems: list[str] = []
    for i, entry in enumerate(data.schools):
        file = (path.parent / entry.file).resolve()
        try:
            school = load_school(file, roster_override=roster_override, key=entry.key)
        except SchoolConfigError as exc:
            problems.append(str(exc))
            continue
        if school.settings.key is not None and school.settings.key != entry.key:
            problems.append(
                f"{path}: schools.{i}.key: {entry.key!r} but {file.name} says school.key {school.settings.key!r}"
            )
        schools.append(school)
    teams: dict[str, str] = {}
    for school in schools:
        team = school.settings.safeguarding_channel.team_id
        if team in teams:
            problems.append(
                f"{path}: schools: {school.key} and {teams[team]} name the same Safeguarding team {team!r}; "
                "each school's records go to its own channel"
            )
        teams[team] = school.key
        for m in school.data.staff:
            if m.home_school is not None and m.home_school not in {e.key for e in data.schools}:
                problems.append(
                    f"{school.path}: staff: {m.id}: home_school {m.home_school!r} is not a school of the trust"
                )
            if m.home_school == school.key:
                problems.append(f"{school.path}: staff: {m.id}: home_school is this school; leave it out")
    if problems:
        raise SchoolConfigError("\n".join(problems))
    return Deployment(schools, trust=data.trust, path=path, tenants={e.key: e.tenant_id for e in data.schools})
