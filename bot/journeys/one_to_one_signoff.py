"""The 1:1 record after it is shared: the supervisee confirms it is accurate or asks for a change; the supervisor
amends it (a new version, read back from the document); once both have confirmed a version it is locked.

Seed 003 App. 1 §5 / App. 2 ("notes must be signed by both parties"), seed 002 "Recording" ("signed off and dated
by supervisor and supervisee"), seed 004 §5 ("both parties need to agree and sign that they are accurate"):
- the supervisor signs a version by submitting it; the supervisee signs with "Confirm it's accurate" on the file
  card (the link to the shared document — never the content in the chat). Only the supervisee may sign as
  supervisee, and only the current version: a card of a replaced version says so and points to the newest;
- "Ask for a change" sends the supervisee's comment to the supervisor in a Teams card. The app stores only *that*
  a change was asked (record_change_requests), never the comment: it may name a child or a worry, the
  supervisor has it in their chat, and the next version itself answers it. The comment's outbox row is emptied as
  soon as Teams has it (`drop_delivered_comment`), as a record's file is once it is in OneDrive;
- "Amend" opens the record card filled in from the current version's .docx (read back through the files port; the
  database holds no content) and files version N+1: its own file, shared and confirmed again. A version both have
  confirmed is final: changing it is always a new version ("New version" on the card), never an edit.
Who confirmed and when is kept as metadata and written into the document's sign-off table (bot/records/
signoff_files.py, through the outbox). Registered by bot/journeys/one_to_one.py with the other 1:1 verbs.
"""

from __future__ import annotations

import base64
import logging
import uuid

from bot.journeys import one_to_one as core
from bot.journeys.base import Reply, Services, Turn
from bot.journeys.kit import audited, parse_id, parse_index, parse_key, refuse, tampered
from bot.labels import date_label, stamp
from bot.outbox import effects
from bot.outbox import get as outbox_row
from bot.records import case_summary, docx_writer
from bot.records import escalation as esc
from bot.records.dsl_supervision import template_of_record
from bot.records.lifecycle import ONE_TO_ONE
from bot.records.rules import AMEND_NOTE_MAX, Tampered, clean_text, parse_date
from bot.store import audit, signoff
from bot.store import one_to_one as store
from bot.store.errors import AlreadyRecorded, NotFound, NotYours, RecordedMeanwhile
from bot.store.models_signoff import TARGETED
from bot.store.models_targeted import DELIVERED, TargetedRecord
from cards import targeted as cards

log = logging.getLogger("bot.journeys.one_to_one")

#: Outbox keys of the cards that carry a supervisee's comment to the supervisor (emptied once delivered).
COMMENT_PREFIX = "targeted:change:"
CHANGE_AUDIT = "change_request"
NOT_SUPERVISEE = (
    "Only the supervisee can confirm a 1:1 record or ask for a change to it. As the supervisor, you signed it "
    "by submitting it."
)
NOT_THE_SUPERVISOR = "Only the supervisor who wrote a 1:1 record can amend it."
NOT_SHARED = "The record is still being saved and shared. Try again in a minute."


# ---- the file card, with its sign-off ------------------------------------------------------------------------


async def file_view(services: Services, s, record: TargetedRecord, viewer: str, **extra) -> dict:
    """The file card for the record's supervisor or supervisee: the link, who has confirmed it, what they may do."""
    await ONE_TO_ONE.sync(s, record, services.clock())
    mine = viewer == record.supervisor_id
    sigs = await signoff.signatures(s, TARGETED, record.id)
    asked = await signoff.change_requested(s, TARGETED, record.id)
    current = await signoff.current_version(s, record) if record.superseded_by is not None else None
    rows = core.signoff_rows(services, record, sigs)
    pairing = await store.find_supervision(s, record.supervisor_id, record.supervisee_id)
    return cards.file_card(
        cards.FileView(
            record_id=record.id,
            other_label="Supervisee" if mine else "Supervisor",
            other_name=core._name(services, record.supervisee_id if mine else record.supervisor_id),
            date_label=date_label(record.session_date),
            state=record.status,
            web_url=record.web_url,
            file_name=record.delivered_name or record.file_name,
            version=record.version,
            signoff=[(r.role, r.name, r.signed) for r in rows],
            supervisee_view=viewer == record.supervisee_id,
            replaced_by=current.id if current is not None else None,
            change_asked=stamp(asked.requested_at, services.school.tz) if asked else None,
            can_amend=mine and record.status == DELIVERED and pairing is not None,
            supervisee_name=(
                core._name(services, record.supervisee_id)
                if viewer not in (record.supervisor_id, record.supervisee_id)
                else None
            ),
            **extra,
        )
    )


async def _own(services: Services, turn: Turn, s) -> TargetedRecord | Reply:
    rid = parse_id(turn.data.get("record_id"))
    if rid is None:
        return tampered(turn, "1:1 record: sign-off: no record", core.TAMPERED)
    try:
        return await signoff.targeted_for_signing(s, rid, turn.actor.id)
    except (NotFound, NotYours):
        return tampered(turn, "1:1 record: sign-off: not their record", core.TAMPERED)


async def _refused_as_supervisor(services: Services, turn: Turn, s, record: TargetedRecord) -> Reply | None:
    if turn.actor.id == record.supervisee_id:
        return None
    refuse(turn, "1:1 record: sign-off by someone other than the supervisee")
    return Reply.of(await file_view(services, s, record, turn.actor.id, error=NOT_SUPERVISEE))


# ---- the supervisee confirms ---------------------------------------------------------------------------------


async def sign(services: Services, turn: Turn) -> Reply:
    """The supervisee confirms this version of the record is accurate (their signature, with the date)."""
    try:
        async with services.db.session() as s:
            return await _sign(services, turn, s)
    except AlreadyRecorded:  # a second click raced the first: that one signed
        async with services.db.session() as s:
            record = await _own(services, turn, s)
            if isinstance(record, Reply):
                return record
            return Reply.of(await file_view(services, s, record, turn.actor.id, notice="You confirmed this record."))


async def _sign(services: Services, turn: Turn, s) -> Reply:
    record = await _own(services, turn, s)
    if isinstance(record, Reply):
        return record
    refused = await _refused_as_supervisor(services, turn, s, record)
    if refused is not None:
        return refused
    await ONE_TO_ONE.sync(s, record, turn.now)
    outcome, detail = await signoff.sign_targeted(s, record, now=turn.now)
    if outcome is signoff.Signing.STALE:
        return Reply.of(
            await file_view(
                services,
                s,
                record,
                turn.actor.id,
                error="This version has been replaced by a newer one. Read the newest version and confirm that "
                "one instead.",
            )
        )
    if outcome is signoff.Signing.NOT_READY:
        return Reply.of(await file_view(services, s, record, turn.actor.id, error=NOT_SHARED))
    if outcome is signoff.Signing.ALREADY:
        when = stamp(detail.signed_at, services.school.tz)
        return Reply.of(await file_view(services, s, record, turn.actor.id, notice=f"You confirmed it on {when}."))
    chain = core._chain(record.id)
    await effects.add(
        s,
        effects.signoff_stamp(TARGETED, record.id, key=f"{ONE_TO_ONE.prefix}stamp:{detail.id}", chain=chain),
        effects.notify(
            record.supervisor_id,
            cards.signed_notice_card(
                record_id=record.id,
                supervisee=core._name(services, record.supervisee_id),
                date_label=date_label(record.session_date),
                version=record.version,
            ),
            key=f"{ONE_TO_ONE.prefix}signed:{record.id}",
        ),
        now=turn.now,
    )
    await audited(services, turn, s, audit.CHANGED, audit.TARGETED_RECORD, record.id)
    log.info("1:1 record confirmed by the supervisee: record=%s version=%s", record.id, record.version)
    services.wake_outbox()
    return Reply.of(
        await file_view(
            services,
            s,
            record,
            turn.actor.id,
            notice="Thank you: you confirmed the record is accurate. It is signed by both of you and locked.",
        )
    )


# ---- the supervisee asks for a change ---------------------------------------------------------------------------


async def ask_change(services: Services, turn: Turn) -> Reply:
    """The supervisee's comment goes to the supervisor in Teams; the app keeps only that a change was asked."""
    async with services.db.session() as s:
        record = await _own(services, turn, s)
        if isinstance(record, Reply):
            return record
        refused = await _refused_as_supervisor(services, turn, s, record)
        if refused is not None:
            return refused
        await ONE_TO_ONE.sync(s, record, turn.now)
        comment = clean_text(turn.data.get("change_note"))
        kept = comment[: cards.CHANGE_NOTE_MAX * 2]

        async def again(error: str) -> Reply:
            return Reply.of(await file_view(services, s, record, turn.actor.id, error=error, change_value=kept))

        if record.superseded_by is not None:
            return await again("This version has been replaced by a newer one: read that one first.")
        if record.status != DELIVERED:
            return await again(NOT_SHARED)
        if any(x.staff_id == record.supervisee_id for x in await signoff.signatures(s, TARGETED, record.id)):
            return await again(
                "You confirmed this version already, so it is final. Speak to your supervisor: any change now "
                "makes a new version, which you confirm again."
            )
        if not comment:
            return await again("Say what should be corrected.")
        if len(comment) > cards.CHANGE_NOTE_MAX:
            return await again(f"That is {len(comment)} characters; the limit is {cards.CHANGE_NOTE_MAX}.")
        req = await signoff.ask_change(s, TARGETED, record.id, record.version, turn.actor.id, now=turn.now)
        await effects.add(
            s,
            effects.notify(
                record.supervisor_id,
                cards.change_request_card(
                    record_id=record.id,
                    supervisee=core._name(services, record.supervisee_id),
                    date_label=date_label(record.session_date),
                    version=record.version,
                    comment=comment,
                ),
                key=f"{COMMENT_PREFIX}{req.id}",
            ),
            now=turn.now,
        )
        await audited(services, turn, s, audit.CREATED, CHANGE_AUDIT, req.id)
        log.info("1:1 record: change asked: record=%s request=%s", record.id, req.id)
        services.wake_outbox()
        supervisor = core._name(services, record.supervisor_id)
        return Reply.of(
            await file_view(
                services,
                s,
                record,
                turn.actor.id,
                notice=f"Sent to {supervisor}. You'll be asked to confirm the corrected version.",
            )
        )


async def drop_delivered_comment(services: Services, msg, result) -> None:
    """Outbox hook: once a supervisee's comment has reached the supervisor in Teams, our copy of it goes."""
    if not msg.key.startswith((COMMENT_PREFIX, "group_record:change:")):
        return
    await signoff.drop_comment(msg.session, msg.id, (msg.payload or {}).get("staff_id"))


# ---- the supervisor amends: version N+1 -------------------------------------------------------------------------


async def _outbox_copy(s, record: TargetedRecord) -> bytes | None:
    """A version's .docx while it is still being delivered: the outbox row carries it."""
    msg = await outbox_row(s, ONE_TO_ONE.file_key(record.id))
    b64 = (msg.payload or {}).get("content_b64") if msg else None
    return base64.b64decode(b64) if b64 else None


async def _onedrive_copy(services: Services, record: TargetedRecord) -> bytes | None:
    """The delivered .docx, read back from the supervisor's OneDrive (the bot keeps no copy of the text)."""
    owner = services.school.staff.get(record.supervisor_id)
    download = getattr(getattr(services.m365, "personal_files", None), "download", None)
    if owner is None or download is None or not record.item_id:
        return None
    try:
        return await download(owner.email, record.item_id)
    except Exception:  # noqa: BLE001 - the amendment can still be written; the card says so
        log.warning("could not read 1:1 record %s back from OneDrive", record.id)
        return None


def _read_back(services: Services, content: bytes | None, record: TargetedRecord) -> tuple[dict[str, str], str | None]:
    template = template_of_record(services.school, record)
    if content:
        try:
            values = {f.input_id: v for f, v in _answers(content, template).items() if v}
            values |= case_summary.form_values(_cases(content))
            return values, None
        except Exception:  # noqa: BLE001 - a file edited by hand in OneDrive may not parse
            log.warning("1:1 record %s could not be read back", record.id)
    return {}, (
        f"The actions are filled in. The earlier text is in {record.delivered_name or record.file_name} in your "
        "OneDrive: write the full corrected record here."
    )


def _answers(content: bytes, template) -> dict:
    answers = docx_writer.read_answers(content, template)
    return {f: answers.get(f.id, "") for f in template.fields}


def _cases(content: bytes) -> list[case_summary.CaseRow]:
    return [
        case_summary.CaseRow(c.ref, c.needs, c.action, c.progress, c.file_seen) for c in docx_writer.read_cases(content)
    ]


async def _amendable(services: Services, turn: Turn, s) -> TargetedRecord | Reply:
    """The record the card names, if the actor is its supervisor and still supervises the supervisee."""
    rid = parse_id(turn.data.get("record_id"))
    if rid is None:
        return tampered(turn, "1:1 record: amend: no record", core.TAMPERED)
    try:
        record = await store.record_of(s, rid, turn.actor.id)
    except (NotFound, NotYours):
        return tampered(turn, "1:1 record: amend: not their record", core.TAMPERED)
    if record.supervisor_id != turn.actor.id:
        refuse(turn, "1:1 record: amend by the supervisee")
        return Reply.of(cards.message_card("Can't do that", NOT_THE_SUPERVISOR, back_verb=None))
    if await store.find_supervision(s, record.supervisor_id, record.supervisee_id) is None:
        return Reply.of(cards.message_card("Supervision ended", core.ENDED, back_verb=cards.V_START))
    return record


async def amend(services: Services, turn: Turn) -> Reply:
    """Opens the current version of a 1:1 record again, filled in from its document, to save version N+1."""
    async with services.db.session() as s:
        record = await _amendable(services, turn, s)
        if isinstance(record, Reply):
            return record
        record = await signoff.current_version(s, await ONE_TO_ONE.sync(s, record, turn.now))
        await ONE_TO_ONE.sync(s, record, turn.now)
        locked = await signoff.signed_by_both(s, record)
        acts = await signoff.open_actions(s, record.id)
        content = None if record.status == DELIVERED else await _outbox_copy(s, record)
    if record.status == DELIVERED:
        content = await _onedrive_copy(services, record)  # outside the transaction: a network read
    values, note = _read_back(services, content, record)
    most = template_of_record(services.school, record).actions.max_items
    values["sess_date"] = record.session_date.isoformat()
    for i, a in enumerate(list(acts)[:most]):
        values |= {f"act_{i}_text": a.text, f"act_{i}_owner": a.owner_id, f"act_{i}_due": a.due_on.isoformat()}
    ids = {str(i): a.id for i, a in enumerate(list(acts)[:most])}
    async with services.db.session() as s:
        return Reply.of(
            await _amend_card(services, turn, s, record, uuid.uuid4().hex, values, locked, ids, notice=note)
        )


async def _amend_card(
    services: Services, turn: Turn, s, record: TargetedRecord, key: str, values: dict, locked: bool, ids: dict, **kw
) -> dict:
    raised = await signoff.escalation_for(s, TARGETED, await signoff.first_version_id(s, record))
    return await core._record_card(
        services,
        turn,
        s,
        record.supervisee_id,
        key,
        values,
        amending=record,
        amend_signed=locked,
        escalated=esc.label(raised.category) if raised else None,
        action_ids=ids,
        **kw,
    )


async def amend_submit(services: Services, turn: Turn) -> Reply:
    """Checks the amended record, then files it as version N+1: a new document shared with the supervisee, who
    is asked to confirm it; the earlier version is kept."""
    key = parse_key(turn.data.get("submit_key"))
    if key is None:
        return tampered(turn, "1:1 record: amend key", core.TAMPERED)
    try:
        async with services.db.session() as s:
            filed = await _amend_submit(services, turn, s, key)
    except AlreadyRecorded:
        async with services.db.session() as s:
            done = await ONE_TO_ONE.submitted(s, key)
        if done is None:
            raise
        return Reply.of(core._submitted_card(services, done, already=True))
    except RecordedMeanwhile:
        return Reply.of(
            cards.message_card(
                "Not saved: amended meanwhile",
                "A newer version of this record was saved a moment ago. Open it from your 1:1 records and amend "
                "that one.",
            )
        )
    if isinstance(filed, Reply):
        return filed
    services.wake_outbox()
    record, category, cases = filed
    return Reply.of(core._submitted_card(services, record, category=category, cases=cases))


async def _amend_submit(services: Services, turn: Turn, s, key: str):
    done = await ONE_TO_ONE.submitted(s, key)
    if done is not None:
        if done.supervisor_id != turn.actor.id:
            return tampered(turn, "1:1 record: someone else's amendment", core.TAMPERED)
        return Reply.of(core._submitted_card(services, done, already=True))
    old = await _amendable(services, turn, s)
    if isinstance(old, Reply):
        return old
    if old.superseded_by is not None:
        raise RecordedMeanwhile()
    raw_ids = turn.data.get("action_ids") or {}
    if not isinstance(raw_ids, dict):
        return tampered(turn, "1:1 record: amend: action ids", core.TAMPERED)
    ids: dict[int, int] = {}
    for k, v in raw_ids.items():
        row, aid = parse_index(k), parse_id(v)
        if row is None or aid is None:
            return tampered(turn, "1:1 record: amend: action ids", core.TAMPERED)
        ids[row] = aid
    if not set(ids.values()) <= {a.id for a in await signoff.open_actions(s, old.id)}:
        return tampered(turn, "1:1 record: amend: an action of another record", core.TAMPERED)
    template = template_of_record(services.school, old)  # the template the record was written on
    try:
        day, answers, actions, errors = core._read_record(services, turn, template, old.supervisee_id, ids)
        cases = case_summary.parse(turn.data, errors)
        category = esc.read(turn.data)
    except Tampered as exc:
        return tampered(turn, f"1:1 record: {exc}", core.TAMPERED)
    note = clean_text(turn.data.get("amend_note"))
    if not note:
        errors["amend_note"] = "Say briefly what changed, so you both know which version to trust."
    elif len(note) > AMEND_NOTE_MAX:
        errors["amend_note"] = f"That is {len(note)} characters; the limit is {AMEND_NOTE_MAX}."
    if errors:
        n = len(errors)
        return Reply.of(
            await _amend_card(
                services,
                turn,
                s,
                old,
                key,
                core._values(turn.data, template) | ({"amend_note": note[: AMEND_NOTE_MAX * 2]} if note else {}),
                await signoff.signed_by_both(s, old),
                {str(k): v for k, v in ids.items()},
                errors=errors,
                top_error=f"Please check {'the field' if n == 1 else f'{n} fields'} marked below; nothing you typed "
                "has been lost.",
            )
        )
    previous = old.delivered_name or old.file_name
    new = await signoff.file_amendment(
        s,
        old,
        session_date=day,
        next_session_on=parse_date(answers.get("next_session")),
        submit_key=key,
        file_name=core.file_name(day, core._name(services, old.supervisee_id), old.version + 1),
        actions=actions,
        now=turn.now,
    )
    category = await core.file_version(
        services, turn, s, new, template, answers, actions, cases, category, previous_file=previous, amend_note=note
    )
    await audited(services, turn, s, audit.CHANGED, audit.TARGETED_RECORD, new.id)
    log.info("1:1 record amended: record=%s version=%s replaces=%s", new.id, new.version, old.id)
    return new, category, len(cases)
