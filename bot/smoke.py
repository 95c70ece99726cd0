"""`python -m bot.smoke`: after a deployment, check that this bot can work — without writing any safeguarding
content, sending any message or changing the schema.

    settings   the environment / .env validate (as at start-up); which settings are set (names, never values)
    school     the school YAML (and the synced roster, if any) loads
    store      the database answers, and is migrated to every Alembic head (read only: it never migrates)
    graph      Microsoft Graph: signs in once (when GRAPH_* is set); the local backend otherwise
    channel    the Safeguarding channel's files folder resolves (Graph: a GET of the folder item)
    teams app  the app id for proactive installs is set (Graph mode)

Exit 0 when every check passes, 1 when one fails, 2 when the settings themselves are invalid. Each line says what
to fix, naming settings, never printing their values.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from dataclasses import dataclass

CHECK_TIMEOUT = 30.0


@dataclass
class Check:
    name: str
    ok: bool | None  # None: not applicable here (skipped)
    detail: str

    def line(self) -> str:
        mark = {True: "ok  ", False: "FAIL", None: "skip"}[self.ok]
        return f"{mark} {self.name:<9} {self.detail}"


def _store_revisions(connection):
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from bot.store.db import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    heads = set(ScriptDirectory.from_config(cfg).get_heads())
    current = set(MigrationContext.configure(connection).get_current_heads())
    return current, heads


async def check_store(url: str) -> Check:
    from bot.store import Database

    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            current, heads = await conn.run_sync(_store_revisions)
    except Exception as exc:  # noqa: BLE001 - reported, never raised
        return Check("store", False, f"cannot reach the database in DATABASE_URL ({type(exc).__name__})")
    finally:
        await db.close()
    if not current:
        return Check("store", False, "reachable but not migrated: start the bot once (it migrates at start-up)")
    if current != heads:
        return Check(
            "store",
            False,
            f"reachable but at {len(current)} revision(s) other than the {len(heads)} "
            "head(s) of this version: start this version once to migrate",
        )
    return Check("store", True, f"reachable, migrated ({', '.join(sorted(heads))})")


async def _with_timeout(name: str, coro) -> Check:
    try:
        return await asyncio.wait_for(coro, CHECK_TIMEOUT)
    except TimeoutError:
        return Check(name, False, f"no answer in {CHECK_TIMEOUT:g}s")


async def run_checks(settings, *, graph_settings=None, credential=None) -> list[Check]:
    """Every check, in order; later ones are skipped when what they need failed."""
    import os

    from bot.envnames import bot_env_names
    from bot.school import SchoolConfigError
    from bot.school.trust import load_deployment
    from graph import GraphError, build_backend, load_graph_settings

    present = [n for n in bot_env_names() if os.environ.get(n) or os.environ.get(n.upper())]
    mode = (
        "local mode (no bot credentials: loopback only)"
        if settings.local_mode
        else f"Bot Framework auth ({settings.app_type})"
    )
    checks = [Check("settings", True, f"{mode}; set: {', '.join(present) or 'none (all defaults)'}")]
    schools = []
    try:
        deployment = load_deployment(settings.school_config)
        for school in deployment.schools.values():
            roster = "" if school.roster_source == school.path else f", roster from {school.roster_source.name}"
            checks.append(Check("school", True, f"{school.name}: {len(school.staff)} staff{roster}"))
            schools.append(school)
        if deployment.is_trust:
            checks.append(Check("trust", True, f"{deployment.name}: {len(schools)} schools"))
    except SchoolConfigError as exc:
        checks.append(Check("school", False, str(exc).splitlines()[0]))
    school = schools[0] if schools else None
    checks.append(await _with_timeout("store", check_store(settings.database_url)))
    if school is None:
        checks += [Check("graph", None, "needs the school config"), Check("channel", None, "needs the school config")]
        return checks
    try:
        gs = graph_settings if graph_settings is not None else load_graph_settings()
    except GraphError as exc:
        checks.append(Check("graph", False, str(exc)))
        return checks
    if len(schools) > 1:  # each school of a trust has its own Safeguarding channel (bot/app.py)
        gs = gs.model_copy(update={"team_id": "", "safeguarding_channel_id": ""})
    for school in schools:
        try:
            backend = build_backend(
                gs, db=None, school=school, local_dir=settings.local_m365_dir, credential=credential
            )
        except GraphError as exc:
            checks.append(Check("graph", False, str(exc)))
            return checks
        try:
            found = await _graph_checks(backend, gs)
        finally:
            await backend.close()
        if len(schools) > 1:
            found = [Check(c.name, c.ok, f"{school.name}: {c.detail}") for c in found]
        checks += found
    return checks


async def _graph_checks(backend, gs) -> list[Check]:
    from graph import GraphError

    out: list[Check] = []
    if backend.mode != "msgraph":
        out.append(
            Check(
                "graph",
                None,
                "no GRAPH_* settings: the local Microsoft 365 backend (files under "
                "LOCAL_M365_DIR) — not for production",
            )
        )
    else:
        try:
            await asyncio.wait_for(backend.verify(), CHECK_TIMEOUT)
            out.append(Check("graph", True, f"signed in ({gs.credential_kind().replace('_', ' ')})"))
        except (TimeoutError, GraphError) as exc:
            out.append(Check("graph", False, str(exc) or "no answer from Entra ID"))
            out.append(Check("channel", None, "needs a Graph sign-in"))
            return out
    try:
        folder = await asyncio.wait_for(backend.channel_files.resolve_folder(), CHECK_TIMEOUT)
        if backend.mode == "msgraph":
            # With GRAPH_CHANNEL_DRIVE_ID/FOLDER_ID the folder is not looked up: read the item to prove access.
            item = (
                await backend.clients.graph.drives.by_drive_id(folder.drive_id)
                .items.by_drive_item_id(folder.item_id)
                .get()
            )
            if item is None or item.folder is None:
                raise GraphError("the configured channel folder id is not a folder")
        out.append(Check("channel", True, "the Safeguarding channel's files folder resolves"))
    except Exception as exc:  # noqa: BLE001 - reported as one line
        from graph.msgraph.errors import translate

        err = translate(exc, "read the Safeguarding channel's files folder")
        out.append(Check("channel", False, str(err) or type(exc).__name__))
    if backend.mode == "msgraph":
        out.append(
            Check("teams app", True, "GRAPH_TEAMS_APP_ID is set (proactive installs)")
            if gs.teams_app_id
            else Check("teams app", False, "GRAPH_TEAMS_APP_ID is empty")
        )
    return out


def main(argv: list[str] | None = None, *, out: Callable[[str], None] = print) -> int:
    from bot.settings import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        out(f"FAIL settings  {exc}")
        return 2
    checks = asyncio.run(run_checks(settings))
    for c in checks:
        out(c.line())
    return 1 if any(c.ok is False for c in checks) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
