"""Journey: move or cancel a booked group session, like a 1:1 — a class or staff-group session, the half term's
mop-up, or a specialist, emergency or enrichment session (seed 001 §3.1 and §3.3; seed 003 Appendix 1 §4 "if
cancellation is necessary, an alternative date will be agreed").

Who may change it: the DSL team, the session's facilitator, and whoever booked it. Everyone else it names (the
invitees, the other leaders) may look at it. A move keeps the session in its half term (attendance is counted per
half term) and a mop-up in the last week; a cancelled mop-up is never booked again automatically. One transaction
per click: the session row, the calendar event updated or cancelled in every calendar (through the outbox, chained
after the event's creation), a notice to everyone invited, the facilitator's "time to record" prompt moved or
withdrawn, and an audit event.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot import labels
from bot.journeys import permissions, specialist_notes
from bot.journeys.base import Reply, Services, Turn
from bot.journeys.group_record_view import session_label
from bot.journeys.kit import audited, parse_id, refuse, say
from bot.journeys.router import Router
from bot.outbox import api as outbox
from bot.outbox import effects
from bot.records.lifecycle import GROUP
from bot.records.rules import RECORDABLE_KINDS, clean_text, parse_date, parse_time
from bot.reminders import facts
from bot.store import audit, sessions
from bot.store import specialist as specialist_store
from bot.store.errors import Concurrent
from bot.store.models_request import BookedGroupSession
from bot.store.models_sessions import GroupSession
from cards import group_changes as cards

NOT_YOURS = "That session isn't one of yours."
NOT_CHANGER = "Only the DSL team, the facilitator or whoever booked the session can move or cancel it."
SESSION_KIND = "group_session"  # the audit trail's name for these objects

VIEWERS = permissions.on_roster(NOT_YOURS)


def register(router: Router) -> None:
    router.verb(cards.VIEW, view, allowed=VIEWERS)
    router.verb(cards.MOVE, move, allowed=VIEWERS)
    router.verb(cards.CANCEL, cancel, allowed=VIEWERS)


@dataclass
class Loaded:
    session: GroupSession
    invitees: list[str]
    link: BookedGroupSession | None
    event_key: str | None

    @property
    def leaders(self) -> list[str]:
        return list(
            dict.fromkeys([self.session.facilitator_id, *((self.link.supervisor_ids or []) if self.link else [])])
        )

    @property
    def people(self) -> list[str]:
        """Everyone the session involves: its leaders, then those invited."""
        return list(dict.fromkeys([*self.leaders, *self.invitees]))


async def load(s, session_id: int | None) -> Loaded | None:
    sess = await sessions.get(s, session_id) if session_id is not None else None
    if sess is None:
        return None
    event = await facts.session_event(s, sess)
    return Loaded(
        sess,
        await sessions.invitee_ids(s, sess.id),
        await sessions.booking_link(s, sess.id),
        event.event_key if event else None,
    )


def may_change(actor, loaded: Loaded) -> bool:
    """The DSL team, the facilitator or the person who booked it (checked on every click, on the row)."""
    booked_by = loaded.link.created_by if loaded.link else loaded.session.created_by
    return permissions.is_dsl(actor) or actor.id in (loaded.session.facilitator_id, booked_by)


def may_view(actor, loaded: Loaded) -> bool:
    return may_change(actor, loaded) or actor.id in loaded.people


def heading(services: Services, sess: GroupSession) -> str:
    if sess.kind in RECORDABLE_KINDS:
        return f"Group supervision – {session_label(services.school, sess)}"
    return sess.title


def when(services: Services, starts: dt.datetime, ends: dt.datetime) -> str:
    return f"{labels.date_label(starts.astimezone(services.school.tz).date())} " + labels.time_range(
        starts, ends, services.school.tz
    )


def _window(services: Services, sess: GroupSession) -> tuple[dt.date, dt.date, str | None]:
    """The days a session may move to, and the rule to show: its half term (the mop-up: the last week)."""
    cal = services.calendar
    ht = cal.half_term_for(sess.local_date)
    if ht is None:
        return sess.local_date, sess.local_date, None
    if sess.kind == sessions.MOP_UP:
        first, last = cal.last_week(ht)
        rule = (
            "The mop-up goes in the last week of the half term: "
            f"{labels.short_date(first)} to {labels.short_date(last)}."
        )
        return first, last, rule
    week = cal.enrichment_week_for(sess.local_date) if sess.kind == "enrichment" else None
    if week is not None:
        return (
            week.start,
            week.end,
            f"It stays in the enrichment week: {labels.short_date(week.start)} to {labels.short_date(week.end)}.",
        )
    return (
        ht.start,
        ht.end,
        (
            f"It stays in {ht.name} (attendance counts per half term): "
            f"{labels.short_date(ht.start)} to {labels.short_date(ht.end)}."
        ),
    )


def card_for(
    services: Services,
    turn: Turn,
    loaded: Loaded,
    *,
    viewer_id: str | None = None,
    values: dict | None = None,
    errors: dict | None = None,
    message: str | None = None,
    good: bool = False,
    join_url: str | None = None,
) -> dict:
    sess = loaded.session
    viewer = services.school.staff.get(viewer_id) if viewer_id else turn.actor
    first, last, rule = _window(services, sess)
    today = services.calendar.local_date(turn.now)
    return cards.session_card(
        cards.SessionView(
            session_id=sess.id,
            heading=heading(services, sess),
            when=when(services, sess.starts_at, sess.ends_at),
            facilitator=labels.name_of(services.school, sess.facilitator_id),
            invited=len(loaded.invitees),
            status=sess.status,
            can_change=viewer is not None and may_change(viewer, loaded),
            past=sess.starts_at <= turn.now,
            rule=rule,
            values=values or {},
            errors=errors or {},
            message=message,
            good=good,
            min_date=max(first, today).isoformat(),
            max_date=last.isoformat(),
            join_url=join_url,
        )
    )


async def _for(services: Services, s, turn: Turn, what: str, *, change: bool) -> Loaded | Reply:
    loaded = await load(s, parse_id(turn.data.get("session_id")))
    if loaded is None or not may_view(turn.actor, loaded):
        refuse(turn, f"{what}: not their session")
        return say(turn, NOT_YOURS)
    if change and not may_change(turn.actor, loaded):
        refuse(turn, f"{what}: not the DSL team, facilitator or booker")
        return say(turn, NOT_CHANGER)
    return loaded


async def view(services: Services, turn: Turn) -> Reply:
    """Shows a group session as it stands; the DSL team, its facilitator or its booker can move or cancel it."""
    from bot.journeys import join_links

    async with services.db.session() as s:
        loaded = await _for(services, s, turn, "gsession.view", change=False)
        if isinstance(loaded, Reply):
            return loaded
        link = await join_links.join_url(s, loaded.event_key)
        return Reply.of(card_for(services, turn, loaded, join_url=link))


def _check(services: Services, turn: Turn, sess: GroupSession) -> tuple[dict[str, str], dt.datetime | None]:
    """Mistakes in the new date and time, beside their fields, and the new start once both are good."""
    school, cal = services.school, services.calendar
    day = parse_date(turn.data.get("gs_date"))
    at = parse_time(turn.data.get("gs_time"))
    sday = school.settings.school_day
    first, last, rule = _window(services, sess)
    errors: dict[str, str] = {}
    if day is None:
        errors["gs_date"] = "Choose the new date, like 2026-11-30."
    elif not cal.is_school_day(day):
        errors["gs_date"] = f"{labels.date_label(day)} isn't a school day ({cal.why_closed(day)})."
    elif not first <= day <= last:
        errors["gs_date"] = rule or "Choose a date in the same half term."
    if at is None:
        errors["gs_time"] = "Choose the new start time, like 14:00."
    elif not sday.start <= at < sday.end:
        errors["gs_time"] = f"Choose a time in the school day ({sday.start:%H:%M} to {sday.end:%H:%M})."
    if errors:
        return errors, None
    starts = dt.datetime.combine(day, at, school.tz).astimezone(dt.timezone.utc)
    if starts <= turn.now:
        return {"gs_time": "That time has passed. Choose a later one."}, None
    if starts == sess.starts_at:
        return {"gs_time": "That is the time it already has."}, None
    return {}, starts


def _prompt_key(session_id: int) -> str:
    return f"{GROUP.prefix}prompt:{session_id}"  # the facilitator's "time to record" card (group_sessions.py)


def _tell(services: Services, turn: Turn, loaded: Loaded, card: dict, what: str) -> list:
    """The notice for everyone the session involves (but the person who changed it), and the booking card each
    leader and invitee of an offer-booked session holds, replaced in place."""
    from bot.journeys.booking import group_session_view

    sess, stamp = loaded.session, turn.now.isoformat()
    out = [
        effects.notify(sid, card, key=f"group-session:{sess.id}:{what}:{stamp}:{sid}")
        for sid in loaded.people
        if sid != turn.actor.id
    ]
    if loaded.link is not None:
        out += [
            effects.update_card(
                sid,
                f"group-session:{sess.id}",
                group_session_view(services, sess, loaded.link, sid, len(loaded.invitees)),
                key=f"group-session:{sess.id}:{what}-card:{stamp}:{sid}",
            )
            for sid in loaded.people
            if sid != turn.actor.id
        ]
    return out


async def move(services: Services, turn: Turn) -> Reply:
    """Moves a group session to a new date and time: every calendar follows and everyone invited is told."""
    from bot.journeys import group_sessions, join_links

    values = {k: clean_text(turn.data.get(k), multiline=False)[:10] for k in ("gs_date", "gs_time") if turn.data.get(k)}
    async with services.db.session() as s:
        loaded = await _for(services, s, turn, "gsession.move", change=True)
        if isinstance(loaded, Reply):
            return loaded
        sess = loaded.session
        link = await join_links.join_url(s, loaded.event_key)
        if sess.status != sessions.SCHEDULED or sess.starts_at <= turn.now:
            return Reply.of(card_for(services, turn, loaded, message="This session can no longer be changed."))
        errors, starts = _check(services, turn, sess)
        if errors:
            return Reply.of(card_for(services, turn, loaded, values=values, errors=errors, join_url=link))
        ends = starts + (sess.ends_at - sess.starts_at)
        group_id = sess.group_id if sess.group_id is not None else (None if sess.kind == sessions.MOP_UP else "")
        clash = await sessions.clash(
            s, starts=starts, ends=ends, facilitator_id=sess.facilitator_id, group_id=group_id, other_than=sess.id
        )
        if clash is not None:
            who = labels.name_of(services.school, sess.facilitator_id)
            msg = (
                f"{who} already facilitates {session_label(services.school, clash)} then."
                if clash.facilitator_id == sess.facilitator_id
                else f"{session_label(services.school, clash)} already has a session then."
            )
            return Reply.of(card_for(services, turn, loaded, values=values, errors={"gs_time": msg}, join_url=link))
        old = when(services, sess.starts_at, sess.ends_at)
        try:
            await sessions.move(
                s, sess, starts=starts, ends=ends, local_date=starts.astimezone(services.school.tz).date()
            )
        except Concurrent:
            return Reply.of(card_for(services, turn, loaded, message="Someone changed this session meanwhile."))
        new = when(services, starts, ends)
        notice = cards.change_notice(
            session_id=sess.id,
            heading=heading(services, sess),
            actor_name=turn.actor.name,
            old_when=old,
            new_when=new,
            join_url=link,
        )
        told = _tell(services, turn, loaded, notice, "moved")
        if loaded.event_key:
            told.append(
                effects.calendar_update(
                    loaded.event_key,
                    start=starts,
                    end=ends,
                    key=f"calendar:{loaded.event_key}:move:{turn.now.isoformat()}",
                )
            )
        await effects.add(s, *told, now=turn.now)
        if sess.kind in RECORDABLE_KINDS and await outbox.withdraw(s, _prompt_key(sess.id)):
            await group_sessions.enqueue_record_prompt(s, sess, services.school, now=turn.now)  # at the new end
        if sess.kind == specialist_notes.KIND and await outbox.withdraw(s, specialist_notes.prompt_key(sess.id)):
            await effects.add(s, specialist_notes.prompt(sess), now=turn.now)  # "write up the notes", at the new end
        await audited(services, turn, s, audit.CHANGED, SESSION_KIND, sess.id)
        services.wake_outbox()
        return Reply.of(
            card_for(
                services,
                turn,
                loaded,
                message=f"Moved from {old}. Everyone's calendar will be updated and they have been told.",
                good=True,
                join_url=link,
            )
        )


async def cancel(services: Services, turn: Turn) -> Reply:
    """Cancels a group session: it leaves every calendar and everyone invited is told."""
    async with services.db.session() as s:
        loaded = await _for(services, s, turn, "gsession.cancel", change=True)
        if isinstance(loaded, Reply):
            return loaded
        sess = loaded.session
        if sess.status != sessions.SCHEDULED or sess.starts_at <= turn.now:
            return Reply.of(card_for(services, turn, loaded, message="This session can no longer be changed."))
        try:
            await sessions.cancel(s, sess)
        except Concurrent:
            return Reply.of(card_for(services, turn, loaded, message="Someone changed this session meanwhile."))
        notice = cards.change_notice(
            session_id=sess.id,
            heading=heading(services, sess),
            actor_name=turn.actor.name,
            old_when=when(services, sess.starts_at, sess.ends_at),
            new_when=None,
        )
        told = _tell(services, turn, loaded, notice, "cancelled")
        if loaded.event_key:
            told.append(effects.calendar_cancel(loaded.event_key))
        await effects.add(s, *told, now=turn.now)
        await outbox.withdraw(s, _prompt_key(sess.id))
        await outbox.withdraw(s, specialist_notes.prompt_key(sess.id))
        if loaded.link is not None and loaded.link.request_id:
            await specialist_store.unbook_request(s, loaded.link.request_id, now=turn.now)
        if sess.kind == sessions.MOP_UP:
            await sessions.mark_mop_up_cancelled(s, sess.id, by=turn.actor.id, now=turn.now)
        await audited(services, turn, s, audit.CHANGED, SESSION_KIND, sess.id)
        services.wake_outbox()
        return Reply.of(
            card_for(services, turn, loaded, message="Cancelled; everyone invited has been told.", good=True)
        )
