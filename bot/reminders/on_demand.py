"""Reminders on demand: what the next round would do now (preview), and sending it now (a DSL's "Send now",
`python -m bot.reminders send`).

Sending now is the scheduled round brought forward, not a second kind of message: the same claims (one per person,
half term and point — the store's unique key, so nobody is reminded twice for a point however often anyone asks),
the same sending window (issue #5: school days, reminders.send_at to the end of the school day), the same delivery
within Teams' limits and the same unreachable handling (bot/reminders/run.py). Which point: the one live today,
for anyone outstanding who has not had it; before the first point is reached, that first point, brought forward
(when its own day comes, the scheduled round finds those people already claimed and reminds only anyone new).
A later point is never brought forward while an earlier one is live, so rounds never stack up in one day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from bot.domain.reminder_rules import live_point, point_day
from bot.reminders import facts
from bot.reminders.facts import Context
from bot.store.models_compliance import SENT, UNREACHABLE, ReminderClaim


@dataclass(frozen=True)
class Due:
    staff_id: str
    why_unreachable: str | None = None  # a key of views.UNREACHABLE_WHY; None: they can be reached


@dataclass(frozen=True)
class Preview:
    now: dt.datetime
    label: str | None  # the half term ("2026-27 Autumn 2"); None: none now or to come
    half_term_name: str | None = None
    in_term: bool = False  # today is in that half term (else it is the next one, in a holiday)
    days_left: int | None = None
    deadline: dt.date | None = None
    point: int | None = None  # the round "Send now" would send; None: nobody to remind now
    point_due: dt.date | None = None  # the day that point falls due (today, or later: brought forward)
    live: int | None = None  # the point live today, if any
    due: tuple[Due, ...] = ()  # who "Send now" would remind (the unreachable included, marked)
    already: int = 0  # reminded already at that point (or the live one)
    window_open: bool = False
    next_opening: dt.datetime | None = None
    next_round: tuple[dt.datetime, int] | None = None  # the next automatic round: when, which point

    @property
    def reachable(self) -> tuple[Due, ...]:
        return tuple(d for d in self.due if d.why_unreachable is None)

    @property
    def unreachable(self) -> tuple[Due, ...]:
        return tuple(d for d in self.due if d.why_unreachable is not None)

    @property
    def can_send(self) -> bool:
        return self.window_open and self.in_term and self.point is not None and bool(self.due)


def _points(services) -> list[int]:
    return sorted(services.school.settings.reminders.school_days_before_deadline, reverse=True)


def _next_round(services, ctx: Context | None, now: dt.datetime) -> tuple[dt.datetime, int] | None:
    """When the scheduler next sends a round by itself: the next point's day, at the window's opening."""
    window = facts.sending_window(services)
    contexts = [ctx] if ctx is not None else []
    if ctx is not None:
        after = facts.context_at(services, ctx.half_term.index + 1)
        if after is not None:
            contexts.append(after)
    for c in contexts:
        opens = []
        for p in _points(services):
            day = point_day(p, c.half_term, c.calendar)
            if day is not None and window.bounds(day)[0] > now:
                opens.append((window.bounds(day)[0], p))
        if opens:
            return min(opens)
    return None


async def preview(services, now: dt.datetime) -> Preview:
    """Who a round sent now would remind, who of them cannot be reached, and when the next automatic round is."""
    window = facts.sending_window(services)
    cal = window.calendar
    today = cal.local_date(now)
    ctx = facts.context_for(services, today)
    base = dict(now=now, window_open=window.is_open(now), next_opening=window.next_opening(now))
    if ctx is None:
        ahead = facts.context_for(services, today, current_or_next=True)
        if ahead is None:
            return Preview(label=None, **base)
        return Preview(
            label=ahead.label,
            half_term_name=ahead.half_term.name,
            deadline=cal.deadline(ahead.half_term),
            next_round=_next_round(services, ahead, now),
            **base,
        )
    points = [p for p in _points(services) if point_day(p, ctx.half_term, cal) is not None]
    live = live_point(points, ctx.half_term, today, cal)
    # The live point; before the first is reached, the first point still to come. Never a later point while an
    # earlier one is live: one click must not stack two rounds on the same people in one day.
    upcoming = [p for p in points if point_day(p, ctx.half_term, cal) >= today]
    candidates = [live] if live is not None else upcoming[:1]
    async with services.db.session() as s:
        report = await facts.compliance_for(s, ctx, today)
        rows = (
            await s.execute(
                select(
                    ReminderClaim.staff_id,
                    ReminderClaim.point,
                    ReminderClaim.status,
                    ReminderClaim.reason,
                    ReminderClaim.id,
                )
                .where(ReminderClaim.half_term == ctx.label)
                .order_by(ReminderClaim.id)
            )
        ).all()
        refs = await facts.personal_refs(s, report.outstanding)
    claimed: dict[int, set[str]] = {}
    sent: dict[int, int] = {}
    last_unreachable: dict[str, str | None] = {}
    for sid, p, status, reason, _ in rows:
        claimed.setdefault(p, set()).add(sid)
        if status == SENT:
            sent[p] = sent.get(p, 0) + 1
            last_unreachable.pop(sid, None)
        elif status == UNREACHABLE:
            last_unreachable[sid] = reason
    outstanding = sorted(
        report.outstanding, key=lambda sid: services.school.staff[sid].name if sid in services.school.staff else sid
    )
    target, due = None, []
    for p in candidates:
        due = [sid for sid in outstanding if sid not in claimed.get(p, set())]
        if due:
            target = p
            break

    def why(sid: str) -> str | None:
        if sid not in refs:
            return "no_conversation"
        reason = last_unreachable.get(sid)
        return reason if reason in ("blocked", "gone") else None

    return Preview(
        label=ctx.label,
        half_term_name=ctx.half_term.name,
        in_term=True,
        days_left=report.school_days_left,
        deadline=report.deadline,
        point=target,
        point_due=point_day(target, ctx.half_term, cal) if target is not None else None,
        live=live,
        due=tuple(Due(sid, why(sid)) for sid in due) if target is not None else (),
        already=sent.get(target if target is not None else live, 0) if (target or live) else 0,
        next_round=_next_round(services, ctx, now),
        **base,
    )


@dataclass(frozen=True)
class SendResult:
    status: str  # sent | sending | closed | nothing | changed
    preview: Preview  # as it was when asked
    claimed: int = 0  # new claims made now
    sent: int = 0  # delivered in this call (when sent inline)
    unreachable: int = 0


async def send_now(
    services, now: dt.datetime, *, expect: tuple[str, int] | None = None, inline: bool | None = None
) -> SendResult:
    """Send the previewed round now: claim (same unique key as the scheduled round), then deliver — in the
    scheduler's own task when it is running (woken now), else here. ``expect`` = (half term, point) from the card:
    if the preview has moved on since, nothing is sent and the caller shows the new preview."""
    p = await preview(services, now)
    if expect is not None and (p.label, p.point) != expect:
        return SendResult("changed", p)
    if not p.window_open:
        return SendResult("closed", p)
    if not p.can_send:
        return SendResult("nothing", p)
    scheduler = services.scheduler
    ctx = facts.context_for(services, facts.sending_window(services).calendar.local_date(now))
    new = await scheduler.run_.claim(ctx, p.point, now)
    if inline is None:
        inline = not scheduler.running
    if not inline:
        scheduler.wake()
        return SendResult("sending", p, claimed=new)
    stats = await scheduler.deliver_now()
    return SendResult("sent", p, claimed=new, sent=stats.sent, unreachable=stats.unreachable + stats.failed)
