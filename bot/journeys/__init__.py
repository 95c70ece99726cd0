"""User journeys, one module each, registered here — the one place that says what the bot can do.

Order matters only for the help card (commands are listed in registration order).
"""
from __future__ import annotations

from bot.journeys.router import Router


def build_router() -> Router:
    from bot.journeys import help as help_journey
    from bot.journeys import understood

    router = Router()
    # Journey modules register their commands and verbs here (request, group_record, compliance …).
    for module in _journey_modules():
        module.register(router)
    help_journey.register(router)
    understood.register(router)   # last: free text is matched against every command registered above
    return router


def _journey_modules():
    import importlib

    mods = []
    for name in JOURNEYS:
        mods.append(importlib.import_module(f"bot.journeys.{name}"))
    return mods


# Journey modules in help-card order. Each has register(router).
JOURNEYS: list[str] = ["request", "scheduling", "group_record", "actions", "compliance", "reminders_now", "specialist",
                        "supervisor_pool", "targeted"]
