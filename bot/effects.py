"""Outbox delivery handlers for Teams messages: the side effects journeys enqueue as rows.

Kinds handled here: "teams.notify", "teams.update", "teams.channel". (Microsoft 365 kinds — calendars and files —
are delivered by graph/, see `graph_handlers`.) Each handler gets the row's payload and either returns a small
result dict (stored on the row) or raises RetryLater / PermanentFailure for the outbox worker.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import select

from bot.journeys.base import Services
from bot.messaging import Messenger, SendError
from bot.outbox.errors import PermanentFailure, RetryLater
from bot.store import conversations
from bot.store.models import SentCard

log = logging.getLogger("bot.effects")

Handler = Callable[[dict], Awaitable[dict | None]]


def _raise_for(exc: SendError) -> None:
    if exc.unreachable:
        raise PermanentFailure(f"unreachable (status {exc.status})")
    if exc.transient:
        raise RetryLater(exc.retry_after, f"Teams answered {exc.status}")
    raise PermanentFailure(f"Teams refused the message (status {exc.status})")


def teams_handlers(services: Services, messenger: Messenger, *, history=None) -> dict[str, Handler]:
    """`history` (a bot.outbox.indoubt.ChatHistory) is asked about a send left in doubt before it goes again."""
    db = services.db

    async def send_marked(reference: dict, card: dict, attempt, *, text: str | None = None) -> tuple[str | None, bool]:
        """Send a card once as far as we can tell: (activity id, reconciled). Without an attempt (a fallback from
        another kind) it is a plain send. With one: an earlier attempt's in-doubt send found in the conversation is
        not sent again; otherwise the row is marked in doubt (committed) and the marked card sent."""
        if attempt is None or history is None:
            # Nothing could read the conversation back: no marker, no in-doubt mark; an in-doubt send goes again.
            return await messenger.send_card(reference, card, text=text), False
        from bot.outbox.indoubt import with_marker

        conversation_id = (reference.get("conversation") or {}).get("id")
        if attempt.in_doubt:
            found = await history.find(reference, attempt.marker)
            if found:
                log.info("outbox %s: in-doubt send found in the conversation; not sent again", attempt.row_id)
                return (found if isinstance(found, str) else None), True
        if not await attempt.before_send(conversation_id):
            raise RetryLater(None, "lease lost before the send")
        return await messenger.send_card(reference, with_marker(card, attempt.marker), text=text), False

    async def not_installed(staff_id: str) -> None:
        """Nobody has a chat with the bot yet: install the app for them (Graph, once a day at most) and come back.

        Teams then sends the bot an installationUpdate, which saves the conversation reference; the retry finds it.
        If the install cannot happen (no permission, the person has no Teams licence) the row runs out of attempts
        and the DSL team is told who could not be reached."""
        from bot.outbox import enqueue

        if services.m365 is not None and staff_id in services.school.staff:
            day = services.clock().date().isoformat()
            async with db.session() as s:
                await enqueue(s, "apps.install", {"staff_id": staff_id}, key=f"apps.install:{staff_id}:{day}")
        raise RetryLater(NOT_INSTALLED_RETRY_SECONDS, "unreachable: the app is not installed for this person yet")

    async def notify(payload: dict, attempt=None) -> dict:
        """Send a card to one person's 1:1 chat with the bot."""
        staff_id = payload["staff_id"]
        member = services.school.staff.get(staff_id)
        if member is not None and member.aad_object_id is None:
            # An external supervisor with no Teams account (seed 004 §5): the calendar invitation to their e-mail
            # is how they hear; there is no chat to send to, and nothing to install.
            return {"skipped": "no Teams account: reached by calendar invitation"}
        async with db.session() as s:
            ref = await conversations.personal(s, staff_id)
        if ref is None:
            await not_installed(staff_id)
        try:
            activity_id, reconciled = await send_marked(
                ref.reference, payload["card"], attempt, text=payload.get("text")
            )
        except SendError as exc:
            _raise_for(exc)
        if payload.get("ref") and activity_id:
            async with db.session() as s:
                row = (
                    await s.execute(
                        select(SentCard).where(SentCard.staff_id == staff_id, SentCard.ref == payload["ref"])
                    )
                ).scalar_one_or_none()
                if row is None:
                    row = SentCard(staff_id=staff_id, ref=payload["ref"])
                    s.add(row)
                row.activity_id = activity_id
                row.conversation_id = ref.conversation_id
                row.sent_at = services.clock()
        return {"activity_id": activity_id, "reconciled": True} if reconciled else {"activity_id": activity_id}

    async def update(payload: dict, attempt=None) -> dict:
        """Replace a card we sent earlier; if we never sent it (or it is gone), send it fresh."""
        staff_id = payload["staff_id"]
        async with db.session() as s:
            ref = await conversations.personal(s, staff_id)
            sent = (
                await s.execute(select(SentCard).where(SentCard.staff_id == staff_id, SentCard.ref == payload["ref"]))
            ).scalar_one_or_none()
        if ref is None:
            await not_installed(staff_id)
        if sent is None:
            return await notify(payload, attempt)
        try:
            await messenger.update_card(ref.reference, sent.activity_id, payload["card"])
        except SendError as exc:
            if exc.status == 404:
                return await notify(payload, attempt)
            _raise_for(exc)
        return {"activity_id": sent.activity_id, "updated": True}

    async def channel(payload: dict, attempt=None) -> dict:
        """Post to the Safeguarding channel; where the bot cannot, tell the DSL team 1:1 instead (GUIDE §2)."""
        cfg = services.school.settings.safeguarding_channel
        async with db.session() as s:
            ref = None
            if cfg.channel_id:
                ref = await conversations.channel_by_id(s, cfg.channel_id)
            if ref is None:
                ref = await conversations.channel_by_name(s, cfg.channel_name)
        if ref is not None:
            try:
                activity_id, reconciled = await send_marked(ref.reference, payload["card"], attempt)
                out = {"posted": "channel", "activity_id": activity_id}
                return out | {"reconciled": True} if reconciled else out
            except SendError as exc:
                if exc.transient:
                    raise RetryLater(exc.retry_after, f"Teams answered {exc.status}") from None
                log.warning("channel post refused (status %s); falling back to 1:1", exc.status)
        return await _fallback(payload)

    async def _fallback(payload: dict) -> dict:
        from bot.outbox import enqueue
        from cards.base import card, text, title

        fallback = card(
            [title("Safeguarding channel"), text(payload.get("fallback_text") or "A safeguarding record was filed.")]
        )
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]
        async with db.session() as s:
            for staff_id in payload.get("fallback_staff_ids") or []:
                await enqueue(
                    s,
                    "teams.notify",
                    {"staff_id": staff_id, "card": fallback},
                    key=f"channel-fallback:{digest}:{staff_id}",
                )
        return {"posted": "fallback", "told": list(payload.get("fallback_staff_ids") or [])}

    for h in (notify, update, channel):
        h.in_doubt_aware = True  # the worker passes each delivery's Attempt (bot/outbox/indoubt.py)
    return {"teams.notify": notify, "teams.update": update, "teams.channel": channel}


# Teams answers a proactive install within seconds; a few retries this far apart cover a slow one.
NOT_INSTALLED_RETRY_SECONDS = 120.0

KIND_LABELS = {
    "teams.notify": "a message to a member of staff",
    "teams.update": "an update to a card",
    "teams.channel": "the post in the Safeguarding channel",
    "calendar.create": "a calendar booking",
    "calendar.update": "a change to a calendar booking",
    "calendar.cancel": "a calendar cancellation",
    "files.channel_upload": "a record file for the Safeguarding channel",
    "files.personal_share": "a 1:1 record file",
    "apps.install": "installing the bot for a member of staff",
    "records.signoff_stamp": "writing a sign-off into a record file",
}


def dead_letter_hook(services: Services):
    """When a side effect gives up after its retries, tell the DSL team 1:1 (what kind, never its content)."""
    from bot.outbox import enqueue
    from bot.school import Role
    from cards.base import card, facts, text, title

    async def hook(row) -> None:
        if row.key.startswith("deadletter:"):
            return  # a notice about a notice would loop; the log line is enough
        payload = row.payload if isinstance(row.payload, dict) else {}
        person = services.school.staff.get(payload.get("staff_id") or "")
        if (
            row.kind in ("teams.notify", "teams.update")
            and person is not None
            and "unreachable" in (row.last_error or "")
        ):
            # One notice per person per day, however many messages to them gave up: the fix is the same.
            notice = card(
                [
                    title("A colleague cannot be reached in Teams"),
                    text(
                        f"The bot could not reach {person.name} in Teams: the app is not installed for them "
                        "and installing it did not work. Ask IT to install the app for them (or ask them to "
                        "open it in Teams). Their messages are kept and can be sent again."
                    ),
                    facts([("Reference", row.key)]),
                ]
            )
            day = services.clock().date().isoformat()
            dedupe = f"deadletter:unreachable:{person.id}:{day}"
        else:
            label = KIND_LABELS.get(row.kind, row.kind)
            notice = card(
                [
                    title("Something could not be delivered"),
                    text(
                        f"After several attempts the bot could not complete {label}. Nothing has been lost: "
                        "it is kept, and whoever looks after the bot can send it again once the cause is "
                        "fixed (python -m bot.outbox retry with the reference below). Ask IT to check the "
                        "Microsoft 365 connection."
                    ),
                    facts([("Reference", row.key), ("Reason", (row.last_error or "unknown")[:120])]),
                ]
            )
            dedupe = f"deadletter:{row.id}"
        for dsl in services.school.with_role(Role.DSL):
            if person is not None and dsl.id == person.id:
                continue  # the notice could not reach them either
            await enqueue(row.session, "teams.notify", {"staff_id": dsl.id, "card": notice}, key=f"{dedupe}:{dsl.id}")
        log.warning("outbox row %s (%s) dead-lettered; DSL team told", row.id, row.kind)

    return hook


def mark_scrubbed(session) -> None:
    """Tell the store that this unit of work removes content: once committed, SQLite's -wal copy goes too."""
    from bot.store.db import SCRUBBED

    session.sync_session.info[SCRUBBED] = True


async def scrub_delivered_content(session, row_id: int) -> None:
    """After a document reaches its one place (the channel's files / OneDrive), drop our copy from the outbox."""
    from sqlalchemy import update

    from bot.store.models_outbox import OutboxRow

    row = await session.get(OutboxRow, row_id)
    if row is not None and isinstance(row.payload, dict) and "content_b64" in row.payload:
        payload = {k: v for k, v in row.payload.items() if k != "content_b64"}
        payload["content_removed"] = True
        await session.execute(update(OutboxRow).where(OutboxRow.id == row_id).values(payload=payload))
        mark_scrubbed(session)


def outbox_hooks(services: Services, hooks) -> tuple[Callable, Callable]:
    """The worker's (on_delivered, on_dead_letter) from the hooks journeys registered on the router.

    Delivered: each journey's hooks for the row's kind, then the outbox's copy of a delivered document is dropped
    (its one home is now the channel's files or the supervisor's OneDrive). Dead-lettered: the journeys' hooks
    (mark the record failed, hold back a notice), then the DSL team is told that something failed — never what."""
    tell_dsl = dead_letter_hook(services)

    async def delivered(row, result) -> None:
        for hook in hooks.delivered.get(row.kind, ()):
            await hook(services, row, result)
        if "content_b64" in row.payload:
            await scrub_delivered_content(row.session, row.id)

    async def dead(row) -> None:
        for hook in hooks.dead.get(row.kind, ()):
            await hook(services, row)
        await tell_dsl(row)

    return delivered, dead
