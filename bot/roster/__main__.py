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
        school_path = _school_file(school_path, getattr(args, "school", None))
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


def _school_file(path: Path, key: str | None) -> Path:
    """The school YAML to sync: the config itself, or, for a trust file, the file of the school `--school` names
    (each school's roster comes from its own Entra groups and is written beside its own file)."""
    from bot.school import SchoolConfigError
    from bot.school.config import _read_yaml
    from bot.school.trust import is_trust_file

    if not is_trust_file(_read_yaml(path)):
        return path
    raw = _read_yaml(path)
    files = {e.get("key"): e.get("file") for e in raw.get("schools") or [] if isinstance(e, dict)}
    if key not in files:
        raise SchoolConfigError(f"{path}: a trust file: say which school with --school ({', '.join(map(str, files))})")
    return (path.parent / files[key]).resolve()


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
    s.add_argument("--config", help="the school YAML or trust file (default: SCHOOL_CONFIG)")
    s.add_argument("--school", metavar="KEY", help="with a trust file: which school's roster (its key)")
    args = p.parse_args(argv)
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
