"""Journey: the DSL team schedules the half term's group supervision sessions into everyone's calendars.

Seed 001 §3.1 "Safeguarding Supervision – Group": every member of staff attends a group session each half term,
in their class or team group, with a mop-up session in the last week for anyone who missed theirs. `schedule`
books one session at a time: the group's staff are invited (for the mop-up, everyone who hasn't attended this half
term), a neutral calendar event goes to their calendars, and the facilitator is prompted to record it when it ends
(bot/journeys/group_record.py). Only the DSL team may schedule (the router checks every click).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

from bot import labels
from bot.journeys import group_record_view as view
from bot.journeys import permissions
from bot.journeys.base import Reply, Services, Turn
from bot.journeys.group_record_view import tampered
from bot.journeys.kit import parse_id, parse_key
from bot.journeys.router import Router
from bot.outbox import effects
from bot.records.lifecycle import GROUP
from bot.records.rules import clean_text, half_term_label, parse_date, parse_time
from bot.school import Role, StaffMember
from bot.store import sessions
from bot.store.errors import Concurrent
from bot.store.models_sessions import GroupSession
from cards import group_record as cards

NOT_DSL_SCHEDULE = "Only the DSL team can schedule group supervision sessions."
SUBJECT = "Group supervision"  # neutral calendar subject: no group names, topics or notes
DURATIONS = (30, 45, 60, 90)
MOP_UP = "_mop_up"  # the schedule card's choice for the half term's mop-up session
KEY_PREFIX = GROUP.prefix  # outbox keys (shared with the group record journey)
SCHEDULERS = permissions.role(Role.DSL, NOT_DSL_SCHEDULE, "DSL team")


def register(router: Router) -> None:
    router.command(
        "schedule",
        title="Schedule group supervision",
        description="Put this half term's group sessions in everyone's calendars.",
        handler=schedule,
        allowed=SCHEDULERS,
        verb=cards.V_SCHEDULE,
    )
    router.verb(cards.V_SCHEDULE_SUBMIT, schedule_submit, allowed=SCHEDULERS)


async def schedule(services: Services, turn: Turn) -> Reply:
    """Shows the DSL which groups still need a session this half term and lets them schedule one."""
    async with services.db.session() as s:
        return Reply.of(await _schedule_card(services, s, turn, {}))


async def _schedule_card(
    services: Services, s, turn: Turn, values: dict, *, errors: dict | None = None, notice: str | None = None
) -> dict:
    school = services.school
    cal = services.calendar
    ht = cal.current_or_next_half_term(view.today(services, turn))
    label = half_term_label(school.terms.academic_year, ht.name) if ht else "No half terms left this year"
    scheduled: list[str] = []
    changeable: list[tuple[int, str]] = []
    covered: set[str] = set()
    if ht:
        for r in await sessions.booked(s, label):
            if r.group_id:
                covered.add(r.group_id)
            line = (
                f"{view.session_label(school, r)} · {labels.short_date(r.local_date)} "
                f"{view.local(services, r.starts_at):%H:%M}"
            )
            scheduled.append(line)
            if r.status == sessions.SCHEDULED and r.starts_at > turn.now:
                changeable.append((r.id, line))
    groups = [(g.id, f"{g.name}") for g in school.data.groups]
    mop_first, mop_last = cal.last_week(ht) if ht else (None, None)
    groups.append(
        (
            MOP_UP,
            f"Mop-up session (last week: {labels.short_date(mop_first)} to {labels.short_date(mop_last)})"
            if mop_first
            else "Mop-up session",
        )
    )
    minutes = school.settings.session_minutes
    durations = sorted(set(DURATIONS) | {minutes})
    return cards.schedule_card(
        cards.ScheduleView(
            half_term=f"{label} ({labels.short_date(ht.start)} to {labels.short_date(ht.end)})" if ht else label,
            groups=groups,
            facilitators=[(m.id, m.name) for m in view.dsl_team(services)],
            durations=[(str(d), f"{d} minutes") for d in durations],
            nonce=uuid.uuid4().hex,
            values={"sched_facilitator": turn.actor.id, "sched_minutes": str(minutes), **values},
            errors=errors or {},
            scheduled=scheduled,
            unscheduled=[g.name for g in school.data.groups if g.id not in covered] if ht else [],
            notice=notice,
            max_date=cal.last_day.isoformat(),
            changeable=changeable,
        )
    )


def _check(
    services: Services, turn: Turn, group: str, facilitator: str, minutes: int | None
) -> tuple[dict[str, str], dt.datetime | None]:
    """Mistakes on the schedule card, beside their fields, and the start time once date and time are good."""
    d = turn.data
    school, cal = services.school, services.calendar
    errors: dict[str, str] = {}
    day = parse_date(d.get("sched_date"))
    at = parse_time(d.get("sched_time"))
    sday = school.settings.school_day
    ht = cal.half_term_for(day) if day else None
    if not group:
        errors["sched_group"] = "Choose which group the session is for."
    if day is None:
        errors["sched_date"] = "Choose the date, like 2026-11-30."
    elif not cal.is_school_day(day):
        errors["sched_date"] = f"{labels.date_label(day)} isn't a school day ({cal.why_closed(day)})."
    elif group == MOP_UP and ht and not cal.in_last_week(ht, day):
        first, last = cal.last_week(ht)
        errors["sched_date"] = (
            f"The mop-up session goes in the last week of the half term: "
            f"{labels.short_date(first)} to {labels.short_date(last)}."
        )
    if at is None:
        errors["sched_time"] = "Choose the start time, like 14:00."
    elif not (sday.start <= at < sday.end):
        errors["sched_time"] = f"Choose a time in the school day ({sday.start:%H:%M} to {sday.end:%H:%M})."
    if not facilitator:
        errors["sched_facilitator"] = "Choose the facilitator."
    if not minutes:
        errors["sched_minutes"] = "Choose how long."
    starts = None
    if day and at and "sched_date" not in errors and "sched_time" not in errors:
        starts = dt.datetime.combine(day, at, school.tz).astimezone(dt.timezone.utc)
        if starts <= turn.now:
            errors["sched_time"] = "That time has passed. To record a session that already happened, type record."
    return errors, starts


async def schedule_submit(services: Services, turn: Turn) -> Reply:
    """Books one group session: invites the group, puts it in calendars and reminds the facilitator to record it."""
    d = turn.data
    school = services.school
    nonce = parse_key(d.get("nonce"))
    if nonce is None:
        return tampered(turn, "schedule nonce")
    group = clean_text(d.get("sched_group"), multiline=False)
    facilitator = clean_text(d.get("sched_facilitator"), multiline=False)
    minutes = parse_id(d.get("sched_minutes"))
    if group and group != MOP_UP and group not in school.groups:
        return tampered(turn, "schedule group")
    if facilitator and not permissions.is_dsl(school.staff.get(facilitator)):
        return tampered(turn, "schedule facilitator outside DSL team")
    if d.get("sched_minutes") and (
        minutes is None or minutes not in set(DURATIONS) | {school.settings.session_minutes}
    ):
        return tampered(turn, "schedule length")
    values = {
        k: clean_text(d.get(k), multiline=False)
        for k in ("sched_group", "sched_date", "sched_time", "sched_minutes", "sched_facilitator")
        if d.get(k)
    }
    keep = {k: v for k, v in values.items() if k in ("sched_time", "sched_minutes", "sched_facilitator")}
    try:
        async with services.db.session() as s:
            prior = await sessions.scheduled_by(s, nonce)
            if prior is not None:
                return Reply.of(
                    await _schedule_card(services, s, turn, {}, notice=_scheduled_notice(services, prior, None))
                )
            errors, starts = _check(services, turn, group, facilitator, minutes)
            if errors:
                return Reply.of(await _schedule_card(services, s, turn, values, errors=errors))
            ends = starts + dt.timedelta(minutes=minutes)
            clash = await sessions.clash(
                s, starts=starts, ends=ends, facilitator_id=facilitator, group_id=None if group == MOP_UP else group
            )
            if clash is not None:
                msg = (
                    f"{view.session_label(school, clash)} already has a session then."
                    if clash.facilitator_id != facilitator
                    else f"{view.name(services, facilitator)} already facilitates {view.session_label(school, clash)} "
                    "then."
                )
                return Reply.of(await _schedule_card(services, s, turn, values, errors={"sched_time": msg}))
            sess, invited = await _book(services, turn, s, nonce, group, facilitator, starts, ends)
            notice = _scheduled_notice(services, sess, invited)
            return Reply.of(await _schedule_card(services, s, turn, keep, notice=notice))
    except Concurrent:  # the same card submitted twice at once: the first one booked it
        async with services.db.session() as s:
            sess = await sessions.scheduled_by(s, nonce)
            if sess is None:
                raise
            return Reply.of(
                await _schedule_card(services, s, turn, keep, notice=_scheduled_notice(services, sess, None))
            )


async def _book(
    services: Services, turn: Turn, s, nonce: str, group: str, facilitator: str, starts: dt.datetime, ends: dt.datetime
) -> tuple[GroupSession, int]:
    """The session, its invitees, the calendar event and the facilitator's "time to record" prompt; (the session,
    how many were invited)."""
    school = services.school
    day = starts.astimezone(school.tz).date()
    half_term = half_term_label(school.terms.academic_year, services.calendar.half_term_for(day).name)
    invitees = await _invitees(services, s, group, day, half_term)
    mop_up = group == MOP_UP
    sess = await sessions.schedule(
        s,
        nonce=nonce,
        invitees=invitees,
        added_via="mop_up" if mop_up else "invite",
        created_by=turn.actor.id,
        now=turn.now,
        kind=sessions.MOP_UP if mop_up else school.groups[group].kind.value,
        group_id=None if mop_up else group,
        title=f"Group supervision – {'mop-up' if mop_up else school.groups[group].name}",
        starts_at=starts,
        ends_at=ends,
        local_date=day,
        half_term=half_term,
        facilitator_id=facilitator,
        status=sessions.SCHEDULED,
        external_support=False,
    )
    await effects.add(
        s,
        effects.calendar_create(
            f"group_session:{sess.id}",
            organizer_id=facilitator,
            attendee_ids=invitees,
            start=starts,
            end=ends,
            subject=SUBJECT,
            online=True,
            key=f"{KEY_PREFIX}calendar:{sess.id}",
        ),  # chained by the event (the default), so a later move or cancel follows its creation
        now=turn.now,
    )
    await enqueue_record_prompt(s, sess, school, now=turn.now)
    return sess, len(invitees)


def _scheduled_notice(services: Services, sess: GroupSession, invited: int | None) -> str:
    who = f" {invited} invited." if invited is not None else ""
    return (
        f"Scheduled: {view.session_label(services.school, sess)}, {labels.date_label(sess.local_date)} "
        f"{view.time_label(services, sess)} with {view.name(services, sess.facilitator_id)}.{who} "
        "Calendar invitations are on their way."
    )


async def _invitees(services: Services, s, group: str, day: dt.date, half_term: str) -> list[str]:
    """Who a session invites: the group's staff; for a mop-up, everyone who hasn't attended this half term."""
    staff = [m for m in services.school.active_on(day) if not _absent_on(m, day)]
    if group != MOP_UP:
        return [m.id for m in staff if m.group == group]
    attended = await sessions.attended_in(s, half_term)
    return [m.id for m in staff if m.id not in attended]


def _absent_on(m: StaffMember, day: dt.date) -> bool:
    a = m.absence
    return a is not None and a.from_ <= day and (a.until is None or a.until >= day)


async def enqueue_record_prompt(s, sess: GroupSession, school, *, now: dt.datetime | None = None) -> None:
    """Queue the 1:1 "time to record" card for the facilitator, sent when the session ends.

    Other journeys that create recordable group sessions (mop-up, emergency) may call this too.
    """
    group = (
        school.groups[sess.group_id].name
        if sess.group_id in school.groups
        else ("Mop-up session" if sess.kind == sessions.MOP_UP else "Group session")
    )
    local = sess.starts_at.astimezone(school.tz)
    card = cards.record_prompt_card(
        session_id=sess.id, group_label=group, date_label=f"{labels.date_label(sess.local_date)}, {local:%H:%M}"
    )
    if permissions.is_dsl(school.staff.get(sess.facilitator_id)):
        prompt = effects.notify(sess.facilitator_id, card, key=f"{KEY_PREFIX}prompt:{sess.id}")
        await effects.add(s, dataclasses.replace(prompt, not_before=sess.ends_at), now=now)
