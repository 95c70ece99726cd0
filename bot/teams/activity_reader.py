"""An incoming activity (parsed JSON) to botbuilder's `Activity` model, without msrest's generic deserializer.

msrest walks its attribute maps with key-extractor functions, regular expressions and type dispatch for every
field of every nested model; for one card-submit invoke that was about a tenth of the bot's whole turn
(bench/turns.py). Here each model class gets a plan made once from the same `_attribute_map` msrest reads, and a
body is read by that plan: model fields become the same model classes, lists the same lists, `object` fields the
parsed JSON itself, ISO 8601 strings the same instant msrest's `deserialize_iso` gives, unknown keys the model's
`additional_properties` exactly as msrest's additional-properties detection collects them (an Entity's mention
text lives there).

Anything the plan does not expect — a field of the wrong JSON type, a model with a subtype map or validation rules,
an attribute type the plan has no reader for — gives up and returns msrest's own answer (`Activity().deserialize`),
so an odd body is read exactly as before and a malformed one raises msrest's DeserializationError as before.
tests/teams/test_activity_reader.py checks the two agree, field by field, on every activity the test doubles send
and on generated ones.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import botbuilder.schema as schema
from botbuilder.schema import Activity
from msrest.serialization import Deserializer

_SCALARS = {"str": str, "bool": bool, "int": int}


class _GiveUp(Exception):
    pass


# The timestamps Teams sends: `2026-11-23T10:00:00.123Z`, `…+01:00`, up to 7 fractional digits. These the standard
# library reads to the same instant msrest's isodate-based reader gives (fraction cut to microseconds, as msrest
# cuts it), in a fraction of the time; any other spelling goes to msrest's own reader.
_TEAMS_STAMP = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,7}))?(Z|[+-]\d\d:\d\d)", re.ASCII)


def _iso(v: str) -> dt.datetime:
    m = _TEAMS_STAMP.fullmatch(v)
    if m is None or v[:4] in ("0001", "9999"):  # (the first and last years: msrest's range check decides)
        return Deserializer.deserialize_iso(v)
    whole, fraction, zone = m.groups()
    micro = (fraction or "")[:6].ljust(6, "0")
    try:
        return dt.datetime.fromisoformat(f"{whole}.{micro}{'+00:00' if zone == 'Z' else zone}")
    except ValueError:
        return Deserializer.deserialize_iso(v)  # e.g. month 13: msrest's reader decides, and says why


class _Plan:
    __slots__ = ("cls", "fields", "known")

    def __init__(self, cls: type) -> None:
        self.cls = cls
        self.fields: list[tuple[str, str, Any]] = []
        self.known: frozenset[str] = frozenset()


_PLANS: dict[type, _Plan] = {}


def _model(name: str) -> type | None:
    cls = getattr(schema, name, None)
    return cls if isinstance(cls, type) and hasattr(cls, "_attribute_map") else None


def _reader(type_name: str):
    """A function reading one JSON value of msrest type `type_name`, or None if the plan cannot read that type."""
    if type_name in _SCALARS:
        want = _SCALARS[type_name]

        def scalar(v):
            # bool is an int in Python; msrest would coerce either way, so only exact types are read here.
            if type(v) is not want:
                raise _GiveUp
            return v

        return scalar
    if type_name == "object":
        return lambda v: v
    if type_name == "iso-8601":

        def iso(v):
            if type(v) is not str:
                raise _GiveUp
            return _iso(v)

        return iso
    if type_name.startswith("[") and type_name.endswith("]"):
        inner = _reader(type_name[1:-1])
        if inner is None:
            return None

        def many(v):
            if type(v) is not list:
                raise _GiveUp
            return [None if x is None else inner(x) for x in v]

        return many
    if type_name.startswith("{") and type_name.endswith("}"):
        inner = _reader(type_name[1:-1])
        if inner is None:
            return None

        def mapping(v):
            if type(v) is not dict:
                raise _GiveUp
            return {k: None if x is None else inner(x) for k, x in v.items()}

        return mapping
    cls = _model(type_name)
    if cls is None:
        return None
    return lambda v: _read(_plan(cls), v)


def _plan(cls: type) -> _Plan:
    plan = _PLANS.get(cls)
    if plan is not None:
        return plan
    if getattr(cls, "_subtype_map", None) or getattr(cls, "_validation", None):
        raise _GiveUp  # polymorphic or validated models: msrest's rules, not ours
    plan = _PLANS[cls] = _Plan(cls)  # registered first: models may refer to themselves
    fields = []
    for attr, desc in cls._attribute_map.items():
        key = desc["key"]
        if not key or "." in key or attr == "additional_properties":
            del _PLANS[cls]
            raise _GiveUp  # flattened keys and declared additional properties: leave them to msrest
        reader = _reader(desc["type"])
        if reader is None:
            del _PLANS[cls]
            raise _GiveUp
        fields.append((attr, key, reader))
    plan.fields = fields
    plan.known = frozenset(key for _, key, _ in fields)
    return plan


def _read(plan: _Plan, data: Any):
    if type(data) is not dict:
        raise _GiveUp
    kwargs = {}
    for attr, key, reader in plan.fields:
        v = data.get(key)
        if v is not None:
            kwargs[attr] = reader(v)
    obj = plan.cls(**kwargs)
    extra = data.keys() - plan.known
    if extra:
        obj.additional_properties = {k: data[k] for k in extra}
    return obj


def read_activity(body: dict) -> Activity:
    """The Activity msrest's `Activity().deserialize(body)` gives, read faster (module docstring)."""
    try:
        return _read(_plan(Activity), body)
    except _GiveUp:
        return Activity().deserialize(body)
