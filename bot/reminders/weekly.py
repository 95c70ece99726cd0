"""The weekly DSL digest (issue 12): once a week, each member of the DSL team gets the key figures — attendance
this half term, how many staff are still to attend, open and overdue actions, 1:1 agreements due for review —
with trend arrows against the previous digest, and a button to the dashboard.

It is the DSL digest of bot/reminders/run.py extended, not a second one: the same claim table (`digest_sends`),
the same lease/mark/recover delivery, the same sending window. A weekly claim is told apart from a reminder round's
by its `point`: a round's is the number of school days before the deadline (≥ 0); a week's is minus the ordinal of
that week's Monday (`week_point`), so each person has at most one digest per week, whoever plans it — a restart,
a second instance or a missed morning (the first tick in the window that week plans it) never doubles it.

The figures are computed once per week and kept (`weekly_digests`, one row per week: counts and a percentage,
never names), so every DSL member's card says the same, and next week's arrows compare with exactly what was
seen. Trends for attendance and outstanding staff compare within the same half term only (a new half term starts
from nobody attended).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import labels
from bot.dashboard.figures import DUE_SOON
from bot.reminders import facts
from bot.reminders.facts import Context
from bot.store.dashboard import agreement_reviews, open_action_dues
from bot.store.models_exports import WeeklyDigest
from bot.store.upsert import insert_ignore
from cards import compliance as cards

#: The figures, in the card's order: (key, label, higher is better).
FIGURES = (
    ("attendance_pct", "Attended this half term", True),
    ("outstanding", "Staff still to attend", False),
    ("open_actions", "Open actions", False),
    ("overdue_actions", "Overdue actions", False),
    ("agreements_due", "1:1 agreements due for review (30 days)", False),
    ("agreements_overdue", "1:1 agreements overdue for review", False),
)
#: Compared only within one half term (the others carry over from one half term to the next).
SAME_HALF_TERM = frozenset({"attendance_pct", "outstanding"})
UP, DOWN, SAME = "\u2191", "\u2193", "\u2192"


def week_of(day: dt.date) -> dt.date:
    """The Monday of the week `day` falls in."""
    return day - dt.timedelta(days=day.weekday())


def week_point(monday: dt.date) -> int:
    """The digest claim's `point` for the week of `monday` (negative: never a reminder point)."""
    return -monday.toordinal()


def is_weekly(point: int) -> bool:
    return point < 0


def monday_of(point: int) -> dt.date:
    return dt.date.fromordinal(-point)


async def figures(s: AsyncSession, ctx: Context, today: dt.date) -> dict:
    report = await facts.compliance_for(s, ctx, today)
    dues = await open_action_dues(s)
    reviews = await agreement_reviews(s)
    return {
        "attendance_pct": report.totals.percent,
        "outstanding": len(report.outstanding) + len(report.missed),
        "open_actions": len(dues),
        "overdue_actions": sum(1 for d in dues if d is not None and d < today),
        "agreements_due": sum(1 for d in reviews if today <= d <= today + DUE_SOON),
        "agreements_overdue": sum(1 for d in reviews if d < today),
    }


async def snapshot(s: AsyncSession, ctx: Context, monday: dt.date, today: dt.date, now: dt.datetime) -> WeeklyDigest:
    """This week's figures: computed by whoever gets here first, then the same for everyone."""
    await insert_ignore(
        s,
        WeeklyDigest,
        [dict(week_of=monday, half_term=ctx.label, figures=await figures(s, ctx, today), created_at=now)],
        conflict=["week_of"],
    )
    return (await s.execute(select(WeeklyDigest).where(WeeklyDigest.week_of == monday))).scalar_one()


async def this_and_last(s: AsyncSession, monday: dt.date) -> tuple[WeeklyDigest | None, WeeklyDigest | None]:
    this = (await s.execute(select(WeeklyDigest).where(WeeklyDigest.week_of == monday))).scalar_one_or_none()
    last = (
        await s.execute(
            select(WeeklyDigest).where(WeeklyDigest.week_of < monday).order_by(WeeklyDigest.week_of.desc()).limit(1)
        )
    ).scalar_one_or_none()
    return this, last


def trend(key: str, now: float | int | None, before: float | int | None, *, better_up: bool) -> str:
    """An arrow and the change, e.g. "↑ 5 points" (attendance) or "↓ 2"; "→ no change"; "" when there is nothing
    to compare with."""
    if now is None or before is None:
        return ""
    # A percentage is compared as shown (whole numbers), so "5% → 13%" reads "8 points", never "7.7".
    diff = round(now) - round(before) if key == "attendance_pct" else now - before
    if diff == 0:
        return f"{SAME} no change"
    arrow = UP if diff > 0 else DOWN
    amount = f"{abs(diff):g} point{'s' if abs(diff) != 1 else ''}" if key == "attendance_pct" else f"{abs(diff):g}"
    good = (diff > 0) == better_up
    return f"{arrow} {amount} ({'better' if good else 'worse'})"


def view(
    ctx: Context, this: WeeklyDigest, last: WeeklyDigest | None, *, dashboard_url: str | None
) -> cards.WeeklyDigestView:
    f, before = this.figures, (last.figures if last else {})
    same_ht = last is not None and last.half_term == this.half_term
    shown = []
    for key, label, better_up in FIGURES:
        value = f.get(key)
        old = before.get(key) if (last is not None and (same_ht or key not in SAME_HALF_TERM)) else None
        text = "—" if value is None else (f"{value:.0f}%" if key == "attendance_pct" else str(value))
        shown.append(cards.WeeklyFigure(label, text, trend(key, value, old, better_up=better_up)))
    compared = None
    if last is not None:
        compared = (
            "last week"
            if this.week_of - last.week_of == dt.timedelta(days=7)
            else f"the week of {labels.day_label(last.week_of)}"
        )
    return cards.WeeklyDigestView(
        half_term_name=ctx.half_term.name,
        week_label=f"week of {labels.day_label(this.week_of)}",
        figures=tuple(shown),
        dashboard_url=dashboard_url,
        compared_with=compared,
    )
