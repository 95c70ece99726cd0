"""Journey: `myactions`, the actions agreed in a person's 1:1 supervision records — theirs, the other person's,
and those done lately — seen by the supervisor and supervisee of each record only; plus the open actions they own
from group records (marked done by the DSL team on `actions`). Overdue ones are marked, and each gets one
reminder (bot/reminders/followup.py).

Seed 004 asks for a summary of the actions agreed in supervision; seed 001 §3.2 keeps 1:1 notes between the two
("no need to keep these notes centrally"), so these never appear on the DSL team's action list.
"""

from __future__ import annotations

import datetime as dt

from bot.journeys.base import Reply, Services, Turn
from bot.journeys.kit import parse_id, tampered
from bot.journeys.one_to_one import FORMER, STAFF, TAMPERED
from bot.journeys.router import Router
from bot.labels import day_month, name_of, short_date
from bot.records.actions import set_action_status
from bot.store import followup as followup_store
from bot.store import one_to_one as store
from bot.store.errors import NotFound, NotYours
from bot.store.models_targeted import DONE, OPEN, TargetedAction
from cards import targeted as cards

DONE_WINDOW = dt.timedelta(days=30)


def register(router: Router) -> None:
    router.command(
        "myactions",
        title="My 1:1 actions",
        description="Actions agreed in your 1:1 supervision records (only you and the other person see them).",
        handler=show_actions,
        allowed=STAFF,
        verb=cards.V_ACTIONS,
    )
    router.verb(cards.V_ACTION_DONE, action_done, allowed=STAFF)
    router.verb(cards.V_ACTION_REOPEN, action_reopen, allowed=STAFF)


def _name(services: Services, staff_id: str) -> str:
    return name_of(services.school, staff_id, missing=FORMER)


async def show_actions(services: Services, turn: Turn) -> Reply:
    """The person's open 1:1 actions (theirs first, then the other person's) and those done in the last 30 days."""
    async with services.db.session() as s:
        return Reply.of(await _actions_card(services, turn, s))


async def _actions_card(services: Services, turn: Turn, s, notice: str | None = None) -> dict:
    me = turn.actor.id
    today = turn.now.astimezone(services.school.tz).date()
    rows = await store.actions_of(s, me, done_since=turn.now - DONE_WINDOW)

    def line(a: TargetedAction, day: dt.date) -> cards.ActionLine:
        other = a.supervisee_id if a.supervisor_id == me else a.supervisor_id
        return cards.ActionLine(
            id=a.id,
            text=a.text,
            owner=_name(services, a.owner_id),
            due_label=short_date(a.due_on),
            source=f"1:1 with {_name(services, other)}, {day_month(day)}",
            overdue=a.due_on < today,
            done=a.status == DONE,
        )

    view = cards.ActionsView(notice=notice)
    for a, day in rows:
        if a.status == DONE:
            view.done.append(line(a, day))
        elif a.owner_id == me:
            view.mine.append(line(a, day))
        else:
            view.theirs.append(line(a, day))
    # Actions the person owns from group records (seed 001 "Record Keeping"): theirs to see, with an overdue one
    # marked, so one list shows everything they have to do; the DSL team marks them done on `actions`.
    for g in await followup_store.group_actions_of(s, me):
        view.group.append(
            cards.ActionLine(
                id=g.id,
                text=g.text,
                owner=_name(services, g.owner_id),
                due_label=short_date(g.due_on),
                source="Group supervision record",
                overdue=g.due_on < today,
                can_mark=False,
            )
        )
    return cards.actions_card(view)


async def _set_action(services: Services, turn: Turn, status: str) -> Reply:
    aid = parse_id(turn.data.get("action_id"))
    if aid is None:
        return tampered(turn, "1:1 record: action id", TAMPERED)
    async with services.db.session() as s:
        try:
            action = await store.action_of(s, aid, turn.actor.id)
        except (NotFound, NotYours):
            return tampered(turn, "1:1 record: action: not theirs", TAMPERED)
        notice = set_action_status(action, status, by=turn.actor.id, now=turn.now)
        return Reply.of(await _actions_card(services, turn, s, notice))


async def action_done(services: Services, turn: Turn) -> Reply:
    """Marks one of the person's 1:1 actions done."""
    return await _set_action(services, turn, DONE)


async def action_reopen(services: Services, turn: Turn) -> Reply:
    """Opens a done 1:1 action again."""
    return await _set_action(services, turn, OPEN)
