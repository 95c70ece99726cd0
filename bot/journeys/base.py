"""What a journey sees of a turn and what it answers — no Bot Framework types cross this line."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from bot.school import School, StaffMember

if TYPE_CHECKING:
    from bot.delivery import RateLimiter
    from bot.domain.calendar import TermCalendar
    from bot.domain.slots import Busy
    from bot.journeys.router import Router
    from bot.messaging import Messenger
    from bot.store import Database

    BusyLookup = Callable[[Sequence[str], dt.datetime, dt.datetime], Awaitable[Mapping[str, Iterable[Busy]]]]

log = logging.getLogger("bot.journeys")

MAX_TEXT_CHARS = 4000


@dataclass(frozen=True)
class Turn:
    """One user action, already authenticated by the channel. `data` comes from a card: never trusted."""

    now: dt.datetime  # aware UTC, from the injected clock
    aad_object_id: str | None
    user_name: str | None
    actor: StaffMember | None  # None: not on the school roster
    text: str = ""  # a typed message, trimmed
    verb: str | None = None  # Action.Execute verb (or a Submit's "verb" field)
    data: dict[str, Any] = field(default_factory=dict)
    conversation_kind: str = "personal"  # personal | channel | groupChat
    invoke: bool = False  # True: the reply card replaces the card the user acted on
    activity_id: str | None = None  # the message the card is on (for updates)


@dataclass
class Reply:
    """Cards and/or text to send back. For an invoke, `card` replaces the acted-on card in place."""

    cards: list[dict] = field(default_factory=list)
    text: str | None = None
    card: dict | None = None

    @classmethod
    def of(cls, card: dict) -> Reply:
        return cls(cards=[card], card=card)


class Clock(Protocol):
    def __call__(self) -> dt.datetime: ...


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass
class PoolState:
    """The supervisor pool's per-process state: seeded from the config once, and a short-lived read copy."""

    seeded: bool = False
    cached: tuple[float, list] | None = None  # (monotonic expiry, entries)

    def forget(self) -> None:
        self.cached = None


@dataclass
class Services:
    """Everything a journey may use, built once by `create_app` and passed in (no module globals).

    The term calendar is built once, from the school config, when the services are made."""

    school: School
    db: Database
    clock: Clock = utc_now
    m365: Any = None  # graph.M365Backend (local or msgraph)
    calendar: TermCalendar = None  # type: ignore[assignment]  # built in __post_init__
    router: Router | None = None
    messenger: Messenger | None = None  # throttled proactive Teams sends (the outbox's)
    rate_limiter: RateLimiter | None = None  # the one limiter every proactive send shares
    teams_send: Any = None  # the reminder fan-out's raw sender
    outbox_worker: Any = None  # bot.outbox.OutboxWorker (wake() after a turn queues work)
    scheduler: Any = None  # bot.reminders.scheduler.Scheduler
    busy_lookup: BusyLookup | None = None  # free/busy override (tests); None → the Microsoft 365 port
    dashboard_url: Callable[[str], str] | None = None  # staff id → where the dashboard opens for them (digest)
    pool: PoolState = field(default_factory=PoolState)
    # Each requester's 1:1 chat id, looked up once per process (it never changes).
    conversation_ids: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.calendar is None:
            from bot.domain.calendar import TermCalendar

            self.calendar = TermCalendar.from_school(self.school)

    def wake_outbox(self) -> None:
        """A turn queued side effects: deliver them now rather than at the worker's next poll."""
        if self.outbox_worker is not None:
            self.outbox_worker.wake()


Handler = Callable[[Services, Turn], Awaitable[Reply]]


def refuse(turn: Turn, what: str) -> None:
    """Log a refused action without any content from the payload (see bot.journeys.kit.refuse)."""
    from bot.journeys.kit import refuse as _refuse

    _refuse(turn, what)
