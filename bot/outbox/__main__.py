"""`python -m bot.outbox`: what could not be delivered, and sending it again once the cause is fixed.

    python -m bot.outbox list                 dead-lettered side effects (kind, key, attempts, reason; no content)
    python -m bot.outbox retry KEY [KEY …]    give these a fresh set of attempts
    python -m bot.outbox retry --all          every dead-lettered row

The DSL team's "could not be delivered" notices name the row's key. The running bot's worker picks requeued rows
up at its next poll. Uses the same settings as the bot (DATABASE_URL from the environment or .env).
"""

from __future__ import annotations

import argparse
import asyncio
import sys


async def _run(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from bot.outbox.api import requeue
    from bot.settings import SettingsError, load_settings
    from bot.store import Database
    from bot.store.models_outbox import DEAD, OutboxRow

    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"outbox: {exc}", file=sys.stderr)
        return 2
    db = Database(settings.database_url)
    try:
        async with db.session() as s:
            dead = (
                await s.execute(
                    select(
                        OutboxRow.key, OutboxRow.kind, OutboxRow.attempts, OutboxRow.last_error, OutboxRow.finished_at
                    )
                    .where(OutboxRow.status == DEAD)
                    .order_by(OutboxRow.id)
                )
            ).all()
            if args.command == "list":
                if not dead:
                    print("outbox: nothing dead-lettered")
                for key, kind, attempts, error, finished in dead:
                    when = finished.isoformat(timespec="seconds") if finished else "?"
                    print(f"{key}\t{kind}\tattempts={attempts}\tgave up {when}\t{(error or '')[:160]}")
                return 0
            keys = [k for k, *_ in dead] if args.all else args.keys
            if not keys:
                print("outbox: name the keys to retry, or --all", file=sys.stderr)
                return 2
            missing = [k for k in keys if not await requeue(s, k)]
        for key in missing:
            print(f"outbox: {key}: not dead-lettered (unknown, pending or already delivered)", file=sys.stderr)
        print(f"outbox: requeued {len(keys) - len(missing)} of {len(keys)}")
        return 1 if missing else 0
    finally:
        await db.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.outbox", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="dead-lettered side effects, without their content")
    retry = sub.add_parser("retry", help="give dead-lettered rows a fresh set of attempts")
    retry.add_argument("keys", nargs="*", help="outbox keys, as the DSL notice names them")
    retry.add_argument("--all", action="store_true", help="every dead-lettered row")
    return asyncio.run(_run(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
