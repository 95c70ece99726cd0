"""Journey: "my supervision" — your supervisor, your booked sessions and, for supervisors, the people you
supervise (seed 001 §3.2 Continuity of Support; seed 000 parity of caseload); either person may end a 1:1
supervision, after which it no longer counts in the supervisor's caseload.
"""

from __future__ import annotations

import dataclasses

from sqlalchemy.ext.asyncio import AsyncSession

from bot import labels
from bot.journeys import permissions
from bot.journeys.base import Reply, Services, Turn
from bot.journeys.booking import slot_label
from bot.journeys.kit import parse_id, refuse, say
from bot.journeys.router import Router
from bot.outbox import effects
from bot.school import Role
from bot.store import bookings
from bot.store import requests as request_store
from bot.store.errors import NotFound
from bot.store.pool import active_pairing, unit_of_work
from cards import request as request_cards
from cards import scheduling as cards

#: Anyone on the staff; whether the supervision is theirs, the journey checks on the row itself.
STAFF = dataclasses.replace(permissions.on_roster(), as_card=True)


async def mine(services: Services, turn: Turn) -> Reply:
    """Shows your supervisor, your booked sessions and, for supervisors, the people you supervise."""
    async with unit_of_work(services, turn.now) as s:
        return Reply.of(await _mine_card(services, s, turn))


async def _mine_card(services: Services, s: AsyncSession, turn: Turn, *, message: str | None = None) -> dict:
    actor = turn.actor
    mine_pairing = await active_pairing(s, actor.id)
    meetings = await bookings.upcoming_meetings(s, actor.id, turn.now)
    dated = [
        (
            m.starts_at,
            cards.UpcomingItem(
                m.id,
                slot_label(services, m.starts_at, m.ends_at),
                labels.name_of(services.school, m.supervisee_id if m.supervisor_id == actor.id else m.supervisor_id),
                changeable=m.starts_at > turn.now,
            ),
        )
        for m in meetings
    ]
    dated += [
        (
            g.starts_at,
            cards.UpcomingItem(
                None,
                slot_label(services, g.starts_at, g.ends_at),
                g.title,
                # The DSL team, the facilitator or the booker may move or cancel it (re-checked on the click).
                changeable=g.starts_at > turn.now
                and (permissions.is_dsl(actor) or actor.id in (g.facilitator_id, g.created_by)),
                group=True,
                session_id=g.id,
            ),
        )
        for g in await bookings.upcoming_group_sessions(s, actor.id, turn.now)
    ]
    upcoming = [item for _, item in sorted(dated, key=lambda d: d[0])]
    open_reqs = await request_store.open_for(s, actor.id)
    status_text = {
        request_store.WAITING: "waiting for a supervisor",
        request_store.ALLOCATED: "supervisor to propose a time",
    }
    supervisees = None
    pairs = await bookings.supervisees(s, actor.id)
    if pairs or actor.has(Role.SUPERVISOR):
        supervisees = []
        for p in pairs:
            nxt = next(
                (
                    m
                    for m in meetings
                    if m.pairing_id == p.id or (m.supervisee_id == p.supervisee_id and m.supervisor_id == actor.id)
                ),
                None,
            )
            supervisees.append(
                cards.SuperviseeItem(
                    p.id,
                    labels.name_of(services.school, p.supervisee_id),
                    labels.day_label(p.started_at.astimezone(services.school.tz).date()),
                    slot_label(services, nxt.starts_at, nxt.ends_at) if nxt else None,
                )
            )
    return cards.mine_card(
        cards.MineView(
            person_name=actor.first_name,
            supervisor_name=labels.name_of(services.school, mine_pairing.supervisor_id) if mine_pairing else None,
            upcoming=upcoming,
            open_requests=[(r.id, status_text.get(r.status, r.status)) for r in open_reqs],
            supervisees=supervisees,
            message=message,
        )
    )


async def end_pairing(services: Services, turn: Turn) -> Reply:
    """Ends a 1:1 supervision (either person, after asking); it no longer counts in the supervisor's caseload."""
    async with unit_of_work(services, turn.now) as s:
        try:
            p = await bookings.pairing(s, parse_id(turn.data.get("pairing_id")))
        except NotFound:
            p = None
        if p is None or turn.actor.id not in (p.supervisor_id, p.supervisee_id):
            refuse(turn, "schedule.pairing_end not theirs")
            return say(turn, "That supervision isn't yours to end.")
        if p.ended_at is not None:
            return Reply.of(await _mine_card(services, s, turn, message="That supervision had already ended."))
        if turn.data.get("confirm") is not True:
            return Reply.of(
                cards.pairing_end_confirm(
                    pairing_id=p.id,
                    supervisee_name=labels.name_of(services.school, p.supervisee_id),
                    supervisor_name=labels.name_of(services.school, p.supervisor_id),
                    viewer_is_supervisor=turn.actor.id == p.supervisor_id,
                )
            )
        await bookings.end_pairing(s, p, by=turn.actor.id, now=turn.now)
        other = p.supervisee_id if turn.actor.id == p.supervisor_id else p.supervisor_id
        by, supervisor, supervisee = (
            labels.name_of(services.school, x) for x in (turn.actor.id, p.supervisor_id, p.supervisee_id)
        )
        await effects.add(
            s,
            effects.notify(
                other,
                request_cards.card(
                    [
                        request_cards.title("Supervision ended"),
                        request_cards.text(
                            f"{by} ended the 1:1 supervision between {supervisor} and {supervisee}. "
                            "Type **request** whenever you'd like supervision again."
                        ),
                    ]
                ),
                key=f"pairing:{p.id}:ended:{other}",
            ),
            now=turn.now,
        )
        return Reply.of(await _mine_card(services, s, turn, message="Supervision ended."))


def register(router: Router) -> None:
    router.command(
        "sessions",
        "mine",
        "supervision",
        title="My supervision",
        description="Your supervisor, booked sessions, and the people you supervise.",
        handler=mine,
        allowed=STAFF,
        verb=cards.MINE,
    )
    router.verb(cards.PAIRING_END, end_pairing, allowed=STAFF)
