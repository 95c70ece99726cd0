"""`python -m bot`: validate settings and the school config, then serve."""

from __future__ import annotations

import sys

from aiohttp import web


def main() -> int:
    from bot.school import SchoolConfigError
    from bot.settings import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"bot: {exc}", file=sys.stderr)
        return 2
    from bot.app import SERVICES, SHUTDOWN_GRACE, create_app
    from bot.logs import configure

    configure(settings.log_level)

    try:
        clock = None
        if settings.demo_today:
            from bot.democlock import DemoClock, start_of
            from bot.school.trust import load_deployment

            # A trust's schools share one clock: the moment is the first school's (its time zone and send_at).
            school = load_deployment(settings.school_config).first
            clock = DemoClock(start_of(settings.demo_today, school))
            print(
                f"bot: demo clock — it is {clock().astimezone(school.tz):%a %d %b %Y %H:%M} ({school.tz.key}) "
                "and time runs on from there (DEMO_TODAY; local mode only)",
                flush=True,
            )
        app = create_app(settings, clock=clock) if clock else create_app(settings)
    except SchoolConfigError as exc:
        print(f"bot: the school config cannot be used:\n{exc}", file=sys.stderr)
        return 2
    mode = "local mode (no bot credentials; loopback only)" if settings.local_mode else "Bot Framework auth"
    school = app[SERVICES].school
    deployment = app[SERVICES].deployment
    serving = school.name
    if deployment is not None and deployment.is_trust:
        serving = f"{deployment.name}: {', '.join(s.name for s in deployment.schools.values())}"
    print(
        f"bot: serving {serving} ({settings.school_config.name}) on "
        f"http://{settings.host}:{settings.port}/api/messages — {mode}",
        flush=True,
    )
    # SIGTERM/SIGINT: stop listening, let in-flight turns finish (up to the grace), stop the workers (bot/app.py),
    # then return 0.
    web.run_app(
        app, host=settings.host, port=settings.port, print=None, access_log=None, shutdown_timeout=SHUTDOWN_GRACE
    )
    print("bot: stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
