"""Journey: the 1:1 (targeted) supervision record, written up by the supervisor and shared with the supervisee.

Seed 001 §3.2 "Meeting": the supervisor keeps notes of each 1:1 session (Appendix 2) and shares them with the
supervisee; "there is no need to keep these notes centrally". Seed 002 "Recording" / Appendix 2 and seed 003
Appendix 2 give the record's questions; seed 004 asks for a summary of actions.

`note` (the allocated supervisor only) → choose a supervisee from their own active pairings → the record card
(session date defaults to the latest booked meeting with them) → save a draft or submit. Submit is one
transaction: the record's metadata and agreed actions, the .docx queued for the supervisor's OneDrive (shared with
the supervisee only), the supervisee's notice chained after it, and the draft deleted. Once delivered the outbox
copy of the file is scrubbed; the bot keeps who, when, the file's link and the agreed actions. Nothing goes to a
channel or to the DSL team; nothing from a record is logged. Drafts, the submit key and the file's delivery follow
the record lifecycle shared with group records (bot/records/lifecycle.py). The agreed actions:
bot/journeys/myactions.py; the supervision agreement: bot/journeys/agreements.py.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from bot.journeys import permissions
from bot.journeys.base import Reply, Services, Turn
from bot.journeys.kit import audited, parse_key, refuse, say, tampered
from bot.journeys.one_to_one_names import (  # noqa: F401 - re-exported: the other 1:1 modules use core.<name>
    FORMER,
    _chain,
    _name,
    _name_and_role,
    _today,
    file_name,
    signoff_rows,
    signoff_state,
    system_of,
    told_key,
)
from bot.journeys.router import Router
from bot.labels import date_label, short_date, stamp
from bot.outbox import effects
from bot.records import case_summary, docx_writer
from bot.records import escalation as esc
from bot.records.actions import REVIEW_LABELS, parse_review, review_actions, review_values
from bot.records.dsl_supervision import record_template, template_of_record
from bot.records.lifecycle import ONE_TO_ONE
from bot.records.rules import Tampered, clean_text, draft_values, parse_actions, parse_answers, parse_date
from bot.records.templates import RecordTemplate
from bot.school import Role, StaffMember
from bot.store import audit, signoff
from bot.store import one_to_one as store
from bot.store.errors import AlreadyRecorded, NotYours
from bot.store.models_request import Pairing
from bot.store.models_targeted import DELIVERED, FAILED, PENDING, TargetedRecord
from cards import targeted as cards

log = logging.getLogger("bot.journeys.one_to_one")

NOT_SUPERVISOR = (
    "Only someone's allocated supervisor can write up their 1:1 supervision. If you supervise "
    "someone, ask the DSL team to check the allocation."
)
NOT_ALLOCATED = "You can only write up 1:1 supervision for people currently allocated to you."
ENDED = (
    "You no longer supervise this person, so the record can't be shared from here. Delete the draft, or ask "
    "the DSL team."
)
TAMPERED = "Sorry, I can't do that with this card. Type note to start again."
FOLDER = "Supervision records"
OLDEST_SESSION = dt.timedelta(days=366)
STATE = {DELIVERED: "shared", PENDING: "sharing", FAILED: "not shared yet"}

#: Anyone on the staff list may try (here and in agreements.py / myactions.py); whether the person, record,
#: action or agreement is theirs is checked on every click, through the store.
STAFF = permissions.on_roster("This is for staff on the school's list.")
RECORDER = permissions.on_roster(NOT_SUPERVISOR)


def may_supervise(actor: StaffMember | None) -> bool:
    """Who sees `note` in help. The handlers check the actual allocation (an active pairing) on every click."""
    return actor is not None and (actor.has(Role.SUPERVISOR) or actor.has(Role.DSL))


def register(router: Router) -> None:
    from bot.journeys import one_to_one_delivery as delivery  # it uses this module's names: import it once we exist
    from bot.journeys import one_to_one_drafts as drafts
    from bot.journeys import one_to_one_signoff as signing

    router.command(
        "note",
        "1to1",
        title="Write up 1:1 supervision",
        description="Record a 1:1 session with someone you supervise; it is shared with them only, from your OneDrive.",
        handler=start,
        allowed=STAFF,
        listed=may_supervise,
        verb=cards.V_START,
    )
    router.verb(cards.V_OPEN, open_record, allowed=RECORDER)
    router.verb(cards.V_RESUME, drafts.resume_draft, allowed=RECORDER)
    router.verb(cards.V_SAVE, drafts.save_draft, allowed=RECORDER)
    router.verb(cards.V_SUBMIT, submit, allowed=RECORDER)
    router.verb(cards.V_DISCARD, drafts.discard_draft, allowed=RECORDER)
    router.verb(cards.V_FILE, delivery.show_file, allowed=STAFF)
    router.verb(cards.V_SIGN, signing.sign, allowed=STAFF)
    router.verb(cards.V_CHANGE, signing.ask_change, allowed=STAFF)
    router.verb(cards.V_AMEND, signing.amend, allowed=RECORDER)
    router.verb(cards.V_AMEND_SUBMIT, signing.amend_submit, allowed=RECORDER)
    router.on_delivered(effects.TEAMS_NOTIFY, signing.drop_delivered_comment)
    router.on_delivered(effects.PERSONAL_SHARE, delivery.share_delivered)
    router.on_dead_letter(effects.PERSONAL_SHARE, delivery.share_dead)


async def _supervision(s, turn: Turn) -> Pairing | Reply | None:
    """The card's supervisee, re-checked: the actor's active pairing with them, a refusal, or None when the card
    names nobody."""
    sid = turn.data.get("supervisee")
    if not isinstance(sid, str) or not sid.strip():
        return None
    try:
        return await store.supervision(s, turn.actor.id, sid.strip())
    except NotYours:
        # A staff id the card never offered, or a pairing ended since: either way not theirs to record.
        refuse(turn, "1:1 record: supervisee not an active supervisee of the actor")
        return say(turn, NOT_ALLOCATED, "Can't do that")


# ---- 1. the start card ------------------------------------------------------------------------------------------


async def start(services: Services, turn: Turn) -> Reply:
    """Shows the supervisor their supervisees, their drafts and recent records."""
    async with services.db.session() as s:
        sees = await store.supervisees(s, turn.actor.id)
        if not sees:
            refuse(turn, "1:1 record: no active pairing as supervisor")
            return say(turn, NOT_SUPERVISOR)
        return Reply.of(await _picker(services, turn, s, supervisees=sees))


async def _picker(
    services: Services,
    turn: Turn,
    s,
    *,
    supervisees: list[str] | None = None,
    notice: str | None = None,
    error: str | None = None,
) -> dict:
    me = turn.actor.id
    sees = supervisees if supervisees is not None else await store.supervisees(s, me)
    drafts = await ONE_TO_ONE.recent(s, me)
    recent = [await ONE_TO_ONE.sync(s, r, turn.now) for r in await store.recent_records(s, me)]
    states = {}
    for r in recent:
        signed = {x.staff_id for x in await signoff.signatures(s, signoff.TARGETED, r.id)}
        asked = await signoff.change_requested(s, signoff.TARGETED, r.id) is not None
        states[r.id] = (signoff_state(services, r, signed, asked), {r.supervisor_id, r.supervisee_id} <= signed)
    tz = services.school.tz
    view = cards.PickerView(
        supervisees=[(sid, _name(services, sid)) for sid in sees],
        drafts=[
            (d.draft_key, f"{_name(services, d.supervisee_id)}, saved {short_date(d.updated_at.astimezone(tz).date())}")
            for d in drafts
        ],
        recent=[
            cards.RecordLine(
                r.id,
                " · ".join(
                    x
                    for x in (
                        _name(services, r.supervisee_id),
                        short_date(r.session_date),
                        f"v{r.version}" if r.version > 1 else "",
                        STATE.get(r.status, r.status),
                        states[r.id][0],
                    )
                    if x
                ),
                r.web_url if r.status == DELIVERED else None,
                amend=("New version" if states[r.id][1] else "Amend") if r.status == DELIVERED else None,
            )
            for r in recent
        ],
        notice=notice,
        error=error,
    )
    return cards.picker_card(view)


# ---- 2. the record card and its draft -------------------------------------------------------------------------


async def _record_card(
    services: Services,
    turn: Turn,
    s,
    supervisee_id: str,
    draft_key: str,
    values: dict,
    *,
    errors: dict | None = None,
    top_error: str | None = None,
    notice: str | None = None,
    has_draft: bool = False,
    amending: TargetedRecord | None = None,
    amend_signed: bool = False,
    escalated: str | None = None,
    action_ids: dict[str, int] | None = None,
) -> dict:
    actor = turn.actor
    meeting = await store.latest_meeting(s, actor.id, supervisee_id, turn.now)
    agreed = await store.agreement_in_force(s, actor.id, supervisee_id)
    today = _today(services, turn)
    default_date = meeting.local_date if meeting else today
    agreement = (
        f"agreed {short_date(agreed.agreed_on)}, review due {date_label(agreed.review_due)}"
        if agreed
        else "none recorded yet (type agreement)"
    )
    view = cards.RecordView(
        template=(
            template_of_record(services.school, amending)
            if amending
            else record_template(services.school, supervisee_id)
        ),
        heading=[
            ("Supervisor", actor.name),
            ("Supervisee", _name(services, supervisee_id)),
            ("Last booked session", date_label(meeting.local_date) if meeting else "none booked here"),
            ("Agreement", agreement),
        ],
        owners=[
            (actor.id, f"{actor.name} (supervisor)"),
            (supervisee_id, f"{_name(services, supervisee_id)} (supervisee)"),
        ],
        default_owner=supervisee_id,
        data=(
            {"submit_key": draft_key, "record_id": amending.id, "action_ids": action_ids or {}}
            if amending is not None
            else {"draft_key": draft_key, "supervisee": supervisee_id}
        ),
        session_date=(amending.session_date if amending is not None else default_date).isoformat(),
        max_date=today.isoformat(),
        values=values,
        errors=errors or {},
        top_error=top_error,
        notice=notice,
        has_draft=has_draft,
        review=await _review_lines(services, turn, s, supervisee_id),
        agreement_missing=agreed is None,
        amend_version=amending.version + 1 if amending is not None else None,
        previous_file=(amending.delivered_name or amending.file_name) if amending is not None else None,
        amend_signed=amend_signed,
        escalated=escalated,
        system_name=system_of(services)[0],
    )
    return cards.record_card(view)


# ---- follow-through: the review of earlier actions that opens the record (seed 002 App. 2 item 1) ------------


async def _review_lines(services: Services, turn: Turn, s, supervisee_id: str) -> list[cards.ReviewLine]:
    today = _today(services, turn)
    return [
        cards.ReviewLine(a.id, a.text, _name(services, a.owner_id), short_date(a.due_on), overdue=a.due_on < today)
        for a in await store.open_actions_of_pair(s, turn.actor.id, supervisee_id)
    ]


async def open_record(services: Services, turn: Turn) -> Reply:
    """Opens the record card for the chosen supervisee (or the supervisor's draft for them)."""
    async with services.db.session() as s:
        pairing = await _supervision(s, turn)
        if isinstance(pairing, Reply):
            return pairing
        if pairing is None:
            return Reply.of(await _picker(services, turn, s, error="Choose the person you supervised."))
        sid = pairing.supervisee_id
        draft = await ONE_TO_ONE.latest_for(s, turn.actor.id, supervisee_id=sid)
        if draft is not None:
            return Reply.of(
                await _record_card(
                    services,
                    turn,
                    s,
                    sid,
                    draft.draft_key,
                    dict(draft.content),
                    has_draft=True,
                    notice="Your draft is back where you left it.",
                )
            )
        return Reply.of(await _record_card(services, turn, s, sid, uuid.uuid4().hex, {}))


def _values(data: dict, template: RecordTemplate) -> dict[str, str]:
    values = draft_values(template, data) | review_values(data)
    d = clean_text(data.get("sess_date"), multiline=False)[:10]
    if d:
        values["sess_date"] = d
    values |= case_summary.draft_values(data)
    category = clean_text(data.get(esc.INPUT), multiline=False)
    if category in esc.CATEGORIES:
        values[esc.INPUT] = category
    return values


# ---- 3. submit ---------------------------------------------------------------------------------------------------


async def submit(services: Services, turn: Turn) -> Reply:
    """Checks the record, then files it: metadata and actions here, the .docx to the supervisor's OneDrive shared
    with the supervisee only (one outbox row), and the supervisee told once it is there."""
    key = parse_key(turn.data.get("draft_key"))
    if key is None:
        return tampered(turn, "1:1 record: submit key", TAMPERED)
    try:
        async with services.db.session() as s:
            filed = await _submit(services, turn, s, key)
    except AlreadyRecorded:  # a second click raced the first: this one's transaction was rolled back
        async with services.db.session() as s:
            done = await ONE_TO_ONE.submitted(s, key)
        if done is None:
            raise
        return Reply.of(_submitted_card(services, done, already=True))
    if isinstance(filed, Reply):
        return filed
    services.wake_outbox()
    record, category, cases = filed
    return Reply.of(_submitted_card(services, record, category=category, cases=cases))


async def _submit(services: Services, turn: Turn, s, key: str) -> Reply | tuple[TargetedRecord, str | None, int]:
    """The submit's one transaction: the record filed, or the card to answer with instead."""
    done = await ONE_TO_ONE.submitted(s, key)
    if done is not None:
        if done.supervisor_id != turn.actor.id:
            return tampered(turn, "1:1 record: someone else's record", TAMPERED)
        return Reply.of(_submitted_card(services, done, already=True))
    pairing = await _supervision(s, turn)
    if isinstance(pairing, Reply):
        return pairing
    if pairing is None:
        return tampered(turn, "1:1 record: record without a supervisee", TAMPERED)
    template = record_template(services.school, pairing.supervisee_id)  # the DSL record for the DSL team
    earlier = await store.open_actions_of_pair(s, pairing.supervisor_id, pairing.supervisee_id)
    try:
        day, answers, actions, errors = _read_record(services, turn, template, pairing.supervisee_id)
        marks = parse_review(turn.data, earlier, errors)
        cases = case_summary.parse(turn.data, errors)
        category = esc.read(turn.data)
    except Tampered as exc:
        return tampered(turn, f"1:1 record: {exc}", TAMPERED)
    if errors:
        n = len(errors)
        return Reply.of(
            await _record_card(
                services,
                turn,
                s,
                pairing.supervisee_id,
                key,
                _values(turn.data, template),
                errors=errors,
                has_draft=await ONE_TO_ONE.has(s, key),
                top_error=f"Please check {'the field' if n == 1 else f'{n} fields'} marked below; nothing you typed "
                "has been lost.",
            )
        )
    record, category, n_cases = await _file(
        services, turn, s, pairing, day, template, answers, actions, key, cases, category, review=(earlier, marks)
    )
    review_actions(earlier, marks, record_id=record.id, by=turn.actor.id, now=turn.now)
    return record, category, n_cases


def _read_record(
    services: Services, turn: Turn, template: RecordTemplate, supervisee_id: str, action_ids: dict | None = None
):
    """The card's session date, answers and actions, and the mistakes a person can make (by input id). Raises
    Tampered for values no card could send (an action owner who is neither of the two)."""
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
    actions = parse_actions(
        template,
        turn.data,
        errors,
        owner_ids=[turn.actor.id, supervisee_id],
        session_date=day or today,
        owner_prompt="Choose who will do this.",
        owner_scope="the supervisor and supervisee",
        action_ids=action_ids,
    )
    return day, answers, actions, errors


def _submitted_card(
    services: Services, r: TargetedRecord, *, already: bool = False, category: str | None = None, cases: int = 0
) -> dict:
    name, url = system_of(services)
    return cards.submitted_card(
        cards.SubmittedView(
            supervisee=_name(services, r.supervisee_id),
            date_label=date_label(r.session_date),
            action_count=r.action_count,
            file_name=r.file_name,
            already=already,
            version=r.version,
            escalation=esc.label(category) if category else None,
            cases=cases,
            system_name=name,
            system_url=url,
        )
    )


async def _file(
    services: Services,
    turn: Turn,
    s,
    pairing: Pairing,
    day: dt.date,
    template: RecordTemplate,
    answers: dict[str, str],
    actions,
    key: str,
    cases: list[case_summary.CaseRow],
    category: str | None,
    *,
    review=((), {}),
) -> tuple[TargetedRecord, str | None, int]:
    """In the submit's transaction: record metadata, actions, the supervisor's signature, any escalation, the share
    (outbox), the supervisee's notice chained after it, and the draft deleted. `review`: (earlier open actions,
    their marks) for the document."""
    actor, sid = turn.actor, pairing.supervisee_id
    name = file_name(day, _name(services, sid))
    record = await store.file_record(
        s,
        pairing,
        session_date=day,
        next_session_on=parse_date(answers.get("next_session")),
        template_id=template.id,
        submit_key=key,
        file_name=name,
        actions=actions,
        now=turn.now,
    )
    category = await file_version(services, turn, s, record, template, answers, actions, cases, category, review=review)
    # The narrative now lives only in that outbox row (scrubbed once delivered) and then in the file; drafts about
    # the same person untouched for over a year go too.
    await ONE_TO_ONE.consume(s, key)
    await audited(services, turn, s, audit.CREATED, audit.TARGETED_RECORD, record.id)
    await ONE_TO_ONE.drop(s, keep=key, saved_before=turn.now - OLDEST_SESSION, owner_id=actor.id, supervisee_id=sid)
    log.info("1:1 record filed: record=%s actions=%s", record.id, len(actions))
    return record, category, len(cases)


async def file_version(
    services: Services,
    turn: Turn,
    s,
    record: TargetedRecord,
    template: RecordTemplate,
    answers: dict[str, str],
    actions,
    cases: list[case_summary.CaseRow],
    category: str | None,
    *,
    previous_file: str | None = None,
    amend_note: str | None = None,
    review=((), {}),
) -> str | None:
    """A version's signature, escalation, document and share, in the caller's transaction (submit and amend).
    Returns the escalation category raised now (None if none, or raised with an earlier version already)."""
    from bot.journeys import escalations

    actor, sid = turn.actor, record.supervisee_id
    await signoff.sign_as_supervisor_on_submit(s, record, turn.now)
    if category:
        first = await signoff.first_version_id(s, record)
        if not await escalations.raise_on_submit(
            services, turn, s, kind=signoff.TARGETED, record_id=first, category=category
        ):
            category = None  # raised with an earlier version already: the DSL team was told then
    raised = await signoff.escalation_for(s, signoff.TARGETED, await signoff.first_version_id(s, record))
    content = docx_writer.render_targeted_docx(
        docx_writer.TargetedDocument(
            school_name=services.school.name,
            supervisor=_name_and_role(services, actor.id),
            supervisee=_name_and_role(services, sid),
            local_date=record.session_date,
            template=template,
            answers=answers,
            actions=[docx_writer.ActionRow(a.text, _name(services, a.owner_id), a.due_on) for a in actions],
            recorded_at=stamp(turn.now, services.school.tz),
            reviewed=[
                docx_writer.ReviewedAction(
                    a.text, _name(services, a.owner_id), a.due_on, REVIEW_LABELS[review[1][a.id]]
                )
                for a in review[0]
                if a.id in review[1]
            ],
            version=record.version,
            previous_file=previous_file,
            amend_note=amend_note,
            cases=[docx_writer.CaseLine(c.ref, c.needs, c.action, c.progress, c.file_seen) for c in cases],
            escalation=esc.label(raised.category) if raised else None,
            signoff=signoff_rows(services, record, await signoff.signatures(s, signoff.TARGETED, record.id)),
        )
    )
    chain = _chain(record.id)
    # The notice is chained after the share: sent once the file is in place. It names who and when, never content.
    notice = cards.shared_notice_card(
        record_id=record.id, supervisor=actor.name, date_label=date_label(record.session_date)
    )
    await effects.add(
        s,
        effects.personal_share(
            record.file_name,
            content,
            owner_id=actor.id,
            share_with_id=sid,
            key=ONE_TO_ONE.file_key(record.id),
            folder=FOLDER,
            chain=chain,
            targeted_record_id=record.id,
        ),
        effects.notify(sid, notice, key=told_key(record.id), chain=chain),
        now=turn.now,
    )
    return category
