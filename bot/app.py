"""create_app(settings) → the aiohttp Application: routes plus cleanup contexts that own every resource."""

from __future__ import annotations

import logging
import socket

from aiohttp import web

from bot import __version__
from bot.journeys import build_router
from bot.journeys.base import Services, utc_now
from bot.school import School, SchoolConfigError, load_school
from bot.settings import Settings
from bot.store import Database

log = logging.getLogger("bot")

SERVICES = web.AppKey("services", Services)
DB = web.AppKey("db", Database)
SETTINGS = web.AppKey("settings", Settings)
OUTBOX = web.AppKey("outbox", object)
#: After SIGTERM: how long in-flight turns (run_app's shutdown_timeout), outbox deliveries and reminder sends may
#: take to finish. They run side by side, so the process exits within about this long (README "Production start").
SHUTDOWN_GRACE = 10.0


def create_app(
    settings: Settings, *, clock=utc_now, db: Database | None = None, graph_credential=None
) -> web.Application:
    """Build the app; nothing connects until the app starts (cleanup contexts open and close resources).

    `graph_credential`: an azure-identity style credential for the msgraph backend instead of the one the GRAPH_*
    settings select (tests: a fixed token for the Graph double)."""
    school = load_school(settings.school_config)
    calendar = _term_calendar(school)
    app = web.Application(client_max_size=1024 * 1024)
    app[SETTINGS] = settings
    db = db or Database(settings.database_url)
    app[DB] = db
    services = Services(school=school, db=db, clock=clock, calendar=calendar)
    app[SERVICES] = services

    async def store_ctx(app_: web.Application):
        await db.migrate()
        yield
        await db.close()

    app.cleanup_ctx.append(store_ctx)

    # Bot Framework lives only in bot/teams; imported here, at build time, never at module import.
    from bot.delivery import RateLimiter, ThrottledMessenger
    from bot.effects import outbox_hooks, teams_handlers
    from bot.outbox import OUTAGE_PATIENCE, OutboxWorker
    from bot.reminders.scheduler import Scheduler
    from bot.teams.adapter import TeamsMessenger, build_adapter, messages_handler
    from bot.teams.handler import SupervisionBot
    from graph import GraphConfigError, build_backend, graph_handlers

    adapter, auth = build_adapter(settings)
    router = build_router()
    services.router = router
    bot = SupervisionBot(services, router)
    # One limiter for every proactive send (outbox cards and reminder fan-out), so the app as a whole stays under
    # Teams' per-conversation and 50 requests/s per-tenant limits; 5 % headroom for replies to people's own turns.
    teams_messenger = TeamsMessenger(auth, settings.app_id)
    services.rate_limiter = RateLimiter(headroom=0.95)
    services.messenger = ThrottledMessenger(teams_messenger, services.rate_limiter)
    services.teams_send = teams_messenger.sender

    async def teams_ctx(app_: web.Application):
        yield
        await auth.close()

    app.cleanup_ctx.append(teams_ctx)

    try:
        m365 = build_backend(
            settings.graph, db=db, school=school, local_dir=settings.local_m365_dir, credential=graph_credential
        )
    except GraphConfigError as exc:
        raise SchoolConfigError(f"Microsoft Graph settings: {exc}") from None
    services.m365 = m365

    async def m365_ctx(app_: web.Application):
        await m365.verify()
        yield
        await m365.close()

    # Registered before the outbox, so the worker stops before the backend closes.
    app.cleanup_ctx.append(m365_ctx)

    # The journeys registered their delivery hooks on the router next to their verbs.
    on_delivered, on_dead_letter = outbox_hooks(services, router.hooks)
    from bot.records.signoff_files import signoff_handlers

    handlers = {
        **teams_handlers(services, services.messenger),
        **graph_handlers(m365, db=db, school=school),
        **signoff_handlers(services),
    }
    worker = OutboxWorker(
        db,
        handlers,
        clock=clock,
        name="outbox",
        on_delivered=on_delivered,
        on_dead_letter=on_dead_letter,
        patience=OUTAGE_PATIENCE,
    )
    services.outbox_worker = worker
    app[OUTBOX] = worker

    async def outbox_ctx(app_: web.Application):
        if settings.workers:
            worker.start()
        yield
        await worker.stop(SHUTDOWN_GRACE)

    app.cleanup_ctx.append(outbox_ctx)

    # Reminders, mop-up proposals and the DSL digest: timed work rebuilt from the database at every start.
    owner = settings.instance_id or f"bot@{socket.gethostname()}:{settings.port}"
    scheduler = Scheduler(services, clock, owner=owner[:80])
    services.scheduler = scheduler

    async def scheduler_ctx(app_: web.Application):
        if settings.workers:
            scheduler.start()
        yield
        await scheduler.shutdown(SHUTDOWN_GRACE)

    app.cleanup_ctx.append(scheduler_ctx)

    # Retention (bot/store/datamap.py): expired drafts, outbox payloads and audit events, once a day.
    from bot.store.retention import RetentionJob

    retention = RetentionJob(services, clock)

    async def retention_ctx(app_: web.Application):
        if settings.workers:
            retention.start()
        yield
        await retention.stop()

    app.cleanup_ctx.append(retention_ctx)

    async def stop_taking_work(app_: web.Application):
        """Shutdown has begun: take no new outbox rows or reminder batches while in-flight turns finish."""
        worker.begin_stop(SHUTDOWN_GRACE)
        scheduler.stop(SHUTDOWN_GRACE)

    app.on_shutdown.append(stop_taking_work)

    async def healthz(request: web.Request) -> web.Response:
        ok = await db.healthy()
        return web.json_response(
            {
                "status": "ok" if ok else "degraded",
                "version": __version__,
                "store": "reachable" if ok else "unreachable",
                "mode": "local" if settings.local_mode else "bot-framework-auth",
            },
            status=200 if ok else 503,
        )

    app.router.add_get("/healthz", healthz)
    from bot.dashboard.web import handler as dashboard_handler

    app.router.add_get("/dashboard", dashboard_handler(services, local_mode=settings.local_mode))
    app.router.add_post("/api/messages", messages_handler(adapter, bot))
    return app


def _term_calendar(school: School):
    """Build the term calendar now so a bad date stops start-up, naming the file and the dates."""
    from bot.domain.calendar import CalendarError, TermCalendar

    try:
        return TermCalendar.from_school(school)
    except CalendarError as exc:
        problems = getattr(exc, "problems", None) or [str(exc)]
        raise SchoolConfigError("\n".join(f"{school.path}: terms: {p}" for p in problems)) from None
