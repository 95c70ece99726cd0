"""The mop-up session (seed 001 §3.1: "a 'mop-up' session will be scheduled during the last week of each half
term"): proposing times to the DSL team from free/busy, booking one, or recording that none is needed.

Free/busy comes from ``services.m365.calendar.get_schedule`` (graph/ports.py) when a Microsoft 365 backend is
wired, or from ``services.busy_lookup`` (an ``async (staff_ids, start, end) -> {staff_id: [Busy]}``)
when the app provides one; without either the proposal says the calendars were not checked.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import select, update

from bot.domain.calendar import MOP_UP_WEEK_SCHOOL_DAYS
from bot.domain.reminder_rules import rank_mop_up_times
from bot.domain.slots import Busy, BusyStatus, blocking_intervals, find_slots
from bot.reminders import facts, views
from bot.reminders.facts import Context
from bot.school import Role, StaffMember
from bot.store.models_compliance import MopUpProposal
from bot.store.models_sessions import GroupSession, SessionInvitee
from bot.store.upsert import insert_ignore
from cards import compliance as cards

log = logging.getLogger("bot.reminders")

BusyLookup = Callable[[Sequence[str], dt.datetime, dt.datetime], Awaitable[dict[str, list[Busy]]]]
MOP_UP_TITLE = "Group supervision – mop-up"


def proposal_ref(label: str) -> str:
    """The stable name of the proposal card in each DSL's chat (so booking can replace it everywhere)."""
    return f"mopup-proposal:{label}"


def busy_lookup_for(services) -> BusyLookup | None:
    custom = services.busy_lookup
    if custom is not None:
        return custom
    calendar = getattr(getattr(services, "m365", None), "calendar", None)
    if calendar is None:
        return None
    school = services.school

    async def lookup(staff_ids: Sequence[str], start: dt.datetime, end: dt.datetime) -> dict[str, list[Busy]]:
        by_email = {school.staff[i].email.lower(): i for i in staff_ids if i in school.staff}
        schedules = await calendar.get_schedule(list(by_email), start, end)
        out: dict[str, list[Busy]] = {}
        for sch in schedules:
            sid = by_email.get(str(sch.person).lower())
            if sid is None or getattr(sch, "error", None):
                continue  # unreadable: left out, so nobody looks free when we do not know
            blocks = []
            for b in sch.busy:
                try:
                    status = BusyStatus(b.status)
                except ValueError:
                    status = BusyStatus.UNKNOWN
                blocks.append(Busy(b.start, b.end, status))
            out[sid] = blocks
        return out

    return lookup


def _midnight(day: dt.date, tz) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=tz).astimezone(dt.timezone.utc)


async def compute_options(
    services, ctx: Context, outstanding: Sequence[str], now: dt.datetime, *, limit: int = 4
) -> tuple[list[dict], bool]:
    """Up to ``limit`` times in the mop-up week: a DSL-team facilitator free, most of ``outstanding`` free."""
    cal, tz, settings = ctx.calendar, ctx.school.tz, ctx.school.settings
    first, last = cal.last_week(ctx.half_term)
    start, end = _midnight(first, tz), _midnight(last + dt.timedelta(days=1), tz)
    earliest = max(now, start)
    dsl_ids = [m.id for m in facts.dsl_team(ctx.school)]
    lookup = busy_lookup_for(services)
    busy: dict[str, list[Busy]] = {}
    checked = False
    if lookup is not None:
        try:
            busy = await lookup(list(dict.fromkeys([*dsl_ids, *outstanding])), start, end)
            checked = True
        except Exception as exc:  # noqa: BLE001 - a Graph outage must not stop the proposal
            log.warning("free/busy for the mop-up could not be read: %s", type(exc).__name__)
    free_facilitators: dict[tuple[dt.datetime, dt.datetime], set[str]] = {}
    for fac in dsl_ids:
        if checked and fac not in busy:
            continue
        slots = find_slots(
            {fac: busy.get(fac, [])},
            calendar=cal,
            tz=tz,
            day_start=settings.school_day.start,
            day_end=settings.school_day.end,
            duration=dt.timedelta(minutes=settings.session_minutes),
            earliest=earliest,
            horizon_school_days=MOP_UP_WEEK_SCHOOL_DAYS,
            count=500,
        )
        for sl in slots:
            if sl.start.astimezone(tz).date() <= last:
                free_facilitators.setdefault((sl.start, sl.end), set()).add(fac)
    attendee_busy = {sid: blocking_intervals({sid: busy[sid]}, tz=tz) for sid in outstanding if sid in busy}
    ranked = rank_mop_up_times(free_facilitators.keys(), attendee_busy, limit=limit)
    options = [
        {
            "start": r.start.isoformat(),
            "end": r.end.isoformat(),
            "facilitators": sorted(free_facilitators[(r.start, r.end)]),
            "free": r.attendees_free,
            "total": r.attendees_total,
        }
        for r in ranked
    ]
    return options, checked


def _parse(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso)


def option_label(ctx: Context, opt: dict, checked: bool) -> str:
    label = views.when_label(_parse(opt["start"]), _parse(opt["end"]), ctx.tz)
    if checked and opt.get("total"):
        label += f" · {opt['free']} of {opt['total']} free"
    return label


def proposal_view(
    ctx: Context,
    row: MopUpProposal,
    recipient_id: str | None,
    *,
    selected_option: str | None = None,
    selected_facilitator: str | None = None,
    errors: dict | None = None,
    banner: str | None = None,
) -> cards.MopUpProposalView:
    first, last = ctx.calendar.last_week(ctx.half_term)
    opts = tuple(
        cards.MopUpOption(str(i), option_label(ctx, o, row.calendars_checked)) for i, o in enumerate(row.options)
    )
    facilitators = views.facilitator_choices(ctx.school)
    if selected_facilitator is None and row.options:
        free = row.options[0].get("facilitators") or []
        selected_facilitator = recipient_id if recipient_id in free else (free[0] if free else None)
    return cards.MopUpProposalView(
        proposal_id=row.id,
        half_term_name=ctx.half_term.name,
        outstanding=row.outstanding_count,
        week_label=f"{views.day_label(first)} – {views.day_label(last)}",
        options=opts,
        facilitators=facilitators,
        selected_option=selected_option,
        selected_facilitator=selected_facilitator,
        calendars_checked=row.calendars_checked,
        errors=errors or {},
        banner=banner,
    )


async def _mop_up_session(s, label: str) -> GroupSession | None:
    return (
        (
            await s.execute(
                select(GroupSession)
                .where(
                    GroupSession.half_term == label, GroupSession.kind == "mop_up", GroupSession.status != "cancelled"
                )
                .limit(1)
            )
        )
        .scalars()
        .first()
    )


async def propose(
    services, ctx: Context, now: dt.datetime, *, notify: bool = True, refresh: bool = False
) -> MopUpProposal | None:
    """Make (or, with ``refresh``, remake) the half term's mop-up proposal. Returns it, or None when no mop-up is
    needed: nobody is outstanding, or a mop-up session already exists. The DSL team is told through the outbox
    in the same transaction that creates the proposal, so they are told exactly once."""
    from bot.outbox import enqueue

    today = ctx.calendar.local_date(now)
    async with services.db.session() as s:
        existing = (
            await s.execute(select(MopUpProposal).where(MopUpProposal.half_term == ctx.label))
        ).scalar_one_or_none()
        if await _mop_up_session(s, ctx.label) is not None:
            return None
        if existing is not None and not refresh:
            return existing
        report = await facts.compliance_for(s, ctx, today)
    outstanding = list(report.outstanding)
    if not outstanding:
        return None
    options, checked = await compute_options(services, ctx, outstanding, now)
    dsl_ids = [m.id for m in facts.dsl_team(ctx.school)]
    async with services.db.session() as s:
        if existing is not None:
            await s.execute(
                update(MopUpProposal)
                .where(MopUpProposal.id == existing.id, MopUpProposal.status != "booked")
                .values(
                    status="proposed",
                    options=options,
                    calendars_checked=checked,
                    outstanding_count=len(outstanding),
                    decided_by=None,
                    decided_at=None,
                )
            )
            return (await s.execute(select(MopUpProposal).where(MopUpProposal.id == existing.id))).scalar_one()
        added = await insert_ignore(
            s,
            MopUpProposal,
            [
                dict(
                    half_term=ctx.label,
                    status="proposed",
                    options=options,
                    calendars_checked=checked,
                    proposed_to=dsl_ids,
                    outstanding_count=len(outstanding),
                    created_at=now,
                )
            ],
            conflict=["half_term"],
        )
        row = (await s.execute(select(MopUpProposal).where(MopUpProposal.half_term == ctx.label))).scalar_one()
        if added > 0 and notify:
            for sid in dsl_ids:
                card = cards.mop_up_proposal_card(proposal_view(ctx, row, sid))
                await enqueue(
                    s,
                    "teams.notify",
                    {"staff_id": sid, "card": card, "ref": proposal_ref(ctx.label)},
                    key=f"mopup:{ctx.label}:proposal:{sid}",
                    now=now,
                )
        return row


@dataclass
class BookResult:
    card: dict
    booked: bool = False


class InvalidChoice(Exception):
    def __init__(self, errors: dict[str, str]):
        super().__init__("invalid choice")
        self.errors = errors


def _is_dsl(school, staff_id: str) -> bool:
    m = school.staff.get(staff_id)
    return m is not None and Role.DSL in m.roles


async def book(
    services,
    ctx: Context,
    actor: StaffMember,
    proposal_id: int,
    slot: str | None,
    facilitator: str | None,
    now: dt.datetime,
) -> BookResult:
    """Book the mop-up from a proposal: one session, its invitees, one calendar event, a message to each invitee
    and the proposal card replaced for the rest of the DSL team — all in one transaction, at most once."""
    school = ctx.school
    async with services.db.session() as s:
        row = await _locked(s, proposal_id)
        if row.status != "proposed":
            return BookResult(cards.mop_up_outcome_card(await outcome_view(s, ctx, row)), row.status == "booked")
        errors: dict[str, str] = {}
        opt = None
        if slot is None or not slot.isdigit() or int(slot) >= len(row.options):
            errors["slot"] = "Choose one of the times offered."
        else:
            opt = row.options[int(slot)]
            if _parse(opt["start"]) <= now:
                errors["slot"] = "That time has already passed — choose a later one."
        if facilitator is None or not _is_dsl(school, facilitator):
            errors["facilitator"] = "Choose someone from the DSL team to run it."
        elif opt is not None and row.calendars_checked and facilitator not in (opt.get("facilitators") or []):
            errors["facilitator"] = (
                f"{views.name_of(school, facilitator)} is busy then — choose another time or facilitator."
            )
        if errors:
            raise InvalidChoice(errors)
        outcome = await _book_in(s, ctx, row, opt, facilitator, actor.id, now)
        await _tell_other_dsls(s, ctx, row, actor.id, cards.mop_up_outcome_card(outcome), now, "booked")
        return BookResult(cards.mop_up_outcome_card(outcome), True)


async def _locked(s, proposal_id: int) -> MopUpProposal:
    q = select(MopUpProposal).where(MopUpProposal.id == proposal_id)
    if s.bind.dialect.name == "postgresql":
        q = q.with_for_update()
    return (await s.execute(q)).scalar_one()


async def _book_in(
    s, ctx: Context, row: MopUpProposal, opt: dict, facilitator: str, actor_id: str | None, now: dt.datetime
) -> cards.MopUpOutcomeView:
    """The booking itself, in the caller's transaction: the session and its invitees (everyone still to attend),
    the proposal marked booked (RuntimeError if someone else decided meanwhile: the caller rolls back), the
    calendar event and each invitee's card. `actor_id` None: booked automatically by the bot."""
    from bot.outbox import enqueue

    school, today = ctx.school, ctx.calendar.local_date(now)
    report = await facts.compliance_for(s, ctx, today)
    invitees = [sid for sid in report.outstanding if sid != facilitator]
    start, end = _parse(opt["start"]), _parse(opt["end"])
    session = GroupSession(
        kind="mop_up",
        group_id=None,
        title=MOP_UP_TITLE,
        starts_at=start,
        ends_at=end,
        local_date=start.astimezone(ctx.tz).date(),
        half_term=ctx.label,
        facilitator_id=facilitator,
        status="scheduled",
        external_support=False,
        created_by=actor_id or facilitator,
        created_at=now,
    )
    s.add(session)
    await s.flush()
    for sid in invitees:
        s.add(SessionInvitee(session_id=session.id, staff_id=sid, added_at=now, added_via="mop_up"))
    done = await s.execute(
        update(MopUpProposal)
        .where(MopUpProposal.id == row.id, MopUpProposal.status == "proposed")
        .values(status="booked", session_id=session.id, decided_by=actor_id, decided_at=now)
    )
    if (done.rowcount or 0) != 1:
        raise RuntimeError("mop-up proposal changed while booking")  # rolled back; the caller re-reads
    event_key = facts.mop_up_event_key(session.id)
    await enqueue(
        s,
        "calendar.create",
        {
            "event_key": event_key,
            "organizer_id": facilitator,
            "attendee_ids": invitees,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "subject": "Supervision",
            "online": True,
        },
        key=f"calendar:{event_key}:create",
        chain=f"calendar:{event_key}",
        now=now,
    )
    when = views.when_label(start, end, ctx.tz)
    fac_name = views.name_of(school, facilitator)
    for sid in invitees:
        member = school.staff[sid]
        await enqueue(
            s,
            "teams.notify",
            {
                "staff_id": sid,
                "card": cards.mop_up_invite_card(
                    cards.MopUpInviteView(member.first_name, ctx.half_term.name, when, fac_name, session.id)
                ),
            },
            key=f"mopup:{ctx.label}:invite:{sid}",
            now=now,
        )
    from bot.journeys.group_sessions import enqueue_record_prompt

    await enqueue_record_prompt(s, session, school, now=now)  # "time to record", when it ends
    return cards.MopUpOutcomeView(
        ctx.half_term.name,
        True,
        when,
        fac_name,
        len(invitees),
        views.name_of(school, actor_id) if actor_id else None,
        session_id=session.id,
        automatic=actor_id is None,
    )


#: The bot never books a mop-up starting sooner than this: people need a moment to see the invitation.
AUTO_NOTICE = dt.timedelta(hours=2)


def _pick(row: MopUpProposal, school, now: dt.datetime) -> tuple[dict, str] | None:
    """The bot's own choice: the best-ranked time at least AUTO_NOTICE ahead, run by the first of the DSL team
    (roster order) free then."""
    order = [m.id for m in facts.dsl_team(school)]
    for opt in row.options or []:
        free = [f for f in order if f in (opt.get("facilitators") or [])]
        if free and _parse(opt["start"]) > now + AUTO_NOTICE:
            return opt, free[0]
    return None


async def auto_book(services, ctx: Context, now: dt.datetime) -> MopUpProposal | None:
    """Seed 001 §3.1: a mop-up session "will be scheduled during the last week of each half term". Once per half
    term, when the proposal is due, the bot books it itself — the best time for those still to attend, with a
    DSL-team facilitator free then — and tells the DSL team, who may move or cancel it. Nothing is booked when the
    DSL team has already decided (a mop-up scheduled by hand, a proposal booked or declined, a mop-up cancelled)
    or nobody is outstanding. The half term's proposal row is the claim: one per half term (unique), and booking
    it is a conditional update in the same transaction as the session, so a restart or a second instance never
    books twice. With no time to offer, the DSL team gets the proposal card to choose instead."""
    row = await propose(services, ctx, now, notify=False)
    if row is None or row.status != "proposed":
        return row
    pick = _pick(row, ctx.school, now)
    dsl_ids = [m.id for m in facts.dsl_team(ctx.school)]
    try:
        return await _auto_book_in(services, ctx, row.id, pick, dsl_ids, now)
    except _Raced:  # another instance booked or a DSL decided meanwhile: this transaction was rolled back
        return None


class _Raced(Exception):
    """The proposal changed between reading and booking; raised out of the transaction so it rolls back."""


async def _auto_book_in(services, ctx: Context, row_id: int, pick, dsl_ids: list[str], now: dt.datetime):
    from bot.outbox import enqueue

    async with services.db.session() as s:
        fresh = await _locked(s, row_id)
        if fresh.status != "proposed":
            return fresh
        if pick is None:
            for sid in dsl_ids:  # nothing the bot can book: the DSL team chooses (told once per half term)
                await enqueue(
                    s,
                    "teams.notify",
                    {
                        "staff_id": sid,
                        "card": cards.mop_up_proposal_card(proposal_view(ctx, fresh, sid)),
                        "ref": proposal_ref(ctx.label),
                    },
                    key=f"mopup:{ctx.label}:proposal:{sid}",
                    now=now,
                )
            return fresh
        try:
            outcome = await _book_in(s, ctx, fresh, pick[0], pick[1], None, now)
        except RuntimeError as exc:
            raise _Raced() from exc
        card = cards.mop_up_outcome_card(outcome)
        for sid in fresh.proposed_to or dsl_ids:
            await enqueue(
                s,
                "teams.notify",
                {"staff_id": sid, "card": card, "ref": proposal_ref(ctx.label)},
                key=f"mopup:{ctx.label}:auto:{sid}",
                now=now,
            )
        log.info("mop-up booked automatically: half_term_index=%d invited=%d", ctx.half_term.index, outcome.invited)
        return fresh


async def decline(services, ctx: Context, actor: StaffMember, proposal_id: int, now: dt.datetime) -> dict:
    async with services.db.session() as s:
        res = await s.execute(
            update(MopUpProposal)
            .where(MopUpProposal.id == proposal_id, MopUpProposal.status == "proposed")
            .values(status="declined", decided_by=actor.id, decided_at=now)
        )
        row = (await s.execute(select(MopUpProposal).where(MopUpProposal.id == proposal_id))).scalar_one()
        outcome = await outcome_view(s, ctx, row)
        card = cards.mop_up_outcome_card(outcome)
        if (res.rowcount or 0) == 1:
            await _tell_other_dsls(s, ctx, row, actor.id, card, now, "declined")
        return card


async def _tell_other_dsls(
    s, ctx: Context, row: MopUpProposal, actor_id: str, card: dict, now: dt.datetime, what: str
) -> None:
    from bot.outbox import enqueue

    for sid in row.proposed_to or []:
        if sid != actor_id:
            await enqueue(
                s,
                "teams.update",
                {"staff_id": sid, "ref": proposal_ref(ctx.label), "card": card},
                key=f"mopup:{ctx.label}:{what}:{now.isoformat()}:{sid}",
                now=now,
            )


async def outcome_view(s, ctx: Context, row: MopUpProposal) -> cards.MopUpOutcomeView:
    if row.status == "booked" and row.session_id is not None:
        sess = (await s.execute(select(GroupSession).where(GroupSession.id == row.session_id))).scalar_one()
        n = len((await s.execute(select(SessionInvitee.id).where(SessionInvitee.session_id == sess.id))).all())
        return cards.MopUpOutcomeView(
            ctx.half_term.name,
            True,
            views.when_label(sess.starts_at, sess.ends_at, ctx.tz),
            views.name_of(ctx.school, sess.facilitator_id),
            n,
            views.name_of(ctx.school, row.decided_by) if row.decided_by else None,
            session_id=sess.id if sess.status == "scheduled" else None,
            automatic=row.decided_by is None,
        )
    return cards.MopUpOutcomeView(ctx.half_term.name, False, decided_by=views.name_of(ctx.school, row.decided_by or ""))
