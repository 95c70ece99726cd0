"""Journey: the supervision agreement between a supervisor and supervisee, confirmed by both, reviewed yearly.

Seed 001 Appendix 1, seed 002 "Contract" and seed 003 Appendix 1: an agreement made at the start of supervision,
signed by both, reviewed at least once a year.

`agreement`: either person of an active pairing records that they made (or reviewed) their agreement — the
practical arrangements and the contract terms the policies list (bot/records/agreement_terms.py), checked, with
everything typed kept on the card when something needs correcting; the other confirms with one click; the review
falls due when they chose, at most a year on. The typed terms go only into the agreement's .docx, queued in the
same transaction for the supervisor's OneDrive and shared with the supervisee (like a 1:1 record); the database
keeps the frequency, duration, dates and confirmations. The DSL attendance card shows only that a pair's review
is overdue (`bot.store.one_to_one.overdue_agreement_items`) or that a pair has none.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from bot.journeys.base import Reply, Services, Turn
from bot.journeys.kit import audited, parse_id, parse_key, tampered
from bot.journeys.one_to_one import FORMER, STAFF, TAMPERED
from bot.journeys.router import Router
from bot.labels import date_label, name_of, stamp
from bot.outbox import effects
from bot.records.agreement_terms import agreement_terms
from bot.records.rules import clean_text, parse_date
from bot.store import audit
from bot.store import one_to_one as store
from bot.store.errors import AlreadyRecorded, NotFound, NotYours
from bot.store.models_request import Pairing
from bot.store.models_targeted import DELIVERED, FAILED, PENDING, SupervisionAgreement
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
    router.on_delivered(effects.PERSONAL_SHARE, document_delivered)
    router.on_dead_letter(effects.PERSONAL_SHARE, document_dead)


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
        shown = agreed if agreed is not None and agreed.file_status == DELIVERED else None
        view.lines.append(
            cards.AgreementLine(
                p.id,
                label,
                " ".join(parts),
                overdue=overdue,
                confirm_id=confirm_id,
                web_url=shown.web_url if shown is not None else None,
            )
        )
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
        max_review=add_year(_today(services, turn)).isoformat(),
        agreement=agreement_terms(services.school),
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
    if not freq:
        errors["ag_frequency"] = "Choose how often you'll meet."
    if not minutes_raw:
        errors["ag_minutes"] = "Choose how long a session lasts."
    review_due, terms = _read_terms(services, d, day, errors)
    for key, _ in cards.AGREEMENT_POINTS:
        if str(d.get(key)).lower() != "true":
            errors[key] = "Tick this once you have both agreed it."
    values = {
        k: clean_text(d.get(k), multiline=False)
        for k in ("ag_date", "ag_review", "ag_frequency", "ag_minutes", *(k for k, _ in cards.AGREEMENT_POINTS))
        if d.get(k)
    } | {t.id: clean_text(d.get(t.id)) for t in agreement_terms(services.school).terms if d.get(t.id) is not None}
    if errors:
        n = len(errors)
        view = _form_view(services, turn, p, nonce, values, errors)
        view.top_error = (
            f"Please check {'the field' if n == 1 else f'{n} fields'} marked below; nothing you typed has been lost."
        )
        return Reply.of(cards.agreement_form_card(view))
    me = turn.actor.id
    other = p.supervisee_id if me == p.supervisor_id else p.supervisor_id
    agreed_before, _ = await store.agreements_of(s, p)
    row = await store.propose_agreement(
        s,
        p,
        nonce=nonce,
        proposed_by=me,
        agreed_on=day,
        review_due=review_due,
        frequency=freq or None,
        minutes=minutes,
        now=turn.now,
    )
    await _queue_document(services, turn, s, p, row, terms, review=agreed_before is not None)
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


def _read_terms(
    services: Services, d: dict, day: dt.date | None, errors: dict[str, str]
) -> tuple[dt.date | None, dict[str, str]]:
    """The review date (empty: a year after the date agreed) and the typed terms, with their mistakes."""
    raw = clean_text(d.get("ag_review"), multiline=False)
    review = parse_date(raw) if raw else (add_year(day) if day else None)
    if raw and review is None:
        errors["ag_review"] = "Use a date like 2027-11-23."
    elif review is not None and day is not None:
        if review <= day:
            errors["ag_review"] = "The review has to come after the date you agreed it."
        elif review > add_year(day):
            errors["ag_review"] = "Review it at least once a year: choose a date no more than a year on."
    terms: dict[str, str] = {}
    for t in agreement_terms(services.school).terms:
        value = clean_text(d.get(t.id), multiline=t.max_length > 200)
        if t.required and not value:
            errors[t.id] = "Write down what you agreed about this."
        elif len(value) > t.max_length:
            errors[t.id] = f"Keep this to {t.max_length} characters (it has {len(value)})."
        terms[t.id] = value
    return review, terms


def agreement_file_key(agreement_id: int) -> str:
    return f"agreement:{agreement_id}:file"


def _agreement_file_name(day: dt.date, supervisee: str) -> str:
    from bot.journeys.one_to_one import file_name

    return file_name(day, supervisee).replace("Supervision record", "Supervision agreement")


async def _queue_document(services: Services, turn: Turn, s, p: Pairing, row, terms: dict, *, review: bool) -> None:
    """The agreement's .docx (its typed terms live only there) to the supervisor's OneDrive, shared with the
    supervisee, in the submit's transaction; the row keeps its name and, once delivered, its link."""
    from bot.records.agreement_docx import AgreementDocument, render_agreement_docx

    def who(sid: str) -> str:
        m = services.school.staff.get(sid)
        return f"{m.name}, {m.job_title}".rstrip(", ") if m else FORMER

    content = render_agreement_docx(
        AgreementDocument(
            school_name=services.school.name,
            supervisor=who(p.supervisor_id),
            supervisee=who(p.supervisee_id),
            agreed_on=row.agreed_on,
            review_due=row.review_due,
            frequency=FREQ_LABELS.get(row.frequency or "", "not set"),
            duration=f"{row.minutes} minutes" if row.minutes else "not set",
            terms=terms,
            points=[label for _, label in cards.AGREEMENT_POINTS],
            recorded_by=turn.actor.name,
            recorded_at=stamp(turn.now, services.school.tz),
            review=review,
            agreement=agreement_terms(services.school),
        )
    )
    row.file_name = _agreement_file_name(row.agreed_on, _name(services, p.supervisee_id))
    row.file_status = PENDING
    await effects.add(
        s,
        effects.personal_share(
            row.file_name,
            content,
            owner_id=p.supervisor_id,
            share_with_id=p.supervisee_id,
            key=agreement_file_key(row.id),
            folder="Supervision records",
            agreement_id=row.id,
        ),
        now=turn.now,
    )


def _agreement_id(key: str | None) -> int | None:
    if not key or not key.startswith("agreement:") or not key.endswith(":file"):
        return None
    return parse_id(key.split(":")[1])


async def document_delivered(services: Services, msg, result) -> None:
    """The agreement document is in the supervisor's OneDrive and shared: keep its link (other kinds' rows of
    the shared effect kind are ignored)."""
    aid = _agreement_id(msg.key)
    row = await msg.session.get(SupervisionAgreement, aid) if aid is not None else None
    if row is None:
        return
    row.file_status, row.web_url, row.item_id = DELIVERED, (result or {}).get("web_url"), (result or {}).get("item_id")


async def document_dead(services: Services, msg) -> None:
    """The agreement document could not be saved: mark it (the agreement itself stands; the outbox keeps it)."""
    aid = _agreement_id(msg.key)
    row = await msg.session.get(SupervisionAgreement, aid) if aid is not None else None
    if row is not None:
        row.file_status = FAILED


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
