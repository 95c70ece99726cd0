"""The DSL team's action list: actions from group records, to bring to the DSL meeting (seed 001 "Record Keeping").

Pure builder; the journey (bot/journeys/actions.py) supplies the view model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import adaptive_cards.card as ac

from cards.base import card, error, text, title

V_LIST = "actions.list"
V_DONE = "actions.done"
V_REOPEN = "actions.reopen"
MAX_SHOWN = 25


@dataclass(frozen=True)
class ActionLine:
    id: int
    text: str
    owner: str
    due_label: str  # "Tue 1 Dec"
    source: str  # "Willow Class, 23 Nov"
    overdue: bool = False
    done: bool = False
    done_label: str | None = None  # "Done 30 Nov by Amara Okafor"


@dataclass
class ActionListView:
    mine: list[ActionLine] = field(default_factory=list)
    others: list[ActionLine] = field(default_factory=list)
    done: list[ActionLine] = field(default_factory=list)
    show_done: bool = False
    notice: str | None = None
    error: str | None = None


def _line(a: ActionLine) -> ac.Container:
    meta = f"{a.owner} · due {a.due_label}" + (" · **overdue**" if a.overdue and not a.done else "")
    items: list[Any] = [
        text(a.text),
        text(meta, subtle=not a.overdue, size="small", color="attention" if a.overdue and not a.done else None),
        text(f"From {a.source}" + (f" · {a.done_label}" if a.done_label else ""), subtle=True, size="small"),
    ]
    if a.done:
        btn = ac.ActionExecute(title="Reopen", verb=V_REOPEN, data={"action_id": a.id}, associated_inputs="none")
    else:
        btn = ac.ActionExecute(
            title="Mark done", verb=V_DONE, data={"action_id": a.id}, associated_inputs="none", style="positive"
        )
    return ac.Container(
        separator=True,
        items=[
            ac.ColumnSet(
                columns=[
                    ac.Column(width="stretch", items=items),
                    ac.Column(width="auto", vertical_content_alignment="center", items=[ac.ActionSet(actions=[btn])]),
                ]
            )
        ],
    )


def _section(heading: str, lines: list[ActionLine], budget: int) -> tuple[list[Any], int]:
    if not lines:
        return [], budget
    out: list[Any] = [ac.TextBlock(text=heading, weight="bolder", wrap=True, spacing="medium")]
    shown = lines[: max(budget, 0)]
    out += [_line(a) for a in shown]
    if len(lines) > len(shown):
        out.append(text(f"… and {len(lines) - len(shown)} more not shown.", subtle=True, size="small"))
    return out, budget - len(shown)


def action_list_card(v: ActionListView) -> dict:
    body: list[Any] = [title("Actions for the DSL meeting")]
    if v.notice:
        body.append(text(v.notice, color="good"))
    if v.error:
        body.append(error(v.error))
    open_count = len(v.mine) + len(v.others)
    overdue = sum(1 for a in v.mine + v.others if a.overdue)
    summary = f"{open_count} open" + (f", {overdue} overdue" if overdue else "")
    body.append(text(summary, subtle=True))
    budget = MAX_SHOWN
    part, budget = _section("Yours", v.mine, budget)
    body += part
    part, budget = _section("The rest of the DSL team's", v.others, budget)
    body += part
    if not open_count:
        body.append(text("Nothing open. Actions appear here when a group record lists them."))
    if v.show_done:
        part, budget = _section("Done in the last 30 days", v.done, max(budget, 10))
        body += part
        toggle = ac.ActionExecute(title="Hide done", verb=V_LIST, data={"show_done": False}, associated_inputs="none")
    else:
        toggle = ac.ActionExecute(title="Show done", verb=V_LIST, data={"show_done": True}, associated_inputs="none")
    return card(
        body,
        [
            toggle,
            ac.ActionExecute(title="Refresh", verb=V_LIST, data={"show_done": v.show_done}, associated_inputs="none"),
        ],
    )
