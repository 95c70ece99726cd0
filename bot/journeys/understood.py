"""Free text: what a person types that is not a command word is matched to the commands they may use
(bot/language); unsure → a short choice; a safeguarding disclosure → a safe answer pointing to the DSL team and
the school's safeguarding system, never a form. Nothing typed is logged, stored or repeated back."""

from __future__ import annotations

import logging

from bot.journeys.base import Handler, Reply, Services, Turn
from bot.journeys.router import Command, Router
from bot.language import Kind, Matcher, load_lexicon
from bot.school import Role
from cards import understanding as cards

log = logging.getLogger("bot.journeys")

HELP_WORD = "help"


def register(router: Router) -> None:
    """Called last in build_router, so every command is registered when the matcher is first built."""
    built: list[Matcher] = []

    def matcher() -> Matcher:
        if not built:
            built.append(Matcher(load_lexicon(), words={c.words[0]: c.words for c in router.commands}))
        return built[0]

    def understand(router_: Router, turn: Turn, exact: Command | None) -> Command | Handler | None:
        allowed = [c.words[0] for c in router_.commands_for(turn.actor)]
        understood = matcher().match(turn.text, allowed)
        # Kinds and command words only: the text itself may be about a child.
        log.debug("free text understood as %s %s", understood.kind.value, ",".join(understood.commands))
        if understood.kind is Kind.DISCLOSURE:
            return safeguarding_answer
        if exact is not None and exact.words[0] != HELP_WORD:
            return exact  # a command word first ("record …") keeps meaning that command
        if understood.kind is Kind.COMMAND:
            return router_.command_named(understood.commands[0])
        if understood.kind is Kind.CHOICE and exact is None:
            options = [
                cards.Option(c.title, c.description, c.verb)
                for c in (router_.command_named(w) for w in understood.commands)
                if c is not None and c.verb
            ]
            if options:
                return _choice(options)
        return exact

    router.understand = understand


def _choice(options: list[cards.Option]) -> Handler:
    async def choose(services: Services, turn: Turn) -> Reply:
        """Asks which of the two or three likeliest commands the person meant."""
        return Reply.of(cards.choice_card(person_name=turn.actor.first_name if turn.actor else None, options=options))

    return choose


async def safeguarding_answer(services: Services, turn: Turn) -> Reply:
    """Answers a disclosure typed into the chat: tell the DSL, record it in the school's system; nothing kept."""
    system = services.school.settings.safeguarding_system
    today = turn.now.astimezone(services.school.tz).date()
    dsl = tuple(m.name for m in services.school.with_role(Role.DSL, on=today))
    return Reply.of(cards.safeguarding_card(cards.SafeguardingView(system.name, system.url, dsl)))
