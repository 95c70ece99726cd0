"""The store and the compliance rules → the export view models (bot/exports/files.py).

The register and the summary are the half term's compliance report (seed 001 §3.1: group supervision every half
term, tracked by the DSL team) with the sessions each person attended. The audit trail is every event from the
half term's first day to the day after its last (school time). The governors' view is figures only, with
small-number protection (`school.small_number_threshold`): a count below it reads "fewer than N", a group with
fewer people due than that is folded into "Smaller groups" (left out if still too small), and a figure from which a
small count could be worked out (the complement of a suppressed count, a percentage) is given as a range or
described instead — seed 004 §4: the process is reported to governors "in general terms".
"""

from __future__ import annotations

import datetime as dt
import math

from sqlalchemy.ext.asyncio import AsyncSession

from bot import labels
from bot.dashboard.figures import SMALL_GROUPS, protect
from bot.domain import compliance as rules
from bot.exports import files
from bot.reminders import facts, views
from bot.reminders.facts import Context
from bot.school import School
from bot.store import audit
from bot.store import exports as store
from bot.store.dashboard import agreement_reviews, open_action_dues

WHOLE_SCHOOL = "Whole school"
MAX_GROUP_BARS = 12
STATUS_LABELS = {
    rules.Status.COMPLIANT: "Attended",
    rules.Status.OUTSTANDING: "Still to attend",
    rules.Status.MISSED: "Missed",
}
EXEMPT_LABELS = {
    rules.ExemptReason.LEFT: "Exempt (left)",
    rules.ExemptReason.JOINED_LATE: "Exempt (joined late)",
    rules.ExemptReason.ABSENT: "Exempt (long-term absence)",
}
ACTION_LABELS = {audit.REFUSED: "refused"}


def _local_start(school: School, day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=school.tz).astimezone(dt.timezone.utc)


def _stamp(school: School, now: dt.datetime) -> str:
    local = now.astimezone(school.tz)
    return f"{labels.day_label(local.date())}, {local:%H:%M}"


def _group_order(school: School, group_ids) -> list[str]:
    order = list(school.groups)
    return sorted(group_ids, key=lambda g: (order.index(g) if g in order else len(order), g))


def _session_label(school: School, row: store.RegisterRow) -> str:
    if row.kind == "mop_up":
        what = "Mop-up session"
    elif row.kind == "enrichment":
        what = "Enrichment week session"
    elif row.group_id:
        what = f"{facts.group_name(school, row.group_id)} session"
    else:
        what = "Group session"
    return f"{what}, {views.when_label(row.starts_at, row.ends_at, school.tz)}"


async def export_data(
    s: AsyncSession, ctx: Context, now: dt.datetime, *, register: bool, summary: bool, audit_trail: bool
) -> files.ExportData:
    school = ctx.school
    today = ctx.calendar.local_date(now)
    report = await facts.compliance_for(s, ctx, today)
    reg: list[files.RegisterLine] = []
    if register:
        attended: dict[str, list[store.RegisterRow]] = {}
        for row in await store.register(s, ctx.label):
            attended.setdefault(row.staff_id, []).append(row)
        status: dict[str, str] = {}
        for sid in report.compliant:
            status[sid] = STATUS_LABELS[rules.Status.COMPLIANT]
        for sid in report.outstanding:
            status[sid] = STATUS_LABELS[rules.Status.OUTSTANDING]
        for sid in report.missed:
            status[sid] = STATUS_LABELS[rules.Status.MISSED]
        for e in report.exempt:
            status[e.staff_id] = EXEMPT_LABELS.get(e.reason, "Exempt")
        order = list(school.groups)
        people = sorted(
            (school.staff[sid] for sid in status if sid in school.staff),
            key=lambda m: (order.index(m.group) if m.group in order else len(order), m.name),
        )
        for m in people:
            group = facts.group_name(school, m.group)
            rows = attended.get(m.id) or [None]
            for r in rows:
                reg.append(
                    files.RegisterLine(
                        name=m.name,
                        staff_id=m.id,
                        group=group,
                        job_title=m.job_title,
                        status=status[m.id],
                        session_date=r.local_date if r else None,
                        session=_session_label(school, r) if r else "",
                        facilitator=labels.name_of(school, r.facilitator_id) if r else "",
                    )
                )
    summ: list[files.SummaryLine] = []
    if summary:
        for gid in _group_order(school, report.groups):
            t = report.groups[gid]
            summ.append(_summary_line(facts.group_name(school, gid), t))
        summ.append(_summary_line(WHOLE_SCHOOL, report.totals))
    trail: list[files.AuditLine] = []
    if audit_trail:
        start = _local_start(school, ctx.half_term.start)
        end = _local_start(school, ctx.half_term.end + dt.timedelta(days=1))
        for e in await audit.between(s, start, end):
            who = (
                labels.name_of(school, e.actor_id)
                if e.actor_id
                else ("someone not on the staff list" if e.action == audit.REFUSED else "the bot")
            )
            trail.append(
                files.AuditLine(e.school_time, who, e.actor_id or "", e.action, e.object_kind, e.object_id or "")
            )
    first, last = report.mop_up_week
    return files.ExportData(
        school_name=school.name,
        label=ctx.label,
        generated=_stamp(school, now),
        register=tuple(reg),
        summary=tuple(summ),
        audit=tuple(trail),
        summary_facts=(
            ("Half term dates", f"{labels.day_label(ctx.half_term.start)} – {labels.day_label(ctx.half_term.end)}"),
            ("Last day to attend", labels.day_label(report.deadline)),
            ("Mop-up week", f"{labels.day_label(first)} – {labels.day_label(last)}"),
            ("As of", labels.day_label(min(today, ctx.half_term.end))),
        ),
    )


def _summary_line(name: str, t: rules.GroupTotals) -> files.SummaryLine:
    return files.SummaryLine(name, t.due, t.compliant, t.outstanding, t.missed, t.exempt, t.percent)


def _bar(label: str, t: rules.GroupTotals, threshold: int) -> files.Bar:
    """A group's (or the school's) attendance bar, unless it would give away a small number: with fewer than
    `threshold` due, or fewer than that attended, or a few (but not none) still to attend, the percentage would let
    a reader work out a count below the threshold — so it is described, not drawn. Everyone attended is shown."""
    not_yet = t.due - t.compliant
    if t.due < threshold:
        return files.Bar(label, None, f"fewer than {threshold} due")
    if t.compliant < threshold:
        return files.Bar(label, None, f"fewer than {threshold} attended")
    if 0 < not_yet < threshold:
        return files.Bar(label, None, f"all but fewer than {threshold} attended")
    return files.Bar(label, t.percent)


def _totals(t: rules.GroupTotals, n: int, closed: bool) -> tuple[tuple[str, str], ...]:
    """Due, attended, still to attend and the percentage, with complementary suppression: when one of attended or
    still to attend is below `n`, the other and the percentage are given as ranges, so the small one cannot be
    worked out from them."""
    not_yet = t.due - t.compliant
    still = "Did not attend" if closed else "Still to attend"
    if t.due < n:
        return (("Staff due to attend", protect(t.due, n)), ("Attended", "not shown"), (still, "not shown"))
    if t.compliant < n and not_yet < n:  # a tiny school: only the total is safe to give
        return (
            ("Staff due to attend", str(t.due)),
            ("Attended", protect(t.compliant, n)),
            (still, protect(not_yet, n)),
        )
    if t.compliant < n:
        return (
            ("Staff due to attend", str(t.due)),
            ("Attended", protect(t.compliant, n)),
            (still, f"more than {t.due - n}"),
            ("Attendance", f"under {math.ceil(100 * n / t.due)}%"),
        )
    if 0 < not_yet < n:
        return (
            ("Staff due to attend", str(t.due)),
            ("Attended", f"more than {t.due - n}"),
            (still, protect(not_yet, n)),
            ("Attendance", f"over {math.floor(100 * (t.due - n) / t.due)}%"),
        )
    return (
        ("Staff due to attend", str(t.due)),
        ("Attended", str(t.compliant)),
        (still, str(not_yet)),
        ("Attendance", f"{t.percent:.0f}%"),
    )


async def governors_view(s: AsyncSession, ctx: Context, now: dt.datetime) -> files.GovernorsView:
    school = ctx.school
    n = school.settings.small_number_threshold
    today = ctx.calendar.local_date(now)
    report = await facts.compliance_for(s, ctx, today)
    shown: list[files.Bar] = []
    small = rules.GroupTotals(SMALL_GROUPS)
    folded = 0
    for gid in _group_order(school, report.groups):
        t = report.groups[gid]
        if t.due >= n:
            shown.append(_bar(facts.group_name(school, gid), t, n))
        elif t.due:
            folded += 1
            small = rules.GroupTotals(
                SMALL_GROUPS,
                small.compliant + t.compliant,
                small.outstanding + t.outstanding,
                small.missed + t.missed,
                small.exempt + t.exempt,
            )
    notes: list[str] = []
    if folded:
        if small.due >= n:
            shown.append(_bar(SMALL_GROUPS, small, n))
            notes.append(f"\u201c{SMALL_GROUPS}\u201d brings together {folded} groups with fewer than {n} people due.")
        else:
            notes.append(f"{folded} groups with fewer than {n} people due between them are not shown separately.")
    if len(shown) > MAX_GROUP_BARS:  # one page: the rest are in the inspection export's summary
        notes.append(
            f"{len(shown) - MAX_GROUP_BARS} more groups are not drawn here, to keep this to one page: the "
            "compliance summary has every group."
        )
        shown = shown[:MAX_GROUP_BARS]
    trend: list[files.Bar] = []
    for ht in ctx.calendar.half_terms:
        if ht.start > today:
            trend.append(files.Bar(ht.name, None, "not started"))
            continue
        past = Context(school, ctx.calendar, ht, facts.label_of(school, ht))
        t = (await facts.compliance_for(s, past, today)).totals
        trend.append(_bar(ht.name, t, n))
    totals = report.totals
    reviews = await agreement_reviews(s)
    dues = await open_action_dues(s)
    figures = (
        *_totals(totals, n, report.phase is rules.Phase.CLOSED),
        ("Last day to attend", labels.day_label(report.deadline)),
        ("1:1 supervision agreements overdue for review", protect(sum(1 for d in reviews if d < today), n)),
        ("Open actions from supervision (overdue)", f"{protect(len(dues), n)} ({protect(_overdue(dues, today), n)})"),
    )
    line, _ = await views.mop_up_line(s, ctx, report)
    return files.GovernorsView(
        school_name=school.name,
        half_term=f"{ctx.half_term.name} {school.terms.academic_year}",
        dates=f"{labels.day_label(ctx.half_term.start)} – {labels.day_label(ctx.half_term.end)}",
        generated=_stamp(school, now),
        threshold=n,
        figures=figures,
        by_group=tuple(shown),
        trend=tuple(trend),
        mop_up=_mop_up_sentence(views._without_names(line, report), report),
        notes=tuple(notes),
    )


def _overdue(dues, today: dt.date) -> int:
    return sum(1 for d in dues if d is not None and d < today)


def _mop_up_sentence(line: str, report: rules.HalfTermReport) -> str:
    """The attendance card's mop-up line, said for governors (when and whether; never who)."""
    first, last = report.mop_up_week
    week = f"{labels.day_label(first)} – {labels.day_label(last)}"
    if line.startswith("booked for"):
        return "A mop-up session is " + line
    if line.startswith("the DSL team decided"):
        return "The DSL team decided a mop-up session was not needed."
    if line.startswith("proposed"):
        return f"A mop-up session has been proposed and is being arranged (mop-up week {week})."
    if line.startswith("none was held"):
        return "No mop-up session was held."
    if line.startswith("not needed"):
        return "Not needed so far: everyone due has attended."
    return f"A mop-up session will be arranged for the last week ({week}) for anyone still to attend."
