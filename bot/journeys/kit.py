"""The journey kit: what every journey needs to read a card's inputs and answer briefly.

Card payloads come from the client and are never trusted: every id, key and row number goes through one parser
here, and a value that does not parse is treated as a tampered card (refused, logged without content).
"""

from __future__ import annotations

import logging
import re
from contextvars import ContextVar
from typing import Any

from bot.journeys.base import Reply, Services, Turn
from bot.store import audit

log = logging.getLogger("bot.journeys")

#: Ids on cards are database integer keys: positive and below 2**31 (PostgreSQL INTEGER). Anything else —
#: a negative, zero, a float, a 40-digit number, text — is not an id we could have put on a card.
ID_BOUND = 2**31
#: Draft and submission keys are uuid4 hex strings made by the bot when it renders a form.
KEY_RE = re.compile(r"^[0-9a-f]{32}$")
#: Row numbers on a card (attendees, actions) are small: a card never has more than this many repeated rows.
MAX_ROWS = 20

TAMPERED = "Sorry, I can't do that with this card."


def parse_id(value: Any) -> int | None:
    """A database id from a card (1 ≤ id < 2**31), or None."""
    if isinstance(value, bool):
        return None
    try:
        i = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return i if 0 < i < ID_BOUND else None


def parse_key(value: Any) -> str | None:
    """A bot-made key (32 lowercase hex characters) from a card, or None."""
    return value if isinstance(value, str) and KEY_RE.match(value) else None


def parse_index(value: Any, limit: int = MAX_ROWS) -> int | None:
    """A row number on a card (0 ≤ n < limit), or None."""
    v = str(value).strip()
    # isascii: str.isdigit() is also true of "¹" and "٣", which int() refuses or reads as another number.
    return int(v) if v.isascii() and v.isdigit() and int(v) < limit else None


#: Set by `refuse` during a turn, so the router can write a journey's own refusal (is this *your* draft, *your*
#: supervisee) to the audit trail once the handler returns — without every journey opening a transaction for it.
REFUSED_IN_TURN: ContextVar[bool] = ContextVar("refused_in_turn", default=False)


def refuse(turn: Turn, what: str) -> None:
    """Log a refused action without any content from the payload (safeguarding data never reaches logs); the router
    audits it (ids only) when the turn ends."""
    REFUSED_IN_TURN.set(True)
    log.warning("refused %s for actor=%s verb=%s", what, turn.actor.id if turn.actor else "not-on-roster", turn.verb)


async def audited(services: Services, turn: Turn, s, action: str, kind: str, object_id: str | int | None) -> None:
    """Put "this actor did `action` to this object" in the turn's own transaction (bot/store/audit.py): it is
    committed with the change, or rolled back with it. Ids only."""
    await audit.record(
        s,
        actor_id=turn.actor.id if turn.actor else None,
        action=action,
        kind=kind,
        object_id=object_id,
        at=turn.now,
        tz=services.school.tz,
    )


async def audit_refusal(services: Services, turn: Turn, kind: str, name: str) -> None:
    """A refused turn changes nothing, so it has no transaction: the refusal gets a small one of its own."""
    async with services.db.session() as s:
        await audited(services, turn, s, audit.REFUSED, kind, name)


def say(
    turn: Turn,
    message: str,
    heading: str = "Not available",
    *,
    back_verb: str | None = None,
    back_label: str = "Back",
    as_card: bool = False,
) -> Reply:
    """A short answer: as text to a typed command; as a small card in place of a clicked one (Teams shows an
    Action.Execute answer where the card was, so the person sees why nothing happened). `as_card` answers a
    typed command with the card too (as `Permission.as_card` does for the journeys whose commands answer cards)."""
    if turn.invoke or as_card:
        from cards.base import message_card

        return Reply.of(message_card(heading, message, back_verb=back_verb, back_label=back_label))
    return Reply(text=message)


def tampered(turn: Turn, what: str, message: str = TAMPERED) -> Reply:
    """The answer to a card whose payload could not have come from us: refused and logged, no detail shown."""
    refuse(turn, what)
    return say(turn, message, "Can't do that")
