"""Journey: help and welcome — what *this* person can do here, given their role.

Seed 001 SOP §2–3 gives each role its part (the DSL team, allocators, trained supervisors, staff; seed 004 §4
adds the safeguarding governor), so the card lists only the commands the person's role allows, in the router's
order. It is also the answer to anything the bot did not understand.
"""

from __future__ import annotations

from bot import labels
from bot.journeys.base import Reply, Services, Turn
from bot.journeys.router import ANYONE, Router
from bot.school import Role, StaffMember
from cards import help as help_cards

ROLE_NAMES = {
    Role.DSL: "DSL team",
    Role.ALLOCATOR: "allocator",
    Role.SUPERVISOR: "trained supervisor",
    Role.GOVERNOR: "safeguarding governor",
    Role.PASTORAL_LEAD: "pastoral lead",
}


def register(router: Router) -> None:
    async def show_help(services: Services, turn: Turn) -> Reply:
        """Shows the help card listing the commands this user may use."""
        return Reply.of(_card(router, services, turn))

    router.command(
        "help",
        "?",
        "menu",
        title="Help",
        description="Show what you can do here.",
        handler=show_help,
        verb="help.show",
        allowed=ANYONE,
    )
    router.fallback = show_help


def _card(router: Router, services: Services, turn: Turn, *, welcome: bool = False) -> dict:
    actor = turn.actor
    items = [
        (c.title, c.description, c.words[0], c.verb)
        for c in router.commands_for(actor, services.school)
        if c.words[0] != "help"
    ]
    deployment = services.deployment
    lead = deployment.trust_lead(turn.aad_object_id) if deployment is not None and deployment.is_trust else None
    roles = _role_names(actor) if actor else []
    if lead is not None:
        # A trust lead is found by identity in the trust file, not by a school role (seed 004 §4).
        trust = router.command_named("trust")
        if trust is not None:
            items = [(trust.title, trust.description, trust.words[0], trust.verb), *items]
        roles = [*roles, "trust lead"]
    return help_cards.help_card(
        school_name=deployment.name if lead is not None else services.school.name,
        person_name=actor.first_name if actor else (lead.first_name if lead else None),
        role_names=roles,
        at_school=services.school.name if deployment is not None and deployment.is_trust and actor else None,
        commands=items,
        welcome=welcome,
        helpline=labels.helpline_text(services.school),
        unknown_text=turn.text if (turn.text and not welcome and router.resolve(turn) is None) else None,
    )


def welcome_card(router: Router, services: Services, turn: Turn) -> dict:
    """The first card someone sees when the app is installed for them."""
    return _card(router, services, turn, welcome=True)


def _role_names(actor: StaffMember) -> list[str]:
    return [name for r, name in ROLE_NAMES.items() if r in actor.roles]
