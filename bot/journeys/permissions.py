"""Who may do what, by role (seed 001 SOP §2–3, seed 004 §4): the permissions journeys declare on their verbs.

A permission looks only at the actor's roster entry, found from their Teams identity — never at the card. The
sentence is what a refused person reads; it names the role that may, never anything from the payload.
"""

from __future__ import annotations

from bot.journeys.router import ANYONE, Permission
from bot.school import Role, StaffMember

NOT_ON_ROSTER = (
    "I can't find you on the school's staff list, so I can't do that for you. Please ask the DSL "
    "team to check your details."
)


def on_roster(refusal: str = NOT_ON_ROSTER) -> Permission:
    """Anyone on the school's staff list."""
    return Permission("on the staff list", lambda _a: True, refusal)


def role(r: Role, refusal: str, name: str | None = None, *, as_card: bool = False) -> Permission:
    """People with this role in the school config."""
    return Permission(name or r.value, lambda a: a.has(r), refusal, as_card=as_card)


def any_role(roles: tuple[Role, ...], refusal: str, name: str) -> Permission:
    """People with at least one of these roles."""
    return Permission(name, lambda a: any(a.has(r) for r in roles), refusal)


def dsl_or_senior_leader(refusal: str, name: str = "DSL team or senior leaders") -> Permission:
    """The DSL team, and the school's senior leaders group (`school.senior_leaders_group`) — the people the
    oversight dashboard is for (bot/dashboard/web.py `may_view`). Without the school config: the DSL team only."""

    def in_school(school, a: StaffMember) -> bool:
        group = school.settings.senior_leaders_group
        return a.has(Role.DSL) or (group is not None and a.group == group)

    return Permission(name, lambda a: a.has(Role.DSL), refusal, in_school=in_school)


def is_senior_leader(school, actor: StaffMember | None) -> bool:
    group = school.settings.senior_leaders_group
    return actor is not None and group is not None and actor.group == group


def is_dsl(actor: StaffMember | None) -> bool:
    """In the DSL team (the designated safeguarding lead and deputies)."""
    return actor is not None and actor.has(Role.DSL)


__all__ = [
    "ANYONE",
    "NOT_ON_ROSTER",
    "Permission",
    "any_role",
    "dsl_or_senior_leader",
    "is_dsl",
    "is_senior_leader",
    "on_roster",
    "role",
]
