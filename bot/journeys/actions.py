"""Journey: the DSL team's action list — actions from group records, to bring to the DSL meeting.

Seed 001 "Record Keeping": group records include "any action items or follow-up steps to be brought to DSL
meeting"; seed 004 asks for a summary sheet of actions; seed 002 for actions with by-dates. The list shows every
open action (the DSL meeting reviews them together), the viewer's own first, overdue ones flagged; anyone in the
DSL team can mark one done (or reopen it) and the list records who did.
"""

from __future__ import annotations

import datetime as dt

from bot import labels
from bot.journeys import permissions
from bot.journeys.base import Reply, Services, Turn
from bot.journeys.kit import parse_id, refuse, say
from bot.journeys.router import Router
from bot.school import Role
from bot.store import actions as store
from bot.store.errors import NotFound
from bot.store.models_group_record import DONE, OPEN, RecordAction
from bot.store.models_sessions import GroupSession
from cards import actions as cards
from cards.group_record import V_START as GROUP_RECORDS

NOT_DSL = "Only the DSL team can see the action list."
DONE_WINDOW = dt.timedelta(days=30)

DSL_ONLY = permissions.role(Role.DSL, NOT_DSL, "DSL team")


def register(router: Router) -> None:
    router.command(
        "actions",
        title="Action list",
        description="Open actions from group records, for the DSL meeting; mark them done.",
        handler=show,
        allowed=DSL_ONLY,
        verb=cards.V_LIST,
    )
    router.verb(cards.V_DONE, mark_done, allowed=DSL_ONLY)
    router.verb(cards.V_REOPEN, reopen, allowed=DSL_ONLY)


def _cannot(turn: Turn, message: str) -> Reply:
    return say(turn, message, "Can't do that", back_verb=GROUP_RECORDS, back_label="Back to group records")


async def show(services: Services, turn: Turn) -> Reply:
    """Shows the DSL team's open actions, the viewer's own first, with overdue ones flagged."""
    show_done = turn.data.get("show_done") is True or str(turn.data.get("show_done")).lower() == "true"
    async with services.db.session() as s:
        return Reply.of(await _card(services, s, turn, show_done=show_done))


async def _set_status(services: Services, turn: Turn, status: str) -> Reply:
    aid = parse_id(turn.data.get("action_id"))
    if aid is None:
        refuse(turn, "action list: action id")
        return _cannot(turn, "Sorry, I can't do that with this card. Type actions to see the list again.")
    async with services.db.session() as s:
        try:
            notice = await store.set_status(s, aid, status, by=turn.actor.id, now=turn.now)
        except NotFound:
            refuse(turn, "action list: unknown action")
            return _cannot(turn, "Sorry, I can't find that action. Type actions to see the list again.")
        # Stay on the view that shows done actions, so a mistaken tick can be undone at once (Reopen).
        return Reply.of(await _card(services, s, turn, show_done=True, notice=notice))


async def mark_done(services: Services, turn: Turn) -> Reply:
    """Marks one action done (recording who) and shows the list again."""
    return await _set_status(services, turn, DONE)


async def reopen(services: Services, turn: Turn) -> Reply:
    """Reopens an action marked done by mistake and shows the list again."""
    return await _set_status(services, turn, OPEN)


async def _card(services: Services, s, turn: Turn, *, show_done: bool, notice: str | None = None) -> dict:
    school = services.school
    today = services.calendar.local_date(turn.now)
    open_rows = await store.open_actions(s)
    done_rows = await store.done_actions(s, since=turn.now - DONE_WINDOW) if show_done else []

    def name(staff_id: str | None) -> str:
        return labels.name_of(school, staff_id) or labels.NO_LONGER_ON_STAFF

    def line(a: RecordAction, sess: GroupSession) -> cards.ActionLine:
        group = (
            school.groups[sess.group_id].name
            if sess.group_id in school.groups
            else {"mop_up": "Mop-up session", "emergency": "Emergency session"}.get(sess.kind, "Group session")
        )
        done_label = None
        if a.status == DONE and a.done_at:
            done_label = f"done {labels.day_month(a.done_at.astimezone(school.tz).date())} by {name(a.done_by)}"
        return cards.ActionLine(
            id=a.id,
            text=a.text,
            owner=name(a.owner_id),
            due_label=labels.short_date(a.due_on),
            source=f"{group}, {labels.day_month(sess.local_date)}",
            overdue=a.due_on < today,
            done=a.status == DONE,
            done_label=done_label,
        )

    view = cards.ActionListView(show_done=show_done, notice=notice)
    for a, sess in open_rows:
        (view.mine if a.owner_id == turn.actor.id else view.others).append(line(a, sess))
    view.done = [line(a, sess) for a, sess in done_rows]
    return cards.action_list_card(view)
