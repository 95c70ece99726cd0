"""Policy packs: which record templates and which agreement terms a school's supervision follows, as data.

A pack is one YAML file in templates/packs/ naming the group record, the 1:1 record and the DSL supervision record
it uses, and the supervision agreement's contract terms with the limits of confidentiality and who holds the
record. There is one pack per policy style the product serves (our own wording of their structures):

- ``framework`` (seed 002, the default): review of actions first, the contract's arrangements and responsibilities;
- ``integrated`` (seed 001): the targeted record as a grid of topics, the integrated supervision agreement;
- ``questions`` (seed 003): the individual and group records' questions, the contract's agenda as a checklist,
  dates fixed a term ahead (the group record keeps seed 002's confidentiality confirmation);
- ``guided`` (seed 004): the guided agenda as a checklist, the summary of actions, the confidentiality table.

A school chooses its pack with ``school.policy_pack``; ``school.record_template`` and
``school.one_to_one_template`` still override the pack's group and 1:1 records (a school's own group template is a
path to its YAML). Everything is checked when the school config loads: a pack naming a template that does not exist,
or terms a card cannot carry, fails at start-up with the file and the field, never half-way through a record.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.records.templates import (
    BUILTIN_DIR,
    RecordTemplate,
    TemplateError,
    builtin_templates,
    load_template,
    one_to_one_template,
    one_to_one_templates,
    require_unique,
    template_error,
)

PACK_DIR = BUILTIN_DIR / "packs"
DEFAULT_PACK = "framework"
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,40}$")
#: Input ids the agreement card uses for itself; a term may not take one.
RESERVED_TERM_IDS = frozenset(
    {
        "ag_date",
        "ag_review",
        "ag_frequency",
        "ag_minutes",
        "ag_confidential",
        "ag_records",
        "ag_cancel",
        "ag_difficulty",
    }
)
MAX_TERMS = 14
TERMS_BUDGET_CHARS = 6_000


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TermDef(_Model):
    """One term of the supervision agreement: a text box on the agreement card, a heading in its document."""

    id: str = Field(pattern=r"^ag_[a-z][a-z0-9_]{0,30}$")
    label: str = Field(min_length=1, max_length=160)
    required: bool = False
    max_length: int = Field(300, ge=20, le=1000)
    placeholder: str = Field("", max_length=200)
    default: str = Field("", max_length=1000)

    @model_validator(mode="after")
    def _fits(self):
        if self.id in RESERVED_TERM_IDS:
            raise ValueError(f"{self.id} is used by the agreement card itself; choose another id")
        if len(self.default) > self.max_length:
            raise ValueError(f"the default is {len(self.default)} characters, over max_length {self.max_length}")
        return self


class AgreementDef(_Model):
    terms: tuple[TermDef, ...] = Field(min_length=1, max_length=MAX_TERMS)
    confidentiality_limits: str = Field(min_length=20, max_length=1200)
    record_holder: str = Field(min_length=20, max_length=600)

    @model_validator(mode="after")
    def _unique(self):
        require_unique("term ids", [t.id for t in self.terms])
        require_unique("term labels", [t.label for t in self.terms], "; ")
        total = sum(t.max_length for t in self.terms)
        if total > TERMS_BUDGET_CHARS:
            raise ValueError(f"the terms allow {total} characters; the agreement card carries {TERMS_BUDGET_CHARS}")
        return self


class PolicyPack(_Model):
    id: str
    name: str = Field(min_length=1, max_length=120)
    description: str = Field("", max_length=300)
    source: str = Field("", max_length=200)
    group_record: str
    one_to_one_record: str
    dsl_record: str
    agreement: AgreementDef

    @model_validator(mode="after")
    def _templates_exist(self):
        if self.group_record not in builtin_templates():
            raise ValueError(
                f"group_record {self.group_record!r} is not a built-in group template "
                f"({', '.join(builtin_templates())})"
            )
        for key in ("one_to_one_record", "dsl_record"):
            name = getattr(self, key)
            if name not in one_to_one_templates():
                raise ValueError(f"{key} {name!r} is not a built-in 1:1 template ({', '.join(one_to_one_templates())})")
        return self


def builtin_packs() -> list[str]:
    return sorted(p.stem for p in PACK_DIR.glob("*.yaml"))


def load_pack_file(path: Path) -> PolicyPack:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TemplateError(f"{path}: policy pack not found (built-in packs: {', '.join(builtin_packs())})") from None
    except yaml.YAMLError as exc:
        raise TemplateError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise TemplateError(f"{path}: expected a mapping with id, name, the three records and agreement")
    try:
        pack = PolicyPack.model_validate(raw)
    except ValidationError as exc:
        raise template_error(path, exc) from None
    if pack.id != path.stem:
        raise TemplateError(f"{path}: id {pack.id!r} must match the file name {path.stem!r}")
    return pack


@lru_cache(maxsize=16)
def _cached(path: str, mtime: float) -> PolicyPack:
    return load_pack_file(Path(path))


def load_pack(name: str) -> PolicyPack:
    """A built-in pack by name (cached until its file changes); TemplateError names the packs there are."""
    if not _NAME.match(name or ""):
        raise TemplateError(f"{name!r}: not a policy pack name (built-in packs: {', '.join(builtin_packs())})")
    path = PACK_DIR / f"{name}.yaml"
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        return load_pack_file(path)
    return _cached(str(path), mtime)


def school_pack(school) -> PolicyPack:
    return load_pack(getattr(school.settings, "policy_pack", None) or DEFAULT_PACK)


def group_template_name(school) -> str:
    """The group record template a school uses: its own `record_template`, else its pack's."""
    return school.settings.record_template or school_pack(school).group_record


def one_to_one_template_name(school, *, dsl: bool = False) -> str:
    """The 1:1 template file a school's 1:1 records (or, `dsl`, its DSL supervision records) are written on."""
    if dsl:
        return school_pack(school).dsl_record
    return getattr(school.settings, "one_to_one_template", None) or school_pack(school).one_to_one_record


def one_to_one_for(school, *, dsl: bool = False) -> RecordTemplate:
    return one_to_one_template(one_to_one_template_name(school, dsl=dsl))


def agreement_terms(school) -> AgreementDef:
    return school_pack(school).agreement


def check_school(school) -> None:
    """Load everything a school's pack and overrides name (start-up check; raises TemplateError)."""
    school_pack(school)
    base = school.path.parent if getattr(school, "path", None) else None
    load_template(group_template_name(school), base_dir=base)
    one_to_one_for(school)
    one_to_one_for(school, dsl=True)
