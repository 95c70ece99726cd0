"""Journey: the supervisor's own drafts of a 1:1 record (bot/journeys/one_to_one.py): save the half-written card,
bring it back, delete it. A draft is kept without validation (people save half-finished work) but never holds more
than the card could; it is the supervisor's alone, and only while they still supervise the person it is about.
The draft lifecycle itself is shared with group records (bot/records/lifecycle.py)."""

from __future__ import annotations

from bot.journeys.base import Reply, Services, Turn
from bot.journeys.kit import parse_key, tampered
from bot.journeys.one_to_one import ENDED, TAMPERED, _picker, _record_card, _supervision, _values
from bot.records.dsl_supervision import record_template
from bot.records.lifecycle import ONE_TO_ONE
from bot.store import one_to_one as store
from bot.store.errors import AlreadySubmitted, NotYours
from cards import targeted as cards


async def save_draft(services: Services, turn: Turn) -> Reply:
    """Saves the half-written record as the supervisor's own draft; the card comes back with everything kept."""
    key = parse_key(turn.data.get("draft_key"))
    if key is None:
        return tampered(turn, "1:1 record: draft key", TAMPERED)
    async with services.db.session() as s:
        pairing = await _supervision(s, turn)
        if isinstance(pairing, Reply):
            return pairing
        if pairing is None:
            return tampered(turn, "1:1 record: draft without a supervisee", TAMPERED)
        sid = pairing.supervisee_id
        values = _values(turn.data, record_template(services.school, sid))
        try:
            await ONE_TO_ONE.save(s, key, turn.actor.id, values, now=turn.now, supervisee_id=sid)
        except AlreadySubmitted:
            return Reply.of(
                cards.message_card(
                    "Already submitted", "This record was submitted already, so there is no draft to save."
                )
            )
        except NotYours:
            return tampered(turn, "1:1 record: someone else's draft", TAMPERED)
        saved = f"Draft saved at {turn.now.astimezone(services.school.tz):%H:%M}. Type note to come back to it."
        return Reply.of(await _record_card(services, turn, s, sid, key, values, notice=saved, has_draft=True))


async def resume_draft(services: Services, turn: Turn) -> Reply:
    """Brings back the supervisor's saved draft, if they still supervise the person it is about."""
    key = parse_key(turn.data.get("draft_key"))
    if key is None:
        return tampered(turn, "1:1 record: draft key", TAMPERED)
    async with services.db.session() as s:
        try:
            draft = await ONE_TO_ONE.find_own(s, key, turn.actor.id)
        except NotYours:
            return tampered(turn, "1:1 record: someone else's draft", TAMPERED)
        if draft is None:
            return Reply.of(cards.message_card("Draft not found", "That draft has been submitted or deleted."))
        if await store.find_supervision(s, turn.actor.id, draft.supervisee_id) is None:
            return Reply.of(cards.message_card("Supervision ended", ENDED, back_verb=cards.V_START))
        return Reply.of(
            await _record_card(
                services,
                turn,
                s,
                draft.supervisee_id,
                key,
                dict(draft.content),
                has_draft=True,
                notice="Your draft is back where you left it.",
            )
        )


async def discard_draft(services: Services, turn: Turn) -> Reply:
    """Deletes the supervisor's draft (its text goes with it) and shows the start card."""
    key = parse_key(turn.data.get("draft_key"))
    if key is None:
        return tampered(turn, "1:1 record: draft key", TAMPERED)
    async with services.db.session() as s:
        try:
            await ONE_TO_ONE.discard(s, key, turn.actor.id)
        except NotYours:
            return tampered(turn, "1:1 record: someone else's draft", TAMPERED)
        return Reply.of(await _picker(services, turn, s, notice="Draft deleted."))
