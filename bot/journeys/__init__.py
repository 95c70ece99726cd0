"""User journeys, one module each, registered here — the one place that says what the bot can do.

Each module's `register(router)` declares its commands, its card verbs with the permission each needs, and the
outbox delivery hooks it owns. Order matters only for the help card: commands are listed in registration order,
and help comes last (it lists the others, and is the fallback for anything not understood).
"""

from __future__ import annotations

from bot.journeys.router import Router


def build_router() -> Router:
    from bot.journeys import (
        actions,
        agreements,
        allocation,
        audit_trail,
        compliance,
        exports,
        group_changes,
        group_record,
        group_sessions,
        handover,
        help,
        join_links,
        meetings,
        my_supervision,
        myactions,
        one_to_one,
        reminders_now,
        request,
        scheduling,
        series,
        specialist,
        specialist_notes,
        supervisor_pool,
        trust,
        understood,
    )

    router = Router()
    for journey in (
        request,
        allocation,
        scheduling,
        meetings,
        series,
        my_supervision,
        group_record,
        group_sessions,
        group_changes,
        join_links,
        actions,
        compliance,
        reminders_now,
        specialist,
        specialist_notes,
        supervisor_pool,
        one_to_one,
        agreements,
        myactions,
        handover,
        audit_trail,
        trust,
        exports,
    ):
        journey.register(router)
    help.register(router)
    understood.register(router)  # last: free text is matched against every command registered above
    return router
