"""The group record's delivery hooks, run by the outbox worker in its own transaction: once the .docx is in the
Safeguarding channel's files, keep where it is and post the summary to the channel (seed 001: the notes are stored
in the secure Safeguarding channel); if the upload gives up, mark it and tell whoever submitted it. Registered by
bot/journeys/group_record.py for effects.CHANNEL_UPLOAD; other journeys' uploads are ignored (by key prefix).
"""

from __future__ import annotations

import datetime as dt

from bot import labels
from bot.journeys import group_record_view as view
from bot.journeys.base import Services
from bot.outbox import effects
from bot.records.lifecycle import GROUP
from bot.school import Role
from bot.store import group_records
from cards import group_record as cards

KEY_PREFIX = GROUP.prefix


async def on_record_delivered(
    session,
    record_id: int,
    result: dict | None,
    *,
    services: Services | None = None,
    now: dt.datetime | None = None,
    school=None,
    key: str | None = None,
) -> None:
    """The .docx reached the channel's files: keep where it is, and post the summary to the Safeguarding channel.

    `record_id` is the payload's record_id (a group_record_versions id). Pass the outbox row's `key` when the hook
    also sees other journeys' channel uploads: rows that are not this journey's are ignored. Idempotent.
    """
    if key is not None and GROUP.file_id(key) is None:
        return
    school = school or (services.school if services else None)
    now = now or dt.datetime.now(dt.timezone.utc)
    version = await GROUP.filed_row(session, record_id)
    if version is None or not GROUP.mark_delivered(version, result, now):
        return
    record, sess = await group_records.filed(session, version)
    # No narrative stays once the record is in the channel: any leftover first-record draft of this session goes.
    await GROUP.drop(session, session_id=sess.id, record_id=None)
    if school is None:
        raise RuntimeError("on_record_delivered needs the school (pass services= or school=)")
    prev_name = None
    if version.version > 1:
        prev = await group_records.version(session, record.id, version.version - 1)
        prev_name = (prev.delivered_name or prev.file_name) if prev else None
    group = view.session_label(school, sess)
    fac = school.staff.get(sess.facilitator_id)
    day = labels.date_label(sess.local_date)
    card = cards.channel_summary_card(
        cards.ChannelSummaryView(
            group_label=group,
            date_label=day,
            facilitator=fac.name if fac else "",
            attendee_count=version.attendee_count,
            action_count=version.action_count,
            file_name=version.delivered_name,
            web_url=version.web_url,
            version=version.version,
            previous_file=prev_name,
        )
    )
    what = f"amended (version {version.version})" if version.version > 1 else "saved"
    fallback = (
        f"Group supervision record {what}: {group}, {day}, {version.attendee_count} attended, "
        f"{version.action_count} actions. File: {version.delivered_name}"
        + (f" {version.web_url}" if version.web_url else "")
    )
    from bot.journeys import group_record_signoff

    if services is not None:
        await group_record_signoff.ask_attendees(services, session, version, sess, now)
    await effects.add(
        session,
        effects.channel_post(
            card,
            fallback_staff_ids=[m.id for m in school.with_role(Role.DSL)],
            fallback_text=fallback,
            key=f"{KEY_PREFIX}channel:{version.id}",
            chain=f"{KEY_PREFIX}channel:{record.id}",
        ),
        now=now,
    )


async def on_record_failed(
    session,
    record_id: int,
    *,
    services: Services | None = None,
    now: dt.datetime | None = None,
    school=None,
    key: str | None = None,
) -> None:
    """The upload was dead-lettered: mark it and tell the person who submitted it (the outbox keeps the file)."""
    if key is not None and GROUP.file_id(key) is None:
        return
    school = school or (services.school if services else None)
    version = await GROUP.filed_row(session, record_id)
    if version is None or not GROUP.mark_failed(version):
        return
    _, sess = await group_records.filed(session, version)
    group = school.groups[sess.group_id].name if school and sess.group_id in school.groups else "a group session"
    card = cards.message_card(
        "Record not saved to the channel yet",
        f"I couldn't save the record for {group} on {labels.date_label(sess.local_date)} to the Safeguarding "
        "channel after several tries. It is kept safely and can be retried: please ask whoever looks after the bot "
        "to check the outbox.",
        back=False,
    )
    await effects.add(
        session, effects.notify(version.submitted_by, card, key=f"{KEY_PREFIX}failed:{version.id}"), now=now
    )


async def upload_delivered(services: Services, msg, result) -> None:
    """The record's .docx is in the channel's files: keep its URL, then post the summary to the channel."""
    await on_record_delivered(
        msg.session, msg.payload.get("record_id"), result, services=services, now=services.clock(), key=msg.key
    )


async def upload_dead(services: Services, msg) -> None:
    """The upload gave up: mark the version failed and tell whoever submitted it."""
    await on_record_failed(
        msg.session, msg.payload.get("record_id"), services=services, now=services.clock(), key=msg.key
    )
