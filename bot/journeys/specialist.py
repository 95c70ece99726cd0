"""Journey: the DSL team sets up specialist or emergency group supervision at any time (seed 001 §3.3), and the
enrichment supervisor books the end-of-week group session (§3.1 Enrichment Week Supervision).

Both end in one group session (the shared group_sessions table, so group records and attendance work on it), one
private "Supervision" event in everyone's calendar, and a card in each person's chat — all through the outbox.
"""

from __future__ import annotations

import datetime as dt
import secrets

from bot import labels
from bot.domain.calendar import EnrichmentWeek
from bot.domain.request_rules import horizon_for, parse_group_setup, parse_manual_time
from bot.domain.slots import Slot
from bot.journeys import join_links, permissions, scheduling
from bot.journeys.base import Reply, Services, Turn
from bot.journeys.kit import parse_id, refuse, say
from bot.journeys.router import Router
from bot.outbox import effects
from bot.school import Role
from bot.store import specialist as store
from bot.store.errors import NotFound
from bot.store.models_request import SlotOffer
from bot.store.pool import as_supervisors, pool_entries, unit_of_work
from cards import specialist as cards

ONLY_DSL = "Only the DSL team can set up specialist or emergency supervision."
NOT_ENRICHMENT = "You aren't the enrichment supervisor for a coming enrichment week."
NOT_ORGANISER = "Only the person who set this session up can book it."
NOT_YOURS = "That session isn't one of yours."

DSL_TEAM = permissions.role(Role.DSL, ONLY_DSL, "DSL team", as_card=True)
SUPERVISORS = permissions.role(Role.SUPERVISOR, NOT_ENRICHMENT, "trained supervisor", as_card=True)


def register(router: Router) -> None:
    router.command(
        "specialist",
        "emergency",
        title="Specialist or emergency supervision",
        description="Set up supervision after an incident or bereavement, at any time.",
        handler=setup,
        allowed=DSL_TEAM,
        verb=cards.SETUP,
    )
    router.command(
        "enrichment",
        title="Enrichment week",
        description="Your enrichment week: requests and the end-of-week group session.",
        handler=enrichment,
        verb=cards.ENRICHMENT_OPEN,
        allowed=SUPERVISORS,
    )
    router.verb(cards.FIND, find, allowed=DSL_TEAM)
    # Booking, seeing and cancelling: whoever the offer or session names (checked in the handler).
    router.verb(cards.BOOK, book, allowed=permissions.on_roster(NOT_ORGANISER))
    router.verb(cards.SESSION_VIEW, view, allowed=permissions.on_roster(NOT_YOURS))
    router.verb(cards.SESSION_CANCEL, cancel, allowed=permissions.on_roster(NOT_YOURS))
    router.verb(cards.ENRICHMENT_FIND, enrichment_find, allowed=SUPERVISORS)


def _name(services: Services, staff_id: str | None) -> str:
    return labels.name_of(services.school, staff_id)


def _roster(services: Services, today: dt.date) -> list[tuple[str, str]]:
    return [(m.id, m.name) for m in sorted(services.school.active_on(today), key=lambda m: m.name.casefold())]


async def _leaders(services: Services, s, now: dt.datetime) -> list[tuple[str, str]]:
    """Who may lead: the trained pool (all of it, §3.3) and the DSL team."""
    today = services.calendar.local_date(now)
    entries = await pool_entries(services, s, now)
    ids = {sup.id for sup in as_supervisors(entries, today) if not sup.retired}
    ids |= {m.id for m in services.school.with_role(Role.DSL, on=today)}
    return [(i, _name(services, i)) for i in sorted(ids, key=lambda i: _name(services, i).casefold())]


# ---- specialist and emergency: set up, find times, book ------------------------------------------------------
async def setup(services: Services, turn: Turn) -> Reply:
    """Shows the DSL team the card to set up specialist or emergency group supervision."""
    today = services.calendar.local_date(turn.now)
    async with unit_of_work(services, turn.now) as s:
        leaders = await _leaders(services, s, turn.now)
    return Reply.of(
        cards.setup_card(
            cards.SetupView(nonce=secrets.token_urlsafe(12), staff=_roster(services, today), supervisors=leaders)
        )
    )


async def find(services: Services, turn: Turn) -> Reply:
    """Checks the set-up and offers times free for everyone involved (or a time typed in)."""
    today = services.calendar.local_date(turn.now)
    async with unit_of_work(services, turn.now) as s:
        leaders = await _leaders(services, s, turn.now)
    roster = _roster(services, today)
    values, errors, parsed = parse_group_setup(
        turn.data, roster_ids={i for i, _ in roster}, supervisor_choices={i for i, _ in leaders}
    )
    if parsed is None:
        return Reply.of(
            cards.setup_card(
                cards.SetupView(
                    nonce=str(turn.data.get("setup") or secrets.token_urlsafe(12))[:40],
                    staff=roster,
                    supervisors=leaders,
                    values=values,
                    errors=errors,
                    message="Please check the highlighted answers.",
                )
            )
        )
    setup_ = {
        "kind": parsed.kind,
        "staff": list(parsed.staff_ids),
        "supervisors": list(parsed.supervisor_ids),
        "external": parsed.external_support,
        "minutes": parsed.minutes,
        "soon": parsed.soon,
    }
    return await _offer(services, turn, setup_, message=None)


async def _offer(
    services: Services,
    turn: Turn,
    setup_: dict,
    *,
    message: str | None,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Reply:
    attendees = list(dict.fromkeys([*setup_["supervisors"], *setup_["staff"]]))
    minutes = int(setup_["minutes"])
    week = _week_from(setup_)
    if week is not None:
        days = [d for d in services.calendar.school_days_from(week.start) if d <= week.end]
        first = days[-2] if len(days) >= 2 else (days[0] if days else week.start)
        earliest = max(turn.now, _midnight(services, first))
        checked = [setup_["supervisors"][0]] + (setup_["staff"] if len(setup_["staff"]) < 20 else [])
        prop = await scheduling.propose(
            services, checked, earliest=earliest, minutes=minutes, horizon=2, last_day=week.end
        )
        min_date, max_date = first.isoformat(), week.end.isoformat()
    else:
        horizon = horizon_for(setup_.get("soon", "urgent"), services.school.settings.slot_horizon_school_days)
        prop = await scheduling.propose(services, attendees, earliest=turn.now, minutes=minutes, horizon=horizon)
        min_date, max_date = services.calendar.local_date(turn.now).isoformat(), None
    offer = await scheduling.save_offer(
        services,
        purpose="group",
        bookers=[turn.actor.id],
        attendees=attendees,
        slots=prop.slots,
        minutes=minutes,
        created_by=turn.actor.id,
        now=turn.now,
        setup=setup_,
    )
    return Reply.of(
        _offer_card(
            services,
            offer,
            prop.warning,
            message=message,
            errors=errors,
            values=values,
            min_date=min_date,
            max_date=max_date,
        )
    )


def _week_from(setup_: dict) -> EnrichmentWeek | None:
    if setup_.get("kind") != "enrichment":
        return None
    return EnrichmentWeek(
        dt.date.fromisoformat(setup_["week_start"]), dt.date.fromisoformat(setup_["week_end"]), setup_["supervisors"][0]
    )


def _midnight(services: Services, day: dt.date) -> dt.datetime:
    """The school's midnight starting `day`, in UTC."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=services.school.tz).astimezone(dt.timezone.utc)


def _offer_card(
    services: Services,
    offer: SlotOffer,
    warning: str | None,
    *,
    message: str | None,
    errors: dict[str, str] | None,
    values: dict[str, str] | None,
    min_date: str | None,
    max_date: str | None,
) -> dict:
    setup_ = offer.setup or {}
    heading = {
        "specialist": "Book specialist supervision",
        "emergency": "Book emergency group supervision",
        "enrichment": "Book the end-of-week group session",
    }.get(setup_.get("kind"), "Book group supervision")
    staff = setup_.get("staff") or []
    people = [_name(services, x) for x in staff[:12]]
    if len(staff) > 12:
        people.append(f"and {len(staff) - 12} more")
    return cards.group_offer_card(
        cards.GroupOfferView(
            nonce=offer.nonce,
            heading=heading,
            people=people,
            leaders=[_name(services, x) for x in setup_.get("supervisors") or []],
            minutes=offer.minutes,
            slots=scheduling.offer_choices(services, offer),
            external=bool(setup_.get("external")),
            warning=warning,
            values=values or {},
            errors=errors or {},
            message=message,
            min_date=min_date,
            max_date=max_date,
        )
    )


async def book(services: Services, turn: Turn) -> Reply:
    """Books the group session: everyone involved gets it in their calendar and a card in their chat."""
    actor = turn.actor
    nonce = turn.data.get("offer")
    async with unit_of_work(services, turn.now) as s:
        try:
            offer = await store.offer_by_nonce(s, nonce) if isinstance(nonce, str) else None
        except NotFound:
            offer = None
        if offer is None or offer.purpose != "group" or actor.id not in (offer.bookers or []):
            refuse(turn, "specialist.book not the organiser")
            return say(turn, NOT_ORGANISER)
        if offer.used_at is not None:
            return Reply.of(await scheduling.booked_view_for_offer(services, s, offer, actor.id))
    # Free/busy is read between the two transactions, never inside one.
    setup_ = offer.setup or {}
    values = {k: str(turn.data.get(k) or "") for k in ("slot", "date", "time")}
    raw = values["slot"].strip()
    if raw:
        if raw not in offer.slots:
            refuse(turn, "specialist.book time not offered")
            return await _again(
                services, turn, offer, errors={"slot": "Choose one of the times offered."}, values=values
            )
        start = dt.datetime.fromisoformat(raw)
        slot = Slot(start, start + dt.timedelta(minutes=offer.minutes))
        if slot.start <= turn.now or not await scheduling.still_free(services, offer.attendee_ids, slot):
            return await _offer(
                services, turn, setup_, message="That time has just been taken or has passed. Here are fresh times."
            )
    else:
        school = services.school.settings
        slot, errors = parse_manual_time(
            values["date"],
            values["time"],
            calendar=services.calendar,
            day_start=school.school_day.start,
            day_end=school.school_day.end,
            minutes=offer.minutes,
            now=turn.now,
        )
        week = _week_from(setup_)
        if (
            slot is not None
            and week is not None
            and not (week.start <= services.calendar.local_date(slot.start) <= week.end)
        ):
            slot, errors = None, {"date": "Choose a day in the enrichment week."}
        if slot is None:
            if not values["date"] and not values["time"]:
                errors = {"slot": "Choose a time above, or enter a date and start time."}
            return await _again(services, turn, offer, errors=errors, values=values)
    async with services.db.session() as s:
        if await store.claim_offer(s, offer.id, now=turn.now):  # else a double click: the first one booked it
            await scheduling.book_group_session(services, s, offer, slot, turn)
        return Reply.of(
            await scheduling.booked_view_for_offer(
                services, s, offer, actor.id, message="Booked. Everyone has it in their calendar and has been told."
            )
        )


async def _again(
    services: Services, turn: Turn, offer: SlotOffer, *, errors: dict[str, str], values: dict[str, str]
) -> Reply:
    """The same offer again, with what was typed kept and the error beside the field."""
    week = _week_from(offer.setup or {})
    today = services.calendar.local_date(turn.now)
    min_date = max(today, week.start).isoformat() if week else today.isoformat()
    max_date = week.end.isoformat() if week else None
    return Reply.of(
        _offer_card(
            services,
            offer,
            None,
            message="Please check the highlighted answers.",
            errors=errors,
            values=values,
            min_date=min_date,
            max_date=max_date,
        )
    )


# ---- a booked session: see it, cancel it -----------------------------------------------------------------------
async def _booked_for(s, turn: Turn, what: str) -> store.BookedSession | None:
    """The session on the card, if the person set it up, leads it or was invited (else refused and logged)."""
    sid = parse_id(turn.data.get("session_id"))
    try:
        booked = await store.booked_session(s, sid) if sid is not None else None
    except NotFound:
        booked = None
    if booked is None or not booked.involves(turn.actor.id):
        refuse(turn, what)
        return None
    return booked


async def view(services: Services, turn: Turn) -> Reply:
    """Shows a group session booking as it stands (booked or cancelled)."""
    async with unit_of_work(services, turn.now) as s:
        booked = await _booked_for(s, turn, "specialist.view")
        if booked is None:
            return say(turn, NOT_YOURS)
        return Reply.of(
            scheduling.group_session_view(
                services,
                booked.session,
                booked.link,
                turn.actor.id,
                len(booked.invitees),
                join_url=await join_links.join_url(s, booked.link.event_key),
            )
        )


async def cancel(services: Services, turn: Turn) -> Reply:
    """Cancels a group session (organiser or lead only); everyone's calendar and chat are updated."""
    actor_id = turn.actor.id
    async with unit_of_work(services, turn.now) as s:
        booked = await _booked_for(s, turn, "specialist.cancel")
        if booked is None:
            return say(turn, NOT_YOURS)
        session, link, count = booked.session, booked.link, len(booked.invitees)
        if actor_id not in (link.created_by, session.facilitator_id):
            refuse(turn, "specialist.cancel not organiser")
            return say(turn, "Only the person who booked the session, or who leads it, can cancel it.")
        if session.status != "scheduled":
            return Reply.of(scheduling.group_session_view(services, session, link, actor_id, count))
        if await store.cancel_session(s, session):
            told = f"Cancelled by {_name(services, actor_id)}."
            await effects.add(
                s,
                effects.calendar_cancel(link.event_key),
                *(
                    effects.update_card(
                        sid,
                        f"group-session:{session.id}",
                        scheduling.group_session_view(services, session, link, sid, count, message=told),
                        key=f"group-session:{session.id}:cancelled:{sid}",
                    )
                    for sid in dict.fromkeys([*link.supervisor_ids, *booked.invitees])
                    if sid != actor_id
                ),
                now=turn.now,
            )
            if link.request_id:
                await store.unbook_request(s, link.request_id, now=turn.now)
        return Reply.of(
            scheduling.group_session_view(
                services, session, link, actor_id, count, message="Cancelled; everyone has been told."
            )
        )


# ---- enrichment weeks ------------------------------------------------------------------------------------------
def _my_week(services: Services, actor_id: str, today: dt.date) -> EnrichmentWeek | None:
    """The current or next enrichment week this person supervises (seed 001 §3.1)."""
    weeks = [w for w in services.calendar.enrichment_weeks if w.supervisor == actor_id and w.end >= today]
    return min(weeks, key=lambda w: w.start) if weeks else None


def _week_label(w: EnrichmentWeek) -> str:
    """ "8–12 Feb 2027", or "29 Mar – 2 Apr 2027" across a month end."""
    if w.start.month == w.end.month:
        return f"{w.start.day}–{labels.day_label(w.end)}"
    return f"{labels.day_month(w.start)} – {labels.day_label(w.end)}"


async def _week_so_far(services: Services, s, week: EnrichmentWeek) -> tuple[list[str], str | None]:
    """Who has asked the enrichment supervisor for supervision this week, and when its group session is (if
    booked)."""
    start, end = _midnight(services, week.start), _midnight(services, week.end + dt.timedelta(days=1))
    requested = await store.enrichment_requesters(s, week.supervisor, start, end)
    g = await store.enrichment_session(s, week.supervisor, start, end)
    return requested, scheduling.slot_label(services, g.starts_at, g.ends_at) if g else None


async def enrichment(services: Services, turn: Turn) -> Reply:
    """Shows the enrichment supervisor their week and lets them book the end-of-week group session."""
    week = _my_week(services, turn.actor.id, services.calendar.local_date(turn.now))
    if week is None:
        refuse(turn, "enrichment.open not an enrichment supervisor")
        return say(turn, NOT_ENRICHMENT, as_card=True)
    async with unit_of_work(services, turn.now) as s:
        requested, booked = await _week_so_far(services, s, week)
    return Reply.of(
        cards.enrichment_card(
            cards.EnrichmentView(week_label=_week_label(week), requested=len(requested), booked_label=booked)
        )
    )


async def enrichment_find(services: Services, turn: Turn) -> Reply:
    """Offers times on the last days of the enrichment week for the group session."""
    actor = turn.actor
    today = services.calendar.local_date(turn.now)
    week = _my_week(services, actor.id, today)
    if week is None:
        refuse(turn, "enrichment.find not an enrichment supervisor")
        return say(turn, NOT_ENRICHMENT)
    invite = str(turn.data.get("invite") or "")
    minutes = str(turn.data.get("minutes") or "60")
    errors: dict[str, str] = {}
    async with unit_of_work(services, turn.now) as s:
        requested, booked = await _week_so_far(services, s, week)
    if invite not in ("all", "requested"):
        errors["invite"] = "Choose who to invite."
    elif invite == "requested" and not requested:
        errors["invite"] = "Nobody has asked for supervision this week yet; invite all staff, or wait."
    if minutes not in ("30", "45", "60", "90"):
        errors["minutes"] = "Choose a length from the list."
    if errors:
        return Reply.of(
            cards.enrichment_card(
                cards.EnrichmentView(
                    week_label=_week_label(week),
                    requested=len(requested),
                    booked_label=booked,
                    values={"invite": invite, "minutes": minutes},
                    errors=errors,
                )
            )
        )
    if invite == "all":
        staff = [i for i, _ in _roster(services, today) if i != actor.id]
    else:
        staff = [i for i in requested if i != actor.id]
    setup_ = {
        "kind": "enrichment",
        "staff": staff,
        "supervisors": [actor.id],
        "external": False,
        "minutes": int(minutes),
        "week_start": week.start.isoformat(),
        "week_end": week.end.isoformat(),
    }
    return await _offer(services, turn, setup_, message=None)
