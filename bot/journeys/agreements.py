"""Journey: the supervision agreement between a supervisor and supervisee, confirmed by both, reviewed yearly.

Seed 001 Appendix 1, seed 002 "Contract" and seed 003 Appendix 1: an agreement made at the start of supervision,
signed by both, reviewed at least once a year.

`agreement`: either person of an active pairing records that they made (or reviewed) their agreement; the other
confirms with one click; the review falls due a year from the date agreed. Only choices from fixed lists are kept,
never typed text. The DSL attendance card shows only that a pair's review is overdue
(`bot.store.one_to_one.overdue_agreement_items`).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from bot.journeys.base import Reply, Services, Turn
from bot.journeys.kit import audited, parse_id, parse_key, tampered
from bot.journeys.one_to_one import FORMER, STAFF, TAMPERED
from bot.journeys.router import Router
from bot.labels import date_label, name_of
from bot.outbox import effects
from bot.records.rules import clean_text, parse_date
from bot.store import audit
from bot.store import one_to_one as store
from bot.store.errors import AlreadyRecorded, NotFound, NotYours
from bot.store.models_request import Pairing
from bot.store.one_to_one import Confirmation
from cards import targeted as cards

log = logging.getLogger("bot.journeys.agreements")

FREQ_LABELS = dict(cards.FREQUENCIES)
LENGTH_VALUES = {int(v) for v, _ in cards.LENGTHS}


def register(router: Router) -> None:
    router.command(
        "agreement",
        "agreements",
        title="Supervision agreement",
        description="Record or confirm the agreement with your supervisor or supervisee, and see when "
        "it is due for review.",
        handler=show_agreements,
        allowed=STAFF,
        verb=cards.V_AGREEMENTS,
    )
    router.verb(cards.V_AGREEMENT_FORM, agreement_form, allowed=STAFF)
    router.verb(cards.V_AGREEMENT_SUBMIT, agreement_submit, allowed=STAFF)
    router.verb(cards.V_AGREEMENT_CONFIRM, agreement_confirm, allowed=STAFF)


def add_year(d: dt.date) -> dt.date:
    """The same date a year on (29 February → 28 February): when an agreement is due for review."""
    try:
        return d.replace(year=d.year + 1)
    except ValueError:
        return d.replace(year=d.year + 1, day=28)


def _today(services: Services, turn: Turn) -> dt.date:
    return turn.now.astimezone(services.school.tz).date()


def _name(services: Services, staff_id: str) -> str:
    return name_of(services.school, staff_id, missing=FORMER)


# ---- the person's agreements --------------------------------------------------------------------------------


async def show_agreements(services: Services, turn: Turn) -> Reply:
    """Each of the person's active 1:1 supervisions: agreement made? confirmed by both? review due when?"""
    async with services.db.session() as s:
        return Reply.of(await _agreements_card(services, turn, s))


async def _agreements_card(services: Services, turn: Turn, s, notice: str | None = None) -> dict:
    me = turn.actor.id
    today = _today(services, turn)
    view = cards.AgreementsView(notice=notice)
    for p in await store.pairings_of(s, me):
        agreed, waiting = await store.agreements_of(s, p)
        other = p.supervisee_id if p.supervisor_id == me else p.supervisor_id
        label = (
            f"{_name(services, other)} (you supervise them)"
            if p.supervisor_id == me
            else f"{_name(services, other)} (your supervisor)"
        )
        parts: list[str] = []
        overdue = False
        if agreed is not None:
            overdue = agreed.review_due < today
            parts.append(
                f"Agreed {date_label(agreed.agreed_on)}, confirmed by both. "
                + (
                    f"Review overdue since {date_label(agreed.review_due)}."
                    if overdue
                    else f"Review due by {date_label(agreed.review_due)}."
                )
            )
        confirm_id = None
        if waiting is not None:
            who = store.waiting_for(waiting)
            if who == me:
                confirm_id = waiting.id
                parts.append(
                    f"{_name(services, waiting.proposed_by)} recorded an agreement made "
                    f"{date_label(waiting.agreed_on)}: waiting for you to confirm."
                )
            else:
                parts.append(
                    f"Agreement of {date_label(waiting.agreed_on)} waiting for {_name(services, who)} to confirm."
                )
        if not parts:
            parts.append("No agreement recorded yet: make one together at the start of your supervision.")
        view.lines.append(cards.AgreementLine(p.id, label, " ".join(parts), overdue=overdue, confirm_id=confirm_id))
    return cards.agreements_card(view)


async def _pair_for_actor(services: Services, turn: Turn, s) -> Pairing | Reply:
    """The card's pairing, if the actor is one of the two and it has not ended; otherwise the answer to give."""
    pid = parse_id(turn.data.get("pairing_id"))
    if pid is None:
        return tampered(turn, "1:1 record: agreement: pairing id", TAMPERED)
    try:
        p = await store.pairing_of(s, pid, turn.actor.id)
    except (NotFound, NotYours):
        return tampered(turn, "1:1 record: agreement: not their pairing", TAMPERED)
    if p.ended_at is not None:
        return Reply.of(await _agreements_card(services, turn, s, "That supervision has ended."))
    return p


# ---- recording one -------------------------------------------------------------------------------------------


def _form_view(
    services: Services,
    turn: Turn,
    p: Pairing,
    nonce: str,
    values: dict,
    errors: dict | None = None,
    review: bool = False,
) -> cards.AgreementFormView:
    is_sup = turn.actor.id == p.supervisor_id
    return cards.AgreementFormView(
        pairing_id=p.id,
        other_name=_name(services, p.supervisee_id if is_sup else p.supervisor_id),
        other_label="Supervisee" if is_sup else "Supervisor",
        nonce=nonce,
        max_date=_today(services, turn).isoformat(),
        values=values,
        errors=errors or {},
        review=review,
    )


async def agreement_form(services: Services, turn: Turn) -> Reply:
    """The form for recording the agreement the two made (or reviewed), last time's arrangements filled in."""
    async with services.db.session() as s:
        p = await _pair_for_actor(services, turn, s)
        if isinstance(p, Reply):
            return p
        agreed, _ = await store.agreements_of(s, p)
    values = {"ag_date": _today(services, turn).isoformat()}
    if agreed is not None:
        values |= {
            k: v
            for k, v in (
                ("ag_frequency", agreed.frequency),
                ("ag_minutes", str(agreed.minutes) if agreed.minutes else None),
            )
            if v
        }
    return Reply.of(
        cards.agreement_form_card(_form_view(services, turn, p, uuid.uuid4().hex, values, review=agreed is not None))
    )


async def agreement_submit(services: Services, turn: Turn) -> Reply:
    """Records that the pair made (or reviewed) their agreement, confirmed by whoever sent it; asks the other."""
    try:
        async with services.db.session() as s:
            return await _record_agreement(services, turn, s)
    except AlreadyRecorded:  # a second click raced the first: this one's transaction was rolled back
        async with services.db.session() as s:
            return Reply.of(await _agreements_card(services, turn, s, "That agreement was already recorded."))


async def _record_agreement(services: Services, turn: Turn, s) -> Reply:
    """The submit's one transaction."""
    p = await _pair_for_actor(services, turn, s)
    if isinstance(p, Reply):
        return p
    nonce = parse_key(turn.data.get("nonce"))
    if nonce is None:
        return tampered(turn, "1:1 record: agreement nonce", TAMPERED)
    d = turn.data
    freq = clean_text(d.get("ag_frequency"), multiline=False)
    minutes_raw = clean_text(d.get("ag_minutes"), multiline=False)
    minutes = parse_id(minutes_raw) if minutes_raw else None
    if (freq and freq not in FREQ_LABELS) or (minutes_raw and minutes not in LENGTH_VALUES):
        return tampered(turn, "1:1 record: agreement choice not offered", TAMPERED)
    if await store.agreement_recorded(s, nonce):
        return Reply.of(await _agreements_card(services, turn, s, "That agreement was already recorded."))
    errors: dict[str, str] = {}
    today = _today(services, turn)
    raw = clean_text(d.get("ag_date"), multiline=False)
    day = parse_date(raw)
    if day is None:
        errors["ag_date"] = "Give the date you agreed it." if not raw else "Use a date like 2026-11-23."
    elif day > today:
        errors["ag_date"] = "That date is in the future: record the agreement once you've made it."
    elif add_year(day) < today:
        errors["ag_date"] = "An agreement from over a year ago is already due for review: use today's date."
    for key, _ in cards.AGREEMENT_POINTS:
        if str(d.get(key)).lower() != "true":
            errors[key] = "Tick this once you have both agreed it."
    values = {
        k: clean_text(d.get(k), multiline=False)
        for k in ("ag_date", "ag_frequency", "ag_minutes", *(k for k, _ in cards.AGREEMENT_POINTS))
        if d.get(k)
    }
    if errors:
        return Reply.of(cards.agreement_form_card(_form_view(services, turn, p, nonce, values, errors)))
    me = turn.actor.id
    other = p.supervisee_id if me == p.supervisor_id else p.supervisor_id
    row = await store.propose_agreement(
        s,
        p,
        nonce=nonce,
        proposed_by=me,
        agreed_on=day,
        review_due=add_year(day),
        frequency=freq or None,
        minutes=minutes,
        now=turn.now,
    )
    arrangements = (
        ", ".join(x for x in (FREQ_LABELS.get(freq or ""), f"{minutes} minutes" if minutes else "") if x) or "not set"
    )
    await effects.add(
        s,
        effects.notify(
            other,
            cards.confirm_request_card(
                agreement_id=row.id,
                proposer=turn.actor.name,
                agreed_on=date_label(day),
                review_due=date_label(row.review_due),
                arrangements=arrangements,
            ),
            key=f"agreement:{row.id}:confirm",
        ),
        now=turn.now,
    )
    await audited(services, turn, s, audit.CREATED, audit.AGREEMENT, row.id)
    log.info("supervision agreement recorded: agreement=%s", row.id)
    return Reply.of(
        await _agreements_card(
            services, turn, s, f"Recorded and confirmed by you. I've asked {_name(services, other)} to confirm."
        )
    )


# ---- confirming one -------------------------------------------------------------------------------------------


async def agreement_confirm(services: Services, turn: Turn) -> Reply:
    """The other person's one click: the agreement is then signed by both and the review date set."""
    aid = parse_id(turn.data.get("agreement_id"))
    if aid is None:
        return tampered(turn, "1:1 record: agreement id", TAMPERED)
    me = turn.actor.id
    async with services.db.session() as s:
        try:
            outcome, row = await store.confirm_agreement(s, aid, me, now=turn.now)
        except (NotFound, NotYours):
            return tampered(turn, "1:1 record: agreement: not theirs", TAMPERED)
        if outcome is Confirmation.ALREADY_AGREED:
            notice = "This agreement is already confirmed by both of you."
        elif outcome is Confirmation.STALE:
            notice = "That agreement was replaced by a newer one, or the supervision has ended: nothing to confirm."
        elif outcome is Confirmation.NOT_THEIR_TURN:
            notice = f"You've confirmed this already; it's waiting for {_name(services, store.waiting_for(row))}."
        else:
            other = row.supervisee_id if me == row.supervisor_id else row.supervisor_id
            await effects.add(
                s,
                effects.notify(
                    other,
                    cards.message_card(
                        "Supervision agreement confirmed",
                        f"{turn.actor.name} confirmed your supervision agreement of {date_label(row.agreed_on)}. It is "
                        f"due for review by {date_label(row.review_due)}.",
                        back_verb=cards.V_AGREEMENTS,
                        back="Agreements",
                    ),
                    key=f"agreement:{row.id}:confirmed",
                ),
                now=turn.now,
            )
            notice = f"Confirmed by both of you. Review due by {date_label(row.review_due)}."
            await audited(services, turn, s, audit.CHANGED, audit.AGREEMENT, row.id)
            log.info("supervision agreement confirmed: agreement=%s", row.id)
        return Reply.of(await _agreements_card(services, turn, s, notice))
