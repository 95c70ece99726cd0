"""The 1:1 record after submit: the outbox's share hooks (the .docx is in the supervisor's OneDrive and shared with
the supervisee only — seed 001 App. 2: the supervisor keeps the record; if the share gives up, the supervisee's
"shared with you" notice is held back and the supervisor told) and the file card either of the two can open.
Registered by bot/journeys/one_to_one.py with the rest of the 1:1 verbs."""

from __future__ import annotations

import datetime as dt

from bot.journeys.base import Reply, Services, Turn
from bot.journeys.kit import audited, parse_id, tampered
from bot.journeys.one_to_one import TAMPERED, told_key
from bot.labels import date_label
from bot.outbox import effects
from bot.outbox.api import withdraw
from bot.records.lifecycle import ONE_TO_ONE
from bot.store import audit
from bot.store import one_to_one as store
from bot.store.errors import NotFound, NotYours
from bot.store.models_targeted import DELIVERED
from cards import targeted as cards


async def on_share_failed(session, key: str, *, now: dt.datetime) -> None:
    """Outbox dead-letter hook: mark the record, hold back the supervisee's "shared with you" notice (chained after
    it, so still pending), and tell the supervisor. Ignores other journeys' rows."""
    rid = ONE_TO_ONE.file_id(key)
    record = await ONE_TO_ONE.filed_row(session, rid) if rid is not None else None
    if record is None or record.status == DELIVERED:
        return
    # Failed already (a look at the start card can read the dead outbox row before this hook runs) or not: the
    # notice must not go out, and the supervisor hears once (the notice's key makes it once).
    ONE_TO_ONE.mark_failed(record)
    await withdraw(session, told_key(record.id))
    card = cards.message_card(
        "1:1 record not shared yet",
        f"I couldn't save the record of your session on "
        f"{date_label(record.session_date)} to your OneDrive after several tries. It is kept "
        "safely and can be retried: please ask whoever looks after the bot to check the outbox.",
        back_verb=None,
    )
    await effects.add(
        session, effects.notify(record.supervisor_id, card, key=f"{ONE_TO_ONE.prefix}failed:{record.id}"), now=now
    )


async def share_delivered(services: Services, msg, result) -> None:
    """The 1:1 record is in the supervisor's OneDrive and shared: keep where it is."""
    await ONE_TO_ONE.delivered(msg.session, msg.key, result, services.clock())


async def share_dead(services: Services, msg) -> None:
    """The share gave up: hold back the supervisee's notice and tell the supervisor."""
    await on_share_failed(msg.session, msg.key, now=services.clock())


async def show_file(services: Services, turn: Turn) -> Reply:
    """The link to a shared record and its sign-off, for its supervisor or supervisee only (also the notice card's
    refresh): the supervisee confirms it or asks for a change from here (bot/journeys/one_to_one_signoff.py)."""
    from bot.journeys.one_to_one_signoff import file_view

    rid = parse_id(turn.data.get("record_id"))
    if rid is None:
        return tampered(turn, "1:1 record: file: no record", TAMPERED)
    async with services.db.session() as s:
        try:
            record = await store.record_of(s, rid, turn.actor.id)
        except (NotFound, NotYours):
            return tampered(turn, "1:1 record: file: not their record", TAMPERED)
        await ONE_TO_ONE.sync(s, record, turn.now)
        await audited(services, turn, s, audit.VIEWED, audit.TARGETED_RECORD, record.id)
        return Reply.of(await file_view(services, s, record, turn.actor.id))
