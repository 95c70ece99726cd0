"""User journeys, one module each, registered here — the one place that says what the bot can do.

Each module's `register(router)` declares its commands, its card verbs with the permission each needs, and the
outbox delivery hooks it owns. Order matters only for the help card: commands are listed in registration order,
and help comes last (it lists the others, and is the fallback for anything not understood).
"""
from __future__ import annotations

from bot.journeys.router import Router


def build_router() -> Router:
    from bot.journeys import (actions, compliance, group_record, help, meetings, my_supervision, request,
                              scheduling, specialist, supervisor_pool, targeted)

    router = Router()
    for journey in (request, scheduling, meetings, my_supervision, group_record, actions, compliance, specialist,
                    supervisor_pool, targeted):
        journey.register(router)
    help.register(router)
    return router
