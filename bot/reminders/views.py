"""Store + rules → the view models in cards/compliance.py. Shared by the journey and the scheduled runs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import compliance as rules
from bot.domain.reminder_rules import next_sessions_for
from bot.domain.slots import Slot
from bot.reminders import facts
from bot.reminders.facts import Context
from bot.school import School
from bot.store.models_compliance import FAILED, OPEN_STATES, SENT, UNREACHABLE, MopUpProposal, ReminderClaim
from bot.store.models_sessions import GroupSession
from cards import compliance as cards

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
#: Groups with fewer staff due than this are not shown separately to governors (a figure could identify someone).
GOVERNOR_MIN_GROUP = 3

UNREACHABLE_WHY = {
    "no_conversation": "hasn't opened the bot in Teams",
    "blocked": "has blocked or removed the bot",
    "gone": "chat no longer exists",
    "failed": "Teams kept refusing",
}


def day_label(day: dt.date) -> str:
    return f"{_DAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]}"


def when_label(start: dt.datetime, end: dt.datetime, tz) -> str:
    return Slot(start, end).label(tz)


def session_label(school: School, row: GroupSession) -> str:
    if row.kind == "mop_up":
        what = "Mop-up session"
    elif row.kind == "enrichment":
        what = "Enrichment week session"
    elif row.group_id:
        what = f"{facts.group_name(school, row.group_id)} session"
    else:
        what = "Group session"
    return f"{what} · {when_label(row.starts_at, row.ends_at, school.tz)}"


def name_of(school: School, staff_id: str) -> str:
    m = school.staff.get(staff_id)
    return m.name if m else staff_id


async def reminder_view(
    s: AsyncSession,
    ctx: Context,
    staff_id: str,
    now: dt.datetime,
    *,
    sessions: dict[int, GroupSession] | None = None,
    invited: set[int] | None = None,
    selected: int | None = None,
    error: str | None = None,
) -> cards.ReminderView:
    member = ctx.school.staff[staff_id]
    if sessions is None:
        sessions = await facts.load_sessions(s, ctx.label)
    if invited is None:
        invited = (await facts.invited_sessions(s, sessions.keys(), [staff_id])).get(staff_id, set())
    options = next_sessions_for(
        staff_id, member.group, facts.options_of(sessions), half_term=ctx.label, now=now, invited=invited
    )
    today = ctx.calendar.local_date(now)
    return cards.ReminderView(
        first_name=member.first_name,
        half_term_name=ctx.half_term.name,
        half_term_index=ctx.half_term.index,
        days_left=ctx.calendar.school_days_left(ctx.half_term, today),
        deadline_label=day_label(ctx.calendar.deadline(ctx.half_term)),
        choices=tuple(
            cards.SessionChoice(o.id, session_label(ctx.school, sessions[o.id]), o.id in invited) for o in options
        ),
        selected=selected if any(o.id == selected for o in options) else None,
        error=error,
    )


async def mop_up_line(s: AsyncSession, ctx: Context, report: rules.HalfTermReport) -> tuple[str, bool]:
    """One line about the mop-up session, and whether the DSL team may ask for a proposal now."""
    row = (await s.execute(select(MopUpProposal).where(MopUpProposal.half_term == ctx.label))).scalar_one_or_none()
    booked = (
        (
            await s.execute(
                select(GroupSession)
                .where(
                    GroupSession.half_term == ctx.label,
                    GroupSession.kind == "mop_up",
                    GroupSession.status != "cancelled",
                )
                .order_by(GroupSession.starts_at)
            )
        )
        .scalars()
        .first()
    )
    first, last = report.mop_up_week
    week = f"{day_label(first)} – {day_label(last)}"
    if booked is not None:
        return (
            f"booked for {when_label(booked.starts_at, booked.ends_at, ctx.tz)} with "
            f"{name_of(ctx.school, booked.facilitator_id)}.",
            False,
        )
    open_ = report.phase is not rules.Phase.CLOSED
    if row is not None and row.status == "proposed":
        return f"proposed to the DSL team, waiting for someone to book it (last week: {week}).", False
    if row is not None and row.status == "declined":
        return f"{name_of(ctx.school, row.decided_by or '')} said it is not needed.", open_
    if row is not None and row.status == "cancelled":
        return f"{name_of(ctx.school, row.decided_by or '')} cancelled it.", open_
    if not open_:
        return "none was held.", False
    if not report.outstanding:
        return f"not needed so far (last week: {week}).", False
    return f"not booked yet; I'll book one a week before the last week ({week}) unless the DSL team does first.", True


async def reminder_lines(s: AsyncSession, ctx: Context) -> tuple[str, ...]:
    rows = (
        await s.execute(
            select(ReminderClaim.point, ReminderClaim.status, func.count())
            .where(ReminderClaim.half_term == ctx.label)
            .group_by(ReminderClaim.point, ReminderClaim.status)
        )
    ).all()
    by_point: dict[int, dict[str, int]] = {}
    for point, status, n in rows:
        by_point.setdefault(point, {})[status] = n
    lines = []
    for point in sorted(by_point, reverse=True):
        c = by_point[point]
        parts = [f"{c.get(SENT, 0)} sent"]
        if c.get(UNREACHABLE):
            parts.append(f"{c[UNREACHABLE]} could not be reached")
        if c.get(FAILED):
            parts.append(f"{c[FAILED]} failed")
        still = sum(c.get(st, 0) for st in OPEN_STATES)
        if still:
            parts.append(f"{still} still going")
        lines.append(f"Reminders at {point} school days left: " + ", ".join(parts) + ".")
    return tuple(lines)


def _names(school: School, ids: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(name_of(school, i) for i in ids))


def _nav(ctx: Context) -> tuple[int | None, int | None]:
    i = ctx.half_term.index
    return (i - 1 if i > 0 else None, i + 1 if i + 1 < len(ctx.calendar.half_terms) else None)


FREQUENCY_WORDS = {"half_termly": "at least every half term", "six_weekly": "at least every six weeks"}


def _dsl_status(d: rules.DslStatus) -> str:
    last = f"last {day_label(d.last_session)}" if d.last_session else "none recorded"
    if d.status is rules.Status.COMPLIANT:
        due = f", next by {day_label(d.next_due)}" if d.next_due else ""
        return f"up to date ({last}{due})"
    if d.status is rules.Status.OUTSTANDING:
        return f"due — {d.school_days_left} school days left ({last})"
    if d.status is rules.Status.MISSED:
        return f"missed this half term ({last})"
    if d.status is rules.Status.OVERDUE:
        return f"overdue since {day_label(d.next_due)} ({last})" if d.next_due else f"overdue ({last})"
    return f"not counted: {_exempt_reason(d.exemption)}" if d.exemption else "not counted"


def _dsl_line(report: rules.HalfTermReport) -> str | None:
    counted = [d for d in report.dsl if d.status is not rules.Status.EXEMPT]
    if not counted:
        return None
    ok = sum(1 for d in counted if d.status is rules.Status.COMPLIANT)
    return f"{ok} of {len(counted)} up to date."


async def attendance_view(s: AsyncSession, ctx: Context, now: dt.datetime) -> cards.AttendanceView:
    today = ctx.calendar.local_date(now)
    report = await facts.compliance_for(s, ctx, today, with_dsl=True)
    by_group_out: dict[str, list[str]] = {}
    for sid in report.outstanding:
        by_group_out.setdefault(ctx.school.staff[sid].group, []).append(sid)
    by_group_missed: dict[str, list[str]] = {}
    for sid in report.missed:
        by_group_missed.setdefault(ctx.school.staff[sid].group, []).append(sid)
    groups = tuple(
        cards.GroupRow(
            facts.group_name(ctx.school, gid),
            t.compliant,
            t.due,
            t.percent,
            _names(ctx.school, by_group_out.get(gid, ())),
            _names(ctx.school, by_group_missed.get(gid, ())),
            t.exempt,
        )
        for gid, t in _ordered_groups(ctx.school, report.groups)
    )
    exempt = tuple(f"{name_of(ctx.school, e.staff_id)} — {_exempt_reason(e)}" for e in report.exempt)
    line, can_propose = await mop_up_line(s, ctx, report)
    first, last = report.mop_up_week
    prev_i, next_i = _nav(ctx)
    return cards.AttendanceView(
        half_term_name=ctx.half_term.name,
        half_term_index=ctx.half_term.index,
        phase=report.phase.value,
        deadline_label=day_label(report.deadline),
        days_left=report.school_days_left,
        mop_up_week_label=f"{day_label(first)} – {day_label(last)}",
        compliant=report.totals.compliant,
        due=report.totals.due,
        percent=report.totals.percent,
        groups=groups,
        mop_up=line,
        exempt=exempt,
        reminders=await reminder_lines(s, ctx),
        can_propose_mop_up=can_propose and report.phase.value == "current",
        previous_index=prev_i,
        next_index=next_i,
        dsl=tuple(cards.DslRow(name_of(ctx.school, d.staff_id), _dsl_status(d)) for d in report.dsl),
        dsl_frequency=FREQUENCY_WORDS.get(ctx.school.settings.dsl_individual_supervision, ""),
    )


def _exempt_reason(e: rules.Exemption) -> str:
    return {
        rules.ExemptReason.LEFT: "left",
        rules.ExemptReason.JOINED_LATE: "joined late in the half term",
        rules.ExemptReason.ABSENT: "long-term absence",
    }.get(e.reason, str(e.reason.value))


def _ordered_groups(school: School, groups) -> list[tuple[str, rules.GroupTotals]]:
    order = {gid: i for i, gid in enumerate(school.groups)}
    return sorted(groups.items(), key=lambda kv: order.get(kv[0], len(order)))


async def governor_view(s: AsyncSession, ctx: Context, now: dt.datetime) -> cards.GovernorView:
    today = ctx.calendar.local_date(now)
    report = await facts.compliance_for(s, ctx, today, with_dsl=True)
    rows = []
    for gid, t in _ordered_groups(ctx.school, report.groups):
        if t.due < GOVERNOR_MIN_GROUP:
            rows.append(cards.SummaryGroupRow(facts.group_name(ctx.school, gid), None, None, None))
        else:
            rows.append(cards.SummaryGroupRow(facts.group_name(ctx.school, gid), t.compliant, t.due, t.percent))
    line, _ = await mop_up_line(s, ctx, report)
    first, last = report.mop_up_week
    prev_i, next_i = _nav(ctx)
    return cards.GovernorView(
        half_term_name=ctx.half_term.name,
        half_term_index=ctx.half_term.index,
        phase=report.phase.value,
        deadline_label=day_label(report.deadline),
        days_left=report.school_days_left,
        mop_up_week_label=f"{day_label(first)} – {day_label(last)}",
        compliant=report.totals.compliant,
        due=report.totals.due,
        percent=report.totals.percent,
        exempt=report.totals.exempt,
        groups=tuple(rows),
        mop_up=_without_names(line, report),
        suppressed_below=GOVERNOR_MIN_GROUP,
        previous_index=prev_i,
        next_index=next_i,
        dsl_line=_dsl_line(report),
    )


def _without_names(line: str, report: rules.HalfTermReport) -> str:
    """The governor's mop-up line: when and whether, not who booked or declined it."""
    if line.startswith("booked for"):
        return line.split(" with ", 1)[0] + "."
    if line.endswith("said it is not needed."):
        return "the DSL team decided it is not needed."
    return line


async def digest_view(s: AsyncSession, ctx: Context, point: int, now: dt.datetime) -> cards.DigestView:
    today = ctx.calendar.local_date(now)
    report = await facts.compliance_for(s, ctx, today)
    outstanding: dict[str, list[str]] = {}
    for sid in report.outstanding:
        outstanding.setdefault(ctx.school.staff[sid].group, []).append(name_of(ctx.school, sid))
    order = list(ctx.school.groups)
    by_group = tuple(
        (facts.group_name(ctx.school, g), tuple(sorted(outstanding[g])))
        for g in sorted(outstanding, key=lambda g: order.index(g) if g in order else len(order))
    )
    claims = (
        await s.execute(
            select(ReminderClaim.staff_id, ReminderClaim.status, ReminderClaim.reason).where(
                ReminderClaim.half_term == ctx.label, ReminderClaim.point == point
            )
        )
    ).all()
    still_out = set(report.outstanding)
    unreachable = tuple(
        sorted(
            (name_of(ctx.school, sid), UNREACHABLE_WHY.get(reason or "", "could not be reached"))
            for sid, status, reason in claims
            if status in (UNREACHABLE, FAILED) and sid in still_out
        )
    )
    reminded = sum(1 for _, status, _ in claims if status == SENT)
    line, _ = await mop_up_line(s, ctx, report)
    return cards.DigestView(
        half_term_name=ctx.half_term.name,
        half_term_index=ctx.half_term.index,
        days_left=report.school_days_left,
        deadline_label=day_label(report.deadline),
        compliant=report.totals.compliant,
        due=report.totals.due,
        percent=report.totals.percent,
        outstanding_by_group=by_group,
        unreachable=unreachable,
        reminded=reminded,
        mop_up=line,
    )


def facilitator_choices(school: School) -> tuple[tuple[str, str], ...]:
    return tuple((m.id, m.name) for m in facts.dsl_team(school))


def sorted_ids(ids: Sequence[str]) -> list[str]:
    return sorted(ids)
