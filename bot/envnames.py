"""The environment variable names the bot reads, computed from its pydantic settings models.

Used to check that deployment files (infra/azure.bicep app settings, m365agents.local.yml) set exactly what the
bot reads, and by `python -m bot.smoke` to say which settings are present (never their values).

The walk follows pydantic-settings' own rules: a field's alias wins (`MicrosoftAppId`); otherwise the model's
`env_prefix` + the field name (`GRAPH_` + `tenant_id` → `GRAPH_TENANT_ID`). A field whose type is itself a settings
model (a BaseSettings subclass) reads its own variables with its own prefix; a plain nested BaseModel is read
through `env_nested_delimiter` (`GRAPH__TENANT_ID` with "__"), so a later `graph: GraphSettings` field on Settings is
picked up either way.
"""

from __future__ import annotations

import types
import typing

from pydantic import BaseModel
from pydantic_settings import BaseSettings


def _models_in(annotation) -> list[type[BaseModel]]:
    """The pydantic model classes in a field's annotation (through Optional / Union / Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, typing.Annotated):
        out: list[type[BaseModel]] = []
        for arg in typing.get_args(annotation):
            out += _models_in(arg)
        return out
    return []


def env_names(model: type[BaseModel], *, prefix: str | None = None) -> list[str]:
    """Every environment variable `model` reads, in field order, nested settings included."""
    config = getattr(model, "model_config", {}) or {}
    own_prefix = config.get("env_prefix", "") if prefix is None else prefix
    delimiter = config.get("env_nested_delimiter")
    names: list[str] = []
    for field_name, info in model.model_fields.items():
        nested = _models_in(info.annotation)
        if nested:
            for sub in nested:
                if issubclass(sub, BaseSettings):
                    names += env_names(sub)
                elif delimiter:
                    key = info.alias or f"{own_prefix}{field_name}".upper()
                    names += env_names(sub, prefix=f"{key}{delimiter}")
            continue
        alias = info.validation_alias if isinstance(info.validation_alias, str) else info.alias
        names.append(alias or f"{own_prefix}{field_name}".upper())
    seen: set[str] = set()
    return [n for n in names if not (n in seen or seen.add(n))]


def bot_env_names() -> list[str]:
    """What the running bot reads: bot.settings.Settings, plus graph.settings.GraphSettings (read separately by
    create_app today; once nested under Settings the walk above finds it there, and the list stays the same)."""
    from bot.settings import Settings
    from graph.settings import GraphSettings

    names = env_names(Settings)
    for n in env_names(GraphSettings):
        if n not in names:
            names.append(n)
    return names
