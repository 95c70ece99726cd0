"""Journey: the 1:1 (targeted) supervision record, its agreed actions, and the supervision agreement.

Seed 001 §3.2 "Meeting": the supervisor keeps notes of each 1:1 session (Appendix 2) and shares them with the
supervisee; "there is no need to keep these notes centrally". Seed 002 "Recording" / Appendix 2 and seed 003
Appendix 2 give the record's questions; seed 004 asks for a summary of actions. Seed 001 Appendix 1, seed 002
"Contract" and seed 003 Appendix 1: an agreement made at the start, signed by both, reviewed at least yearly.

Flow: `note` (the allocated supervisor only) → choose a supervisee from their own active pairings → the record card
(session date defaults to the latest booked meeting with them) → save a draft or submit. Submit is one
transaction: the record's metadata and agreed actions, one `files.personal_share` outbox row carrying the .docx
(owner: the supervisor's OneDrive; shared with: the supervisee only), the supervisee's notice chained after it,
and the draft deleted. Once delivered the outbox copy of the file is scrubbed (bot/app.py); the bot keeps who,
when, the file's web URL and the agreed actions. Nothing goes to a channel or to the DSL team; nothing from a
record is logged.

`agreement`: either person of an active pairing records that they made (or reviewed) their agreement; the other
confirms with one click; the review falls due a year from the date agreed. The DSL attendance card shows only
that a pair's review is overdue (see `bot.store.one_to_one.overdue_agreement_items`).
"""
from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
import uuid
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from bot.journeys.base import Reply, Services, Turn, refuse
from bot.journeys import permissions
from bot.journeys.router import Router
from bot.outbox import effects, enqueue, get
from bot.records import docx_writer
from bot.records.actions import set_action_status
from bot.records.drafts import NotYours, draft_by_key, has_draft, own_draft
from bot.records.rules import Tampered, clean_text, draft_values, parse_actions, parse_answers, parse_date
from bot.records.templates import RecordTemplate, one_to_one_template
from bot.school import Role, StaffMember
from bot.store.models_outbox import DEAD as OUTBOX_DEAD
from bot.store.models_outbox import DELIVERED as OUTBOX_DELIVERED
from bot.store.models_outbox import OutboxRow
from bot.store.models_request import Meeting, Pairing
from bot.store.models_targeted import (AGREED, AWAITING, DELIVERED, DONE, FAILED, OPEN, PENDING, REPLACED,
                                       SupervisionAgreement, TargetedAction, TargetedRecord, TargetedRecordDraft)
from cards import targeted as cards
from graph.handlers import personal_share

log = logging.getLogger("bot.journeys.targeted")

KEY_RE = re.compile(r"^[0-9a-f]{32}$")
KEY_PREFIX = "targeted:"             # outbox keys of this journey (hooks route by this prefix)
NOT_SUPERVISOR = ("Only someone's allocated supervisor can write up their 1:1 supervision. If you supervise "
                  "someone, ask the DSL team to check the allocation.")
TAMPERED = "Sorry, I can't do that with this card. Type note to start again."
FOLDER = "Supervision records"
DONE_WINDOW = dt.timedelta(days=30)
OLDEST_SESSION = dt.timedelta(days=366)


# ---- registration -------------------------------------------------------------------------------------------

def may_supervise(actor: StaffMember | None) -> bool:
    """Who sees `note` in help. The handler checks the actual allocation (an active pairing) on every click."""
    return actor is not None and (Role.SUPERVISOR in actor.roles or Role.DSL in actor.roles)


def on_roster(actor: StaffMember | None) -> bool:
    return actor is not None


STAFF = permissions.on_roster("This is for staff on the school's list.")


def register(router: Router) -> None:
    router.command("note", "1to1", title="Write up 1:1 supervision",
                   description="Record a 1:1 session with someone you supervise; it is shared with them only, from "
                               "your OneDrive.",
                   handler=start, allowed=STAFF, listed=may_supervise, verb=cards.V_START)
    router.command("agreement", "agreements", title="Supervision agreement",
                   description="Record or confirm the agreement with your supervisor or supervisee, and see when "
                               "it is due for review.",
                   handler=show_agreements, allowed=STAFF, verb=cards.V_AGREEMENTS)
    router.command("myactions", title="My 1:1 actions",
                   description="Actions agreed in your 1:1 supervision records (only you and the other person "
                               "see them).",
                   handler=show_actions, allowed=STAFF, verb=cards.V_ACTIONS)
    router.verb(cards.V_OPEN, open_record)
    router.verb(cards.V_RESUME, resume_draft)
    router.verb(cards.V_SAVE, save_draft)
    router.verb(cards.V_SUBMIT, submit)
    router.verb(cards.V_DISCARD, discard_draft)
    router.verb(cards.V_FILE, show_file)
    router.verb(cards.V_ACTION_DONE, action_done)
    router.verb(cards.V_ACTION_REOPEN, action_reopen)
    router.verb(cards.V_AGREEMENT_FORM, agreement_form)
    router.verb(cards.V_AGREEMENT_SUBMIT, agreement_submit)
    router.verb(cards.V_AGREEMENT_CONFIRM, agreement_confirm)
    router.on_delivered(effects.PERSONAL_SHARE, _share_delivered)
    router.on_dead_letter(effects.PERSONAL_SHARE, _share_dead)


# ---- small helpers --------------------------------------------------------------------------------------------

def _today(services: Services, turn: Turn) -> dt.date:
    return turn.now.astimezone(services.school.tz).date()


def _name(services: Services, staff_id: str | None) -> str:
    m = services.school.staff.get(staff_id) if staff_id else None
    return m.name if m else "a former member of staff"


def _name_and_role(services: Services, staff_id: str) -> str:
    m = services.school.staff.get(staff_id)
    return f"{m.name}, {m.job_title}".rstrip(", ") if m else "a former member of staff"


def _date_label(d: dt.date) -> str:
    return f"{d.strftime('%a')} {d.day} {d.strftime('%b %Y')}"


def _short(d: dt.date) -> str:
    return f"{d.strftime('%a')} {d.day} {d.strftime('%b')}"


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        i = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return i if 0 < i < 2**31 else None


def _plain(turn: Turn, message: str, heading: str = "Not available", back: str | None = None) -> Reply:
    if turn.invoke:
        return Reply.of(cards.message_card(heading, message, back_verb=back))
    return Reply(text=message)


def _denied(turn: Turn, what: str, message: str = NOT_SUPERVISOR) -> Reply:
    refuse(turn, f"1:1 record: {what}")
    return _plain(turn, message)


def _tampered(turn: Turn, what: str) -> Reply:
    refuse(turn, f"1:1 record: {what}")
    return _plain(turn, TAMPERED, "Can't do that")


def _template() -> RecordTemplate:
    return one_to_one_template()


def add_year(d: dt.date) -> dt.date:
    """The same date a year on (29 February → 28 February): when an agreement is due for review."""
    try:
        return d.replace(year=d.year + 1)
    except ValueError:
        return d.replace(year=d.year + 1, day=28)


_UNSAFE = re.compile(r"[^A-Za-z0-9 ._()&'+-]+")


def file_name(day: dt.date, supervisee_name: str) -> str:
    """"2026-11-23 Supervision record - Tom Hollis.docx": safe on OneDrive and on disk."""
    label = unicodedata.normalize("NFKD", supervisee_name).encode("ascii", "ignore").decode()
    label = " ".join(_UNSAFE.sub("-", label).split()).strip(" .-")[:80].rstrip(" .-") or "supervisee"
    return f"{day.isoformat()} Supervision record - {label}.docx"


async def _my_pairings(s, supervisor_id: str) -> list[Pairing]:
    return list((await s.execute(select(Pairing).where(
        Pairing.supervisor_id == supervisor_id, Pairing.ended_at.is_(None)).order_by(Pairing.started_at))
    ).scalars())


async def _pairing(s, supervisor_id: str, supervisee_id: str) -> Pairing | None:
    """The active pairing in which this person is the allocated supervisor of that one (or None)."""
    return (await s.execute(select(Pairing).where(
        Pairing.supervisor_id == supervisor_id, Pairing.supervisee_id == supervisee_id,
        Pairing.ended_at.is_(None)).order_by(Pairing.id.desc()).limit(1))).scalar_one_or_none()


async def _latest_meeting(s, supervisor_id: str, supervisee_id: str, now: dt.datetime) -> Meeting | None:
    """The latest booked 1:1 meeting with them that has started (the session being written up, usually)."""
    return (await s.execute(select(Meeting).where(
        Meeting.supervisor_id == supervisor_id, Meeting.supervisee_id == supervisee_id,
        Meeting.status == "booked", Meeting.starts_at <= now).order_by(Meeting.starts_at.desc()).limit(1))
    ).scalar_one_or_none()


# ---- 1. the start card ------------------------------------------------------------------------------------------

async def start(services: Services, turn: Turn) -> Reply:
    """Shows the supervisor their supervisees, their drafts and recent records."""
    if turn.actor is None:
        return _denied(turn, "not on roster")
    async with services.db.session() as s:
        pairs = await _my_pairings(s, turn.actor.id)
    if not pairs:
        return _denied(turn, "no active pairing as supervisor")
    return Reply.of(await _picker(services, turn))


async def _picker(services: Services, turn: Turn, *, notice: str | None = None, error: str | None = None) -> dict:
    async with services.db.session() as s:
        pairs = await _my_pairings(s, turn.actor.id)
        drafts = (await s.execute(select(TargetedRecordDraft).where(TargetedRecordDraft.owner_id == turn.actor.id)
                                  .order_by(TargetedRecordDraft.updated_at.desc()).limit(5))).scalars().all()
        recent = (await s.execute(select(TargetedRecord).where(TargetedRecord.supervisor_id == turn.actor.id)
                                  .order_by(TargetedRecord.session_date.desc(), TargetedRecord.id.desc())
                                  .limit(8))).scalars().all()
        for r in recent:
            await sync_delivery(s, r, now=turn.now)
    seen: list[str] = []
    for p in pairs:
        if p.supervisee_id not in seen:
            seen.append(p.supervisee_id)
    state = {DELIVERED: "shared", PENDING: "sharing", FAILED: "not shared yet"}
    view = cards.PickerView(
        supervisees=[(sid, _name(services, sid)) for sid in seen],
        drafts=[(d.draft_key, f"{_name(services, d.supervisee_id)}, saved {_short(d.updated_at.astimezone(services.school.tz).date())}")
                for d in drafts],
        recent=[cards.RecordLine(r.id, f"{_name(services, r.supervisee_id)} · {_short(r.session_date)} · "
                                       f"{state.get(r.status, r.status)}",
                                 r.web_url if r.status == DELIVERED else None) for r in recent],
        notice=notice, error=error)
    return cards.picker_card(view)


# ---- 2. the record card -------------------------------------------------------------------------------------------

async def _record_card(services: Services, turn: Turn, supervisee_id: str, draft_key: str, values: dict, *,
                       errors: dict | None = None, top_error: str | None = None, notice: str | None = None,
                       has_draft: bool = False) -> dict:
    actor = turn.actor
    async with services.db.session() as s:
        meeting = await _latest_meeting(s, actor.id, supervisee_id, turn.now)
        agreed = (await s.execute(select(SupervisionAgreement).where(
            SupervisionAgreement.supervisor_id == actor.id, SupervisionAgreement.supervisee_id == supervisee_id,
            SupervisionAgreement.status == AGREED).order_by(SupervisionAgreement.agreed_on.desc()).limit(1))
        ).scalar_one_or_none()
    today = _today(services, turn)
    default_date = meeting.local_date if meeting else today
    agreement = (f"agreed {_short(agreed.agreed_on)}, review due {_date_label(agreed.review_due)}" if agreed
                 else "none recorded yet (type agreement)")
    view = cards.RecordView(
        template=_template(),
        heading=[("Supervisor", actor.name), ("Supervisee", _name(services, supervisee_id)),
                 ("Last booked session", _date_label(meeting.local_date) if meeting else "none booked here"),
                 ("Agreement", agreement)],
        owners=[(actor.id, f"{actor.name} (supervisor)"),
                (supervisee_id, f"{_name(services, supervisee_id)} (supervisee)")],
        default_owner=supervisee_id,
        data={"draft_key": draft_key, "supervisee": supervisee_id},
        session_date=default_date.isoformat(), max_date=today.isoformat(), values=values, errors=errors or {},
        top_error=top_error, notice=notice, has_draft=has_draft)
    return cards.record_card(view)


async def _check_supervisee(services: Services, turn: Turn) -> str | Reply:
    """The card's supervisee, re-checked: one of the actor's own active supervisees, or a refusal."""
    if turn.actor is None:
        return _denied(turn, "not on roster")
    sid = turn.data.get("supervisee")
    if not isinstance(sid, str) or not sid.strip():
        return ""
    sid = sid.strip()
    async with services.db.session() as s:
        pairing = await _pairing(s, turn.actor.id, sid)
    if pairing is None:
        # A staff id the card never offered, or a pairing ended since: either way not theirs to record.
        refuse(turn, "1:1 record: supervisee not an active supervisee of the actor")
        return _plain(turn, "You can only write up 1:1 supervision for people currently allocated to you.",
                      "Can't do that")
    return sid


async def open_record(services: Services, turn: Turn) -> Reply:
    """Opens the record card for the chosen supervisee (or the supervisor's draft for them)."""
    sid = await _check_supervisee(services, turn)
    if isinstance(sid, Reply):
        return sid
    if not sid:
        return Reply.of(await _picker(services, turn, error="Choose the person you supervised."))
    async with services.db.session() as s:
        draft = (await s.execute(select(TargetedRecordDraft).where(
            TargetedRecordDraft.owner_id == turn.actor.id, TargetedRecordDraft.supervisee_id == sid)
            .order_by(TargetedRecordDraft.updated_at.desc()).limit(1))).scalar_one_or_none()
    if draft is not None:
        return Reply.of(await _record_card(services, turn, sid, draft.draft_key, dict(draft.content), has_draft=True,
                                           notice="Your draft is back where you left it."))
    return Reply.of(await _record_card(services, turn, sid, uuid.uuid4().hex, {}))


def _values(data: dict) -> dict[str, str]:
    values = draft_values(_template(), data)
    d = clean_text(data.get("sess_date"), multiline=False)[:10]
    if d:
        values["sess_date"] = d
    return values


async def save_draft(services: Services, turn: Turn) -> Reply:
    """Saves the half-written record as the supervisor's own draft; the card comes back with everything kept."""
    key = str(turn.data.get("draft_key") or "")
    if not KEY_RE.match(key):
        return _tampered(turn, "draft key")
    sid = await _check_supervisee(services, turn)
    if isinstance(sid, Reply):
        return sid
    if not sid:
        return _tampered(turn, "draft without a supervisee")
    values = _values(turn.data)
    async with services.db.session() as s:
        if await _submitted(s, key) is not None:
            return Reply.of(cards.message_card("Already submitted", "This record was submitted already, so there "
                                               "is no draft to save."))
        draft = await draft_by_key(s, TargetedRecordDraft, key)
        if draft is not None and (draft.owner_id != turn.actor.id or draft.supervisee_id != sid):
            return _tampered(turn, "someone else's draft")
        if draft is None:
            draft = TargetedRecordDraft(draft_key=key, owner_id=turn.actor.id, supervisee_id=sid, created_at=turn.now)
            s.add(draft)
        draft.content = values
        draft.updated_at = turn.now
    saved = f"Draft saved at {turn.now.astimezone(services.school.tz):%H:%M}. Type note to come back to it."
    return Reply.of(await _record_card(services, turn, sid, key, values, notice=saved, has_draft=True))


async def resume_draft(services: Services, turn: Turn) -> Reply:
    key = str(turn.data.get("draft_key") or "")
    if turn.actor is None:
        return _denied(turn, "not on roster")
    if not KEY_RE.match(key):
        return _tampered(turn, "draft key")
    async with services.db.session() as s:
        try:
            draft = await own_draft(s, TargetedRecordDraft, key, turn.actor.id)
        except NotYours:
            return _tampered(turn, "someone else's draft")
        if draft is None:
            return Reply.of(cards.message_card("Draft not found", "That draft has been submitted or deleted."))
        pairing = await _pairing(s, turn.actor.id, draft.supervisee_id)
        sid, values = draft.supervisee_id, dict(draft.content)
    if pairing is None:
        return Reply.of(cards.message_card("Supervision ended", "You no longer supervise this person, so the record "
                                           "can't be shared from here. Delete the draft, or ask the DSL team.",
                                           back_verb=cards.V_START))
    return Reply.of(await _record_card(services, turn, sid, key, values, has_draft=True,
                                       notice="Your draft is back where you left it."))


async def discard_draft(services: Services, turn: Turn) -> Reply:
    key = str(turn.data.get("draft_key") or "")
    if turn.actor is None:
        return _denied(turn, "not on roster")
    if not KEY_RE.match(key):
        return _tampered(turn, "draft key")
    async with services.db.session() as s:
        try:
            draft = await own_draft(s, TargetedRecordDraft, key, turn.actor.id)
        except NotYours:
            return _tampered(turn, "someone else's draft")
        if draft is not None:
            await s.delete(draft)
    return Reply.of(await _picker(services, turn, notice="Draft deleted."))


async def _submitted(s, key: str) -> TargetedRecord | None:
    return (await s.execute(select(TargetedRecord).where(TargetedRecord.submit_key == key))).scalar_one_or_none()


async def _has_draft(services: Services, key: str) -> bool:
    return await has_draft(services.db, TargetedRecordDraft, key)


# ---- 3. submit ---------------------------------------------------------------------------------------------------

async def submit(services: Services, turn: Turn) -> Reply:
    """Checks the record, then files it: metadata and actions here, the .docx to the supervisor's OneDrive shared
    with the supervisee only (one outbox row), and the supervisee told once it is there."""
    key = str(turn.data.get("draft_key") or "")
    if turn.actor is None:
        return _denied(turn, "not on roster")
    if not KEY_RE.match(key):
        return _tampered(turn, "submit key")
    async with services.db.session() as s:
        done = await _submitted(s, key)
    if done is not None:
        if done.supervisor_id != turn.actor.id:
            return _tampered(turn, "someone else's record")
        return Reply.of(_submitted_card(services, done, already=True))
    sid = await _check_supervisee(services, turn)
    if isinstance(sid, Reply):
        return sid
    if not sid:
        return _tampered(turn, "record without a supervisee")
    template = _template()
    errors: dict[str, str] = {}
    today = _today(services, turn)
    raw_date = clean_text(turn.data.get("sess_date"), multiline=False)
    day = parse_date(raw_date)
    if day is None:
        errors["sess_date"] = "Give the date of the session." if not raw_date else "Use a date like 2026-11-23."
    elif day > today:
        errors["sess_date"] = "That date is in the future: write the session up once it has happened."
    elif day < today - OLDEST_SESSION:
        errors["sess_date"] = "That is more than a year ago. Check the date."
    answers = parse_answers(template, turn.data, errors)
    try:
        actions = parse_actions(template, turn.data, errors, owner_ids=[turn.actor.id, sid],
                                session_date=day or today, owner_prompt="Choose who will do this.",
                                owner_scope="the supervisor and supervisee")
    except Tampered as exc:
        return _tampered(turn, str(exc))
    values = _values(turn.data)
    if errors:
        n = len(errors)
        return Reply.of(await _record_card(
            services, turn, sid, key, values, errors=errors, has_draft=await _has_draft(services, key),
            top_error=f"Please check {'the field' if n == 1 else f'{n} fields'} marked below; nothing you typed "
                      "has been lost."))
    try:
        async with services.db.session() as s:
            record = await _file_record(services, turn, s, sid, day, template, answers, actions, key)
    except IntegrityError:      # a second click raced the first
        async with services.db.session() as s:
            done = await _submitted(s, key)
        if done is None:
            raise
        return Reply.of(_submitted_card(services, done, already=True))
    except _PairingEnded:
        return _plain(turn, "You no longer supervise this person, so the record can't be shared from here. Your "
                            "text is not lost if you saved a draft.", "Can't do that")
    services.wake_outbox()
    return Reply.of(_submitted_card(services, record))


class _PairingEnded(Exception):
    pass


def _submitted_card(services: Services, r: TargetedRecord, *, already: bool = False) -> dict:
    return cards.submitted_card(cards.SubmittedView(
        supervisee=_name(services, r.supervisee_id), date_label=_date_label(r.session_date),
        action_count=r.action_count, file_name=r.file_name, already=already))


async def _file_record(services: Services, turn: Turn, s, supervisee_id: str, day: dt.date,
                       template: RecordTemplate, answers: dict[str, str], actions, key: str) -> TargetedRecord:
    """One transaction: record metadata, actions, the share (outbox), the supervisee's notice, draft deleted."""
    actor = turn.actor
    pairing = await _pairing(s, actor.id, supervisee_id)
    if pairing is None:
        raise _PairingEnded()
    meeting = (await s.execute(select(Meeting).where(
        Meeting.supervisor_id == actor.id, Meeting.supervisee_id == supervisee_id, Meeting.status == "booked",
        Meeting.local_date == day).limit(1))).scalar_one_or_none()
    name = file_name(day, _name(services, supervisee_id))
    record = TargetedRecord(
        pairing_id=pairing.id, meeting_id=meeting.id if meeting else None, supervisor_id=actor.id,
        supervisee_id=supervisee_id, session_date=day, next_session_on=parse_date(answers.get("next_session")),
        template_id=template.id, submit_key=key, file_name=name, status=PENDING, action_count=len(actions),
        submitted_at=turn.now)
    s.add(record)
    await s.flush()
    for a in actions:
        s.add(TargetedAction(record_id=record.id, supervisor_id=actor.id, supervisee_id=supervisee_id,
                             owner_id=a.owner_id, text=a.text, due_on=a.due_on, status=OPEN, created_at=turn.now))
    content = docx_writer.render_targeted_docx(docx_writer.TargetedDocument(
        school_name=services.school.name, supervisor=_name_and_role(services, actor.id),
        supervisee=_name_and_role(services, supervisee_id), local_date=day, template=template, answers=answers,
        actions=[docx_writer.ActionRow(a.text, _name(services, a.owner_id), a.due_on) for a in actions],
        recorded_at=f"{turn.now.astimezone(services.school.tz):%d %b %Y %H:%M}"))
    kind, payload = personal_share(name, owner_id=actor.id, share_with_id=supervisee_id, role="read",
                                   folder=FOLDER, content=content, targeted_record_id=record.id)
    chain = f"{KEY_PREFIX}{record.id}"
    await enqueue(s, kind, payload, key=f"{KEY_PREFIX}file:{record.id}", chain=chain, now=turn.now)
    # Chained after the share: sent once the file is in place. It names who and when, never content.
    notice = cards.shared_notice_card(record_id=record.id, supervisor=actor.name, date_label=_date_label(day))
    await enqueue(s, "teams.notify", {"staff_id": supervisee_id, "card": notice},
                  key=f"{KEY_PREFIX}told:{record.id}", chain=chain, now=turn.now)
    # The narrative now lives only in that outbox row (scrubbed once delivered) and then in the file.
    await s.execute(delete(TargetedRecordDraft).where(TargetedRecordDraft.draft_key == key))
    await s.execute(delete(TargetedRecordDraft).where(TargetedRecordDraft.owner_id == actor.id,
                                                      TargetedRecordDraft.supervisee_id == supervisee_id,
                                                      TargetedRecordDraft.draft_key != key,
                                                      TargetedRecordDraft.updated_at < turn.now - OLDEST_SESSION))
    log.info("1:1 record filed: record=%s actions=%s", record.id, len(actions))
    return record


# ---- 4. delivery: the file's link ---------------------------------------------------------------------------------

def _apply_result(record: TargetedRecord, result: dict | None, now: dt.datetime) -> None:
    result = result or {}
    record.status = DELIVERED
    record.web_url = result.get("web_url") or result.get("webUrl")
    record.delivered_name = result.get("name") or record.file_name
    record.item_id = result.get("item_id") or result.get("id")
    record.delivered_at = now


async def sync_delivery(s, record: TargetedRecord, *, now: dt.datetime) -> TargetedRecord:
    """Bring a record's delivery state up to date from its outbox row (the row keeps the handler's result: the
    file's web URL). Works whether or not the delivered hook below is wired into the worker."""
    if record.status == DELIVERED:
        return record
    msg = await get(s, f"{KEY_PREFIX}file:{record.id}")
    if msg is None:
        return record
    if msg.status == OUTBOX_DELIVERED:
        _apply_result(record, msg.result, msg.finished_at or now)
    elif msg.status == OUTBOX_DEAD:
        record.status = FAILED
    elif record.status == FAILED:      # requeued after a fix
        record.status = PENDING
    return record


async def on_share_delivered(session, key: str, result: dict | None, *, now: dt.datetime) -> None:
    """Outbox hook for "files.personal_share": record where the file is. Ignores other journeys' rows."""
    if not key.startswith(f"{KEY_PREFIX}file:"):
        return
    record = await session.get(TargetedRecord, int(key.rsplit(":", 1)[1]))
    if record is not None and record.status != DELIVERED:
        _apply_result(record, result, now)


async def on_share_failed(session, key: str, *, now: dt.datetime) -> None:
    """Outbox dead-letter hook: mark the record, hold back the supervisee's "shared with you" notice (chained after
    it, so still pending), and tell the supervisor. Ignores other journeys' rows."""
    if not key.startswith(f"{KEY_PREFIX}file:"):
        return
    rid = int(key.rsplit(":", 1)[1])
    record = await session.get(TargetedRecord, rid)
    if record is None or record.status == DELIVERED:
        return
    record.status = FAILED
    await session.execute(delete(OutboxRow).where(OutboxRow.key == f"{KEY_PREFIX}told:{rid}",
                                                  OutboxRow.status == "pending"))
    card = cards.message_card("1:1 record not shared yet", f"I couldn't save the record of your session on "
                              f"{_date_label(record.session_date)} to your OneDrive after several tries. It is kept "
                              "safely and can be retried: please ask whoever looks after the bot to check the outbox.",
                              back_verb=None)
    await enqueue(session, "teams.notify", {"staff_id": record.supervisor_id, "card": card},
                  key=f"{KEY_PREFIX}failed:{rid}", now=now)


async def _share_delivered(services: Services, msg, result) -> None:
    """The 1:1 record is in the supervisor's OneDrive and shared: keep where it is."""
    await on_share_delivered(msg.session, msg.key, result, now=services.clock())


async def _share_dead(services: Services, msg) -> None:
    """The share gave up: hold back the supervisee's notice and tell the supervisor."""
    await on_share_failed(msg.session, msg.key, now=services.clock())


async def show_file(services: Services, turn: Turn) -> Reply:
    """The link to a shared record, for its supervisor or supervisee only (also the notice card's refresh)."""
    rid = _int(turn.data.get("record_id"))
    if turn.actor is None or rid is None:
        return _tampered(turn, "file: no record")
    async with services.db.session() as s:
        record = await s.get(TargetedRecord, rid)
        if record is None or turn.actor.id not in (record.supervisor_id, record.supervisee_id):
            return _tampered(turn, "file: not their record")
        await sync_delivery(s, record, now=turn.now)
    mine = turn.actor.id == record.supervisor_id
    return Reply.of(cards.file_card(cards.FileView(
        record_id=record.id, other_label="Supervisee" if mine else "Supervisor",
        other_name=_name(services, record.supervisee_id if mine else record.supervisor_id),
        date_label=_date_label(record.session_date), state=record.status, web_url=record.web_url,
        file_name=record.delivered_name or record.file_name)))


# ---- 5. 1:1 actions -------------------------------------------------------------------------------------------------

async def show_actions(services: Services, turn: Turn) -> Reply:
    if turn.actor is None:
        return _denied(turn, "actions: not on roster", "This is for staff on the school's list.")
    return Reply.of(await _actions_card(services, turn))


async def _actions_card(services: Services, turn: Turn, notice: str | None = None) -> dict:
    me = turn.actor.id
    today = _today(services, turn)
    mine_q = or_(TargetedAction.supervisor_id == me, TargetedAction.supervisee_id == me)
    async with services.db.session() as s:
        rows = (await s.execute(select(TargetedAction, TargetedRecord.session_date)
                                .join(TargetedRecord, TargetedRecord.id == TargetedAction.record_id)
                                .where(mine_q, or_(TargetedAction.status == OPEN,
                                                   TargetedAction.done_at >= turn.now - DONE_WINDOW))
                                .order_by(TargetedAction.due_on, TargetedAction.id))).all()

    def line(a: TargetedAction, day: dt.date) -> cards.ActionLine:
        other = a.supervisee_id if a.supervisor_id == me else a.supervisor_id
        return cards.ActionLine(
            id=a.id, text=a.text, owner=_name(services, a.owner_id), due_label=_short(a.due_on),
            source=f"1:1 with {_name(services, other)}, {day.day} {day:%b}", overdue=a.due_on < today,
            done=a.status == DONE)

    view = cards.ActionsView(notice=notice)
    for a, day in rows:
        if a.status == DONE:
            view.done.append(line(a, day))
        elif a.owner_id == me:
            view.mine.append(line(a, day))
        else:
            view.theirs.append(line(a, day))
    return cards.actions_card(view)


async def _set_action(services: Services, turn: Turn, status: str) -> Reply:
    aid = _int(turn.data.get("action_id"))
    if turn.actor is None or aid is None:
        return _tampered(turn, "action id")
    async with services.db.session() as s:
        a = await s.get(TargetedAction, aid)
        if a is None or turn.actor.id not in (a.supervisor_id, a.supervisee_id):
            return _tampered(turn, "action: not theirs")
        notice = set_action_status(a, status, by=turn.actor.id, now=turn.now)
    return Reply.of(await _actions_card(services, turn, notice))


async def action_done(services: Services, turn: Turn) -> Reply:
    return await _set_action(services, turn, DONE)


async def action_reopen(services: Services, turn: Turn) -> Reply:
    return await _set_action(services, turn, OPEN)


# ---- 6. supervision agreements ---------------------------------------------------------------------------------

FREQ_LABELS = dict(cards.FREQUENCIES)
LENGTH_VALUES = {int(v) for v, _ in cards.LENGTHS}


async def _pairs_of(s, staff_id: str) -> list[Pairing]:
    return list((await s.execute(select(Pairing).where(
        or_(Pairing.supervisor_id == staff_id, Pairing.supervisee_id == staff_id), Pairing.ended_at.is_(None))
        .order_by(Pairing.started_at))).scalars())


async def _agreements_for(s, pairing: Pairing) -> tuple[SupervisionAgreement | None, SupervisionAgreement | None]:
    """(the agreement in force, one waiting for confirmation) for a pair."""
    rows = (await s.execute(select(SupervisionAgreement).where(
        SupervisionAgreement.supervisor_id == pairing.supervisor_id,
        SupervisionAgreement.supervisee_id == pairing.supervisee_id,
        SupervisionAgreement.status.in_((AGREED, AWAITING)))
        .order_by(SupervisionAgreement.agreed_on.desc(), SupervisionAgreement.id.desc()))).scalars().all()
    agreed = next((r for r in rows if r.status == AGREED), None)
    waiting = next((r for r in rows if r.status == AWAITING), None)
    return agreed, waiting


def _waiting_for(a: SupervisionAgreement) -> str:
    return a.supervisee_id if a.supervisee_confirmed_at is None else a.supervisor_id


async def show_agreements(services: Services, turn: Turn, notice: str | None = None) -> Reply:
    """Each of the person's active 1:1 supervisions: agreement made? confirmed by both? review due when?"""
    if turn.actor is None:
        return _denied(turn, "agreement: not on roster", "This is for staff on the school's list.")
    return Reply.of(await _agreements_card(services, turn, notice))


async def _agreements_card(services: Services, turn: Turn, notice: str | None = None) -> dict:
    me = turn.actor.id
    today = _today(services, turn)
    view = cards.AgreementsView(notice=notice)
    async with services.db.session() as s:
        for p in await _pairs_of(s, me):
            agreed, waiting = await _agreements_for(s, p)
            other = p.supervisee_id if p.supervisor_id == me else p.supervisor_id
            label = (f"{_name(services, other)} (you supervise them)" if p.supervisor_id == me
                     else f"{_name(services, other)} (your supervisor)")
            parts: list[str] = []
            overdue = False
            if agreed is not None:
                overdue = agreed.review_due < today
                parts.append(f"Agreed {_date_label(agreed.agreed_on)}, confirmed by both. "
                             + (f"Review overdue since {_date_label(agreed.review_due)}." if overdue
                                else f"Review due by {_date_label(agreed.review_due)}."))
            confirm_id = None
            if waiting is not None:
                who = _waiting_for(waiting)
                if who == me:
                    confirm_id = waiting.id
                    parts.append(f"{_name(services, waiting.proposed_by)} recorded an agreement made "
                                 f"{_date_label(waiting.agreed_on)}: waiting for you to confirm.")
                else:
                    parts.append(f"Agreement of {_date_label(waiting.agreed_on)} waiting for "
                                 f"{_name(services, who)} to confirm.")
            if not parts:
                parts.append("No agreement recorded yet: make one together at the start of your supervision.")
            view.lines.append(cards.AgreementLine(p.id, label, " ".join(parts), overdue=overdue,
                                                  confirm_id=confirm_id))
    return cards.agreements_card(view)


async def _pair_for_actor(services: Services, turn: Turn) -> Pairing | Reply:
    pid = _int(turn.data.get("pairing_id"))
    if turn.actor is None or pid is None:
        return _tampered(turn, "agreement: pairing id")
    async with services.db.session() as s:
        p = await s.get(Pairing, pid)
    if p is None or turn.actor.id not in (p.supervisor_id, p.supervisee_id):
        return _tampered(turn, "agreement: not their pairing")
    if p.ended_at is not None:
        return Reply.of(await _agreements_card(services, turn, "That supervision has ended."))
    return p


def _form_view(services: Services, turn: Turn, p: Pairing, nonce: str, values: dict,
               errors: dict | None = None, review: bool = False) -> cards.AgreementFormView:
    is_sup = turn.actor.id == p.supervisor_id
    return cards.AgreementFormView(
        pairing_id=p.id, other_name=_name(services, p.supervisee_id if is_sup else p.supervisor_id),
        other_label="Supervisee" if is_sup else "Supervisor", nonce=nonce,
        max_date=_today(services, turn).isoformat(), values=values, errors=errors or {}, review=review)


async def agreement_form(services: Services, turn: Turn) -> Reply:
    p = await _pair_for_actor(services, turn)
    if isinstance(p, Reply):
        return p
    async with services.db.session() as s:
        agreed, _ = await _agreements_for(s, p)
    values = {"ag_date": _today(services, turn).isoformat()}
    if agreed is not None:
        values.update({k: v for k, v in (("ag_frequency", agreed.frequency),
                                         ("ag_minutes", str(agreed.minutes) if agreed.minutes else None)) if v})
    return Reply.of(cards.agreement_form_card(_form_view(services, turn, p, uuid.uuid4().hex, values,
                                                         review=agreed is not None)))


async def agreement_submit(services: Services, turn: Turn) -> Reply:
    """Records that the pair made (or reviewed) their agreement, confirmed by whoever sent it; asks the other."""
    p = await _pair_for_actor(services, turn)
    if isinstance(p, Reply):
        return p
    nonce = str(turn.data.get("nonce") or "")
    if not KEY_RE.match(nonce):
        return _tampered(turn, "agreement nonce")
    d = turn.data
    freq = clean_text(d.get("ag_frequency"), multiline=False)
    minutes_raw = clean_text(d.get("ag_minutes"), multiline=False)
    minutes = _int(minutes_raw) if minutes_raw else None
    if (freq and freq not in FREQ_LABELS) or (minutes_raw and minutes not in LENGTH_VALUES):
        return _tampered(turn, "agreement choice not offered")
    async with services.db.session() as s:
        prior = (await s.execute(select(SupervisionAgreement).where(SupervisionAgreement.nonce == nonce))
                 ).scalar_one_or_none()
    if prior is not None:
        return Reply.of(await _agreements_card(services, turn, "That agreement was already recorded."))
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
    values = {k: clean_text(d.get(k), multiline=False) for k in
              ("ag_date", "ag_frequency", "ag_minutes", *(k for k, _ in cards.AGREEMENT_POINTS)) if d.get(k)}
    if errors:
        return Reply.of(cards.agreement_form_card(_form_view(services, turn, p, nonce, values, errors)))
    me = turn.actor.id
    other = p.supervisee_id if me == p.supervisor_id else p.supervisor_id
    try:
        async with services.db.session() as s:
            # A new proposal replaces one still waiting for confirmation (never one already agreed by both).
            await s.execute(update(SupervisionAgreement).where(
                SupervisionAgreement.supervisor_id == p.supervisor_id,
                SupervisionAgreement.supervisee_id == p.supervisee_id,
                SupervisionAgreement.status == AWAITING).values(status=REPLACED))
            row = SupervisionAgreement(
                nonce=nonce, pairing_id=p.id, supervisor_id=p.supervisor_id, supervisee_id=p.supervisee_id,
                agreed_on=day, review_due=add_year(day), frequency=freq or None, minutes=minutes, status=AWAITING,
                proposed_by=me, created_at=turn.now,
                supervisor_confirmed_at=turn.now if me == p.supervisor_id else None,
                supervisee_confirmed_at=turn.now if me == p.supervisee_id else None)
            s.add(row)
            await s.flush()
            arrangements = ", ".join(x for x in (FREQ_LABELS.get(freq or ""), f"{minutes} minutes" if minutes
                                                 else "") if x) or "not set"
            await enqueue(s, "teams.notify", {"staff_id": other, "card": cards.confirm_request_card(
                agreement_id=row.id, proposer=turn.actor.name, agreed_on=_date_label(day),
                review_due=_date_label(row.review_due), arrangements=arrangements)},
                key=f"agreement:{row.id}:confirm", now=turn.now)
    except IntegrityError:
        return Reply.of(await _agreements_card(services, turn, "That agreement was already recorded."))
    log.info("supervision agreement recorded: agreement=%s", row.id)
    return Reply.of(await _agreements_card(services, turn, f"Recorded and confirmed by you. I've asked "
                                                           f"{_name(services, other)} to confirm."))


async def agreement_confirm(services: Services, turn: Turn) -> Reply:
    """The other person's one click: the agreement is then signed by both and the review date set."""
    aid = _int(turn.data.get("agreement_id"))
    if turn.actor is None or aid is None:
        return _tampered(turn, "agreement id")
    me = turn.actor.id
    async with services.db.session() as s:
        row = await s.get(SupervisionAgreement, aid)
        if row is None or me not in (row.supervisor_id, row.supervisee_id):
            return _tampered(turn, "agreement: not theirs")
        pairing = await _pairing(s, row.supervisor_id, row.supervisee_id)
        if row.status == AGREED:
            notice = "This agreement is already confirmed by both of you."
        elif row.status == REPLACED or pairing is None:
            notice = "That agreement was replaced by a newer one, or the supervision has ended: nothing to confirm."
        elif _waiting_for(row) != me:
            notice = f"You've confirmed this already; it's waiting for {_name(services, _waiting_for(row))}."
        else:
            if me == row.supervisor_id:
                row.supervisor_confirmed_at = turn.now
            else:
                row.supervisee_confirmed_at = turn.now
            row.status = AGREED
            await s.execute(update(SupervisionAgreement).where(
                SupervisionAgreement.supervisor_id == row.supervisor_id,
                SupervisionAgreement.supervisee_id == row.supervisee_id,
                SupervisionAgreement.status == AGREED, SupervisionAgreement.id != row.id).values(status=REPLACED))
            other = row.supervisee_id if me == row.supervisor_id else row.supervisor_id
            await enqueue(s, "teams.notify", {"staff_id": other, "card": cards.message_card(
                "Supervision agreement confirmed",
                f"{turn.actor.name} confirmed your supervision agreement of {_date_label(row.agreed_on)}. It is "
                f"due for review by {_date_label(row.review_due)}.", back_verb=cards.V_AGREEMENTS,
                back="Agreements")}, key=f"agreement:{row.id}:confirmed", now=turn.now)
            notice = f"Confirmed by both of you. Review due by {_date_label(row.review_due)}."
            log.info("supervision agreement confirmed: agreement=%s", row.id)
    return Reply.of(await _agreements_card(services, turn, notice))
