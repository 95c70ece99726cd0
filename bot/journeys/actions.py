"""Journey: the DSL team's action list — actions from group records, to bring to the DSL meeting.

Seed 001 "Record Keeping": group records include "any action items or follow-up steps to be brought to DSL
meeting"; seed 004 asks for a summary sheet of actions; seed 002 for actions with by-dates. The list shows every
open action (the DSL meeting reviews them together), the viewer's own first, overdue ones flagged; anyone in the
DSL team can mark one done (or reopen it) and the list records who did.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from bot.journeys.base import Reply, Services, Turn, refuse
from bot.journeys.group_record import is_dsl, plain
from bot.journeys import permissions
from bot.journeys.router import Router
from bot.records.actions import set_action_status
from bot.school import Role
from bot.store.models_group_record import DONE, OPEN, GroupRecord, RecordAction
from bot.store.models_sessions import GroupSession
from cards import actions as cards

NOT_DSL = "Only the DSL team can see the action list."
DONE_WINDOW = dt.timedelta(days=30)


DSL_ONLY = permissions.role(Role.DSL, NOT_DSL, "DSL team")


def register(router: Router) -> None:
    router.command("actions", title="Action list",
                   description="Open actions from group records, for the DSL meeting; mark them done.",
                   handler=show, allowed=DSL_ONLY, verb=cards.V_LIST)
    router.verb(cards.V_DONE, mark_done)
    router.verb(cards.V_REOPEN, reopen)


def _action_id(value: Any) -> int | None:
    try:
        i = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return i if 0 < i < 2**31 else None


async def show(services: Services, turn: Turn) -> Reply:
    """Shows the DSL team's open actions, the viewer's own first, with overdue ones flagged."""
    if not is_dsl(turn.actor):
        refuse(turn, "action list: not DSL team")
        return plain(turn, NOT_DSL)
    show_done = turn.data.get("show_done") is True or str(turn.data.get("show_done")).lower() == "true"
    return Reply.of(await _card(services, turn, show_done=show_done))


async def _set_status(services: Services, turn: Turn, status: str) -> Reply:
    if not is_dsl(turn.actor):
        refuse(turn, "action list: not DSL team")
        return plain(turn, NOT_DSL)
    aid = _action_id(turn.data.get("action_id"))
    if aid is None:
        refuse(turn, "action list: action id")
        return plain(turn, "Sorry, I can't do that with this card. Type actions to see the list again.",
                         "Can't do that")
    async with services.db.session() as s:
        row = await s.get(RecordAction, aid)
        if row is None:
            refuse(turn, "action list: unknown action")
            return plain(turn, "Sorry, I can't find that action. Type actions to see the list again.",
                         "Can't do that")
        notice = set_action_status(row, status, by=turn.actor.id, now=turn.now)
    # Stay on the view that shows done actions, so a mistaken tick can be undone at once (Reopen).
    return Reply.of(await _card(services, turn, show_done=True, notice=notice))


async def mark_done(services: Services, turn: Turn) -> Reply:
    """Marks one action done (recording who) and shows the list again."""
    return await _set_status(services, turn, DONE)


async def reopen(services: Services, turn: Turn) -> Reply:
    """Reopens an action marked done by mistake and shows the list again."""
    return await _set_status(services, turn, OPEN)


async def _card(services: Services, turn: Turn, *, show_done: bool, notice: str | None = None) -> dict:
    school = services.school
    today = turn.now.astimezone(school.tz).date()
    async with services.db.session() as s:
        q = (select(RecordAction, GroupSession)
             .join(GroupRecord, GroupRecord.id == RecordAction.record_id)
             .join(GroupSession, GroupSession.id == GroupRecord.session_id))
        open_rows = (await s.execute(q.where(RecordAction.status == OPEN)
                                     .order_by(RecordAction.due_on, RecordAction.id))).all()
        done_rows = []
        if show_done:
            done_rows = (await s.execute(q.where(RecordAction.status == DONE,
                                                 RecordAction.done_at >= turn.now - DONE_WINDOW)
                                         .order_by(RecordAction.done_at.desc()))).all()

    def name(staff_id: str | None) -> str:
        m = school.staff.get(staff_id) if staff_id else None
        return m.name if m else "someone no longer on the staff list"

    def line(a: RecordAction, sess: GroupSession) -> cards.ActionLine:
        group = school.groups[sess.group_id].name if sess.group_id in school.groups else {
            "mop_up": "Mop-up session", "emergency": "Emergency session"}.get(sess.kind, "Group session")
        done_label = None
        if a.status == DONE and a.done_at:
            d = a.done_at.astimezone(school.tz).date()
            done_label = f"done {d.day} {d:%b} by {name(a.done_by)}"
        return cards.ActionLine(
            id=a.id, text=a.text, owner=name(a.owner_id), due_label=f"{a.due_on:%a} {a.due_on.day} {a.due_on:%b}",
            source=f"{group}, {sess.local_date.day} {sess.local_date:%b}", overdue=a.due_on < today,
            done=a.status == DONE, done_label=done_label)

    view = cards.ActionListView(show_done=show_done, notice=notice)
    for a, sess in open_rows:
        (view.mine if a.owner_id == turn.actor.id else view.others).append(line(a, sess))
    view.done = [line(a, sess) for a, sess in done_rows]
    return cards.action_list_card(view)
