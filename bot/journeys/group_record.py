"""Journey: the DSL team records a group supervision session → Safeguarding channel → attendance.

Seed 001 "Safeguarding Supervision – Group" and "Record Keeping": every group session is recorded (who attended,
a summary of the discussion, actions for the DSL meeting) and the notes are stored in the secure Safeguarding
channel. Seed 003 Appendix 3 gives the fuller group record some schools choose (templates are data: bot/records).

Flow: `record` → pick this half term's session (or one that wasn't scheduled) → tick who came, fill in the record,
save a draft or submit → one transaction writes the record's metadata, attendance, actions and the .docx upload
(outbox); once the upload's web URL is known the channel summary follows (`on_record_delivered`). Scheduling the
sessions is bot/journeys/group_sessions.py; what the cards show is bot/journeys/group_record_view.py; amending a
record is group_record_amend.py and the delivery hooks are group_record_delivery.py.

Only the DSL team may do any of this (the router checks every click). Nothing from a record is logged.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from bot import labels
from bot.journeys import group_record_delivery as delivery
from bot.journeys import group_record_view as view
from bot.journeys import permissions
from bot.journeys.base import Reply, Services, Turn
from bot.journeys.group_record_amend import amend
from bot.journeys.group_record_delivery import on_record_delivered, on_record_failed
from bot.journeys.group_record_view import GONE, NOT_DSL, Target, tampered
from bot.journeys.kit import audited, parse_id, parse_index, parse_key
from bot.journeys.router import Router
from bot.outbox import effects
from bot.records import docx_writer
from bot.records import escalation as esc
from bot.records.actions import REVIEW_LABELS, parse_review, review_actions, review_values
from bot.records.lifecycle import GROUP
from bot.records.packs import group_template_name
from bot.records.rules import (
    Person,
    Tampered,
    clean_text,
    draft_values,
    parse_record_form,
    parse_time,
    record_file_name,
)
from bot.records.templates import RecordTemplate
from bot.school import Role
from bot.store import audit, group_records, sessions, signoff
from bot.store.errors import AlreadyRecorded, AlreadySubmitted, Concurrent, NotFound, NotYours, RecordedMeanwhile
from bot.store.models_group_record import GroupRecordVersion
from cards import group_record as cards

log = logging.getLogger("bot.journeys.group_record")

KEY_PREFIX = GROUP.prefix  # outbox keys of this journey ("group_record:")
RECORDERS = permissions.role(Role.DSL, NOT_DSL, "DSL team")

# Kept importable from here for bot/journeys/actions.py (the DSL action list).
is_dsl = permissions.is_dsl
plain = view.plain

__all__ = [
    "KEY_PREFIX",
    "NOT_DSL",
    "RECORDERS",
    "is_dsl",
    "on_record_delivered",
    "on_record_failed",
    "plain",
    "register",
]


def register(router: Router) -> None:
    router.command(
        "record",
        title="Record group supervision",
        description="Record who came to a group session, the discussion and actions; it goes to the "
        "Safeguarding channel.",
        handler=start,
        allowed=RECORDERS,
        verb=cards.V_START,
    )
    for verb, handler in (
        (cards.V_OPEN, open_session),
        (cards.V_RESUME, resume_draft),
        (cards.V_ADHOC, adhoc),
        (cards.V_ADHOC_NEXT, adhoc_next),
        (cards.V_SAVE, save_draft),
        (cards.V_SUBMIT, submit),
        (cards.V_DISCARD, discard_draft),
        (cards.V_AMEND, amend),
    ):
        router.verb(verb, handler, allowed=RECORDERS)
    from bot.journeys import group_record_signoff as signing

    # Attendees confirm a group record (when the school asks for it): anyone on the staff list may try; whether
    # they attended is checked on every click.
    attendees = permissions.on_roster("This is for staff on the school's list.")
    router.verb(cards.V_SIGN, signing.sign, allowed=attendees)
    router.verb(cards.V_CHANGE, signing.ask_change, allowed=attendees)
    router.on_delivered(effects.CHANNEL_UPLOAD, delivery.upload_delivered)
    router.on_dead_letter(effects.CHANNEL_UPLOAD, delivery.upload_dead)


# ---- 1. the start card and opening a record card --------------------------------------------------------------


async def start(services: Services, turn: Turn) -> Reply:
    """Shows the DSL the half term's sessions waiting to be recorded, their drafts and recent records."""
    async with services.db.session() as s:
        return Reply.of(await view.picker(services, s, turn))


async def open_session(services: Services, turn: Turn) -> Reply:
    """Opens the record card for the chosen session (or the DSL's own draft of it)."""
    raw = turn.data.get("session_id")
    sid = parse_id(raw)
    async with services.db.session() as s:
        if sid is None:
            if not raw:
                return Reply.of(await view.picker(services, s, turn, error="Choose the session you are recording."))
            return tampered(turn, "session id not a number")
        try:
            sess = await sessions.recordable(s, sid)
            await group_records.ensure_unrecorded(s, sid)
        except NotFound:
            return tampered(turn, "unknown or unrecordable session")
        except AlreadyRecorded:
            return Reply.of(
                cards.message_card(
                    "Already recorded",
                    f"{view.session_label(services.school, sess)} on "
                    f"{labels.date_label(sess.local_date)} has been recorded. To change it, choose Amend beside it on "
                    "the group records card.",
                )
            )
        if sess.status == sessions.CANCELLED:
            return Reply.of(
                cards.message_card(
                    "Session cancelled",
                    "That session was cancelled, so there is "
                    "nothing to record. If it went ahead after all, use Session not "
                    "listed.",
                )
            )
        if sess.starts_at > turn.now:
            return Reply.of(
                cards.message_card(
                    "Not started yet",
                    f"That session starts {labels.date_label(sess.local_date)} at "
                    f"{view.local(services, sess.starts_at):%H:%M}. Record it once it has happened.",
                )
            )
        target = Target(session=sess)
        draft = await GROUP.latest_for(s, turn.actor.id, session_id=sid)
        if draft is not None:
            return Reply.of(
                await view.record_card(
                    services,
                    s,
                    turn,
                    target,
                    draft.draft_key,
                    dict(draft.content),
                    has_draft=True,
                    notice="Your draft is back where you left it.",
                )
            )
        return Reply.of(await view.record_card(services, s, turn, target, uuid.uuid4().hex, {}))


async def adhoc(services: Services, turn: Turn) -> Reply:
    """Asks when a session that wasn't scheduled took place, for which group, and who facilitated it."""
    return Reply.of(cards.adhoc_card(view.adhoc_view(services, turn, {})))


async def adhoc_next(services: Services, turn: Turn) -> Reply:
    """Checks the ad-hoc session details and opens its record card."""
    d = turn.data
    raw = {
        "kind": d.get("adhoc_kind"),
        "date": d.get("adhoc_date"),
        "time": d.get("adhoc_time"),
        "group": d.get("adhoc_group"),
        "facilitator": d.get("adhoc_facilitator"),
    }
    try:
        details, errors = view.check_adhoc(services, turn, raw)
    except Tampered as exc:
        return tampered(turn, str(exc))
    if errors:
        values = {f"adhoc_{k}": clean_text(v, multiline=False) for k, v in raw.items() if v}
        return Reply.of(cards.adhoc_card(view.adhoc_view(services, turn, values, errors)))
    async with services.db.session() as s:
        return Reply.of(await view.record_card(services, s, turn, Target(adhoc=details), uuid.uuid4().hex, {}))


# ---- 2. drafts ----------------------------------------------------------------------------------------------------


async def _target_from_data(services: Services, turn: Turn, s) -> Target | Reply:
    """The session / ad-hoc details / record a record card is about, re-checked against the store."""
    d = turn.data
    if d.get("record_id") is not None:
        try:
            rec, sess = await group_records.with_session(s, parse_id(d.get("record_id")))
        except NotFound:
            return tampered(turn, "unknown record")
        return Target(session=sess, record=rec)
    if d.get("session_id") is not None:
        try:
            return Target(session=await sessions.recordable(s, parse_id(d.get("session_id"))))
        except NotFound:
            return tampered(turn, "unknown or unrecordable session")
    if isinstance(d.get("adhoc"), dict):
        try:
            details, errors = view.check_adhoc(services, turn, d["adhoc"])
        except Tampered as exc:
            return tampered(turn, str(exc))
        if errors:
            return tampered(turn, "ad-hoc details no longer valid")
        return Target(adhoc=details)
    return tampered(turn, "record card without a session")


def _template(services: Services, target: Target) -> RecordTemplate:
    return view.template_for(services, target.record.template_id if target.record else None)


async def save_draft(services: Services, turn: Turn) -> Reply:
    """Saves the half-written record as the DSL's own draft and shows the card again with everything kept."""
    key = parse_key(turn.data.get("draft_key"))
    if key is None:
        return tampered(turn, "draft key")
    async with services.db.session() as s:
        target = await _target_from_data(services, turn, s)
        if isinstance(target, Reply):
            return target
        values = draft_values(_template(services, target), turn.data) | review_values(turn.data) | esc.keep(turn.data)
        try:
            await GROUP.save(s, key, turn.actor.id, values, now=turn.now, **target.columns)
        except NotYours:
            return tampered(turn, "someone else's draft")
        except AlreadySubmitted:
            return Reply.of(
                cards.message_card(
                    "Already submitted", "This record was submitted already, so there is no draft to save."
                )
            )
        saved = f"Draft saved at {view.local(services, turn.now):%H:%M}. Type record to come back to it."
        return Reply.of(await view.record_card(services, s, turn, target, key, values, notice=saved, has_draft=True))


async def resume_draft(services: Services, turn: Turn) -> Reply:
    """Reopens one of the DSL's own drafts with everything they typed."""
    key = parse_key(turn.data.get("draft_key"))
    if key is None:
        return tampered(turn, "draft key")
    async with services.db.session() as s:
        try:
            draft = await GROUP.own(s, key, turn.actor.id)
        except NotYours:
            return tampered(turn, "someone else's draft")
        except NotFound:
            return Reply.of(cards.message_card("Draft not found", "That draft has been submitted or deleted."))
        rec = await group_records.get(s, draft.record_id)
        sid = rec.session_id if rec else draft.session_id
        sess = await sessions.get(s, sid) if sid else None
        target = Target(session=sess, record=rec, adhoc=draft.adhoc if not sess else None)
        if target.session is None and not target.adhoc:
            return Reply.of(cards.message_card("Draft not found", GONE))
        return Reply.of(
            await view.record_card(
                services,
                s,
                turn,
                target,
                key,
                dict(draft.content),
                has_draft=True,
                notice="Your draft is back where you left it.",
            )
        )


async def discard_draft(services: Services, turn: Turn) -> Reply:
    """Deletes one of the DSL's own drafts."""
    key = parse_key(turn.data.get("draft_key"))
    if key is None:
        return tampered(turn, "draft key")
    async with services.db.session() as s:
        try:
            await GROUP.discard(s, key, turn.actor.id)
        except NotYours:
            return tampered(turn, "someone else's draft")
        return Reply.of(await view.picker(services, s, turn, notice="Draft deleted."))


# ---- 3. submit: one transaction --------------------------------------------------------------------------------


async def submit(services: Services, turn: Turn) -> Reply:
    """Checks the record, then files it: .docx to the Safeguarding channel, attendance, actions."""
    key = parse_key(turn.data.get("draft_key"))
    if key is None:
        return tampered(turn, "submit key")
    try:
        async with services.db.session() as s:
            return await _submit(services, turn, s, key)
    except Concurrent:
        # A second click raced the first (the submit key is taken), or another DSL recorded this session at the
        # same moment (its record is): that transaction is spoilt, so look again in a new one.
        async with services.db.session() as s:
            done = await GROUP.submitted(s, key)
            if done is not None:
                return Reply.of(await view.submitted_card(services, s, done, already=True))
            target = await _target_from_data(services, turn, s)
            if isinstance(target, Reply):
                return target
            return await _conflict(s, turn, target, key, draft_values(_template(services, target), turn.data))


async def _submit(services: Services, turn: Turn, s, key: str) -> Reply:
    done = await GROUP.submitted(s, key)
    if done is not None:
        return Reply.of(await view.submitted_card(services, s, done, already=True))
    try:
        # A card's key is its owner's: submitting under another DSL's draft key would file under their key and
        # delete their draft (found by tests/security/test_authorization_matrix.py).
        await GROUP.find_own(s, key, turn.actor.id)
    except NotYours:
        return tampered(turn, "someone else's draft")
    target = await _target_from_data(services, turn, s)
    if isinstance(target, Reply):
        return target
    if target.session is not None and target.session.starts_at > turn.now:
        return Reply.of(cards.message_card("Not started yet", "That session hasn't happened yet."))
    template = _template(services, target)
    ticks, others = await view.people_for(services, s, target)
    action_ids = await _action_ids(s, turn, target)
    if isinstance(action_ids, Reply):
        return action_ids
    earlier = await view.earlier_actions(s, target)
    review_errors: dict[str, str] = {}
    try:
        form = parse_record_form(
            template,
            turn.data,
            group_ids=[m.id for m in ticks],
            others=[Person(m.id, m.name, m.email) for m in others],
            owner_ids=[m.id for m in view.dsl_team(services)],
            session_date=target.local_date,
            amending=target.record is not None,
            action_ids=action_ids,
        )
        marks = parse_review(turn.data, earlier, review_errors)
        category = esc.read(turn.data)
    except Tampered as exc:
        return tampered(turn, str(exc))
    values = draft_values(template, turn.data) | review_values(turn.data) | esc.keep(turn.data)
    if not form.ok or review_errors:
        errors = {**form.errors, **review_errors}
        n = len(errors)
        return Reply.of(
            await view.record_card(
                services,
                s,
                turn,
                target,
                key,
                values,
                errors=errors,
                has_draft=await GROUP.has(s, key),
                top_error=f"Please check {'the field' if n == 1 else f'{n} fields'} marked below; "
                "nothing you typed has been lost.",
            )
        )
    try:
        version, raised = await _file_record(
            services, turn, s, target, template, form, key, category, review=(earlier, marks)
        )
    except RecordedMeanwhile:
        return await _conflict(s, turn, target, key, values)
    return Reply.of(await view.submitted_card(services, s, version, escalation=raised))


async def _conflict(s, turn: Turn, target: Target, key: str, values: dict) -> Reply:
    """Someone else recorded the session (or amended the record) since this card was opened: keep the DSL's text
    as their draft and explain; nothing is lost and nothing is recorded twice."""
    await GROUP.keep(s, key, turn.actor.id, values, now=turn.now, **target.columns)
    what = (
        "Someone else saved a new version of this record a moment ago"
        if target.record is not None
        else "Someone else recorded this session a moment ago"
    )
    return Reply.of(
        cards.message_card(
            "Not filed: recorded meanwhile",
            f"{what}. Your text is kept as your draft; open the record's Amend "
            "from the group records card to add your changes.",
        )
    )


async def _action_ids(s, turn: Turn, target: Target) -> dict[int, int] | Reply:
    """For an amendment: card row → existing open action of this record (ids from the card are re-checked)."""
    raw = turn.data.get("action_ids")
    if target.record is None or not raw:
        return {}
    if not isinstance(raw, dict):
        return tampered(turn, "action ids")
    out: dict[int, int] = {}
    for k, v in raw.items():
        row, aid = parse_index(k), parse_id(v)
        if row is None or aid is None:
            return tampered(turn, "action ids")
        out[row] = aid
    if not set(out.values()) <= await group_records.open_action_ids(s, target.record.id):
        return tampered(turn, "action from another record")
    return out


async def _file_record(
    services: Services,
    turn: Turn,
    s,
    target: Target,
    template: RecordTemplate,
    form,
    key: str,
    category=None,
    *,
    review=((), {}),
) -> tuple[GroupRecordVersion, str | None]:
    """Session (ad hoc), record, version, attendance, actions, outbox upload, draft deleted — in the caller's
    transaction. RecordedMeanwhile (before anything is written) if someone else got there first."""
    actor, school = turn.actor, services.school
    if target.record is None:
        if target.session is None:
            a = target.adhoc
            day = dt.date.fromisoformat(a["date"])
            starts = dt.datetime.combine(day, parse_time(a["time"]), school.tz).astimezone(dt.timezone.utc)
            group = view.group_name(school, target.group_id)
            sess = await sessions.add_recorded(
                s,
                kind=a["kind"],
                group_id=target.group_id,
                title=f"Group supervision – {group or 'mixed group'}",
                starts_at=starts,
                ends_at=starts + dt.timedelta(minutes=school.settings.session_minutes),
                local_date=day,
                half_term=view.ht_label(services, day),
                facilitator_id=a["facilitator"],
                created_by=actor.id,
                now=turn.now,
            )
        else:
            sess = await sessions.claim_for_record(s, target.session.id)
        record = await group_records.new_record(
            s, sess, template_id=group_template_name(school), created_by=actor.id, now=turn.now
        )
        number, previous_file = 1, None
    else:
        sess = target.session
        record, prev = await group_records.claim_next_version(s, target.record.id, target.record.current_version)
        number = record.current_version
        previous_file = (prev.delivered_name or prev.file_name) if prev else None

    file_name = record_file_name(sess.local_date, view.session_label(school, sess), number)
    version = await group_records.add_version(
        s,
        record,
        number=number,
        submit_key=key,
        file_name=file_name,
        attendee_count=len(form.attendees),
        action_count=len(form.actions),
        submitted_by=actor.id,
        now=turn.now,
    )
    # Attendance for the half term the session falls in (the shared table; unique per person and session).
    await sessions.set_attendance(s, sess, form.attendees, recorded_by=actor.id, now=turn.now)
    await group_records.save_actions(
        s, record.id, form.actions, amending=target.record is not None, created_by=actor.id, now=turn.now
    )
    # Follow-through: the group's earlier open actions, marked on this record (seed 002 App. 2 item 1).
    earlier, marks = review
    review_actions(earlier, marks, record_id=record.id, by=actor.id, now=turn.now)
    reviewed = [
        docx_writer.ReviewedAction(a.text, view.name(services, a.owner_id), a.due_on, REVIEW_LABELS[marks[a.id]])
        for a in earlier
        if a.id in marks
    ]
    from bot.journeys import escalations, group_record_signoff

    await group_record_signoff.signed_on_submit(services, turn, s, version)
    if category and not await escalations.raise_on_submit(
        services, turn, s, kind=signoff.GROUP, record_id=record.id, category=category
    ):
        category = None  # raised with an earlier version already: the DSL team was told then
    raised = await signoff.escalation_for(s, signoff.GROUP, record.id)
    # The document: built now, carried by the outbox row (the only copy until it is in the channel's files).
    content = docx_writer.render_docx(
        view.document(
            services,
            turn,
            sess,
            template,
            form,
            number,
            previous_file,
            reviewed,
            escalation=esc.label(raised.category) if raised else None,
            signoff=group_record_signoff.initial_rows(services, turn, form.attendees),
        )
    )
    await effects.add(
        s,
        effects.channel_upload(
            file_name, content, key=GROUP.file_key(version.id), chain=f"{KEY_PREFIX}{record.id}", record_id=version.id
        ),
        now=turn.now,
    )
    # The draft (narrative) goes now: from here the text lives only in that outbox row, then in the channel.
    await GROUP.consume(s, key)
    await audited(services, turn, s, audit.CREATED if number == 1 else audit.CHANGED, audit.GROUP_RECORD, record.id)
    log.info(
        "group record filed: record=%s version=%s attendees=%s actions=%s",
        record.id,
        number,
        len(form.attendees),
        len(form.actions),
    )
    return version, category
