"""Reminders on demand, for the DSL team: preview the next round (who, who can't be reached, when it would go by
itself) and send it now — the scheduled round's own claims, limits and no-duplicate guarantee
(bot/reminders/on_demand.py). Nobody else can see or send it, in any settings."""

from __future__ import annotations

from bot.journeys import permissions
from bot.journeys.base import Reply, Services, Turn, refuse
from bot.journeys.router import Router
from bot.reminders import facts, on_demand, views
from bot.school import Role
from cards import reminders as cards

NOT_DSL = "Only the DSL team can preview or send reminders."
DSL_TEAM = permissions.role(Role.DSL, NOT_DSL, "DSL team")


def register(router: Router) -> None:
    router.command(
        "reminders",
        title="Reminders",
        description="Who the next reminder round would reach and who can't be reached; send it now.",
        handler=show,
        allowed=DSL_TEAM,
        verb=cards.V_PREVIEW,
    )
    router.verb(cards.V_SEND, send, allowed=DSL_TEAM)


async def show(services: Services, turn: Turn) -> Reply:
    """Shows the reminder preview: who would be reminded now, who can't be reached, the next automatic round."""
    p = await on_demand.preview(services, turn.now)
    return Reply.of(cards.preview_card(await _view(services, p)))


async def send(services: Services, turn: Turn) -> Reply:
    """Sends the previewed round now (at most one reminder per person and point), then shows how it went."""
    ht, point = turn.data.get("ht"), turn.data.get("point")
    if not isinstance(ht, str) or not isinstance(point, int) or isinstance(point, bool):
        refuse(turn, "reminders.send bad data")
        return Reply.of(cards.preview_card(await _view(services, await on_demand.preview(services, turn.now))))
    result = await on_demand.send_now(services, turn.now, expect=(ht, point))
    notice = {
        "sent": f"Sent {result.sent} reminder{'s' if result.sent != 1 else ''}"
        + (f"; {result.unreachable} could not be reached." if result.unreachable else "."),
        "sending": f"Sending {result.claimed} reminder{'s' if result.claimed != 1 else ''} now. "
        "Refresh to see how it is going.",
        "closed": "Not sent: reminders only go during the sending window.",
        "nothing": "Nobody to remind: everyone outstanding has had this round.",
        "changed": "Not sent: things have changed since this card was made. Here is the round as it is now.",
    }[result.status]
    p = await on_demand.preview(services, services.clock())
    return Reply.of(cards.preview_card(await _view(services, p, notice=notice)))


def _when(services: Services, at) -> str:
    local = at.astimezone(services.school.tz)
    return f"{views.day_label(local.date())} at {local:%H:%M}"


async def _view(services: Services, p: on_demand.Preview, *, notice: str | None = None) -> cards.PreviewView:
    school = services.school

    def name(sid: str) -> str:
        return views.name_of(school, sid)

    rows: list[tuple[str, str]] = []
    if p.deadline is not None:
        rows.append(("Last day", views.day_label(p.deadline)))
    if p.days_left is not None:
        rows.append(("School days left", str(p.days_left)))
    rows.append(
        (
            "Next automatic round",
            f"{_when(services, p.next_round[0])} ({p.next_round[1]} school days left)"
            if p.next_round
            else "none left this school year",
        )
    )
    if p.label is None:
        return cards.PreviewView(
            None, facts=tuple(rows), notice=notice, window_line="There is no half term left in the school config."
        )
    round_line = None
    if p.point is not None:
        if p.point == p.live:
            round_line = f"Send now sends today's round ({p.point} school days left)."
        else:
            round_line = (
                f"Send now brings forward the round due {views.day_label(p.point_due)} ({p.point} school days left)."
            )
    elif p.in_term:
        round_line = "Everyone who still has to attend has had every round so far."
    window_line = None
    if not p.in_term:
        window_line = "It's the holiday: reminders start again in the half term."
    elif not p.window_open and p.point is not None:
        s = school.settings
        window_line = (
            f"Reminders go on school days between {s.reminders.send_at:%H:%M} and "
            f"{s.school_day.end:%H:%M}; Send now is offered then"
            + (f" (next: {_when(services, p.next_opening)})." if p.next_opening else ".")
        )
    already = None
    if p.already and (p.point or p.live):
        already = f"Already reminded at {p.point or p.live} school days left: {p.already}."
    progress: tuple[str, ...] = ()
    if p.in_term:
        ctx = facts.context_for(services, facts.sending_window(services).calendar.local_date(p.now))
        async with services.db.session() as s:
            progress = await views.reminder_lines(s, ctx)
    return cards.PreviewView(
        half_term_name=p.half_term_name,
        facts=tuple(rows),
        round_line=round_line,
        reachable=tuple(name(d.staff_id) for d in p.reachable),
        unreachable=tuple(
            (name(d.staff_id), views.UNREACHABLE_WHY.get(d.why_unreachable, "could not be reached"))
            for d in p.unreachable
        ),
        already_line=already,
        window_line=window_line,
        progress=progress,
        notice=notice,
        send_data={"ht": p.label, "point": p.point} if p.can_send else None,
    )
