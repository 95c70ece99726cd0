"""Every kind of side effect a journey can ask for, as constants with builders — so no journey types a kind string
or a payload shape by hand, and the handlers (bot/effects.py for Teams, graph/handlers.py for Microsoft 365) and
the journeys agree on one definition.

    async with db.session() as s:
        ...                                                   # the journey's own state change
        await effects.add(s, effects.notify(staff_id, card, key=f"request:{rid}:alloc"), now=turn.now)

Keys make a side effect happen once: a key already queued is skipped. Rows sharing a `chain` are delivered one
after another in the order they were queued (create a meeting before moving it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.outbox.api import Effect, enqueue_many
from graph import handlers as m365
from graph.ports import Attendee

# ---- kinds -----------------------------------------------------------------------------------------------------
TEAMS_NOTIFY = "teams.notify"  # a card in one person's 1:1 chat with the bot
TEAMS_UPDATE = "teams.update"  # replace a card sent earlier under a ref (sent fresh if it never was)
TEAMS_CHANNEL = "teams.channel"  # a post in the school's Safeguarding channel (DSL 1:1 fallback)
CALENDAR_CREATE = m365.CALENDAR_CREATE
CALENDAR_UPDATE = m365.CALENDAR_UPDATE
CALENDAR_CANCEL = m365.CALENDAR_CANCEL
CHANNEL_UPLOAD = m365.CHANNEL_UPLOAD  # a record document into the Safeguarding channel's files
PERSONAL_SHARE = m365.PERSONAL_SHARE  # a 1:1 record into the supervisor's OneDrive, shared with the supervisee
PERSONAL_GRANT = m365.PERSONAL_GRANT  # a file already in someone's OneDrive shared with one more person (handover)
PERSONAL_REVOKE = m365.PERSONAL_REVOKE  # one person's access to such a file ended (handover)
APP_INSTALL = m365.APP_INSTALL  # install the app for someone who never opened it (Graph)
SIGNOFF_STAMP = "records.signoff_stamp"  # write a record's sign-off table into its .docx (bot/records/signoff_files)

KINDS = frozenset(
    {
        TEAMS_NOTIFY,
        TEAMS_UPDATE,
        TEAMS_CHANNEL,
        CALENDAR_CREATE,
        CALENDAR_UPDATE,
        CALENDAR_CANCEL,
        CHANNEL_UPLOAD,
        PERSONAL_SHARE,
        PERSONAL_GRANT,
        PERSONAL_REVOKE,
        APP_INSTALL,
        SIGNOFF_STAMP,
    }
)

#: The neutral calendar subject: never a topic, group or name (calendars are widely readable in a school).
NEUTRAL_SUBJECT = "Supervision"


async def add(s: AsyncSession, *items: Effect, now: dt.datetime) -> int:
    """Queue these effects in the caller's transaction (one statement); returns how many were new."""
    return await enqueue_many(s, list(items), now=now)


# ---- Teams -----------------------------------------------------------------------------------------------------
def notify(
    staff_id: str, card: dict, *, key: str, ref: str | None = None, text: str | None = None, chain: str | None = None
) -> Effect:
    """A card in the person's 1:1 chat. With `ref`, a later `update_card` can replace it in place."""
    payload: dict[str, Any] = {"staff_id": staff_id, "card": card}
    if ref:
        payload["ref"] = ref
    if text:
        payload["text"] = text
    return Effect(TEAMS_NOTIFY, payload, key, chain=chain)


def update_card(staff_id: str, ref: str, card: dict, *, key: str) -> Effect:
    """Replace the card sent to this person under `ref`."""
    return Effect(TEAMS_UPDATE, {"staff_id": staff_id, "ref": ref, "card": card}, key)


def channel_post(
    card: dict, *, fallback_staff_ids: Sequence[str], fallback_text: str, key: str, chain: str | None = None
) -> Effect:
    """A post in the Safeguarding channel; if the channel cannot be reached, these people are told 1:1."""
    return Effect(
        TEAMS_CHANNEL,
        {"card": card, "fallback_staff_ids": list(fallback_staff_ids), "fallback_text": fallback_text},
        key,
        chain=chain,
    )


# ---- calendars -------------------------------------------------------------------------------------------------
def calendar_chain(event_key: str) -> str:
    return f"calendar:{event_key}"


def calendar_create(
    event_key: str,
    *,
    organizer_id: str,
    attendee_ids: Sequence[str],
    start: dt.datetime,
    end: dt.datetime,
    online: bool = True,
    subject: str = NEUTRAL_SUBJECT,
    key: str | None = None,
    chain: str | None | bool = True,
) -> Effect:
    """One private, neutral event in every attendee's calendar (a Teams meeting when `online`).

    By default keyed and chained by the event, so a later update or cancel of the same event follows it."""
    kind, payload = m365.calendar_create(
        event_key,
        organizer_id=organizer_id,
        attendees=list(attendee_ids),
        start=start,
        end=end,
        subject=subject,
        online=online,
    )
    return Effect(
        kind,
        payload,
        key or f"calendar:{event_key}:create",
        chain=calendar_chain(event_key) if chain is True else (chain or None),
    )


def calendar_update(
    event_key: str,
    *,
    key: str,
    attendees: Sequence[Attendee | str] | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    chain: str | None = None,
) -> Effect:
    kind, payload = m365.calendar_update(event_key, attendees=attendees, start=start, end=end)
    return Effect(kind, payload, key, chain=chain or calendar_chain(event_key))


def calendar_cancel(event_key: str, *, key: str | None = None) -> Effect:
    kind, payload = m365.calendar_cancel(event_key)
    return Effect(kind, payload, key or f"calendar:{event_key}:cancel", chain=calendar_chain(event_key))


# ---- files -----------------------------------------------------------------------------------------------------
def channel_upload(
    name: str,
    content: bytes | None = None,
    *,
    key: str,
    chain: str | None = None,
    content_ref: dict | None = None,
    **extra,
) -> Effect:
    """A document into the Safeguarding channel's files. The row carries the file until it is delivered (then
    `scrub_delivered_content` drops it) — or, with `content_ref` instead of `content`, only a reference that the
    app's content loader turns into the bytes at delivery (bot/exports/content.py: files too large for a row);
    `extra` (e.g. record_id) rides along for the delivered hook."""
    kind, payload = m365.channel_upload(name, content=content, content_ref=content_ref, **extra)
    if payload.get("subfolder") is None:
        del payload["subfolder"]
    return Effect(kind, payload, key, chain=chain)


def personal_share(
    name: str,
    content: bytes,
    *,
    owner_id: str,
    share_with_id: str | None = None,
    key: str,
    folder: str = "Supervision records",
    chain: str | None = None,
    share_with_ids: Sequence[str] | None = None,
    **extra,
) -> Effect:
    """A document into the owner's OneDrive, shared read-only with one colleague (or each of several)."""
    kind, payload = m365.personal_share(
        name,
        owner_id=owner_id,
        share_with_id=share_with_id,
        share_with_ids=share_with_ids,
        role="read",
        folder=folder,
        content=content,
        **extra,
    )
    return Effect(kind, payload, key, chain=chain)


def personal_grant(owner_id: str, item_id: str, *, share_with_id: str, key: str, chain: str | None = None) -> Effect:
    """Read access for one more colleague to a file already in the owner's OneDrive."""
    kind, payload = m365.personal_grant(owner_id=owner_id, item_id=item_id, share_with_id=share_with_id)
    return Effect(kind, payload, key, chain=chain)


def personal_revoke(owner_id: str, item_id: str, *, recipient_id: str, key: str, chain: str | None = None) -> Effect:
    """End one colleague's access to a file in the owner's OneDrive."""
    kind, payload = m365.personal_revoke(owner_id=owner_id, item_id=item_id, recipient_id=recipient_id)
    return Effect(kind, payload, key, chain=chain)


def signoff_stamp(record_kind: str, record_id: int, *, key: str, chain: str | None = None) -> Effect:
    """Write who has confirmed a record version into its document's sign-off table. The payload names the record
    only: the handler reads the signatures from the store and the document from its one home when it runs."""
    return Effect(SIGNOFF_STAMP, {"record_kind": record_kind, "record_id": record_id}, key, chain=chain)


def app_install(staff_id: str, *, key: str) -> Effect:
    kind, payload = m365.app_install(staff_id=staff_id)
    return Effect(kind, payload, key)
