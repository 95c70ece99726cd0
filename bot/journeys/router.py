"""The router: typed commands and card verbs → journey handlers. Journeys register themselves in one place
(bot/journeys/__init__.py:build_router); the help card is generated from the same registrations."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from bot.journeys.base import Handler, Reply, Services, Turn
from bot.school import StaffMember

Allowed = Callable[[StaffMember], bool]
# Free text that is not a single command word → a handler, or None for "not understood" (bot/journeys/understood.py).
# Given the command the text's first word names, if any.
Understand = Callable[["Router", Turn, "Command | None"], "Handler | None"]


def everyone(_: StaffMember) -> bool:
    return True


@dataclass(frozen=True)
class Command:
    words: tuple[str, ...]
    title: str
    description: str
    handler: Handler
    allowed: Allowed = everyone
    verb: str | None = None     # the Action.Execute verb that opens it from the help card


class Router:
    def __init__(self) -> None:
        self.commands: list[Command] = []
        self._by_word: dict[str, Command] = {}
        self._verbs: dict[str, Handler] = {}
        self.fallback: Handler | None = None
        self.understand: Understand | None = None

    def command(self, *words: str, title: str, description: str, handler: Handler,
                allowed: Allowed = everyone, verb: str | None = None) -> None:
        cmd = Command(tuple(w.lower() for w in words), title, description, handler, allowed, verb)
        for w in cmd.words:
            if w in self._by_word:
                raise ValueError(f"command word {w!r} registered twice")
            self._by_word[w] = cmd
        self.commands.append(cmd)
        if verb:
            self.verb(verb, handler)

    def verb(self, verb: str, handler: Handler) -> None:
        if verb in self._verbs:
            raise ValueError(f"verb {verb!r} registered twice")
        self._verbs[verb] = handler

    def commands_for(self, actor: StaffMember | None) -> list[Command]:
        if actor is None:
            return []
        return [c for c in self.commands if c.allowed(actor)]

    def command_named(self, word: str) -> Command | None:
        return self._by_word.get(word.lower())

    def resolve(self, turn: Turn) -> Handler | None:
        if turn.verb:
            return self._verbs.get(turn.verb)
        word = turn.text.strip().lower().split(" ", 1)[0] if turn.text else ""
        cmd = self._by_word.get(word)
        if self.understand is not None and turn.text and not (cmd and turn.text.strip().lower() == word):
            return self.understand(self, turn, cmd)
        return cmd.handler if cmd else None

    async def dispatch(self, services: Services, turn: Turn) -> Reply:
        handler = self.resolve(turn) or self.fallback
        if handler is None:
            return Reply(text="Sorry, I didn't understand that.")
        return await handler(services, turn)
