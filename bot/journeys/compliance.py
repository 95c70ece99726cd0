"""Half-term compliance (issue #5): the attendance card, "I'll attend" from a reminder, and the mop-up session.

Who sees what (seed 001 §2: the DSL team tracks attendance; seed 004 §4: the process is reported to governors
"in general terms"):
* the DSL team gets names — who is still to attend, by group — because they act on them;
* a safeguarding governor gets figures only (per group, whole school, mop-up status), and a group with fewer than
  three people due is folded into the whole-school figure, so no figure points at one person;
* everyone else cannot open it.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from bot.domain.reminder_rules import COUNTING_KINDS
from bot.journeys.base import Reply, Services, Turn, refuse
from bot.journeys.router import Permission, Router
from bot.reminders import facts, mopup, views
from bot.school import Role, StaffMember
from bot.store.models_compliance import MopUpProposal
from bot.store.models_sessions import GroupSession, SessionInvitee
from cards import compliance as cards

NOT_FOR_YOU = "Sorry, that isn't something you can do here."
DSL_ONLY = "Only the DSL team can do that."


def _say(turn: Turn, message: str) -> Reply:
    """A sentence back: as a typed reply, or (for a clicked card) as a small card in its place."""
    if turn.invoke:
        return Reply.of(cards.notice_card(message))
    return Reply(text=message)


def _is_dsl(actor: StaffMember | None) -> bool:
    return actor is not None and Role.DSL in actor.roles


def _is_governor(actor: StaffMember | None) -> bool:
    return actor is not None and Role.GOVERNOR in actor.roles


def can_view_attendance(actor: StaffMember) -> bool:
    return _is_dsl(actor) or _is_governor(actor)


def _int(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) < 10:
        return int(value.strip())
    return None


def _default_context(services: Services, now: dt.datetime) -> facts.Context | None:
    """The half term in progress; in a holiday the one just finished (its results), or the first of the year."""
    cal = facts.calendar_of(services)
    today = cal.local_date(now)
    ht = cal.half_term_for(today)
    if ht is None:
        past = [h for h in cal.half_terms if h.end < today]
        ht = past[-1] if past else cal.half_terms[0]
    return facts.context_at(services, ht.index)


ATTENDANCE_VIEWERS = Permission("DSL team or safeguarding governor", lambda a: can_view_attendance(a),
                                "The attendance card is for the DSL team and safeguarding governors.")


def register(router: Router) -> None:
    router.command("attendance", title="Attendance",
                   description="This half term's group supervision: who has attended, who hasn't, days left, "
                               "the mop-up session.",
                   handler=show_attendance, allowed=ATTENDANCE_VIEWERS, verb=cards.ATTENDANCE)
    router.verb(cards.ATTEND, attend)
    router.verb(cards.MOPUP_PROPOSE, propose_mop_up)
    router.verb(cards.MOPUP_CONFIRM, confirm_mop_up)
    router.verb(cards.MOPUP_DECLINE, decline_mop_up)


async def show_attendance(services: Services, turn: Turn) -> Reply:
    """Shows this half term's attendance: names for the DSL team, figures only for governors."""
    actor = turn.actor
    if not (actor and can_view_attendance(actor)):
        refuse(turn, "attendance view")
        return _say(turn, "The attendance card is for the DSL team and safeguarding governors.")
    if "ht" in turn.data:
        index = _int(turn.data.get("ht"))
        ctx = facts.context_at(services, index) if index is not None else None
        if ctx is None:
            refuse(turn, "attendance for an unknown half term")
            return _say(turn, "I couldn't find that half term.")
    else:
        ctx = _default_context(services, turn.now)
    async with services.db.session() as s:
        if _is_dsl(actor):
            view = await views.attendance_view(s, ctx, turn.now)
            reviews = await _overdue_agreement_reviews(services, s, ctx.calendar.local_date(turn.now))
            card = cards.attendance_card(replace(view, agreement_reviews=reviews) if reviews else view)
        else:
            card = cards.governor_card(await views.governor_view(s, ctx, turn.now))
    return Reply.of(card)


async def _overdue_agreement_reviews(services: Services, s, today: dt.date) -> tuple[str, ...]:
    """1:1 supervision agreements past their annual review, through the compliance engine's overdue-items rule
    (seed 001 Appendix 1). Names and the due date only."""
    from bot.domain.compliance import compliance_report
    from bot.store.one_to_one import overdue_agreement_items

    items = await overdue_agreement_items(s, today)
    if not items:
        return ()
    report = compliance_report((), facts.calendar_of(services), (), today, open_items=items, half_terms=())
    staff = services.school.staff

    def name(staff_id: str) -> str:
        m = staff.get(staff_id)
        return m.name if m else "a former member of staff"

    return tuple(f"{name(i.staff_id)} with {name(i.ref)} (due {i.due_on.day} {i.due_on:%b %Y})"
                 for sid, found in report.overdue_items.items() for i in found if i.kind == "agreement_review")


async def attend(services: Services, turn: Turn) -> Reply:
    """Adds the person to the session they chose from a reminder and puts it in their calendar."""
    actor = turn.actor
    if actor is None:
        refuse(turn, "attend: not on roster")
        return _say(turn, NOT_FOR_YOU)
    today = facts.calendar_of(services).local_date(turn.now)
    ctx = facts.context_for(services, today)
    index = _int(turn.data.get("ht"))
    if ctx is None or (index is not None and index != ctx.half_term.index):
        return _say(turn, "That half term is over, so this reminder no longer applies. Thank you!")
    raw = turn.data.get("session_id")
    session_id = _int(raw)
    if raw in (None, ""):
        return await _reminder_again(services, ctx, actor, turn, None, "Choose a session to join.")
    if session_id is None:
        refuse(turn, "attend: malformed session id")
        return _say(turn, "I couldn't find that session.")
    async with services.db.session() as s:
        q = select(GroupSession).where(GroupSession.id == session_id)
        if s.bind.dialect.name == "postgresql":
            # One joiner at a time per session: each calendar update carries the whole attendee list, so two
            # people joining at once must not each send a list without the other.
            q = q.with_for_update()
        session = (await s.execute(q)).scalar_one_or_none()
        if session is None or session.kind not in COUNTING_KINDS or session.half_term != ctx.label:
            refuse(turn, "attend: session not offered")
            return _say(turn, "I couldn't find that session.")
        if session.status != "scheduled":
            problem = "That session has been cancelled — please choose another."
        elif session.starts_at <= turn.now:
            problem = "That session has already started — please choose another."
        else:
            problem = None
        if problem is None:
            insert = postgresql.insert if s.bind.dialect.name == "postgresql" else sqlite.insert
            res = await s.execute(insert(SessionInvitee).values(
                session_id=session.id, staff_id=actor.id, added_at=turn.now, added_via="self")
                .on_conflict_do_nothing(index_elements=["session_id", "staff_id"]))
            added = (res.rowcount or 0) > 0
            if added:
                await _add_to_calendar(s, session, actor, turn.now)
            done = cards.attend_done_card(cards.AttendDoneView(
                actor.first_name, views.session_label(services.school, session), ctx.half_term.name,
                already=not added))
    if problem is not None:
        return await _reminder_again(services, ctx, actor, turn, session_id, problem)
    _wake_outbox(services)
    return Reply.of(done)


async def _add_to_calendar(s, session: GroupSession, actor: StaffMember, now: dt.datetime) -> None:
    """Invite the person to the session's own meeting (its Teams link and room), or — when the session was not
    booked through a journey that keeps its event — put a private hold in their own calendar."""
    from bot.outbox import enqueue

    event = await facts.session_event(s, session)
    if event is None:
        key = f"session:{session.id}:attendee:{actor.id}"
        await enqueue(s, "calendar.create", {
            "event_key": key, "organizer_id": actor.id, "attendee_ids": [actor.id],
            "start": session.starts_at.isoformat(), "end": session.ends_at.isoformat(), "subject": "Supervision",
            "online": False}, key=f"calendar:{key}:create", now=now)
        return
    invitees = (await s.execute(select(SessionInvitee.staff_id).where(
        SessionInvitee.session_id == session.id).order_by(SessionInvitee.id))).scalars().all()
    attendees = list(dict.fromkeys([*event.organiser_extra, *invitees]))   # the organiser is dropped on delivery
    await enqueue(s, "calendar.update", {"event_key": event.event_key, "attendee_ids": attendees},
                  key=f"calendar:{event.event_key}:attendee:{actor.id}", chain=event.chain, now=now)


async def _reminder_again(services: Services, ctx: facts.Context, actor: StaffMember, turn: Turn,
                          selected: int | None, problem: str) -> Reply:
    """The same reminder with today's sessions, the person's choice kept if still offered, the error shown."""
    async with services.db.session() as s:
        view = await views.reminder_view(s, ctx, actor.id, turn.now, selected=selected, error=problem)
    return Reply.of(cards.reminder_card(view))


def _wake_outbox(services: Services) -> None:
    services.wake_outbox()


async def _proposal_context(services: Services, turn: Turn) -> tuple[facts.Context | None, MopUpProposal | None]:
    pid = _int(turn.data.get("proposal"))
    if pid is None:
        return None, None
    async with services.db.session() as s:
        row = (await s.execute(select(MopUpProposal).where(MopUpProposal.id == pid))).scalar_one_or_none()
    if row is None:
        return None, None
    cal = facts.calendar_of(services)
    ctx = next((facts.context_at(services, h.index) for h in cal.half_terms
                if facts.label_of(services.school, h) == row.half_term), None)
    return ctx, row


async def propose_mop_up(services: Services, turn: Turn) -> Reply:
    """Proposes times for this half term's mop-up session now, instead of waiting for the scheduled proposal."""
    actor = turn.actor
    if not _is_dsl(actor):
        refuse(turn, "mop-up propose")
        return _say(turn, DSL_ONLY)
    today = facts.calendar_of(services).local_date(turn.now)
    ctx = facts.context_for(services, today)
    if ctx is None or _int(turn.data.get("ht")) != ctx.half_term.index:
        return _say(turn, "A mop-up session can only be planned for the half term in progress.")
    async with services.db.session() as s:
        existing = (await s.execute(select(MopUpProposal).where(MopUpProposal.half_term == ctx.label))) \
            .scalar_one_or_none()
    row = await mopup.propose(services, ctx, turn.now, notify=False,
                              refresh=existing is not None and existing.status == "declined")
    if row is None or row.status != "proposed":
        async with services.db.session() as s:
            view = await views.attendance_view(s, ctx, turn.now)
        return Reply.of(cards.attendance_card(view))
    return Reply.of(cards.mop_up_proposal_card(mopup.proposal_view(ctx, row, actor.id)))


async def confirm_mop_up(services: Services, turn: Turn) -> Reply:
    """Books the mop-up session at the chosen time: calendars, invitations, and the rest of the DSL team told."""
    actor = turn.actor
    if not _is_dsl(actor):
        refuse(turn, "mop-up confirm")
        return _say(turn, DSL_ONLY)
    ctx, row = await _proposal_context(services, turn)
    if ctx is None or row is None:
        refuse(turn, "mop-up confirm: unknown proposal")
        return _say(turn, "I couldn't find that mop-up proposal.")
    today = ctx.calendar.local_date(turn.now)
    if today > ctx.calendar.deadline(ctx.half_term):
        return _say(turn, f"{ctx.half_term.name} is over, so its mop-up session can no longer be booked.")
    slot = turn.data.get("slot")
    facilitator = turn.data.get("facilitator")
    slot = slot if isinstance(slot, str) else None
    facilitator = facilitator if isinstance(facilitator, str) else None
    try:
        result = await mopup.book(services, ctx, actor, row.id, slot, facilitator, turn.now)
    except mopup.InvalidChoice as bad:
        view = mopup.proposal_view(ctx, row, actor.id, selected_option=slot, selected_facilitator=facilitator,
                                   errors=bad.errors)
        return Reply.of(cards.mop_up_proposal_card(view))
    except RuntimeError:
        async with services.db.session() as s:
            fresh = (await s.execute(select(MopUpProposal).where(MopUpProposal.id == row.id))).scalar_one()
            card = cards.mop_up_outcome_card(await mopup.outcome_view(s, ctx, fresh))
        return Reply.of(card)
    _wake_outbox(services)
    return Reply.of(result.card)


async def decline_mop_up(services: Services, turn: Turn) -> Reply:
    """Records that no mop-up session is needed this half term and tells the rest of the DSL team."""
    actor = turn.actor
    if not _is_dsl(actor):
        refuse(turn, "mop-up decline")
        return _say(turn, DSL_ONLY)
    ctx, row = await _proposal_context(services, turn)
    if ctx is None or row is None:
        refuse(turn, "mop-up decline: unknown proposal")
        return _say(turn, "I couldn't find that mop-up proposal.")
    card = await mopup.decline(services, ctx, actor, row.id, turn.now)
    _wake_outbox(services)
    return Reply.of(card)
