"""create_app(settings) → the aiohttp Application: routes plus cleanup contexts that own every resource."""

from __future__ import annotations

import asyncio
import logging
import socket

from aiohttp import web

from bot import __version__
from bot.journeys import build_router
from bot.journeys.base import Services, utc_now
from bot.school import School, SchoolConfigError
from bot.school.trust import Deployment, load_deployment
from bot.settings import Settings
from bot.store import Database

log = logging.getLogger("bot")

SERVICES = web.AppKey("services", Services)
DB = web.AppKey("db", Database)
SETTINGS = web.AppKey("settings", Settings)
OUTBOX = web.AppKey("outbox", object)
#: Every school's services by key (one entry for a school on its own; SERVICES is the first school's).
DEPLOYMENT = web.AppKey("deployment", dict)
#: After SIGTERM: how long in-flight turns (run_app's shutdown_timeout), outbox deliveries and reminder sends may
#: take to finish. They run side by side, so the process exits within about this long (README "Production start").
SHUTDOWN_GRACE = 10.0


def create_app(
    settings: Settings, *, clock=utc_now, db: Database | None = None, graph_credential=None
) -> web.Application:
    """Build the app; nothing connects until the app starts (cleanup contexts open and close resources).

    `graph_credential`: an azure-identity style credential for the msgraph backend instead of the one the GRAPH_*
    settings select (tests: a fixed token for the Graph double)."""
    deployment = load_deployment(settings.school_config)
    first = deployment.first
    app = web.Application(client_max_size=1024 * 1024, middlewares=[store_busy])
    app[SETTINGS] = settings
    db = db or Database(settings.database_url)
    # One school: rows written outside a school's session are that school's (as before trusts). A trust: every
    # school-owned write must come from a school's session (bot/store/tenancy.py).
    db.default_school = None if deployment.is_trust else first.key
    db.legacy_school = first.key  # rows from before issue 10 belong to the school the deployment had
    app[DB] = db
    peers: dict[str, Services] = {}
    for school in deployment.schools.values():
        peers[school.key] = Services(
            school=school,
            db=db,
            clock=clock,
            calendar=_term_calendar(school),
            deployment=deployment,
            peers=peers,
        )
    services = peers[first.key]
    app[SERVICES] = services
    app[DEPLOYMENT] = peers

    async def store_ctx(app_: web.Application):
        await db.migrate()
        await _check_school_keys(db, deployment)
        yield
        await db.close()

    app.cleanup_ctx.append(store_ctx)

    # Bot Framework lives only in bot/teams; imported here, at build time, never at module import.
    from bot.delivery import RateLimiter, ThrottledMessenger
    from bot.deployment import SchoolMessenger, by_school, hook_by_school, stamping_sender
    from bot.effects import outbox_hooks, teams_handlers
    from bot.outbox import OUTAGE_PATIENCE, OutboxWorker
    from bot.reminders.scheduler import Scheduler
    from bot.teams.adapter import TeamsMessenger, build_adapter, messages_handler
    from bot.teams.handler import SupervisionBot
    from graph import GraphConfigError, build_backend, graph_handlers

    adapter, auth = build_adapter(settings)
    router = build_router()
    router.school = first  # the help card's default; dispatch checks each turn's own school
    bot = SupervisionBot(peers, router)
    # One limiter per Microsoft 365 tenant for every proactive send (outbox cards and reminder fan-out) of every
    # school in it, so the app stays under Teams' per-conversation and 50 requests/s per-app-per-tenant limits;
    # 5 % headroom for replies to people's own turns.
    teams_messenger = TeamsMessenger(auth, settings.app_id)
    limiters: dict[str | None, RateLimiter] = {}
    messengers: dict[str | None, ThrottledMessenger] = {}
    for key, sv in peers.items():
        tenant = deployment.tenant_of(key)
        if tenant not in limiters:
            limiters[tenant] = RateLimiter(headroom=0.95)
            messengers[tenant] = ThrottledMessenger(teams_messenger, limiters[tenant])
        sv.router = router
        sv.rate_limiter = limiters[tenant]
        if deployment.is_trust:
            sv.messenger = SchoolMessenger(messengers[tenant], key)
            sv.teams_send = stamping_sender(teams_messenger.sender, key)
        else:
            sv.messenger = messengers[tenant]
            sv.teams_send = teams_messenger.sender

    async def teams_ctx(app_: web.Application):
        yield
        await auth.close()

    app.cleanup_ctx.append(teams_ctx)

    # Each school's Microsoft 365 side: its own Safeguarding channel (a trust's schools each name theirs in their
    # own file, so the single-school GRAPH_TEAM_ID / GRAPH_SAFEGUARDING_CHANNEL_ID overrides do not apply).
    graph_settings = settings.graph
    if deployment.is_trust and graph_settings is not None:
        graph_settings = graph_settings.model_copy(update={"team_id": "", "safeguarding_channel_id": ""})
    for sv in peers.values():
        try:
            sv.m365 = build_backend(
                graph_settings,
                db=db,
                school=sv.school,
                local_dir=settings.local_m365_dir,
                credential=graph_credential,
            )
        except GraphConfigError as exc:
            where = f" ({sv.school.path})" if deployment.is_trust else ""
            raise SchoolConfigError(f"Microsoft Graph settings{where}: {exc}") from None

    async def m365_ctx(app_: web.Application):
        for sv in peers.values():
            await sv.m365.verify()
        yield
        for sv in peers.values():
            await sv.m365.close()

    # Registered before the outbox, so the worker stops before the backend closes.
    app.cleanup_ctx.append(m365_ctx)

    # The journeys registered their delivery hooks on the router next to their verbs. Each row is delivered by its
    # own school's handlers and hooks (the worker says which school, from the row).
    from bot.exports.content import content_loader
    from bot.outbox.indoubt import chat_history_for
    from bot.records.signoff_files import signoff_handlers

    per_school_handlers = {}
    per_school_delivered = {}
    per_school_dead = {}
    for key, sv in peers.items():
        per_school_delivered[key], per_school_dead[key] = outbox_hooks(sv, router.hooks)
        per_school_handlers[key] = {
            # Where an in-doubt Teams send is looked for before it goes again: Graph, or TEAMS_HISTORY_URL locally.
            **teams_handlers(sv, sv.messenger, history=chat_history_for(sv.m365, local_url=settings.teams_history_url)),
            **graph_handlers(sv.m365, db=db, school=sv.school, load_content=content_loader(db)),
            **signoff_handlers(sv),
        }
    if deployment.is_trust:
        handlers = by_school(per_school_handlers, first.key)
        on_delivered = hook_by_school(per_school_delivered, first.key)
        on_dead_letter = hook_by_school(per_school_dead, first.key)
    else:
        handlers, on_delivered, on_dead_letter = (
            per_school_handlers[first.key],
            per_school_delivered[first.key],
            per_school_dead[first.key],
        )
    worker = OutboxWorker(
        db,
        handlers,
        clock=clock,
        name="outbox",
        on_delivered=on_delivered,
        on_dead_letter=on_dead_letter,
        patience=OUTAGE_PATIENCE,
    )
    for sv in peers.values():
        sv.outbox_worker = worker
    app[OUTBOX] = worker

    async def outbox_ctx(app_: web.Application):
        if settings.workers:
            worker.start()
        yield
        await worker.stop(SHUTDOWN_GRACE)

    app.cleanup_ctx.append(outbox_ctx)

    # Reminders, mop-up proposals and the DSL digest: timed work rebuilt from the database at every start, one
    # scheduler per school (each school's own half terms, reminder points and mop-up week).
    owner = settings.instance_id or f"bot@{socket.gethostname()}:{settings.port}"
    schedulers = []
    for sv in peers.values():
        sv.scheduler = Scheduler(sv, clock, owner=owner[:80])
        schedulers.append(sv.scheduler)

    async def scheduler_ctx(app_: web.Application):
        if settings.workers:
            for sch in schedulers:
                sch.start()
        yield
        await asyncio.gather(*(sch.shutdown(SHUTDOWN_GRACE) for sch in schedulers))

    app.cleanup_ctx.append(scheduler_ctx)

    # Retention (bot/store/datamap.py): expired drafts, outbox payloads and audit events, once a day, per school
    # (each school's own retention settings).
    from bot.store.retention import RetentionJob

    retentions = [RetentionJob(sv, clock) for sv in peers.values()]

    async def retention_ctx(app_: web.Application):
        if settings.workers:
            for job in retentions:
                job.start()
        yield
        for job in retentions:
            await job.stop()

    app.cleanup_ctx.append(retention_ctx)

    async def stop_taking_work(app_: web.Application):
        """Shutdown has begun: take no new outbox rows or reminder batches while in-flight turns finish."""
        worker.begin_stop(SHUTDOWN_GRACE)
        for sch in schedulers:
            sch.stop(SHUTDOWN_GRACE)

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
    from bot.dashboard.web import add_routes as dashboard_routes
    from bot.dashboard.web import link_for as dashboard_link

    # One dashboard per school (its own figures, its own viewers): the person's school, or `?school=<key>`.
    dashboard_routes(app, peers, settings)
    link = dashboard_link(settings)
    for sv in peers.values():
        sv.dashboard_url = link
    app.router.add_post("/api/messages", messages_handler(adapter, bot, turns_in_flight=settings.turns_in_flight))
    return app


@web.middleware
async def store_busy(request: web.Request, handler):
    """Any route whose unit of work the store could not take in time (StoreBusy: rolled back, nothing written)
    answers 503 with Retry-After, never a 500. Bot turns answer it themselves, on the card (bot/teams/adapter.py)."""
    from bot.store.errors import StoreBusy

    try:
        return await handler(request)
    except StoreBusy:
        return web.json_response(
            {"error": "the store is busy; nothing was changed — try again"}, status=503, headers={"Retry-After": "5"}
        )


def _term_calendar(school: School):
    """Build the term calendar now so a bad date stops start-up, naming the file and the dates."""
    from bot.domain.calendar import CalendarError, TermCalendar

    try:
        return TermCalendar.from_school(school)
    except CalendarError as exc:
        problems = getattr(exc, "problems", None) or [str(exc)]
        raise SchoolConfigError("\n".join(f"{school.path}: terms: {p}" for p in problems)) from None


async def _check_school_keys(db: Database, deployment: Deployment) -> None:
    """Refuse to start when the store holds rows of a school the config no longer lists (a renamed key would leave
    them belonging to nobody, invisible to every school)."""
    from sqlalchemy import select

    from bot.store.models_request import SupervisionRequest
    from bot.store.models_sessions import GroupSession
    from bot.store.models_targeted import TargetedRecord

    found: set[str] = set()
    async with db.session() as s:
        for model in (SupervisionRequest, GroupSession, TargetedRecord):
            found.update((await s.execute(select(model.school_id).distinct())).scalars())
    unknown = sorted(found - set(deployment.schools))
    if unknown:
        raise SchoolConfigError(
            f"{deployment.path}: the store has rows of school(s) {', '.join(unknown)} that the config does not list; "
            "a school's key must not change once it has rows (see docs/TRUST.md)"
        )
