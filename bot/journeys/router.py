"""The router: what the bot can do, in one table — typed commands and card verbs → journey handlers, each with
the permission that decides who may use it, plus the outbox delivery hooks journeys own.

How a turn is routed:
- a card click (Action.Execute, or an Action.Submit carrying "verb") goes to the handler registered for that verb;
- a typed message that is exactly a command word goes to that command ("record", "request" …);
- other text goes to `understand` (bot/journeys/understood.py: the command it most likely means among those the
  person may use, a short choice, or the safeguarding answer to a disclosure);
- anything else goes to `fallback` (the help card).

Before a handler runs, `dispatch` checks the verb's or command's `Permission` against the turn's actor (the
roster entry of the Teams user, never anything in the card payload). A refused turn is logged without content,
written to the audit trail (bot/store/audit.py: actor, "refused", the verb or command word) and answered with the
permission's own sentence; the handler never sees it. Checks that depend on the object (is this
*your* request, are you *this* person's supervisor) stay in the journey, where the object is loaded.

Journeys register themselves in bot/journeys/__init__.py (one `register(router)` per module). Registration order
is the help card's order; a word or verb registered twice is an error at start-up.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.journeys.base import Handler, Reply, Services, Turn
from bot.journeys.kit import REFUSED_IN_TURN, audit_refusal, refuse, say
from bot.school import StaffMember
from bot.scopes import SCOPES, allowed_in
from bot.store import audit
from cards.base import message_card

ELSEWHERE = "That isn't something I do here. Message me in our 1:1 chat and type \u201c{word}\u201d there."

Check = Callable[[StaffMember], bool]
#: An outbox hook: (services, the delivered/dead row, its result) in the worker's transaction.
DeliveredHook = Callable[[Services, object, "dict | None"], Awaitable[None]]
DeadHook = Callable[[Services, object], Awaitable[None]]
# Free text that is not a single command word → the command it means (its permission applies), a handler of its
# own (a short choice, the safeguarding answer), or None for "not understood" (bot/journeys/understood.py).
# Given the command the text's first word names, if any.
Understand = Callable[["Router", Turn, "Command | None"], "Command | Handler | None"]


@dataclass(frozen=True)
class Permission:
    """Who may use a verb or command: a check on the actor's roster entry and the sentence a refused person sees.

    `check` is only called with someone on the roster; people not on it are refused by every permission except
    `ANYONE`."""

    name: str
    check: Check
    refusal: str = "Sorry, that isn't something you can do here."
    off_roster_ok: bool = False
    as_card: bool = False  # answer a typed command with a small card too (the request-side journeys' style)
    #: A check that needs the school config as well (e.g. its senior leaders group). Used whenever the school is
    #: known (the router has it once the app is built); without it, `check` alone decides — keep that the
    #: narrower of the two, so a router without a school never lets more people in.
    in_school: Callable[[object, StaffMember], bool] | None = None

    def allows(self, actor: StaffMember | None, school: object | None = None) -> bool:
        if actor is None:
            return self.off_roster_ok
        if self.in_school is not None and school is not None:
            return self.in_school(school, actor)
        return self.check(actor)


#: Everyone, on the roster or not (help, and journeys that explain to strangers why they can't go on).
ANYONE = Permission("anyone", lambda _a: True, off_roster_ok=True)


@dataclass(frozen=True)
class Command:
    words: tuple[str, ...]
    title: str
    description: str
    handler: Handler
    allowed: Permission = ANYONE
    verb: str | None = None  # the Action.Execute verb that opens it from the help card
    listed: Check | None = None  # who sees it on the help card, when narrower than who may use it


@dataclass(frozen=True)
class Verb:
    name: str
    handler: Handler
    allowed: Permission = ANYONE


@dataclass
class Hooks:
    """Outbox hooks by effect kind, in registration order (several journeys may follow the same kind)."""

    delivered: dict[str, list[DeliveredHook]] = field(default_factory=dict)
    dead: dict[str, list[DeadHook]] = field(default_factory=dict)


class Router:
    def __init__(self) -> None:
        self.commands: list[Command] = []
        self._by_word: dict[str, Command] = {}
        self.verbs: dict[str, Verb] = {}
        self.hooks = Hooks()
        self.fallback: Handler | None = None
        self.understand: Understand | None = None
        self.school: object | None = None  # the school config, set by create_app (for `Permission.in_school`)

    # ---- registration ----------------------------------------------------------------------------------
    def command(
        self,
        *words: str,
        title: str,
        description: str,
        handler: Handler,
        allowed: Permission = ANYONE,
        verb: str | None = None,
        listed: Check | None = None,
    ) -> None:
        """A typed command (its first word is the one shown on the help card), optionally also a card verb.

        `listed` narrows who sees it on the help card (e.g. `note` is listed for supervisors, but whoever is
        allocated a supervisee may use it: the journey checks the allocation itself)."""
        cmd = Command(tuple(w.lower() for w in words), title, description, handler, allowed, verb, listed)
        for w in cmd.words:
            if w in self._by_word:
                raise ValueError(f"command word {w!r} registered twice")
            self._by_word[w] = cmd
        self.commands.append(cmd)
        if verb:
            self.verb(verb, handler, allowed=allowed)

    def verb(self, verb: str, handler: Handler, *, allowed: Permission = ANYONE) -> None:
        """A card verb (Action.Execute `verb`) and who may use it."""
        if verb in self.verbs:
            raise ValueError(f"verb {verb!r} registered twice")
        self.verbs[verb] = Verb(verb, handler, allowed)

    def on_delivered(self, kind: str, hook: DeliveredHook) -> None:
        """Run `hook` in the worker's transaction when an outbox row of `kind` has been delivered."""
        self.hooks.delivered.setdefault(kind, []).append(hook)

    def on_dead_letter(self, kind: str, hook: DeadHook) -> None:
        """Run `hook` in the worker's transaction when an outbox row of `kind` gives up."""
        self.hooks.dead.setdefault(kind, []).append(hook)

    # ---- lookup ----------------------------------------------------------------------------------------
    def commands_for(self, actor: StaffMember | None, school: object | None = None) -> list[Command]:
        """The commands this person may use, in help-card order (none for someone not on the roster)."""
        if actor is None:
            return []
        return [
            c
            for c in self.commands
            if c.allowed.allows(actor, school or self.school) and (c.listed is None or c.listed(actor))
        ]

    def command_named(self, word: str) -> Command | None:
        return self._by_word.get(word.lower())

    def _route(self, turn: Turn) -> tuple[Handler, Permission, str] | None:
        if turn.verb:
            v = self.verbs.get(turn.verb)
            return (v.handler, v.allowed, v.name) if v else None
        word = turn.text.strip().lower().split(" ", 1)[0] if turn.text else ""
        cmd = self._by_word.get(word)
        if self.understand is not None and turn.text and not (cmd and turn.text.strip().lower() == word):
            found = self.understand(self, turn, cmd)
            if found is None:
                return None
            if isinstance(found, Command):
                cmd = found
            else:
                return found, ANYONE, "free text"
        return (cmd.handler, cmd.allowed, cmd.words[0]) if cmd else None

    def resolve(self, turn: Turn) -> Handler | None:
        route = self._route(turn)
        return route[0] if route else None

    async def dispatch(self, services: Services, turn: Turn) -> Reply:
        """Run the turn's handler if its permission allows the actor; otherwise answer with the refusal."""
        route = self._route(turn)
        if route is None:
            if self.fallback is None:
                return Reply(text="Sorry, I didn't understand that.")
            return await self.fallback(services, turn)
        handler, allowed, name = route
        if not turn.verb and name in SCOPES and not allowed_in(name, turn.conversation_kind):
            # bot/scopes.py: record content stays in personal chat (and, for group records, the Safeguarding
            # channel); a group chat may only ask for help or make a request.
            refuse(turn, f"{name}: not in a {turn.conversation_kind} conversation")
            await audit_refusal(services, turn, audit.COMMAND, name)
            return Reply(text=ELSEWHERE.format(word=name))
        if not allowed.allows(turn.actor, services.school):
            refuse(turn, f"{name}: needs {allowed.name}")
            await audit_refusal(services, turn, audit.VERB if turn.verb else audit.COMMAND, name)
            if allowed.as_card and not turn.invoke:
                return Reply.of(message_card("Not available", allowed.refusal))
            return say(turn, allowed.refusal)
        token = REFUSED_IN_TURN.set(False)
        try:
            reply = await handler(services, turn)
            refused = REFUSED_IN_TURN.get()
        finally:
            REFUSED_IN_TURN.reset(token)
        if refused:
            # A journey's own check (is this *your* draft, *your* supervisee) refused a card: audited the same way.
            await audit_refusal(services, turn, audit.VERB if turn.verb else audit.COMMAND, name)
        return reply
