"""Help and welcome: what *this* person can do here, given their role."""
from __future__ import annotations

from bot.journeys.base import Reply, Services, Turn
from bot.journeys.router import Router
from cards import help as help_cards


def register(router: Router) -> None:
    async def show_help(services: Services, turn: Turn) -> Reply:
        """Shows the help card listing the commands this user may use."""
        return Reply.of(_card(router, services, turn))

    router.command("help", "?", "menu", title="Help", description="Show what you can do here.",
                   handler=show_help, verb="help.show")
    router.fallback = show_help


def _card(router: Router, services: Services, turn: Turn, *, welcome: bool = False) -> dict:
    actor = turn.actor
    items = [(c.title, c.description, c.words[0], c.verb) for c in router.commands_for(actor) if c.words[0] != "help"]
    return help_cards.help_card(
        school_name=services.school.name,
        person_name=actor.first_name if actor else None,
        role_names=_role_names(actor) if actor else [],
        commands=items,
        welcome=welcome,
        unknown_text=turn.text if (turn.text and not welcome and router.resolve(turn) is None) else None,
    )


def welcome_card(router: Router, services: Services, turn: Turn) -> dict:
    return _card(router, services, turn, welcome=True)


def _role_names(actor) -> list[str]:
    from bot.school import Role
    names = {Role.DSL: "DSL team", Role.ALLOCATOR: "allocator", Role.SUPERVISOR: "trained supervisor",
             Role.GOVERNOR: "safeguarding governor"}
    return [names[r] for r in (Role.DSL, Role.ALLOCATOR, Role.SUPERVISOR, Role.GOVERNOR) if r in actor.roles]
