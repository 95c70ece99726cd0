"""Journey: the DSL team sets up specialist or emergency group supervision at any time (seed 001 §3.3), and the
enrichment supervisor books the end-of-week group session (§3.1 Enrichment Week Supervision).

Both end in one group session (the shared group_sessions table, so group records and attendance work on it), one
private "Supervision" event in everyone's calendar, and a card in each person's chat — all through the outbox.
"""
from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import select, update

from bot.domain.calendar import EnrichmentWeek
from bot.domain.request_rules import horizon_for, parse_group_setup, parse_manual_time
from bot.domain.slots import Slot
from bot.journeys import scheduling
from bot.journeys.base import Reply, Services, Turn, refuse
from bot.journeys import permissions
from bot.journeys.router import Router
from bot.journeys.supervisor_pool import (as_supervisors, is_dsl, local_today, name_of, pool_entries, say,
                                          term_calendar, unit_of_work)
from bot.school import Role
from bot.store.models_request import BookedGroupSession, SlotOffer, SupervisionRequest
from bot.store.models_sessions import GroupSession, SessionInvitee
from cards import specialist as cards

ONLY_DSL = "Only the DSL team can set up specialist or emergency supervision."


def _roster(services: Services, today: dt.date) -> list[tuple[str, str]]:
    return [(m.id, m.name) for m in sorted(services.school.staff.values(), key=lambda m: m.name.casefold())
            if m.left_on is None or m.left_on > today]


async def _leaders(services: Services, s, now: dt.datetime) -> list[tuple[str, str]]:
    """Who may lead: the trained pool (all of it, §3.3) and the DSL team."""
    today = local_today(services, now)
    entries = await pool_entries(services, s, now)
    ids = {sup.id for sup in as_supervisors(entries, today) if not sup.retired}
    ids |= {m.id for m in services.school.with_role(Role.DSL) if m.left_on is None or m.left_on > today}
    return [(i, name_of(services, i)) for i in sorted(ids, key=lambda i: name_of(services, i).casefold())]


async def setup(services: Services, turn: Turn) -> Reply:
    """Shows the DSL team the card to set up specialist or emergency group supervision."""
    if not is_dsl(turn.actor):
        refuse(turn, "specialist.setup not dsl")
        return say(ONLY_DSL)
    today = local_today(services, turn.now)
    async with unit_of_work(services, turn.now) as s:
        leaders = await _leaders(services, s, turn.now)
    return Reply.of(cards.setup_card(cards.SetupView(nonce=secrets.token_urlsafe(12), staff=_roster(services, today),
                                                     supervisors=leaders)))


async def find(services: Services, turn: Turn) -> Reply:
    """Checks the set-up and offers times free for everyone involved (or a time typed in)."""
    if not is_dsl(turn.actor):
        refuse(turn, "specialist.find not dsl")
        return say(ONLY_DSL)
    today = local_today(services, turn.now)
    async with unit_of_work(services, turn.now) as s:
        leaders = await _leaders(services, s, turn.now)
    roster = _roster(services, today)
    values, errors, parsed = parse_group_setup(turn.data, roster_ids={i for i, _ in roster},
                                               supervisor_choices={i for i, _ in leaders})
    if parsed is None:
        return Reply.of(cards.setup_card(cards.SetupView(
            nonce=str(turn.data.get("setup") or secrets.token_urlsafe(12))[:40], staff=roster, supervisors=leaders,
            values=values, errors=errors, message="Please check the highlighted answers.")))
    setup_ = {"kind": parsed.kind, "staff": list(parsed.staff_ids), "supervisors": list(parsed.supervisor_ids),
              "external": parsed.external_support, "minutes": parsed.minutes, "soon": parsed.soon}
    return await _offer(services, turn, setup_, message=None)


async def _offer(services: Services, turn: Turn, setup_: dict, *, message: str | None,
                 errors: dict[str, str] | None = None, values: dict[str, str] | None = None) -> Reply:
    attendees = list(dict.fromkeys([*setup_["supervisors"], *setup_["staff"]]))
    minutes = int(setup_["minutes"])
    week = _week_from(setup_)
    if week is not None:
        cal = term_calendar(services)
        days = [d for d in cal.school_days_from(week.start) if d <= week.end]
        first = days[-2] if len(days) >= 2 else (days[0] if days else week.start)
        earliest = max(turn.now, dt.datetime.combine(first, dt.time(0), tzinfo=services.school.tz)
                       .astimezone(dt.timezone.utc))
        checked = [setup_["supervisors"][0]] + (setup_["staff"] if len(setup_["staff"]) < 20 else [])
        prop = await scheduling.propose(services, checked, earliest=earliest, minutes=minutes, horizon=2,
                                        last_day=week.end)
        min_date, max_date = first.isoformat(), week.end.isoformat()
    else:
        horizon = horizon_for(setup_.get("soon", "urgent"), services.school.settings.slot_horizon_school_days)
        prop = await scheduling.propose(services, attendees, earliest=turn.now, minutes=minutes, horizon=horizon)
        min_date, max_date = local_today(services, turn.now).isoformat(), None
    offer = await scheduling.save_offer(services, purpose="group", bookers=[turn.actor.id], attendees=attendees,
                                        slots=prop.slots, minutes=minutes, created_by=turn.actor.id, now=turn.now,
                                        setup=setup_)
    return Reply.of(_offer_card(services, offer, prop.warning, message=message, errors=errors, values=values,
                                min_date=min_date, max_date=max_date))


def _week_from(setup_: dict) -> EnrichmentWeek | None:
    if setup_.get("kind") != "enrichment":
        return None
    return EnrichmentWeek(dt.date.fromisoformat(setup_["week_start"]), dt.date.fromisoformat(setup_["week_end"]),
                          setup_["supervisors"][0])


def _offer_card(services: Services, offer: SlotOffer, warning: str | None, *, message: str | None,
                errors: dict[str, str] | None, values: dict[str, str] | None, min_date: str | None,
                max_date: str | None) -> dict:
    setup_ = offer.setup or {}
    heading = {"specialist": "Book specialist supervision", "emergency": "Book emergency group supervision",
               "enrichment": "Book the end-of-week group session"}.get(setup_.get("kind"), "Book group supervision")
    staff = setup_.get("staff") or []
    people = [name_of(services, x) for x in staff[:12]]
    if len(staff) > 12:
        people.append(f"and {len(staff) - 12} more")
    return cards.group_offer_card(cards.GroupOfferView(
        nonce=offer.nonce, heading=heading, people=people,
        leaders=[name_of(services, x) for x in setup_.get("supervisors") or []], minutes=offer.minutes,
        slots=scheduling.offer_choices(services, offer), external=bool(setup_.get("external")), warning=warning,
        values=values or {}, errors=errors or {}, message=message, min_date=min_date, max_date=max_date))


async def book(services: Services, turn: Turn) -> Reply:
    """Books the group session: everyone involved gets it in their calendar and a card in their chat."""
    actor = turn.actor
    nonce = turn.data.get("offer")
    async with unit_of_work(services, turn.now) as s:
        offer = (await s.execute(select(SlotOffer).where(SlotOffer.nonce == nonce))).scalar_one_or_none() \
            if isinstance(nonce, str) else None
        if offer is None or offer.purpose != "group" or actor is None or actor.id not in (offer.bookers or []):
            refuse(turn, "specialist.book not the organiser")
            return say("Only the person who set this session up can book it.")
        if offer.used_at is not None:
            return Reply.of(await scheduling.booked_view_for_offer(services, s, offer, actor.id))
    setup_ = offer.setup or {}
    values = {k: str(turn.data.get(k) or "") for k in ("slot", "date", "time")}
    raw = values["slot"].strip()
    if raw:
        if raw not in offer.slots:
            refuse(turn, "specialist.book time not offered")
            return await _again(services, turn, offer, errors={"slot": "Choose one of the times offered."},
                                values=values)
        start = dt.datetime.fromisoformat(raw)
        slot = Slot(start, start + dt.timedelta(minutes=offer.minutes))
        if slot.start <= turn.now or not await scheduling.still_free(services, offer.attendee_ids, slot):
            return await _offer(services, turn, setup_,
                                message="That time has just been taken or has passed. Here are fresh times.")
    else:
        school = services.school.settings
        slot, errors = parse_manual_time(values["date"], values["time"], calendar=term_calendar(services),
                                         day_start=school.school_day.start, day_end=school.school_day.end,
                                         minutes=offer.minutes, now=turn.now)
        week = _week_from(setup_)
        if slot is not None and week is not None and not (
                week.start <= slot.start.astimezone(services.school.tz).date() <= week.end):
            slot, errors = None, {"date": "Choose a day in the enrichment week."}
        if slot is None:
            if not values["date"] and not values["time"]:
                errors = {"slot": "Choose a time above, or enter a date and start time."}
            return await _again(services, turn, offer, errors=errors, values=values)
    async with services.db.session() as s:
        claimed = await s.execute(update(SlotOffer).where(SlotOffer.id == offer.id, SlotOffer.used_at.is_(None))
                                  .values(used_at=turn.now))
        if claimed.rowcount == 1:   # else a double click: the first one booked it
            await scheduling.book_group_session(services, s, offer, slot, turn)
    async with services.db.session() as s:
        offer = (await s.execute(select(SlotOffer).where(SlotOffer.id == offer.id))).scalar_one()
        return Reply.of(await scheduling.booked_view_for_offer(
            services, s, offer, actor.id, message="Booked. Everyone has it in their calendar and has been told."))


async def _again(services: Services, turn: Turn, offer: SlotOffer, *, errors: dict[str, str],
                 values: dict[str, str]) -> Reply:
    """The same offer again, with what was typed kept and the error beside the field."""
    week = _week_from(offer.setup or {})
    min_date = max(local_today(services, turn.now), week.start).isoformat() if week else \
        local_today(services, turn.now).isoformat()
    max_date = week.end.isoformat() if week else None
    return Reply.of(_offer_card(services, offer, None, message="Please check the highlighted answers.",
                                errors=errors, values=values, min_date=min_date, max_date=max_date))


async def _session_for(services: Services, s, turn: Turn, what: str):
    sid = scheduling._int(turn.data.get("session_id"))
    session = await s.get(GroupSession, sid) if sid is not None else None
    link = (await s.execute(select(BookedGroupSession).where(BookedGroupSession.session_id == sid))
            ).scalar_one_or_none() if session is not None else None
    invitees = [] if session is None else [i.staff_id for i in (await s.execute(
        select(SessionInvitee).where(SessionInvitee.session_id == session.id))).scalars()]
    actor_id = turn.actor.id if turn.actor else None
    if session is None or link is None or actor_id is None or actor_id not in {
            link.created_by, session.facilitator_id, *link.supervisor_ids, *invitees}:
        refuse(turn, what)
        return None, None, []
    return session, link, invitees


async def view(services: Services, turn: Turn) -> Reply:
    """Shows a group session booking as it stands (booked or cancelled)."""
    async with unit_of_work(services, turn.now) as s:
        session, link, invitees = await _session_for(services, s, turn, "specialist.view")
        if session is None:
            return say("That session isn't one of yours.")
        return Reply.of(scheduling.group_session_view(services, session, link, turn.actor.id, len(invitees)))


async def cancel(services: Services, turn: Turn) -> Reply:
    """Cancels a group session (organiser or lead only); everyone's calendar and chat are updated."""
    async with unit_of_work(services, turn.now) as s:
        session, link, invitees = await _session_for(services, s, turn, "specialist.cancel")
        if session is None:
            return say("That session isn't one of yours.")
        if turn.actor.id not in (link.created_by, session.facilitator_id):
            refuse(turn, "specialist.cancel not organiser")
            return say("Only the person who booked the session, or who leads it, can cancel it.")
        if session.status != "scheduled":
            return Reply.of(scheduling.group_session_view(services, session, link, turn.actor.id, len(invitees)))
        done = await s.execute(update(GroupSession).where(
            GroupSession.id == session.id, GroupSession.status == "scheduled").values(status="cancelled"))
        if done.rowcount == 1:
            session.status = "cancelled"
            await scheduling.calendar_cancel(s, event_key=link.event_key, now=turn.now)
            for sid in dict.fromkeys([*link.supervisor_ids, *invitees]):
                if sid == turn.actor.id:
                    continue
                await scheduling.update_card(
                    s, sid, f"group-session:{session.id}",
                    scheduling.group_session_view(services, session, link, sid, len(invitees),
                                                  message=f"Cancelled by {name_of(services, turn.actor.id)}."),
                    key=f"group-session:{session.id}:cancelled:{sid}", now=turn.now)
            if link.request_id:
                req = await s.get(SupervisionRequest, link.request_id)
                if req is not None and req.status == "booked":
                    req.status, req.updated_at = "allocated", turn.now
        return Reply.of(scheduling.group_session_view(services, session, link, turn.actor.id, len(invitees),
                                                      message="Cancelled; everyone has been told."))


# ---- enrichment weeks ------------------------------------------------------------------------------------------
def _my_week(services: Services, actor_id: str, today: dt.date) -> EnrichmentWeek | None:
    """The current or next enrichment week this person supervises (seed 001 §3.1)."""
    weeks = [w for w in term_calendar(services).enrichment_weeks if w.supervisor == actor_id and w.end >= today]
    return min(weeks, key=lambda w: w.start) if weeks else None


def _week_label(w: EnrichmentWeek) -> str:
    if w.start.month == w.end.month:
        return f"{w.start.day}–{w.end.day} {w.end:%b %Y}"
    return f"{w.start.day} {w.start:%b} – {w.end.day} {w.end:%b %Y}"


async def _requested_in_week(services: Services, s, week: EnrichmentWeek) -> list[str]:
    tz = services.school.tz
    start = dt.datetime.combine(week.start, dt.time(0), tzinfo=tz).astimezone(dt.timezone.utc)
    end = dt.datetime.combine(week.end + dt.timedelta(days=1), dt.time(0), tzinfo=tz).astimezone(dt.timezone.utc)
    rows = (await s.execute(select(SupervisionRequest.requester_id).where(
        SupervisionRequest.route == "enrichment", SupervisionRequest.supervisor_id == week.supervisor,
        SupervisionRequest.created_at >= start, SupervisionRequest.created_at < end))).scalars().all()
    return list(dict.fromkeys(rows))


async def enrichment(services: Services, turn: Turn) -> Reply:
    """Shows the enrichment supervisor their week and lets them book the end-of-week group session."""
    actor = turn.actor
    today = local_today(services, turn.now)
    week = _my_week(services, actor.id, today) if actor else None
    if week is None:
        refuse(turn, "enrichment.open not an enrichment supervisor")
        return say("You aren't the enrichment supervisor for a coming enrichment week.")
    async with unit_of_work(services, turn.now) as s:
        requested = await _requested_in_week(services, s, week)
        booked = await _enrichment_booked(services, s, week)
    return Reply.of(cards.enrichment_card(cards.EnrichmentView(week_label=_week_label(week), requested=len(requested),
                                                               booked_label=booked)))


async def _enrichment_booked(services: Services, s, week: EnrichmentWeek) -> str | None:
    tz = services.school.tz
    start = dt.datetime.combine(week.start, dt.time(0), tzinfo=tz).astimezone(dt.timezone.utc)
    end = dt.datetime.combine(week.end + dt.timedelta(days=1), dt.time(0), tzinfo=tz).astimezone(dt.timezone.utc)
    g = (await s.execute(select(GroupSession).where(
        GroupSession.kind == "enrichment", GroupSession.status == "scheduled", GroupSession.facilitator_id ==
        week.supervisor, GroupSession.starts_at >= start, GroupSession.starts_at < end).limit(1))).scalar_one_or_none()
    return scheduling.slot_label(services, g.starts_at, g.ends_at) if g else None


async def enrichment_find(services: Services, turn: Turn) -> Reply:
    """Offers times on the last days of the enrichment week for the group session."""
    actor = turn.actor
    today = local_today(services, turn.now)
    week = _my_week(services, actor.id, today) if actor else None
    if week is None:
        refuse(turn, "enrichment.find not an enrichment supervisor")
        return say("You aren't the enrichment supervisor for a coming enrichment week.")
    invite = str(turn.data.get("invite") or "")
    minutes = str(turn.data.get("minutes") or "60")
    errors: dict[str, str] = {}
    async with unit_of_work(services, turn.now) as s:
        requested = await _requested_in_week(services, s, week)
        booked = await _enrichment_booked(services, s, week)
    if invite not in ("all", "requested"):
        errors["invite"] = "Choose who to invite."
    elif invite == "requested" and not requested:
        errors["invite"] = "Nobody has asked for supervision this week yet; invite all staff, or wait."
    if minutes not in ("30", "45", "60", "90"):
        errors["minutes"] = "Choose a length from the list."
    if errors:
        return Reply.of(cards.enrichment_card(cards.EnrichmentView(
            week_label=_week_label(week), requested=len(requested), booked_label=booked,
            values={"invite": invite, "minutes": minutes}, errors=errors)))
    if invite == "all":
        staff = [i for i, _ in _roster(services, today) if i != actor.id]
    else:
        staff = [i for i in requested if i != actor.id]
    setup_ = {"kind": "enrichment", "staff": staff, "supervisors": [actor.id], "external": False,
              "minutes": int(minutes), "week_start": week.start.isoformat(), "week_end": week.end.isoformat()}
    return await _offer(services, turn, setup_, message=None)


def register(router: Router) -> None:
    router.command("specialist", "emergency", title="Specialist or emergency supervision",
                   description="Set up supervision after an incident or bereavement, at any time.", handler=setup,
                   allowed=permissions.role(Role.DSL, ONLY_DSL, "DSL team", as_card=True), verb=cards.SETUP)
    router.command("enrichment", title="Enrichment week",
                   description="Your enrichment week: requests and the end-of-week group session.",
                   handler=enrichment, verb=cards.ENRICHMENT_OPEN,
                   allowed=permissions.role(Role.SUPERVISOR, "You aren't the enrichment supervisor for a coming "
                                                             "enrichment week.", "trained supervisor",
                                            as_card=True))
    router.verb(cards.FIND, find)
    router.verb(cards.BOOK, book)
    router.verb(cards.SESSION_VIEW, view)
    router.verb(cards.SESSION_CANCEL, cancel)
    router.verb(cards.ENRICHMENT_FIND, enrichment_find)

