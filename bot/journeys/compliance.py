"""Journey: half-term compliance — the attendance card, "I'll attend" from a reminder, and the mop-up session.

Seed 001 §2–3.1: group safeguarding supervision every half term, attendance tracked by the DSL team, a mop-up
session in the last week for whoever has not attended. Seed 004 §4: the process is reported to governors "in
general terms". So the DSL team sees names (they act on them); a safeguarding governor sees figures only, with a
group of fewer than three people due folded into the whole-school figure so no figure points at one person;
nobody else can open it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from bot import labels
from bot.domain.compliance import compliance_report
from bot.journeys import permissions
from bot.journeys.base import Reply, Services, Turn
from bot.journeys.kit import parse_id, parse_index, refuse, say
from bot.journeys.router import Router
from bot.outbox import effects
from bot.reminders import facts, mopup, views
from bot.school import Role, StaffMember
from bot.store import compliance as store
from bot.store.errors import NotFound
from bot.store.models_compliance import MopUpProposal
from bot.store.models_sessions import GroupSession
from bot.store.one_to_one import overdue_agreement_items
from cards import compliance as cards

NOT_FOR_YOU = "Sorry, that isn't something you can do here."
DSL_ONLY = "Only the DSL team can do that."
NO_SESSION = "I couldn't find that session."
NO_PROPOSAL = "I couldn't find that mop-up proposal."

ATTENDANCE_VIEWERS = permissions.any_role(
    (Role.DSL, Role.GOVERNOR),
    "The attendance card is for the DSL team and safeguarding governors.",
    "DSL team or safeguarding governor",
)
DSL_TEAM = permissions.role(Role.DSL, DSL_ONLY, "DSL team")
ON_ROSTER = permissions.on_roster(NOT_FOR_YOU)


def register(router: Router) -> None:
    router.command(
        "attendance",
        title="Attendance",
        description="This half term's group supervision: who has attended, who hasn't, days left, the mop-up session.",
        handler=show_attendance,
        allowed=ATTENDANCE_VIEWERS,
        verb=cards.ATTENDANCE,
    )
    router.verb(cards.ATTEND, attend, allowed=ON_ROSTER)
    router.verb(cards.MOPUP_PROPOSE, propose_mop_up, allowed=DSL_TEAM)
    router.verb(cards.MOPUP_CONFIRM, confirm_mop_up, allowed=DSL_TEAM)
    router.verb(cards.MOPUP_DECLINE, decline_mop_up, allowed=DSL_TEAM)


def _default_context(services: Services, now: dt.datetime) -> facts.Context | None:
    """The half term in progress; in a holiday the one just finished (its results), or the first of the year."""
    cal = services.calendar
    today = cal.local_date(now)
    ht = cal.half_term_for(today)
    if ht is None:
        past = [h for h in cal.half_terms if h.end < today]
        ht = past[-1] if past else cal.half_terms[0]
    return facts.context_at(services, ht.index)


# ---- the attendance card ---------------------------------------------------------------------------------------
async def show_attendance(services: Services, turn: Turn) -> Reply:
    """Shows this half term's attendance: names for the DSL team, figures only for governors."""
    if "ht" in turn.data:
        index = parse_index(turn.data.get("ht"))
        ctx = facts.context_at(services, index) if index is not None else None
        if ctx is None:
            refuse(turn, "attendance for an unknown half term")
            return say(turn, "I couldn't find that half term.")
    else:
        ctx = _default_context(services, turn.now)
    link = dashboard_link(services, turn.actor)
    async with services.db.session() as s:
        if permissions.is_dsl(turn.actor):
            view = await views.attendance_view(s, ctx, turn.now)
            today = ctx.calendar.local_date(turn.now)
            reviews = await _overdue_agreement_reviews(services, s, today)
            view = replace(view, agreement_reviews=reviews, dashboard_url=link)
            card = cards.attendance_card(await _one_to_one_follow_through(services, s, view, today))
        else:
            card = cards.governor_card(replace(await views.governor_view(s, ctx, turn.now), dashboard_url=link))
    return Reply.of(card)


def dashboard_link(services: Services, person) -> str | None:
    """The dashboard's address for this person, if they may open it (the DSL team and senior leaders)."""
    from bot.dashboard.web import may_view

    if services.dashboard_url is None or not may_view(services, person):
        return None
    return services.dashboard_url(person.id)


async def _overdue_agreement_reviews(services: Services, s, today: dt.date) -> tuple[str, ...]:
    """1:1 supervision agreements past their annual review, through the compliance engine's overdue-items rule
    (seed 001 Appendix 1). Names and the due date only."""
    items = await overdue_agreement_items(s, today)
    if not items:
        return ()
    report = compliance_report((), services.calendar, (), today, open_items=items, half_terms=())

    def name(staff_id: str) -> str:
        return labels.name_of(services.school, staff_id, missing="a former member of staff")

    return tuple(
        f"{name(i.staff_id)} with {name(i.ref)} (due {labels.day_label(i.due_on)})"
        for found in report.overdue_items.values()
        for i in found
        if i.kind == "agreement_review"
    )


async def _one_to_one_follow_through(services: Services, s, view, today: dt.date):
    """The attendance view with the 1:1 pairs that have no agreement and those behind their agreed frequency
    (compliance rule 11, bot/domain/entitlement.py): names, dates and the escalation level only."""
    from bot.domain.entitlement import MISSED
    from bot.reminders.followup import FREQUENCY_LABELS, standings

    def name(staff_id: str) -> str:
        return labels.name_of(services.school, staff_id, missing="a former member of staff")

    none, behind = [], []
    for st in await standings(services, s, today):
        p, ent = st.pairing, st.entitlement
        pair = f"{name(p.supervisee_id)} with {name(p.supervisor_id)}"
        if st.agreement is None:
            none.append(f"{pair} (since {labels.day_month(p.started_at.astimezone(services.school.tz).date())})")
        if ent.status == MISSED:
            who = "the DSL team told" if ent.level >= 2 else "the pair told"
            behind.append(
                f"{pair}: {FREQUENCY_LABELS.get(ent.frequency or '', '')}, missed since "
                f"{labels.day_month(ent.missed_since)} ({who})"
            )
    if not (none or behind):
        return view
    return replace(view, no_agreement=tuple(none), entitlement=tuple(behind))


# ---- I'll attend -----------------------------------------------------------------------------------------------
async def attend(services: Services, turn: Turn) -> Reply:
    """Adds the person to the session they chose from a reminder and puts it in their calendar."""
    actor = turn.actor
    ctx = facts.context_for(services, services.calendar.local_date(turn.now))
    index = parse_index(turn.data.get("ht"))
    if ctx is None or (index is not None and index != ctx.half_term.index):
        return say(turn, "That half term is over, so this reminder no longer applies. Thank you!")
    raw = turn.data.get("session_id")
    async with services.db.session() as s:
        if raw in (None, ""):
            return await _reminder_again(s, ctx, actor, turn, None, "Choose a session to join.")
        session_id = parse_id(raw)
        if session_id is None:
            refuse(turn, "attend: malformed session id")
            return say(turn, NO_SESSION)
        try:
            session = await store.session_to_join(s, session_id, half_term=ctx.label)
        except NotFound:
            refuse(turn, "attend: session not offered")
            return say(turn, NO_SESSION)
        if session.status != "scheduled":
            return await _reminder_again(
                s, ctx, actor, turn, session_id, "That session has been cancelled — please choose another."
            )
        if session.starts_at <= turn.now:
            return await _reminder_again(
                s, ctx, actor, turn, session_id, "That session has already started — please choose another."
            )
        added = await store.join_session(s, session.id, actor.id, now=turn.now)
        if added:
            await _add_to_calendar(s, session, actor, turn.now)
        done = cards.attend_done_card(
            cards.AttendDoneView(
                actor.first_name, views.session_label(services.school, session), ctx.half_term.name, already=not added
            )
        )
    services.wake_outbox()
    return Reply.of(done)


async def _add_to_calendar(s, session: GroupSession, actor: StaffMember, now: dt.datetime) -> None:
    """Invite the person to the session's own meeting (its Teams link and room), or — when the session was not
    booked through a journey that keeps its event — put a private hold in their own calendar."""
    event = await facts.session_event(s, session)
    if event is None:
        await effects.add(
            s,
            effects.calendar_create(
                f"session:{session.id}:attendee:{actor.id}",
                organizer_id=actor.id,
                attendee_ids=[actor.id],
                start=session.starts_at,
                end=session.ends_at,
                online=False,
                chain=None,
            ),
            now=now,
        )
        return
    invitees = await store.invitee_ids(s, session.id)
    attendees = list(dict.fromkeys([*event.organiser_extra, *invitees]))  # the organiser is dropped on delivery
    invite = effects.calendar_update(
        event.event_key, attendees=attendees, key=f"calendar:{event.event_key}:attendee:{actor.id}"
    )
    # Chained after the event's creation only where its booking journey chains it (session_event says which).
    await effects.add(s, replace(invite, chain=event.chain), now=now)


async def _reminder_again(
    s, ctx: facts.Context, actor: StaffMember, turn: Turn, selected: int | None, problem: str
) -> Reply:
    """The same reminder with today's sessions, the person's choice kept if still offered, the error shown."""
    view = await views.reminder_view(s, ctx, actor.id, turn.now, selected=selected, error=problem)
    return Reply.of(cards.reminder_card(view))


# ---- the mop-up session ----------------------------------------------------------------------------------------
async def _proposal_context(services: Services, turn: Turn) -> tuple[facts.Context | None, MopUpProposal | None]:
    pid = parse_id(turn.data.get("proposal"))
    if pid is None:
        return None, None
    async with services.db.session() as s:
        try:
            row = await store.mop_up_proposal(s, pid)
        except NotFound:
            return None, None
    ctx = next(
        (
            facts.context_at(services, h.index)
            for h in services.calendar.half_terms
            if facts.label_of(services.school, h) == row.half_term
        ),
        None,
    )
    return ctx, row


async def propose_mop_up(services: Services, turn: Turn) -> Reply:
    """Proposes times for this half term's mop-up session now, instead of waiting for the scheduled proposal."""
    ctx = facts.context_for(services, services.calendar.local_date(turn.now))
    if ctx is None or parse_index(turn.data.get("ht")) != ctx.half_term.index:
        return say(turn, "A mop-up session can only be planned for the half term in progress.")
    async with services.db.session() as s:
        existing = await store.mop_up_proposal_for(s, ctx.label)
    # Its own transactions: the DSL team's free/busy is read between them, never inside one.
    row = await mopup.propose(
        services,
        ctx,
        turn.now,
        notify=False,
        refresh=existing is not None and existing.status in ("declined", "cancelled"),
    )
    if row is None or row.status != "proposed":
        async with services.db.session() as s:
            view = await views.attendance_view(s, ctx, turn.now)
        return Reply.of(cards.attendance_card(view))
    return Reply.of(cards.mop_up_proposal_card(mopup.proposal_view(ctx, row, turn.actor.id)))


async def confirm_mop_up(services: Services, turn: Turn) -> Reply:
    """Books the mop-up session at the chosen time: calendars, invitations, and the rest of the DSL team told."""
    actor = turn.actor
    ctx, row = await _proposal_context(services, turn)
    if ctx is None or row is None:
        refuse(turn, "mop-up confirm: unknown proposal")
        return say(turn, NO_PROPOSAL)
    if ctx.calendar.local_date(turn.now) > ctx.calendar.deadline(ctx.half_term):
        return say(turn, f"{ctx.half_term.name} is over, so its mop-up session can no longer be booked.")
    slot = turn.data.get("slot")
    facilitator = turn.data.get("facilitator")
    slot = slot if isinstance(slot, str) else None
    facilitator = facilitator if isinstance(facilitator, str) else None
    try:
        result = await mopup.book(services, ctx, actor, row.id, slot, facilitator, turn.now)
    except mopup.InvalidChoice as bad:
        view = mopup.proposal_view(
            ctx, row, actor.id, selected_option=slot, selected_facilitator=facilitator, errors=bad.errors
        )
        return Reply.of(cards.mop_up_proposal_card(view))
    except RuntimeError:  # booked or declined by someone else meanwhile: show what happened
        async with services.db.session() as s:
            fresh = await store.mop_up_proposal(s, row.id)
            card = cards.mop_up_outcome_card(await mopup.outcome_view(s, ctx, fresh))
        return Reply.of(card)
    services.wake_outbox()
    return Reply.of(result.card)


async def decline_mop_up(services: Services, turn: Turn) -> Reply:
    """Records that no mop-up session is needed this half term and tells the rest of the DSL team."""
    ctx, row = await _proposal_context(services, turn)
    if ctx is None or row is None:
        refuse(turn, "mop-up decline: unknown proposal")
        return say(turn, NO_PROPOSAL)
    card = await mopup.decline(services, ctx, turn.actor, row.id, turn.now)
    services.wake_outbox()
    return Reply.of(card)
