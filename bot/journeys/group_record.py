"""Journey: the DSL team records a group supervision session → Safeguarding channel → attendance.

Seed 001 "Safeguarding Supervision – Group" and "Record Keeping": every group session is recorded (who attended,
a summary of the discussion, actions for the DSL meeting) and the notes are stored in the secure Safeguarding
channel. Seed 003 Appendix 3 gives the fuller group record some schools choose (templates are data: bot/records).

Flow: `record` → pick this half term's session (or one that wasn't scheduled) → tick who came, fill in the record,
save a draft or submit → one transaction writes the record's metadata, attendance, actions and two outbox rows'
worth of work (the .docx upload now; the channel summary once the upload's web URL is known, from
`on_record_delivered`). `schedule` lets the DSL team put the half term's group sessions in calendars.

Only the DSL team may do any of this; the server checks on every click. Nothing from a record is logged.
"""
from __future__ import annotations

import base64
import datetime as dt
import logging
import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from bot.domain.calendar import TermCalendar
from bot.journeys.base import Reply, Services, Turn, refuse
from bot.journeys import permissions
from bot.journeys.router import Router
from bot.outbox import effects, enqueue
from bot.records import docx_writer
from bot.records.drafts import NotYours, draft_by_key, has_draft, own_draft
from bot.records.rules import (RECORDABLE_KINDS, ActionItem, Person, Tampered, clean_text, draft_values,
                               form_values_from_record, half_term_label, kind_label, parse_date, parse_record_form,
                               parse_time, record_file_name)
from bot.records.templates import RecordTemplate, TemplateError, load_template, school_template
from bot.school import Role, StaffMember
from bot.store.models_group_record import (DELIVERED, FAILED, OPEN, PENDING, GroupRecord, GroupRecordDraft,
                                           GroupRecordVersion, RecordAction, ScheduleRequest)
from bot.store.models_sessions import Attendance, GroupSession, SessionInvitee
from cards import group_record as cards

log = logging.getLogger("bot.journeys.group_record")

KEY_RE = re.compile(r"^[0-9a-f]{32}$")
NOT_DSL = "Only the DSL team can open, draft or submit group supervision records."
NOT_DSL_SCHEDULE = "Only the DSL team can schedule group supervision sessions."
GONE = "I can't find that any more. Type record to start again."
TAMPERED = "Sorry, I can't do that with this card. Type record to start again."
SUBJECT = "Group supervision"          # neutral calendar subject: no group names, topics or notes
DURATIONS = (30, 45, 60, 90)
MOP_UP = "_mop_up"
KEY_PREFIX = "group_record:"           # outbox keys of this journey (the lead routes hooks by this prefix)


# ---- registration -------------------------------------------------------------------------------------------

def is_dsl(actor: StaffMember | None) -> bool:
    return actor is not None and Role.DSL in actor.roles


RECORDERS = permissions.role(Role.DSL, NOT_DSL, "DSL team")
SCHEDULERS = permissions.role(Role.DSL, NOT_DSL_SCHEDULE, "DSL team")


def register(router: Router) -> None:
    router.command("record", title="Record group supervision",
                   description="Record who came to a group session, the discussion and actions; it goes to the "
                               "Safeguarding channel.",
                   handler=start, allowed=RECORDERS, verb=cards.V_START)
    router.command("schedule", title="Schedule group supervision",
                   description="Put this half term's group sessions in everyone's calendars.",
                   handler=schedule, allowed=SCHEDULERS, verb=cards.V_SCHEDULE)
    router.verb(cards.V_OPEN, open_session)
    router.verb(cards.V_RESUME, resume_draft)
    router.verb(cards.V_ADHOC, adhoc)
    router.verb(cards.V_ADHOC_NEXT, adhoc_next)
    router.verb(cards.V_SAVE, save_draft)
    router.verb(cards.V_SUBMIT, submit)
    router.verb(cards.V_DISCARD, discard_draft)
    router.verb(cards.V_AMEND, amend)
    router.verb(cards.V_SCHEDULE_SUBMIT, schedule_submit)
    router.on_delivered(effects.CHANNEL_UPLOAD, _upload_delivered)
    router.on_dead_letter(effects.CHANNEL_UPLOAD, _upload_dead)


# ---- small helpers --------------------------------------------------------------------------------------------

def _calendar(services: Services) -> TermCalendar:
    return services.calendar


def _local(services: Services, instant: dt.datetime) -> dt.datetime:
    return instant.astimezone(services.school.tz)


def _today(services: Services, turn: Turn) -> dt.date:
    return _local(services, turn.now).date()


def _date_label(d: dt.date) -> str:
    return f"{d.strftime('%a')} {d.day} {d.strftime('%b %Y')}"


def _short_date(d: dt.date) -> str:
    return f"{d.strftime('%a')} {d.day} {d.strftime('%b')}"


def _ht_label(services: Services, day: dt.date) -> str | None:
    ht = _calendar(services).half_term_for(day)
    return half_term_label(services.school.terms.academic_year, ht.name) if ht else None


def _current_half_terms(services: Services, today: dt.date) -> list[str]:
    """This half term (or, in a holiday, the one just finished) and the one before it, as stored labels."""
    cal = _calendar(services)
    year = services.school.terms.academic_year
    past = [h for h in cal.half_terms if h.start <= today]
    if not past:
        return [half_term_label(year, cal.half_terms[0].name)]
    cur = past[-1]
    out = [half_term_label(year, cur.name)]
    if cur.index > 0:
        out.append(half_term_label(year, cal.half_terms[cur.index - 1].name))
    return out


def _active_on(member: StaffMember, day: dt.date) -> bool:
    if member.left_on is not None and member.left_on < day:
        return False
    if member.started_on is not None and member.started_on > day:
        return False
    return True


def _name(services: Services, staff_id: str) -> str:
    m = services.school.staff.get(staff_id)
    return m.name if m else "someone no longer on the staff list"


def _group_name(services: Services, group_id: str | None) -> str | None:
    g = services.school.groups.get(group_id) if group_id else None
    return g.name if g else None


def _session_label(services: Services, s: GroupSession) -> str:
    """What a session is called on cards and files: its group, or what kind of session it was."""
    return _group_name(services, s.group_id) or {"mop_up": "Mop-up session", "emergency": "Emergency session",
                                                 "enrichment": "Enrichment week group"}.get(s.kind, "Mixed group")


def _dsl_team(services: Services) -> list[StaffMember]:
    return services.school.with_role(Role.DSL)


def _int(value: Any) -> int | None:
    try:
        i = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return i if 0 < i < 2**31 else None


def _index(value: Any) -> int | None:
    """A card row number (0–19)."""
    v = str(value).strip()
    return int(v) if v.isdigit() and int(v) < 20 else None


def plain(turn: Turn, message: str, heading: str = "Not available") -> Reply:
    """A plain message: as text to a typed command; as a small card in place of a clicked one (Teams shows an
    Action.Execute answer in the card's place)."""
    if turn.invoke:
        return Reply.of(cards.message_card(heading, message, back=is_dsl(turn.actor)))
    return Reply(text=message)


def _denied(turn: Turn, message: str = NOT_DSL) -> Reply:
    refuse(turn, "group record: not DSL team")
    return plain(turn, message)


def _tampered(turn: Turn, what: str) -> Reply:
    refuse(turn, f"group record: {what}")
    return plain(turn, TAMPERED, "Can't do that")


def _template_for(services: Services, template_id: str | None = None) -> RecordTemplate:
    if template_id and template_id != services.school.settings.record_template:
        try:
            base = services.school.path.parent if services.school.path else None
            return load_template(template_id, base_dir=base)
        except TemplateError:
            log.warning("record template %s is no longer available; using the school's current one", template_id)
    return school_template(services.school)


def _time_label(services: Services, s: GroupSession) -> str:
    return f"{_local(services, s.starts_at):%H:%M}–{_local(services, s.ends_at):%H:%M}"


# ---- 1. the start card ----------------------------------------------------------------------------------------

async def start(services: Services, turn: Turn) -> Reply:
    """Shows the DSL the half term's sessions waiting to be recorded, their drafts and recent records."""
    if not is_dsl(turn.actor):
        return _denied(turn)
    return Reply.of(await _picker(services, turn))


async def _picker(services: Services, turn: Turn, *, notice: str | None = None, error: str | None = None) -> dict:
    today = _today(services, turn)
    labels = _current_half_terms(services, today)
    async with services.db.session() as s:
        sessions = (await s.execute(
            select(GroupSession).where(GroupSession.half_term.in_(labels), GroupSession.status == "scheduled",
                                       GroupSession.kind.in_(RECORDABLE_KINDS))
            .order_by(GroupSession.starts_at.desc()))).scalars().all()
        drafts = (await s.execute(select(GroupRecordDraft).where(GroupRecordDraft.owner_id == turn.actor.id)
                                  .order_by(GroupRecordDraft.updated_at.desc()).limit(5))).scalars().all()
        draft_sessions = {d.session_id for d in drafts if d.session_id}
        draft_records = {d.record_id for d in drafts if d.record_id}
        sess_by_id = {}
        if draft_sessions:
            sess_by_id = {x.id: x for x in (await s.execute(
                select(GroupSession).where(GroupSession.id.in_(draft_sessions)))).scalars()}
        rec_sessions = {}
        if draft_records:
            rec_sessions = {r.id: sess for r, sess in (await s.execute(
                select(GroupRecord, GroupSession).join(GroupSession, GroupSession.id == GroupRecord.session_id)
                .where(GroupRecord.id.in_(draft_records)))).all()}
        recorded = (await s.execute(
            select(GroupRecord, GroupSession).join(GroupSession, GroupSession.id == GroupRecord.session_id)
            .where(GroupSession.half_term == labels[0]).order_by(GroupSession.starts_at.desc()).limit(8))).all()
        versions = {}
        if recorded:
            for v in (await s.execute(select(GroupRecordVersion).where(
                    GroupRecordVersion.record_id.in_([r.id for r, _ in recorded])))).scalars():
                if v.record_id not in versions or v.version > versions[v.record_id].version:
                    versions[v.record_id] = v
    ready = [x for x in sessions if x.starts_at <= turn.now]
    upcoming = len(sessions) - len(ready)
    view = cards.PickerView(
        half_term=f"{labels[0]} · today is {_date_label(today)}",
        sessions=[cards.SessionChoice(x.id, f"{_session_label(services, x)} · "
                                            f"{_short_date(x.local_date)}, {_local(services, x.starts_at):%H:%M} · "
                                            f"{_name(services, x.facilitator_id)}") for x in ready[:30]],
        upcoming=upcoming, notice=notice, error=error)
    for d in drafts:
        if d.session_id and d.session_id in sess_by_id:
            x = sess_by_id[d.session_id]
            label = f"{_session_label(services, x)}, {_short_date(x.local_date)}"
        elif d.record_id and d.record_id in rec_sessions:
            x = rec_sessions[d.record_id]
            label = f"amendment, {_session_label(services, x)}, {_short_date(x.local_date)}"
        elif d.adhoc:
            day = parse_date(d.adhoc.get("date"))
            label = (f"{_group_name(services, d.adhoc.get('group')) or 'Mixed group'}, "
                     f"{_short_date(day) if day else 'date not set'}")
        else:
            continue
        view.drafts.append(cards.DraftChoice(d.draft_key, label))
    for r, x in recorded:
        v = versions.get(r.id)
        state = "saved to the channel" if v and v.status == DELIVERED else (
            "not saved yet: ask IT to check the outbox" if v and v.status == FAILED else "saving to the channel")
        view.recorded.append(cards.RecordedChoice(
            r.id, f"{_session_label(services, x)}, {_short_date(x.local_date)} · v{r.current_version} · {state}",
            v.web_url if v and v.status == DELIVERED else None))
    return cards.picker_card(view)


# ---- 2. opening a record card ---------------------------------------------------------------------------------

@dataclass
class _Target:
    """What a record card is about: a scheduled session, an ad-hoc one (not created until submit), or a record."""

    session: GroupSession | None = None
    adhoc: dict | None = None
    record: GroupRecord | None = None

    @property
    def local_date(self) -> dt.date:
        return self.session.local_date if self.session else dt.date.fromisoformat(self.adhoc["date"])

    @property
    def group_id(self) -> str | None:
        if self.session:
            return self.session.group_id
        g = self.adhoc.get("group")
        return None if g == cards.MIXED_GROUP else g

    @property
    def facilitator_id(self) -> str:
        return self.session.facilitator_id if self.session else self.adhoc["facilitator"]

    @property
    def kind(self) -> str:
        return self.session.kind if self.session else self.adhoc["kind"]

    def data(self, draft_key: str) -> dict:
        d: dict[str, Any] = {"draft_key": draft_key}
        if self.record is not None:
            d["record_id"] = self.record.id
        elif self.session is not None:
            d["session_id"] = self.session.id
        else:
            d["adhoc"] = dict(self.adhoc)
        return d


async def open_session(services: Services, turn: Turn) -> Reply:
    """Opens the record card for the chosen session (or the DSL's own draft of it)."""
    if not is_dsl(turn.actor):
        return _denied(turn)
    sid = _int(turn.data.get("session_id"))
    if sid is None:
        if not turn.data.get("session_id"):
            return Reply.of(await _picker(services, turn, error="Choose the session you are recording."))
        return _tampered(turn, "session id not a number")
    async with services.db.session() as s:
        sess = await s.get(GroupSession, sid)
        if sess is None or sess.kind not in RECORDABLE_KINDS:
            return _tampered(turn, "unknown or unrecordable session")
        existing = (await s.execute(select(GroupRecord).where(GroupRecord.session_id == sid))).scalar_one_or_none()
        draft = (await s.execute(select(GroupRecordDraft).where(
            GroupRecordDraft.owner_id == turn.actor.id, GroupRecordDraft.session_id == sid,
            GroupRecordDraft.record_id.is_(None)))).scalars().first()
    if existing is not None:
        return Reply.of(cards.message_card(
            "Already recorded", f"{_session_label(services, sess)} on {_date_label(sess.local_date)} has been "
            "recorded. To change it, choose Amend beside it on the group records card."))
    if sess.status == "cancelled":
        return Reply.of(cards.message_card("Session cancelled", "That session was cancelled, so there is nothing "
                                           "to record. If it went ahead after all, use Session not listed."))
    if sess.starts_at > turn.now:
        return Reply.of(cards.message_card(
            "Not started yet", f"That session starts {_date_label(sess.local_date)} at "
            f"{_local(services, sess.starts_at):%H:%M}. Record it once it has happened."))
    target = _Target(session=sess)
    if draft is not None:
        return Reply.of(await _record_card(services, turn, target, draft.draft_key, dict(draft.content),
                                           has_draft=True, notice="Your draft is back where you left it."))
    return Reply.of(await _record_card(services, turn, target, uuid.uuid4().hex, {}))


async def _people_for(services: Services, target: _Target) -> tuple[list[StaffMember], list[StaffMember]]:
    """(tick list, everyone else who may be added) for a record card, both active on the session's date."""
    day = target.local_date
    staff = [m for m in services.school.data.staff if _active_on(m, day)]
    tick_ids: list[str] = []
    if target.group_id:
        tick_ids = [m.id for m in staff if m.group == target.group_id]
    if target.session is not None:
        async with services.db.session() as s:
            invited = (await s.execute(select(SessionInvitee.staff_id).where(
                SessionInvitee.session_id == target.session.id).order_by(SessionInvitee.id))).scalars().all()
        tick_ids += [i for i in invited if i not in tick_ids]
    by_id = {m.id: m for m in staff}
    ticks = sorted((by_id[i] for i in tick_ids if i in by_id), key=lambda m: m.name)
    tick_set = {m.id for m in ticks}
    others = sorted((m for m in staff if m.id not in tick_set), key=lambda m: m.name)
    return ticks, others


async def _record_card(services: Services, turn: Turn, target: _Target, draft_key: str, values: dict, *,
                       errors: dict | None = None, top_error: str | None = None, notice: str | None = None,
                       has_draft: bool = False) -> dict:
    template = _template_for(services, target.record.template_id if target.record else None)
    ticks, others = await _people_for(services, target)
    team = _dsl_team(services)
    group = _group_name(services, target.group_id)
    if target.session is not None:
        s = target.session
        when = f"{_date_label(s.local_date)}, {_time_label(services, s)}"
        group_label = _session_label(services, s)
        half_term = s.half_term
    else:
        a = target.adhoc
        when = f"{_date_label(target.local_date)}, {a['time']}"
        group_label = group or "Staff from several groups"
        half_term = _ht_label(services, target.local_date) or ""
    heading = [("Group", group_label), ("Session", kind_label(target.kind)), ("When", when),
               ("Facilitator", _name(services, target.facilitator_id)), ("Half term", half_term)]
    amend_version = previous_file = None
    done_actions: list[str] = []
    data = target.data(draft_key)
    if target.record is not None:
        amend_version = target.record.current_version + 1
        async with services.db.session() as s:
            prev = (await s.execute(select(GroupRecordVersion).where(
                GroupRecordVersion.record_id == target.record.id,
                GroupRecordVersion.version == target.record.current_version))).scalar_one_or_none()
            acts = (await s.execute(select(RecordAction).where(RecordAction.record_id == target.record.id)
                                    .order_by(RecordAction.id))).scalars().all()
        previous_file = (prev.delivered_name or prev.file_name) if prev else None
        done_actions = [a.text for a in acts if a.status != OPEN]
        open_acts = [a for a in acts if a.status == OPEN][: template.actions.max_items]
        data["action_ids"] = {str(i): a.id for i, a in enumerate(open_acts)}
    facilitator = target.facilitator_id
    if not ticks:
        tick_label = None
    elif group:
        tick_label = f"Tick who came from {group}" + (" (and others invited)" if len(ticks) > len(
            [m for m in ticks if m.group == target.group_id]) else "")
    else:
        tick_label = "Tick who came (everyone invited)"
    view = cards.RecordView(
        template=template, heading=heading, tick_label=tick_label,
        group_people=[(m.id, m.name) for m in ticks], others=[(m.id, m.name) for m in others],
        owners=[(m.id, m.name) for m in team],
        default_owner=facilitator if any(m.id == facilitator for m in team) else turn.actor.id,
        data=data, values=values, errors=errors or {}, top_error=top_error, notice=notice,
        amend_version=amend_version, previous_file=previous_file, done_actions=done_actions, has_draft=has_draft)
    return cards.record_card(view)


# ---- 3. ad-hoc sessions ---------------------------------------------------------------------------------------

def _adhoc_view(services: Services, turn: Turn, values: dict, errors: dict | None = None) -> cards.AdhocView:
    return cards.AdhocView(
        groups=[(g.id, g.name) for g in services.school.data.groups],
        facilitators=[(m.id, m.name) for m in _dsl_team(services)],
        values={"adhoc_facilitator": turn.actor.id, **values}, errors=errors or {},
        max_date=_today(services, turn).isoformat())


async def adhoc(services: Services, turn: Turn) -> Reply:
    """Asks when a session that wasn't scheduled took place, for which group, and who facilitated it."""
    if not is_dsl(turn.actor):
        return _denied(turn)
    return Reply.of(cards.adhoc_card(_adhoc_view(services, turn, {})))


def _check_adhoc(services: Services, turn: Turn, raw: dict) -> tuple[dict, dict[str, str]]:
    """Validate ad-hoc session details (from the ad-hoc card or carried on a record card). Raises Tampered."""
    kind = clean_text(raw.get("kind"), multiline=False)
    group = clean_text(raw.get("group"), multiline=False)
    facilitator = clean_text(raw.get("facilitator"), multiline=False)
    if kind not in ("ad_hoc", "emergency"):
        raise Tampered("ad-hoc kind")
    if group and group != cards.MIXED_GROUP and group not in services.school.groups:
        raise Tampered("ad-hoc group")
    if facilitator and not is_dsl(services.school.staff.get(facilitator)):
        raise Tampered("ad-hoc facilitator outside DSL team")
    errors: dict[str, str] = {}
    day = parse_date(raw.get("date"))
    today = _today(services, turn)
    if day is None:
        errors["adhoc_date"] = "Give the date of the session, like 2026-11-23."
    elif day > today:
        errors["adhoc_date"] = "That date is in the future: record a session once it has happened."
    elif _calendar(services).half_term_for(day) is None:
        errors["adhoc_date"] = ("That date isn't in a half term of the school year, so attendance couldn't count. "
                                "Check the date.")
    at = parse_time(raw.get("time"))
    if at is None:
        errors["adhoc_time"] = "Give the start time, like 14:00."
    elif day == today and dt.datetime.combine(day, at, services.school.tz) > turn.now:
        errors["adhoc_time"] = "That time hasn't come yet today."
    if not group:
        errors["adhoc_group"] = "Choose the group."
    if not facilitator:
        errors["adhoc_facilitator"] = "Choose who facilitated."
    clean = {"kind": kind, "date": day.isoformat() if day else "", "time": at.strftime("%H:%M") if at else "",
             "group": group, "facilitator": facilitator}
    return clean, errors


async def adhoc_next(services: Services, turn: Turn) -> Reply:
    """Checks the ad-hoc session details and opens its record card."""
    if not is_dsl(turn.actor):
        return _denied(turn)
    d = turn.data
    raw = {"kind": d.get("adhoc_kind"), "date": d.get("adhoc_date"), "time": d.get("adhoc_time"),
           "group": d.get("adhoc_group"), "facilitator": d.get("adhoc_facilitator")}
    try:
        details, errors = _check_adhoc(services, turn, raw)
    except Tampered as exc:
        return _tampered(turn, str(exc))
    if errors:
        values = {f"adhoc_{k}": clean_text(v, multiline=False) for k, v in raw.items() if v}
        return Reply.of(cards.adhoc_card(_adhoc_view(services, turn, values, errors)))
    return Reply.of(await _record_card(services, turn, _Target(adhoc=details), uuid.uuid4().hex, {}))


# ---- 4. drafts -------------------------------------------------------------------------------------------------

async def _target_from_data(services: Services, turn: Turn, s) -> _Target | Reply:
    """The session / ad-hoc details / record a record card is about, re-checked against the store."""
    d = turn.data
    if d.get("record_id") is not None:
        rid = _int(d.get("record_id"))
        rec = await s.get(GroupRecord, rid) if rid else None
        if rec is None:
            return _tampered(turn, "unknown record")
        sess = await s.get(GroupSession, rec.session_id)
        return _Target(session=sess, record=rec)
    if d.get("session_id") is not None:
        sid = _int(d.get("session_id"))
        sess = await s.get(GroupSession, sid) if sid else None
        if sess is None or sess.kind not in RECORDABLE_KINDS:
            return _tampered(turn, "unknown or unrecordable session")
        return _Target(session=sess)
    if isinstance(d.get("adhoc"), dict):
        try:
            details, errors = _check_adhoc(services, turn, d["adhoc"])
        except Tampered as exc:
            return _tampered(turn, str(exc))
        if errors:
            return _tampered(turn, "ad-hoc details no longer valid")
        return _Target(adhoc=details)
    return _tampered(turn, "record card without a session")


def _same_target(draft: GroupRecordDraft, target: _Target) -> bool:
    if target.record is not None:
        return draft.record_id == target.record.id
    if target.session is not None:
        return draft.session_id == target.session.id and draft.record_id is None
    return draft.session_id is None and draft.record_id is None


async def save_draft(services: Services, turn: Turn) -> Reply:
    """Saves the half-written record as the DSL's own draft and shows the card again with everything kept."""
    if not is_dsl(turn.actor):
        return _denied(turn)
    key = str(turn.data.get("draft_key") or "")
    if not KEY_RE.match(key):
        return _tampered(turn, "draft key")
    async with services.db.session() as s:
        target = await _target_from_data(services, turn, s)
        if isinstance(target, Reply):
            return target
        template = _template_for(services, target.record.template_id if target.record else None)
        values = draft_values(template, turn.data)
        draft = await draft_by_key(s, GroupRecordDraft, key)
        if draft is not None and (draft.owner_id != turn.actor.id or not _same_target(draft, target)):
            return _tampered(turn, "someone else's draft")
        if draft is None:
            if await _already_submitted(s, key):
                return Reply.of(cards.message_card("Already submitted", "This record was submitted already, "
                                                   "so there is no draft to save."))
            draft = GroupRecordDraft(draft_key=key, owner_id=turn.actor.id, created_at=turn.now,
                                     session_id=target.session.id if target.session and not target.record else None,
                                     record_id=target.record.id if target.record else None,
                                     adhoc=target.adhoc)
            s.add(draft)
        draft.content = values
        draft.updated_at = turn.now
    saved = f"Draft saved at {_local(services, turn.now):%H:%M}. Type record to come back to it."
    return Reply.of(await _record_card(services, turn, target, key, values, notice=saved, has_draft=True))


async def resume_draft(services: Services, turn: Turn) -> Reply:
    """Reopens one of the DSL's own drafts with everything they typed."""
    if not is_dsl(turn.actor):
        return _denied(turn)
    key = str(turn.data.get("draft_key") or "")
    if not KEY_RE.match(key):
        return _tampered(turn, "draft key")
    async with services.db.session() as s:
        try:
            draft = await own_draft(s, GroupRecordDraft, key, turn.actor.id)
        except NotYours:
            return _tampered(turn, "someone else's draft")
        if draft is None:
            return Reply.of(cards.message_card("Draft not found", "That draft has been submitted or deleted."))
        rec = await s.get(GroupRecord, draft.record_id) if draft.record_id else None
        sid = rec.session_id if rec else draft.session_id
        sess = await s.get(GroupSession, sid) if sid else None
        target = _Target(session=sess, record=rec, adhoc=draft.adhoc if not sess else None)
        values = dict(draft.content)
    if target.session is None and not target.adhoc:
        return Reply.of(cards.message_card("Draft not found", GONE))
    return Reply.of(await _record_card(services, turn, target, key, values, has_draft=True,
                                       notice="Your draft is back where you left it."))


async def discard_draft(services: Services, turn: Turn) -> Reply:
    """Deletes one of the DSL's own drafts."""
    if not is_dsl(turn.actor):
        return _denied(turn)
    key = str(turn.data.get("draft_key") or "")
    if not KEY_RE.match(key):
        return _tampered(turn, "draft key")
    async with services.db.session() as s:
        try:
            draft = await own_draft(s, GroupRecordDraft, key, turn.actor.id)
        except NotYours:
            return _tampered(turn, "someone else's draft")
        if draft is not None:
            await s.delete(draft)
    return Reply.of(await _picker(services, turn, notice="Draft deleted."))


async def _already_submitted(s, key: str) -> GroupRecordVersion | None:
    return (await s.execute(select(GroupRecordVersion).where(GroupRecordVersion.submit_key == key))
            ).scalar_one_or_none()


# ---- 5. submit ---------------------------------------------------------------------------------------------------

async def submit(services: Services, turn: Turn) -> Reply:
    """Checks the record, then files it: .docx to the Safeguarding channel, attendance, actions."""
    if not is_dsl(turn.actor):
        return _denied(turn)
    key = str(turn.data.get("draft_key") or "")
    if not KEY_RE.match(key):
        return _tampered(turn, "submit key")
    async with services.db.session() as s:
        done = await _already_submitted(s, key)
        if done is not None:
            return Reply.of(await _submitted_view(services, s, done, already=True))
        target = await _target_from_data(services, turn, s)
        if isinstance(target, Reply):
            return target
        if target.session is not None and target.session.starts_at > turn.now:
            return Reply.of(cards.message_card("Not started yet", "That session hasn't happened yet."))
    template = _template_for(services, target.record.template_id if target.record else None)
    ticks, others = await _people_for(services, target)
    action_ids = await _action_ids(services, turn, target)
    if isinstance(action_ids, Reply):
        return action_ids
    try:
        form = parse_record_form(
            template, turn.data, group_ids=[m.id for m in ticks],
            others=[Person(m.id, m.name, m.email) for m in others],
            owner_ids=[m.id for m in _dsl_team(services)], session_date=target.local_date,
            amending=target.record is not None, action_ids=action_ids)
    except Tampered as exc:
        return _tampered(turn, str(exc))
    values = draft_values(template, turn.data)
    if not form.ok:
        n = len(form.errors)
        return Reply.of(await _record_card(
            services, turn, target, key, values, errors=form.errors, has_draft=await _has_draft(services, key),
            top_error=f"Please check {'the field' if n == 1 else f'{n} fields'} marked below; "
                      "nothing you typed has been lost."))
    try:
        async with services.db.session() as s:
            version = await _file_record(services, turn, s, target, template, form, key)
            reply = await _submitted_view(services, s, version)
    except IntegrityError:
        # A second click raced the first, or another DSL recorded/amended the same session a moment ago.
        async with services.db.session() as s:
            done = await _already_submitted(s, key)
            if done is not None:
                return Reply.of(await _submitted_view(services, s, done, already=True))
        return await _conflict(services, turn, target, key, values)
    except _Conflict:
        return await _conflict(services, turn, target, key, values)
    return Reply.of(reply)


class _Conflict(Exception):
    """The session was recorded (or the record amended) by someone else since this card was opened."""


async def _conflict(services: Services, turn: Turn, target: _Target, key: str, values: dict) -> Reply:
    """Keep the DSL's text as their draft and explain; nothing is lost and nothing is recorded twice."""
    async with services.db.session() as s:
        draft = await draft_by_key(s, GroupRecordDraft, key)
        if draft is None:
            s.add(GroupRecordDraft(
                draft_key=key, owner_id=turn.actor.id, created_at=turn.now, updated_at=turn.now, content=values,
                session_id=target.session.id if target.session and not target.record else None,
                record_id=target.record.id if target.record else None, adhoc=target.adhoc))
        elif draft.owner_id == turn.actor.id:
            draft.content, draft.updated_at = values, turn.now
    what = ("Someone else saved a new version of this record a moment ago" if target.record is not None
            else "Someone else recorded this session a moment ago")
    return Reply.of(cards.message_card(
        "Not filed: recorded meanwhile", f"{what}. Your text is kept as your draft; open the record's Amend "
        "from the group records card to add your changes."))


async def _has_draft(services: Services, key: str) -> bool:
    return await has_draft(services.db, GroupRecordDraft, key)


async def _action_ids(services: Services, turn: Turn, target: _Target) -> dict[int, int] | Reply:
    """For an amendment: card row → existing open action of this record (ids from the card are re-checked)."""
    raw = turn.data.get("action_ids")
    if target.record is None or not raw:
        return {}
    if not isinstance(raw, dict):
        return _tampered(turn, "action ids")
    out: dict[int, int] = {}
    for k, v in raw.items():
        row, aid = _index(k), _int(v)
        if row is None or aid is None:
            return _tampered(turn, "action ids")
        out[row] = aid
    async with services.db.session() as s:
        mine = set((await s.execute(select(RecordAction.id).where(
            RecordAction.record_id == target.record.id, RecordAction.status == OPEN))).scalars())
    if not set(out.values()) <= mine:
        return _tampered(turn, "action from another record")
    return out


async def _file_record(services: Services, turn: Turn, s, target: _Target, template: RecordTemplate, form,
                       key: str) -> GroupRecordVersion:
    """One transaction: session (ad hoc), record, version, attendance, actions, outbox upload, draft deleted."""
    actor = turn.actor
    sess = target.session
    if target.record is None:
        if sess is None:
            a = target.adhoc
            day = dt.date.fromisoformat(a["date"])
            starts = dt.datetime.combine(day, parse_time(a["time"]), services.school.tz).astimezone(dt.timezone.utc)
            group = _group_name(services, target.group_id)
            sess = GroupSession(
                kind=a["kind"], group_id=target.group_id, title=f"Group supervision – {group or 'mixed group'}",
                starts_at=starts, ends_at=starts + dt.timedelta(minutes=services.school.settings.session_minutes),
                local_date=day, half_term=_ht_label(services, day), facilitator_id=a["facilitator"],
                status="recorded", external_support=False, created_by=actor.id, created_at=turn.now)
            s.add(sess)
            await s.flush()
        else:
            sess = await s.get(GroupSession, sess.id, with_for_update=True)
            if sess.status != "scheduled":
                raise _Conflict()
            sess.status = "recorded"
        record = GroupRecord(session_id=sess.id, template_id=services.school.settings.record_template,
                             facilitator_id=sess.facilitator_id, created_by=actor.id, created_at=turn.now,
                             current_version=1)
        s.add(record)
        await s.flush()
        version_no = 1
        previous_file = None
    else:
        record = await s.get(GroupRecord, target.record.id, with_for_update=True)
        if record.current_version != target.record.current_version:
            raise _Conflict()
        prev = (await s.execute(select(GroupRecordVersion).where(
            GroupRecordVersion.record_id == record.id, GroupRecordVersion.version == record.current_version))
                ).scalar_one_or_none()
        previous_file = (prev.delivered_name or prev.file_name) if prev else None
        version_no = record.current_version + 1
        record.current_version = version_no

    group_label = _session_label(services, sess)
    file_name = record_file_name(sess.local_date, group_label, version_no)
    version = GroupRecordVersion(
        record_id=record.id, version=version_no, submit_key=key, file_name=file_name, status=PENDING,
        attendee_count=len(form.attendees), action_count=len(form.actions), submitted_by=actor.id,
        submitted_at=turn.now)
    s.add(version)

    # Attendance for the half term the session falls in (the shared table; unique per person and session).
    have = set((await s.execute(select(Attendance.staff_id).where(Attendance.session_id == sess.id))).scalars())
    wanted = set(form.attendees)
    for staff_id in form.attendees:
        if staff_id not in have:
            s.add(Attendance(staff_id=staff_id, session_id=sess.id, local_date=sess.local_date,
                             half_term=sess.half_term, recorded_by=actor.id, recorded_at=turn.now))
    if have - wanted:
        await s.execute(delete(Attendance).where(Attendance.session_id == sess.id,
                                                 Attendance.staff_id.in_(have - wanted)))

    # Actions: on an amendment, open ones are updated in place or removed if their row was cleared; new ones added.
    kept = {item.action_id for item in form.actions if item.action_id is not None}
    if target.record is not None:
        await s.execute(delete(RecordAction).where(RecordAction.record_id == record.id, RecordAction.status == OPEN,
                                                   RecordAction.id.notin_(kept or {0})))
    for item in form.actions:
        if item.action_id is not None:
            row = await s.get(RecordAction, item.action_id)
            row.text, row.owner_id, row.due_on = item.text, item.owner_id, item.due_on
        else:
            s.add(RecordAction(record_id=record.id, text=item.text, owner_id=item.owner_id, due_on=item.due_on,
                               status=OPEN, created_by=actor.id, created_at=turn.now))
    await s.flush()

    # The document: built now, carried by the outbox row (the only copy until it is in the channel's files).
    content = docx_writer.render_docx(_document(services, turn, sess, template, form, version_no, previous_file))
    await enqueue(s, "files.channel_upload",
                  {"name": file_name, "content_b64": base64.b64encode(content).decode("ascii"),
                   "record_id": version.id},
                  key=f"{KEY_PREFIX}file:{version.id}", chain=f"{KEY_PREFIX}{record.id}", now=turn.now)
    # The draft (narrative) goes now: from here the text lives only in that outbox row, then in the channel.
    await s.execute(delete(GroupRecordDraft).where(GroupRecordDraft.draft_key == key))
    log.info("group record filed: record=%s version=%s attendees=%s actions=%s", record.id, version_no,
             len(form.attendees), len(form.actions))
    return version


def _document(services: Services, turn: Turn, sess: GroupSession, template: RecordTemplate, form,
              version: int, previous_file: str | None) -> docx_writer.RecordDocument:
    school = services.school
    fac = school.staff.get(sess.facilitator_id)
    attendees = []
    for sid in form.attendees:
        m = school.staff[sid]
        attendees.append(docx_writer.Attendee(m.name, m.job_title, _group_name(services, m.group) or ""))
    attendees.sort(key=lambda a: a.name)
    return docx_writer.RecordDocument(
        school_name=school.name, group_label=_session_label(services, sess), session_kind=kind_label(sess.kind),
        local_date=sess.local_date, time_label=_time_label(services, sess), half_term=sess.half_term,
        facilitator=f"{fac.name}, {fac.job_title}".rstrip(", ") if fac else "(not on the staff list)",
        template=template, answers=form.answers, attendees=attendees,
        actions=[docx_writer.ActionRow(a.text, _name(services, a.owner_id), a.due_on) for a in form.actions],
        version=version, previous_file=previous_file, amend_note=form.amend_note,
        recorded_by=turn.actor.name, recorded_at=f"{_local(services, turn.now):%d %b %Y %H:%M}")


async def _submitted_view(services: Services, s, version: GroupRecordVersion, *, already: bool = False) -> dict:
    record = await s.get(GroupRecord, version.record_id)
    sess = await s.get(GroupSession, record.session_id)
    return cards.submitted_card(cards.SubmittedView(
        group_label=_session_label(services, sess), date_label=_date_label(sess.local_date),
        attendee_count=version.attendee_count, action_count=version.action_count, version=version.version,
        file_name=version.file_name, already=already))


# ---- 6. amendments -------------------------------------------------------------------------------------------

async def amend(services: Services, turn: Turn) -> Reply:
    """Opens a submitted record again, filled in, to save a new version (the earlier file is kept)."""
    if not is_dsl(turn.actor):
        return _denied(turn)
    rid = _int(turn.data.get("record_id"))
    async with services.db.session() as s:
        record = await s.get(GroupRecord, rid) if rid else None
        if record is None:
            return _tampered(turn, "unknown record")
        sess = await s.get(GroupSession, record.session_id)
        draft = (await s.execute(select(GroupRecordDraft).where(
            GroupRecordDraft.owner_id == turn.actor.id, GroupRecordDraft.record_id == record.id))).scalars().first()
        attendees = (await s.execute(select(Attendance.staff_id).where(Attendance.session_id == sess.id)
                                     .order_by(Attendance.staff_id))
                     ).scalars().all()
        acts = (await s.execute(select(RecordAction).where(RecordAction.record_id == record.id,
                                                           RecordAction.status == OPEN)
                                .order_by(RecordAction.id))).scalars().all()
        current = (await s.execute(select(GroupRecordVersion).where(
            GroupRecordVersion.record_id == record.id, GroupRecordVersion.version == record.current_version))
                   ).scalar_one_or_none()
    target = _Target(session=sess, record=record)
    if draft is not None:
        return Reply.of(await _record_card(services, turn, target, draft.draft_key, dict(draft.content),
                                           has_draft=True, notice="Your draft amendment is back."))
    template = _template_for(services, record.template_id)
    answers, note = await _previous_answers(services, current, template)
    ticks, _ = await _people_for(services, target)
    values = form_values_from_record(
        template, attendees=attendees, group_ids=[m.id for m in ticks], answers=answers,
        actions=[ActionItem(a.text, a.owner_id, a.due_on, a.id) for a in acts])
    return Reply.of(await _record_card(services, turn, target, uuid.uuid4().hex, values, notice=note))


async def _previous_answers(services: Services, version: GroupRecordVersion | None,
                            template: RecordTemplate) -> tuple[dict[str, str], str | None]:
    """The current version's answers, read back from its .docx: from the outbox while it is still being
    delivered, or from the channel's files once there (the bot keeps no copy of the text)."""
    if version is None:
        return {}, None
    content: bytes | None = None
    if version.status != DELIVERED:
        from bot.outbox import get
        async with services.db.session() as s:
            msg = await get(s, f"{KEY_PREFIX}file:{version.id}")
        b64 = (msg.payload or {}).get("content_b64") if msg else None
        if b64:
            content = base64.b64decode(b64)
    else:
        files = getattr(services.m365, "channel_files", None)
        download = getattr(files, "download", None)
        if download is not None and version.item_id:
            try:
                content = await download(version.item_id)
            except Exception:  # noqa: BLE001 - the amendment can still be written; say so on the card
                log.warning("could not read record version %s back from the channel files", version.id)
    if content:
        try:
            return docx_writer.read_answers(content, template), None
        except Exception:  # noqa: BLE001 - a file edited by hand in SharePoint may not parse
            log.warning("record version %s could not be read back", version.id)
    return {}, ("Who came and the actions are filled in. The earlier text is in "
                f"{version.delivered_name or version.file_name} in the channel's files: write the full corrected "
                "record here.")


# ---- 7. delivery hooks (called by the outbox worker) ------------------------------------------------------------

async def on_record_delivered(session, record_id: int, result: dict | None, *,
                              services: Services | None = None, now: dt.datetime | None = None,
                              school=None, key: str | None = None) -> None:
    """The .docx reached the channel's files: keep where it is, and post the summary to the Safeguarding channel.

    `record_id` is the payload's record_id (a group_record_versions id). Pass the outbox row's `key` when the hook
    also sees other journeys' channel uploads: rows that are not this journey's are ignored. Idempotent.
    """
    if key is not None and not key.startswith(f"{KEY_PREFIX}file:"):
        return
    school = school or (services.school if services else None)
    now = now or dt.datetime.now(dt.timezone.utc)
    version = await session.get(GroupRecordVersion, int(record_id))
    if version is None or version.status == DELIVERED:
        return
    result = result or {}
    version.status = DELIVERED
    version.web_url = result.get("web_url") or result.get("webUrl")
    version.delivered_name = result.get("name") or version.file_name
    version.item_id = result.get("item_id") or result.get("id")
    version.delivered_at = now
    record = await session.get(GroupRecord, version.record_id)
    sess = await session.get(GroupSession, record.session_id)
    # No narrative stays once the record is in the channel: any leftover first-record draft of this session goes.
    await session.execute(delete(GroupRecordDraft).where(GroupRecordDraft.session_id == sess.id,
                                                         GroupRecordDraft.record_id.is_(None)))
    if school is None:
        raise RuntimeError("on_record_delivered needs the school (pass services= or school=)")
    prev_name = None
    if version.version > 1:
        prev = (await session.execute(select(GroupRecordVersion).where(
            GroupRecordVersion.record_id == record.id, GroupRecordVersion.version == version.version - 1))
                ).scalar_one_or_none()
        prev_name = (prev.delivered_name or prev.file_name) if prev else None
    group = (school.groups[sess.group_id].name if sess.group_id in school.groups else
             {"mop_up": "Mop-up session", "emergency": "Emergency session",
              "enrichment": "Enrichment week group"}.get(sess.kind, "Mixed group"))
    fac = school.staff.get(sess.facilitator_id)
    card = cards.channel_summary_card(cards.ChannelSummaryView(
        group_label=group, date_label=_date_label(sess.local_date), facilitator=fac.name if fac else "",
        attendee_count=version.attendee_count, action_count=version.action_count,
        file_name=version.delivered_name, web_url=version.web_url, version=version.version, previous_file=prev_name))
    what = f"amended (version {version.version})" if version.version > 1 else "saved"
    fallback = (f"Group supervision record {what}: {group}, {_date_label(sess.local_date)}, "
                f"{version.attendee_count} attended, {version.action_count} actions. "
                f"File: {version.delivered_name}" + (f" {version.web_url}" if version.web_url else ""))
    await enqueue(session, "teams.channel",
                  {"card": card, "fallback_staff_ids": [m.id for m in school.with_role(Role.DSL)],
                   "fallback_text": fallback},
                  key=f"{KEY_PREFIX}channel:{version.id}", chain=f"{KEY_PREFIX}channel:{record.id}", now=now)


async def on_record_failed(session, record_id: int, *, services: Services | None = None,
                           now: dt.datetime | None = None, school=None, key: str | None = None) -> None:
    """The upload was dead-lettered: mark it and tell the person who submitted it (the outbox keeps the file)."""
    if key is not None and not key.startswith(f"{KEY_PREFIX}file:"):
        return
    school = school or (services.school if services else None)
    version = await session.get(GroupRecordVersion, int(record_id))
    if version is None or version.status != PENDING:
        return
    version.status = FAILED
    record = await session.get(GroupRecord, version.record_id)
    sess = await session.get(GroupSession, record.session_id)
    group = school.groups[sess.group_id].name if school and sess.group_id in school.groups else "a group session"
    card = cards.message_card(
        "Record not saved to the channel yet",
        f"I couldn't save the record for {group} on {_date_label(sess.local_date)} to the Safeguarding channel "
        "after several tries. It is kept safely and can be retried: please ask whoever looks after the bot to "
        "check the outbox.", back=False)
    await enqueue(session, "teams.notify", {"staff_id": version.submitted_by, "card": card},
                  key=f"{KEY_PREFIX}failed:{version.id}", now=now)


async def _upload_delivered(services: Services, msg, result) -> None:
    """The record's .docx is in the channel's files: keep its URL, then post the summary to the channel."""
    await on_record_delivered(msg.session, msg.payload.get("record_id"), result, services=services,
                              now=services.clock(), key=msg.key)


async def _upload_dead(services: Services, msg) -> None:
    """The upload gave up: mark the version failed and tell whoever submitted it."""
    await on_record_failed(msg.session, msg.payload.get("record_id"), services=services, now=services.clock(),
                           key=msg.key)


# ---- 8. scheduling the half term's group sessions -----------------------------------------------------------

async def schedule(services: Services, turn: Turn) -> Reply:
    """Shows the DSL which groups still need a session this half term and lets them schedule one."""
    if not is_dsl(turn.actor):
        return _denied(turn, NOT_DSL_SCHEDULE)
    return Reply.of(await _schedule_card(services, turn, {}))


async def _schedule_card(services: Services, turn: Turn, values: dict, *, errors: dict | None = None,
                         notice: str | None = None) -> dict:
    school = services.school
    today = _today(services, turn)
    cal = _calendar(services)
    ht = cal.current_or_next_half_term(today)
    label = half_term_label(school.terms.academic_year, ht.name) if ht else "No half terms left this year"
    scheduled: list[str] = []
    covered: set[str] = set()
    if ht:
        async with services.db.session() as s:
            rows = (await s.execute(select(GroupSession).where(
                GroupSession.half_term == label, GroupSession.status != "cancelled",
                GroupSession.kind.in_(RECORDABLE_KINDS)).order_by(GroupSession.starts_at))).scalars().all()
        for r in rows:
            if r.group_id:
                covered.add(r.group_id)
            scheduled.append(f"{_session_label(services, r)} · {_short_date(r.local_date)} "
                             f"{_local(services, r.starts_at):%H:%M}")
    groups = [(g.id, f"{g.name}") for g in school.data.groups]
    mop_first, mop_last = cal.last_week(ht) if ht else (None, None)
    groups.append((MOP_UP, f"Mop-up session (last week: {_short_date(mop_first)} to {_short_date(mop_last)})"
                   if mop_first else "Mop-up session"))
    minutes = school.settings.session_minutes
    durations = sorted(set(DURATIONS) | {minutes})
    view = cards.ScheduleView(
        half_term=f"{label} ({_short_date(ht.start)} to {_short_date(ht.end)})" if ht else label,
        groups=groups, facilitators=[(m.id, m.name) for m in _dsl_team(services)],
        durations=[(str(d), f"{d} minutes") for d in durations], nonce=uuid.uuid4().hex,
        values={"sched_facilitator": turn.actor.id, "sched_minutes": str(minutes), **values},
        errors=errors or {}, scheduled=scheduled,
        unscheduled=[g.name for g in school.data.groups if g.id not in covered] if ht else [],
        notice=notice, max_date=cal.last_day.isoformat())
    return cards.schedule_card(view)


async def schedule_submit(services: Services, turn: Turn) -> Reply:
    """Books one group session: invites the group, puts it in calendars and reminds the facilitator to record it."""
    if not is_dsl(turn.actor):
        return _denied(turn, NOT_DSL_SCHEDULE)
    d = turn.data
    school = services.school
    nonce = str(d.get("nonce") or "")
    if not KEY_RE.match(nonce):
        return _tampered(turn, "schedule nonce")
    group = clean_text(d.get("sched_group"), multiline=False)
    facilitator = clean_text(d.get("sched_facilitator"), multiline=False)
    minutes = _int(d.get("sched_minutes"))
    if group and group != MOP_UP and group not in school.groups:
        return _tampered(turn, "schedule group")
    if facilitator and not is_dsl(school.staff.get(facilitator)):
        return _tampered(turn, "schedule facilitator outside DSL team")
    if d.get("sched_minutes") and (minutes is None or minutes not in set(DURATIONS) | {
            school.settings.session_minutes}):
        return _tampered(turn, "schedule length")
    values = {k: clean_text(d.get(k), multiline=False) for k in
              ("sched_group", "sched_date", "sched_time", "sched_minutes", "sched_facilitator") if d.get(k)}

    async with services.db.session() as s:
        prior = (await s.execute(select(ScheduleRequest).where(ScheduleRequest.nonce == nonce))).scalar_one_or_none()
        if prior is not None:
            sess = await s.get(GroupSession, prior.session_id)
            return Reply.of(await _schedule_card(services, turn, {}, notice=_scheduled_notice(services, sess, None)))

    cal = _calendar(services)
    errors: dict[str, str] = {}
    day = parse_date(d.get("sched_date"))
    at = parse_time(d.get("sched_time"))
    sday = school.settings.school_day
    ht = cal.half_term_for(day) if day else None
    if not group:
        errors["sched_group"] = "Choose which group the session is for."
    if day is None:
        errors["sched_date"] = "Choose the date, like 2026-11-30."
    elif not cal.is_school_day(day):
        errors["sched_date"] = f"{_date_label(day)} isn't a school day ({cal.why_closed(day)})."
    elif group == MOP_UP and ht and not cal.in_last_week(ht, day):
        first, last = cal.last_week(ht)
        errors["sched_date"] = (f"The mop-up session goes in the last week of the half term: "
                                f"{_short_date(first)} to {_short_date(last)}.")
    if at is None:
        errors["sched_time"] = "Choose the start time, like 14:00."
    elif not (sday.start <= at < sday.end):
        errors["sched_time"] = f"Choose a time in the school day ({sday.start:%H:%M} to {sday.end:%H:%M})."
    if not facilitator:
        errors["sched_facilitator"] = "Choose the facilitator."
    if not minutes:
        errors["sched_minutes"] = "Choose how long."
    starts = None
    if day and at and "sched_date" not in errors and "sched_time" not in errors:
        starts = dt.datetime.combine(day, at, school.tz).astimezone(dt.timezone.utc)
        if starts <= turn.now:
            errors["sched_time"] = "That time has passed. To record a session that already happened, type record."
    if errors:
        return Reply.of(await _schedule_card(services, turn, values, errors=errors))

    ends = starts + dt.timedelta(minutes=minutes)
    half_term = half_term_label(school.terms.academic_year, ht.name)
    try:
        async with services.db.session() as s:
            clash = (await s.execute(select(GroupSession).where(
                GroupSession.status == "scheduled", GroupSession.starts_at < ends, GroupSession.ends_at > starts,
                (GroupSession.facilitator_id == facilitator) | (
                    (GroupSession.group_id == group) if group != MOP_UP else (GroupSession.kind == "mop_up")))
            )).scalars().first()
            if clash is not None:
                who = _name(services, facilitator)
                msg = (f"{_session_label(services, clash)} already has a session then."
                       if clash.facilitator_id != facilitator else
                       f"{who} already facilitates {_session_label(services, clash)} then.")
                return Reply.of(await _schedule_card(services, turn, values, errors={"sched_time": msg}))
            invitees = await _invitees(services, s, group, day, half_term)
            kind = "mop_up" if group == MOP_UP else school.groups[group].kind.value
            name = "mop-up" if group == MOP_UP else school.groups[group].name
            sess = GroupSession(kind=kind, group_id=None if group == MOP_UP else group,
                                title=f"Group supervision – {name}", starts_at=starts, ends_at=ends, local_date=day,
                                half_term=half_term, facilitator_id=facilitator, status="scheduled",
                                external_support=False, created_by=turn.actor.id, created_at=turn.now)
            s.add(sess)
            await s.flush()
            s.add(ScheduleRequest(nonce=nonce, session_id=sess.id, created_by=turn.actor.id, created_at=turn.now))
            for staff_id in invitees:
                s.add(SessionInvitee(session_id=sess.id, staff_id=staff_id, added_at=turn.now,
                                     added_via="mop_up" if group == MOP_UP else "invite"))
            await enqueue(s, "calendar.create", {
                "event_key": f"group_session:{sess.id}", "organizer_id": facilitator,
                "attendee_ids": invitees, "start": starts.isoformat(), "end": ends.isoformat(),
                "subject": SUBJECT, "online": True}, key=f"{KEY_PREFIX}calendar:{sess.id}", now=turn.now)
            await enqueue_record_prompt(s, sess, services.school, now=turn.now)
            notice = _scheduled_notice(services, sess, len(invitees))
    except IntegrityError:   # the same card submitted twice at once: the first one booked it
        async with services.db.session() as s:
            prior = (await s.execute(select(ScheduleRequest).where(ScheduleRequest.nonce == nonce))
                     ).scalar_one_or_none()
            sess = await s.get(GroupSession, prior.session_id) if prior else None
        if sess is None:
            raise
        notice = _scheduled_notice(services, sess, None)
    keep = {k: v for k, v in values.items() if k in ("sched_time", "sched_minutes", "sched_facilitator")}
    return Reply.of(await _schedule_card(services, turn, keep, notice=notice))


def _scheduled_notice(services: Services, sess: GroupSession, invited: int | None) -> str:
    who = f" {invited} invited." if invited is not None else ""
    return (f"Scheduled: {_session_label(services, sess)}, {_date_label(sess.local_date)} "
            f"{_time_label(services, sess)} with {_name(services, sess.facilitator_id)}.{who} "
            "Calendar invitations are on their way.")


async def _invitees(services: Services, s, group: str, day: dt.date, half_term: str) -> list[str]:
    """Who a session invites: the group's staff; for a mop-up, everyone who hasn't attended this half term."""
    school = services.school
    staff = [m for m in school.data.staff if _active_on(m, day) and not _absent_on(m, day)]
    if group != MOP_UP:
        return [m.id for m in staff if m.group == group]
    attended = set((await s.execute(select(Attendance.staff_id).where(Attendance.half_term == half_term))
                    ).scalars())
    return [m.id for m in staff if m.id not in attended]


def _absent_on(m: StaffMember, day: dt.date) -> bool:
    a = m.absence
    return a is not None and a.from_ <= day and (a.until is None or a.until >= day)


async def enqueue_record_prompt(s, sess: GroupSession, school, *, now: dt.datetime | None = None) -> None:
    """Queue the 1:1 "time to record" card for the facilitator, sent when the session ends.

    Other journeys that create recordable group sessions (mop-up, emergency) may call this too.
    """
    group = school.groups[sess.group_id].name if sess.group_id in school.groups else (
        "Mop-up session" if sess.kind == "mop_up" else "Group session")
    local = sess.starts_at.astimezone(school.tz)
    card = cards.record_prompt_card(session_id=sess.id, group_label=group,
                                    date_label=f"{_date_label(sess.local_date)}, {local:%H:%M}")
    if is_dsl(school.staff.get(sess.facilitator_id)):
        await enqueue(s, "teams.notify", {"staff_id": sess.facilitator_id, "card": card},
                      key=f"{KEY_PREFIX}prompt:{sess.id}", not_before=sess.ends_at, now=now)
