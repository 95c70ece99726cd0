"""Sign-off of group records, where the school's policy asks for it (school setting `group_record_signoff`; seed
003 Appendix 3 has each attendee sign the group record, seed 002 "signed off and dated"). Off by default: seed 001
files group records in the Safeguarding channel without signatures.

When on: whoever submits a version signs it by submitting; once it is in the channel's files each attendee gets a
card with the link (never the content) to confirm it is accurate or ask for a change. The comment goes to the
person who wrote the record in a Teams card (dropped from the outbox once delivered: only *that* a change was
asked is stored). A version everyone has confirmed is final; the DSL team's Amend makes a new version, confirmed
again. Confirmations are kept as metadata (record_signatures) and written into the document's sign-off table
(bot/records/signoff_files.py). Only someone who attended may confirm, only the current version.
"""

from __future__ import annotations

import logging

from bot import labels
from bot.journeys import group_record_view as view
from bot.journeys.base import Reply, Services, Turn
from bot.journeys.kit import audited, parse_id, refuse, tampered
from bot.outbox import effects
from bot.records import docx_writer
from bot.records.lifecycle import GROUP as LIFECYCLE
from bot.records.rules import clean_text
from bot.store import audit, group_records, sessions, signoff
from bot.store.errors import AlreadyRecorded
from bot.store.models_group_record import DELIVERED, GroupRecordVersion
from bot.store.models_signoff import ATTENDEE, GROUP, SUPERVISOR
from cards import group_record as cards

log = logging.getLogger("bot.journeys.group_record")

PREFIX = f"{LIFECYCLE.prefix}change:"  # the comment cards' outbox keys (emptied once delivered)
NOT_ASKED = "This school doesn't ask for group records to be confirmed by the people who came."
NOT_THERE = "Only someone who attended the session can confirm its record."


def enabled(services: Services) -> bool:
    return services.school.settings.group_record_signoff


async def signoff_rows(services: Services, s, version: GroupRecordVersion) -> list[docx_writer.SignOffRow]:
    """The sign-off table of a group record version: who wrote it, then everyone who attended."""
    _, sess = await group_records.filed(s, version)
    sigs = {x.staff_id: x.signed_at for x in await signoff.signatures(s, GROUP, version.id)}
    tz = services.school.tz

    def when(staff_id: str) -> str:
        return labels.stamp(sigs[staff_id], tz) if staff_id in sigs else ""

    rows = [
        docx_writer.SignOffRow("Recorded by", view.name(services, version.submitted_by), when(version.submitted_by))
    ]
    for sid in await sessions.attendee_ids(s, sess.id):
        if sid != version.submitted_by:
            rows.append(docx_writer.SignOffRow("Attended", view.name(services, sid), when(sid)))
    return rows


def initial_rows(services: Services, turn: Turn, attendees: list[str]) -> list[docx_writer.SignOffRow] | None:
    """The sign-off table as a version is submitted (None when the school doesn't ask for sign-off)."""
    if not enabled(services):
        return None
    me = turn.actor.id
    rows = [docx_writer.SignOffRow("Recorded by", turn.actor.name, labels.stamp(turn.now, services.school.tz))]
    rows += [docx_writer.SignOffRow("Attended", view.name(services, a), "") for a in sorted(attendees) if a != me]
    return rows


async def signed_on_submit(services: Services, turn: Turn, s, version: GroupRecordVersion) -> None:
    """Submitting a version is its writer's signature (in the submit's transaction)."""
    if enabled(services):
        await signoff.sign(s, GROUP, version.id, version.version, turn.actor.id, SUPERVISOR, now=turn.now)


async def ask_attendees(services: Services, session, version: GroupRecordVersion, sess, now) -> None:
    """Once a version is in the channel's files (its delivered hook): ask each attendee to confirm it."""
    if not enabled(services):
        return
    for sid in await sessions.attendee_ids(session, sess.id):
        if sid == version.submitted_by:
            continue
        card = cards.confirm_card(await _view(services, session, version, sid))
        await effects.add(
            session, effects.notify(sid, card, key=f"{LIFECYCLE.prefix}confirm:{version.id}:{sid}"), now=now
        )


async def _view(services: Services, s, version: GroupRecordVersion, viewer: str, **extra) -> cards.ConfirmView:
    record, sess = await group_records.filed(s, version)
    signed = next((x for x in await signoff.signatures(s, GROUP, version.id) if x.staff_id == viewer), None)
    fac = services.school.staff.get(sess.facilitator_id)
    return cards.ConfirmView(
        version_id=version.id,
        group_label=view.session_label(services.school, sess),
        date_label=labels.date_label(sess.local_date),
        facilitator=fac.name if fac else "",
        version=version.version,
        web_url=version.web_url if version.status == DELIVERED else None,
        signed=labels.stamp(signed.signed_at, services.school.tz) if signed else None,
        replaced=record.current_version != version.version,
        **extra,
    )


async def _attended(services: Services, turn: Turn, s) -> GroupRecordVersion | Reply:
    """The version the card names, if the school asks for sign-off and the actor attended its session."""
    if not enabled(services):
        return Reply.of(cards.message_card("Not needed here", NOT_ASKED, back=False))
    vid = parse_id(turn.data.get("version_id"))
    version = await group_records.get_version(s, vid) if vid is not None else None
    if version is None:
        return tampered(turn, "group record: sign-off: unknown version")
    _, sess = await group_records.filed(s, version)
    if turn.actor.id not in await sessions.attendee_ids(s, sess.id) or turn.actor.id == version.submitted_by:
        refuse(turn, "group record: sign-off by someone who did not attend")
        return Reply.of(cards.message_card("Can't do that", NOT_THERE, back=False))
    return version


async def sign(services: Services, turn: Turn) -> Reply:
    """An attendee confirms the group record is accurate (their signature, with the date)."""
    try:
        async with services.db.session() as s:
            version = await _attended(services, turn, s)
            if isinstance(version, Reply):
                return version
            record, _ = await group_records.filed(s, version)
            if record.current_version != version.version:
                return Reply.of(
                    cards.confirm_card(
                        await _view(services, s, version, turn.actor.id, error="This version was replaced.")
                    )
                )
            if version.status != DELIVERED:
                return Reply.of(
                    cards.confirm_card(
                        await _view(
                            services, s, version, turn.actor.id, error="It is still being saved. Try again soon."
                        )
                    )
                )
            row = await signoff.sign(s, GROUP, version.id, version.version, turn.actor.id, ATTENDEE, now=turn.now)
            if row is not None:
                await effects.add(
                    s,
                    effects.signoff_stamp(
                        GROUP,
                        version.id,
                        key=f"{LIFECYCLE.prefix}stamp:{row.id}",
                        chain=f"{LIFECYCLE.prefix}signoff:{version.id}",
                    ),
                    now=turn.now,
                )
                await audited(services, turn, s, audit.CHANGED, audit.GROUP_RECORD, record.id)
                services.wake_outbox()
            return Reply.of(
                cards.confirm_card(await _view(services, s, version, turn.actor.id, notice="Thank you: confirmed."))
            )
    except AlreadyRecorded:
        async with services.db.session() as s:
            version = await _attended(services, turn, s)
            if isinstance(version, Reply):
                return version
            return Reply.of(cards.confirm_card(await _view(services, s, version, turn.actor.id)))


async def ask_change(services: Services, turn: Turn) -> Reply:
    """An attendee's correction goes to whoever wrote the record; only that a change was asked is kept."""
    async with services.db.session() as s:
        version = await _attended(services, turn, s)
        if isinstance(version, Reply):
            return version
        record, sess = await group_records.filed(s, version)
        comment = clean_text(turn.data.get("change_note"))

        async def again(error: str) -> Reply:
            return Reply.of(cards.confirm_card(await _view(services, s, version, turn.actor.id, error=error)))

        if record.current_version != version.version:
            return await again("This version was replaced; you'll be asked to confirm the new one.")
        if not comment:
            return await again("Say what should be corrected.")
        if len(comment) > cards.CHANGE_NOTE_MAX:
            return await again(f"That is {len(comment)} characters; the limit is {cards.CHANGE_NOTE_MAX}.")
        req = await signoff.ask_change(s, GROUP, version.id, version.version, turn.actor.id, now=turn.now)
        await effects.add(
            s,
            effects.notify(
                version.submitted_by,
                cards.change_request_card(
                    record_id=record.id,
                    who=turn.actor.name,
                    group_label=view.session_label(services.school, sess),
                    date_label=labels.date_label(sess.local_date),
                    comment=comment,
                ),
                key=f"{PREFIX}{req.id}",
            ),
            now=turn.now,
        )
        await audited(services, turn, s, audit.CREATED, "change_request", req.id)
        services.wake_outbox()
        return Reply.of(
            cards.confirm_card(
                await _view(
                    services, s, version, turn.actor.id, notice="Sent. You'll be asked to confirm the new version."
                )
            )
        )
