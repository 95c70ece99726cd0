"""Record templates are data: YAML files a school chooses with `school.record_template` in its config.

A template lists the fields of the group record card and of the .docx (in order), and whether the record carries
actions for the DSL meeting. Built-in templates live next to this module (templates/<id>.yaml); a school may
instead point `record_template` at its own YAML file (a path, relative to the school config's folder).

The loader validates everything a card and a document depend on, so a bad template fails at start-up with a
message naming the file and the field, never half-way through a DSL's record.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

BUILTIN_DIR = Path(__file__).resolve().parent / "templates"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,40}$")

#: Maximum characters of free text a template may ask for in total. Keeps a fully filled record card (a draft
#: re-opened with every field at its limit, 60 attendees ticked) under Teams' 28 KB card limit.
NARRATIVE_BUDGET_CHARS = 10_000
MAX_FIELDS = 32
MAX_OPTIONS = 12
MAX_ACTION_ITEMS = 8
ACTION_TEXT_MAX = 140


class TemplateError(Exception):
    """A record template cannot be used; the message names the file and the field."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def require_unique(what: str, values: list[str], sep: str = ", ") -> None:
    """ValueError naming the repeated values (ids, labels) of a template or pack, if any."""
    repeated = sorted({v for v in values if values.count(v) > 1})
    if repeated:
        raise ValueError(f"{what} must be unique; repeated: {sep.join(repeated)}")


def template_error(path: Path, exc: ValidationError) -> TemplateError:
    """A template's or pack's validation errors as one TemplateError, each line naming the file and the field."""
    return TemplateError(
        "\n".join(f"{path}: {'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}" for e in exc.errors())
    )


FieldKind = Literal["text", "multiline", "date", "confirm", "checklist"]


class OptionDef(_Model):
    """One item of a `checklist` field (e.g. an agenda item every session must cover)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,30}$")
    label: str = Field(min_length=1, max_length=160)


class FieldDef(_Model):
    """One question on the record. `confirm` is a tick box ("we agreed …"); `date` is a calendar date;
    `checklist` is a list of items to tick (the answer is the ticked ids, comma-separated, in the options' order).
    `section` is the heading the field sits under on the card and in the document (a grid row's topic)."""

    id: str
    label: str = Field(min_length=1, max_length=240)
    help: str | None = Field(None, max_length=300)
    kind: FieldKind = "multiline"
    required: bool = False
    max_length: int | None = Field(None, ge=1, le=4000)
    section: str | None = Field(None, max_length=160)
    options: tuple[OptionDef, ...] = ()

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not re.match(r"^[a-z][a-z0-9_]{0,30}$", v):
            raise ValueError("use lower-case letters, digits and _ (start with a letter, at most 31 characters)")
        return v

    @model_validator(mode="before")
    @classmethod
    def _default_limit(cls, data):
        if (
            isinstance(data, dict)
            and data.get("max_length") is None
            and data.get("kind", "multiline") in ("text", "multiline")
        ):
            data = dict(data, max_length=200 if data.get("kind") == "text" else 1000)
        return data

    @model_validator(mode="after")
    def _limits(self):
        if self.kind == "text" and self.max_length and self.max_length > 500:
            raise ValueError("a one-line text field holds at most 500 characters; use kind: multiline")
        if self.kind in ("date", "confirm", "checklist") and self.max_length is not None:
            raise ValueError(f"max_length does not apply to a {self.kind} field")
        if self.kind == "checklist":
            ids = [o.id for o in self.options]
            if not 2 <= len(ids) <= MAX_OPTIONS:
                raise ValueError(f"a checklist needs between 2 and {MAX_OPTIONS} options")
            if len(set(ids)) != len(ids):
                raise ValueError("a checklist's option ids must be unique")
        elif self.options:
            raise ValueError(f"options apply only to a checklist field, not to a {self.kind} field")
        return self

    @property
    def input_id(self) -> str:
        return f"f_{self.id}"

    @property
    def value_limit(self) -> int:
        """The longest answer a card may send for this field (a draft keeps no more)."""
        if self.kind == "checklist":
            return sum(len(o.id) + 1 for o in self.options)
        return self.max_length or 20

    def option_label(self, option_id: str) -> str | None:
        return next((o.label for o in self.options if o.id == option_id), None)


class GridColumn(_Model):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,14}$")
    label: str = Field(min_length=1, max_length=80)
    kind: Literal["text", "multiline"] = "multiline"
    max_length: int = Field(300, ge=1, le=1000)


class GridRow(_Model):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,14}$")
    label: str = Field(min_length=1, max_length=120)
    help: str | None = Field(None, max_length=300)


class GridDef(_Model):
    """A grid of questions (seed 001 Appendix 2: per topic, the discussion, decisions and action, who, timescale).
    It stands for one field per row and column (`<row>_<column>`), each under its row's heading, so a grid is
    answered, drafted, checked and read back exactly like the template's other fields."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,14}$")
    label: str | None = Field(None, max_length=240)
    rows: list[GridRow] = Field(min_length=1, max_length=8)
    columns: list[GridColumn] = Field(min_length=1, max_length=4)

    def fields(self) -> list[dict]:
        out = []
        for r in self.rows:
            for i, c in enumerate(self.columns):
                out.append(
                    {
                        "id": f"{r.id}_{c.id}",
                        "label": f"{r.label}: {c.label}",
                        "kind": c.kind,
                        "max_length": c.max_length,
                        "section": r.label,
                        "help": r.help if i == 0 else None,
                    }
                )
        return out


class ActionsDef(_Model):
    enabled: bool = True
    max_items: int = Field(5, ge=1, le=MAX_ACTION_ITEMS)
    label: str = Field("Actions to bring to the DSL meeting", max_length=200)
    help: str | None = Field(None, max_length=300)


class RecordTemplate(_Model):
    id: str
    name: str = Field(min_length=1, max_length=120)
    description: str = Field("", max_length=300)
    source: str = Field("", max_length=200)  # which policy the fields trace to
    fields: list[FieldDef] = Field(min_length=1, max_length=MAX_FIELDS)
    actions: ActionsDef = Field(default_factory=ActionsDef)

    @model_validator(mode="before")
    @classmethod
    def _expand_grids(cls, data):
        """`- grid: {...}` entries in `fields` become their fields (GridDef.fields), in place."""
        if not isinstance(data, dict) or not isinstance(data.get("fields"), list):
            return data
        if not any(isinstance(f, dict) and "grid" in f for f in data["fields"]):
            return data
        out: list = []
        for f in data["fields"]:
            if isinstance(f, dict) and "grid" in f:
                if len(f) != 1:
                    raise ValueError("a grid entry holds only `grid:` (its rows and columns go inside it)")
                out += GridDef.model_validate(f["grid"]).fields()
            else:
                out.append(f)
        return dict(data, fields=out)

    @model_validator(mode="after")
    def _consistent(self):
        require_unique("field ids", [f.id for f in self.fields])
        # the document is read back by label (docx_writer.read_answers)
        require_unique("field labels", [f.label for f in self.fields], "; ")
        if not any(f.kind in ("text", "multiline") for f in self.fields):
            raise ValueError("a record needs at least one text field")
        total = self.narrative_chars
        if total > NARRATIVE_BUDGET_CHARS:
            raise ValueError(
                f"the fields allow {total} characters in total; the most a record card can carry is "
                f"{NARRATIVE_BUDGET_CHARS} (lower some max_length values)"
            )
        return self

    @property
    def narrative_chars(self) -> int:
        chars = sum(f.max_length or 0 for f in self.fields)
        if self.actions.enabled:
            chars += self.actions.max_items * ACTION_TEXT_MAX
        return chars

    def field(self, field_id: str) -> FieldDef | None:
        return next((f for f in self.fields if f.id == field_id), None)


def builtin_templates() -> list[str]:
    """Ids of the templates shipped with the bot."""
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.yaml"))


def template_path(name: str, *, base_dir: Path | None = None) -> Path:
    """Where `name` (a built-in id, or a path to a school's own YAML) lives."""
    if _NAME.match(name):
        return BUILTIN_DIR / f"{name}.yaml"
    p = Path(name)
    if not p.is_absolute() and base_dir is not None:
        p = base_dir / p
    return p


def load_template_file(path: Path) -> RecordTemplate:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        known = ", ".join(builtin_templates())
        raise TemplateError(f"{path}: record template not found (built-in templates: {known})") from None
    except yaml.YAMLError as exc:
        raise TemplateError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise TemplateError(f"{path}: expected a mapping with id, name, fields and actions")
    try:
        return RecordTemplate.model_validate(raw)
    except ValidationError as exc:
        raise template_error(path, exc) from None


@lru_cache(maxsize=32)
def _cached(path: str, mtime: float) -> RecordTemplate:
    return load_template_file(Path(path))


def load_template(name: str, *, base_dir: Path | None = None) -> RecordTemplate:
    """The template a school named in its config (cached until the file changes)."""
    path = template_path(name, base_dir=base_dir)
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        return load_template_file(path)  # raises TemplateError with the list of built-ins
    return _cached(str(path), mtime)


def school_template(school) -> RecordTemplate:
    """The group record template of a loaded school config (`bot.school.School`): its own `record_template`, or
    its policy pack's (bot/records/packs.py)."""
    from bot.records.packs import group_template_name

    base = school.path.parent if getattr(school, "path", None) else None
    return load_template(group_template_name(school), base_dir=base)


#: 1:1 (targeted) record templates live apart from the group ones, so a school can't pick one for group records.
ONE_TO_ONE_DIR = BUILTIN_DIR / "one_to_one"


def one_to_one_template(name: str = "default") -> RecordTemplate:
    """The 1:1 supervision record template (seed 001 Appendix 2, seed 002 Appendix 2, seed 003 Appendix 2)."""
    if not _NAME.match(name):
        raise TemplateError(f"{name!r}: not a 1:1 record template name")
    path = ONE_TO_ONE_DIR / f"{name}.yaml"
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        raise TemplateError(f"{path}: 1:1 record template not found") from None
    return _cached(str(path), mtime)


def one_to_one_templates() -> list[str]:
    """File names of the built-in 1:1 templates (what a pack or `one_to_one_template` may name)."""
    return sorted(p.stem for p in ONE_TO_ONE_DIR.glob("*.yaml"))


def one_to_one_by_id(template_id: str) -> RecordTemplate | None:
    """The built-in 1:1 template whose `id` a stored record names (records keep the id, not the file name)."""
    for name in one_to_one_templates():
        t = one_to_one_template(name)
        if t.id == template_id:
            return t
    return None
