"""`python -m bot.roster sync [--apply]`: read the roster from the tenant's Entra groups, show the changes (ids and
names only), and with --apply write the synced roster beside the school YAML. See bot/roster/__init__.py."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from pathlib import Path


async def run(args, *, directory=None, out=print) -> int:
    from bot.roster import RosterError, roster_override_path, sync
    from bot.school import SchoolConfigError, load_school

    school_path = Path(args.config) if args.config else None
    backend = None
    try:
        if school_path is None:
            from bot.settings import SettingsError, load_settings

            try:
                school_path = load_settings().school_config
            except SettingsError as exc:
                out(f"roster: {exc}")
                return 2
        if directory is None:
            directory, backend = await _directory(load_school(school_path))
        now = dt.datetime.now(dt.timezone.utc)
        result = await sync(school_path, directory, do_apply=args.apply, today=now.date(), now=now)
    except (RosterError, SchoolConfigError) as exc:
        out(f"roster: {exc}")
        return 1
    except Exception as exc:  # noqa: BLE001 - a Graph error becomes one line, never a stack of URLs
        from graph.errors import GraphError

        if not isinstance(exc, GraphError):
            raise
        out(f"roster: Microsoft Graph: {exc}")
        return 1
    finally:
        if backend is not None:
            await backend.close()
    out(result.report())
    if args.apply:
        out(f"roster: wrote {roster_override_path(school_path)}; restart the bot to use it")
    elif result.changes:
        out("roster: nothing written (dry run); run again with --apply to use this roster")
    return 0


async def _directory(school):
    """The directory the settings select: Microsoft Graph when GRAPH_* is set, else the school YAML itself."""
    from graph import GraphConfigError, build_backend, load_graph_settings
    from graph.local import LocalDirectory

    gs = load_graph_settings()
    cfg = school.settings.safeguarding_channel
    if gs.mode(team_id=cfg.team_id, channel_id=cfg.channel_id) != "msgraph":
        return LocalDirectory(school), None
    try:
        backend = build_backend(gs, db=None, school=school, local_dir=Path("."))
    except GraphConfigError:
        raise
    await backend.verify()
    return backend.directory, backend


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bot.roster", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("sync", help="read the roster from Entra groups and show (or --apply) the changes")
    s.add_argument("--apply", action="store_true", help="write <school>.roster.yaml (default: only show the diff)")
    s.add_argument("--config", help="the school YAML (default: SCHOOL_CONFIG)")
    args = p.parse_args(argv)
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
