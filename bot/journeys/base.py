"""What a journey sees of a turn and what it answers — no Bot Framework types cross this line."""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Protocol

from bot.school import School, StaffMember

log = logging.getLogger("bot.journeys")

MAX_TEXT_CHARS = 4000


@dataclass(frozen=True)
class Turn:
    """One user action, already authenticated by the channel. `data` comes from a card: never trusted."""

    now: dt.datetime                      # aware UTC, from the injected clock
    aad_object_id: str | None
    user_name: str | None
    actor: StaffMember | None             # None: not on the school roster
    text: str = ""                        # a typed message, trimmed
    verb: str | None = None               # Action.Execute verb (or a Submit's "verb" field)
    data: dict[str, Any] = field(default_factory=dict)
    conversation_kind: str = "personal"   # personal | channel | groupChat
    invoke: bool = False                  # True: the reply card replaces the card the user acted on
    activity_id: str | None = None        # the message the card is on (for updates)


@dataclass
class Reply:
    """Cards and/or text to send back. For an invoke, `card` replaces the acted-on card in place."""

    cards: list[dict] = field(default_factory=list)
    text: str | None = None
    card: dict | None = None

    @classmethod
    def of(cls, card: dict) -> "Reply":
        return cls(cards=[card], card=card)


class Clock(Protocol):
    def __call__(self) -> dt.datetime: ...


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass
class Services:
    """Everything a journey may use, built once by the app and passed in (no module globals)."""

    school: School
    db: Any                                  # bot.store.Database
    clock: Clock = utc_now
    m365: Any = None                         # graph.M365Backend (local or msgraph)
    calendar: Any = None                     # bot.domain.calendar.TermCalendar, built at start-up
    extras: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[Services, Turn], Awaitable[Reply]]


def refuse(turn: Turn, what: str) -> None:
    """Log a refused action without any content from the payload (safeguarding data never reaches logs)."""
    log.warning("refused %s for actor=%s verb=%s", what, turn.actor.id if turn.actor else "not-on-roster", turn.verb)
