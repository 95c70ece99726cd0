"""Journey step: the DSL team amends a submitted group record — the record card opens again, filled in from the
current version's .docx (read back from the outbox while it is being delivered, or from the channel's files), and
a submit files a new version beside the earlier one (seed 001 "Record Keeping": records are kept; a correction is
a new version, never an overwrite). Registered by bot/journeys/group_record.py with the other record verbs.
"""

from __future__ import annotations

import base64
import logging
import uuid

from bot.journeys import group_record_view as view
from bot.journeys.base import Reply, Services, Turn
from bot.journeys.group_record_view import Target, tampered
from bot.journeys.kit import parse_id
from bot.outbox import get as outbox_row
from bot.records import docx_writer
from bot.records.lifecycle import GROUP
from bot.records.rules import ActionItem, form_values_from_record
from bot.records.templates import RecordTemplate
from bot.store import group_records, sessions
from bot.store.errors import NotFound
from bot.store.models_group_record import DELIVERED, GroupRecordVersion

log = logging.getLogger("bot.journeys.group_record")


async def amend(services: Services, turn: Turn) -> Reply:
    """Opens a submitted record again, filled in, to save a new version (the earlier file is kept)."""
    async with services.db.session() as s:
        try:
            record, sess = await group_records.with_session(s, parse_id(turn.data.get("record_id")))
        except NotFound:
            return tampered(turn, "unknown record")
        target = Target(session=sess, record=record)
        draft = await GROUP.latest_for(s, turn.actor.id, record_id=record.id)
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
                    notice="Your draft amendment is back.",
                )
            )
        attendees = await sessions.attendee_ids(s, sess.id)
        acts = await group_records.actions(s, record.id, open_only=True)
        current = await group_records.version(s, record.id, record.current_version)
        ticks, _ = await view.people_for(services, s, target)
        content = await _outbox_copy(s, current)
    if current is not None and current.status == DELIVERED:
        content = await _channel_copy(services, current)  # outside the transaction: a network read
    template = view.template_for(services, record.template_id)
    answers, note = _read_back(current, content, template)
    values = form_values_from_record(
        template,
        attendees=attendees,
        group_ids=[m.id for m in ticks],
        answers=answers,
        actions=[ActionItem(a.text, a.owner_id, a.due_on, a.id) for a in acts],
    )
    async with services.db.session() as s:
        return Reply.of(await view.record_card(services, s, turn, target, uuid.uuid4().hex, values, notice=note))


async def _outbox_copy(s, version: GroupRecordVersion | None) -> bytes | None:
    """The current version's .docx while it is still being delivered: the outbox row carries it."""
    if version is None or version.status == DELIVERED:
        return None
    msg = await outbox_row(s, GROUP.file_key(version.id))
    b64 = (msg.payload or {}).get("content_b64") if msg else None
    return base64.b64decode(b64) if b64 else None


async def _channel_copy(services: Services, version: GroupRecordVersion) -> bytes | None:
    """The delivered .docx, read back from the channel's files (the bot keeps no copy of the text)."""
    download = getattr(getattr(services.m365, "channel_files", None), "download", None)
    if download is None or not version.item_id:
        return None
    try:
        return await download(version.item_id)
    except Exception:  # noqa: BLE001 - the amendment can still be written; say so on the card
        log.warning("could not read record version %s back from the channel files", version.id)
        return None


def _read_back(
    version: GroupRecordVersion | None, content: bytes | None, template: RecordTemplate
) -> tuple[dict[str, str], str | None]:
    """The current version's answers from its .docx, or none and a note saying where the earlier text is."""
    if version is None:
        return {}, None
    if content:
        try:
            return docx_writer.read_answers(content, template), None
        except Exception:  # noqa: BLE001 - a file edited by hand in SharePoint may not parse
            log.warning("record version %s could not be read back", version.id)
    return {}, (
        "Who came and the actions are filled in. The earlier text is in "
        f"{version.delivered_name or version.file_name} in the channel's files: write the full corrected "
        "record here."
    )
