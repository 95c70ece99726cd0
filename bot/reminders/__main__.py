"""`python -m bot.reminders`: the reminder round on demand, for IT (the DSL team has the same in Teams: `reminders`).

    python -m bot.reminders preview [--at DATETIME]    who a round sent now would remind, who can't be reached,
                                                       when the next automatic round is (staff ids, no content)
    python -m bot.reminders send [--at DATETIME]       send that round now: the scheduled round's own claims,
                                                       sending window, Teams limits and one-per-point guarantee

--at YYYY-MM-DD[THH:MM] (school time; a date alone is that day at reminders.send_at) acts as if it were then, for
trying a school out locally; `send --at` is refused with bot credentials set. Uses the bot's own settings
(DATABASE_URL, SCHOOL_CONFIG, bot credentials) from the environment or .env.
"""

from __future__ import annotations

import argparse
import asyncio
import sys


def _lines(p) -> list[str]:
    if p.label is None:
        return ["reminders: no half term now or to come in the school config"]
    out = [f"half term: {p.label}" + ("" if p.in_term else " (next; it is the holiday)")]
    if p.days_left is not None:
        out.append(f"school days left: {p.days_left} (last day {p.deadline})")
    if p.point is not None:
        how = "live today" if p.point == p.live else f"brought forward from {p.point_due}"
        out.append(f"round: {p.point} school days left ({how})")
    out.append(
        f"sending window: {'open' if p.window_open else 'closed'}"
        + ("" if p.window_open or p.next_opening is None else f", opens {p.next_opening.isoformat()}")
    )
    out.append(
        f"would remind: {len(p.reachable)}" + (": " + " ".join(d.staff_id for d in p.reachable) if p.reachable else "")
    )
    out.append(
        f"cannot be reached: {len(p.unreachable)}"
        + (": " + " ".join(f"{d.staff_id}({d.why_unreachable})" for d in p.unreachable) if p.unreachable else "")
    )
    out.append(f"already reminded at this point: {p.already}")
    nxt = p.next_round
    out.append(
        f"next automatic round: {nxt[0].isoformat()} ({nxt[1]} school days left)"
        if nxt
        else "next automatic round: none left"
    )
    return out


async def run(args: argparse.Namespace, settings) -> int:
    from aiohttp import web

    from bot.app import DEPLOYMENT, SERVICES, create_app
    from bot.democlock import DemoClock, start_of
    from bot.journeys.base import utc_now
    from bot.reminders import on_demand
    from bot.school import SchoolConfigError
    from bot.school.trust import load_deployment

    if args.at and args.command == "send" and not settings.local_mode:
        print(
            "reminders: send --at is for local mode only (bot credentials are set); send without --at", file=sys.stderr
        )
        return 2
    clock = utc_now
    if args.at:
        try:
            clock = DemoClock(start_of(args.at, load_deployment(settings.school_config).first))
        except ValueError as exc:
            print(f"reminders: --at: {exc}", file=sys.stderr)
            return 2
    try:
        app = create_app(settings, clock=clock)
    except SchoolConfigError as exc:
        print(f"reminders: the school config cannot be used:\n{exc}", file=sys.stderr)
        return 2
    runner = web.AppRunner(app)
    await runner.setup()  # migrations and the Microsoft 365 backend; no workers, no listening socket
    try:
        services = app[SERVICES]
        peers = app[DEPLOYMENT]
        wanted = getattr(args, "school", None)
        if len(peers) > 1 or wanted:
            if wanted not in peers:
                print(f"reminders: --school must be one of: {', '.join(peers)}", file=sys.stderr)
                return 2
            services = peers[wanted]
        if args.command == "preview":
            print("\n".join(_lines(await on_demand.preview(services, clock()))))
            return 0
        result = await on_demand.send_now(services, clock(), inline=True)
        print("\n".join(_lines(result.preview)))
        if result.status == "sent":
            print(f"sent: {result.sent}, could not be reached: {result.unreachable}")
            return 0
        print(
            {"closed": "not sent: the sending window is closed", "nothing": "not sent: nobody to remind"}.get(
                result.status, f"not sent: {result.status}"
            )
        )
        return 1
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    from bot.settings import SettingsError, load_settings

    parser = argparse.ArgumentParser(prog="python -m bot.reminders", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, what in (("preview", "who a round sent now would remind"), ("send", "send that round now")):
        p = sub.add_parser(name, help=what)
        p.add_argument("--at", metavar="DATETIME", help="YYYY-MM-DD or YYYY-MM-DDTHH:MM, school time")
        p.add_argument("--school", metavar="KEY", help="which school of a trust (its key in the trust file)")
    args = parser.parse_args(argv)
    import os
    import socket

    try:
        # Its own name on the claims it leases, so it never takes over sends a running bot has in flight.
        settings = load_settings(WORKERS=False, INSTANCE_ID=f"cli@{socket.gethostname()}:{os.getpid()}"[:80])
    except SettingsError as exc:
        print(f"reminders: {exc}", file=sys.stderr)
        return 2
    from bot.logs import configure

    configure(settings.log_level)
    return asyncio.run(run(args, settings))


if __name__ == "__main__":
    sys.exit(main())
