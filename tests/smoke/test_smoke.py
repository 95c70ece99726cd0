"""python -m bot.smoke: settings, school, store (reachable and migrated, never migrated by the check), Graph
sign-in and the channel folder — on the local backend and on msgraph-sdk against the Graph double — writing no
content anywhere."""

from __future__ import annotations

import pytest

from bot.settings import load_settings
from bot.smoke import main, run_checks
from bot.store import Database
from tests.conftest import DEMO_SCHOOL
from tests.fakes.graph_double import StaticTokenCredential
from tests.graph.conftest import CHANNEL_ID, TEAM_ID, graph_settings, seeded_double  # noqa: F401


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    import os

    for name in list(os.environ):
        if name.startswith("GRAPH_") or name.startswith("Microsoft") or name in ("DATABASE_URL", "SCHOOL_CONFIG"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no .env from the checkout


def settings_for(tmp_path, url: str):
    return load_settings(
        DATABASE_URL=url, SCHOOL_CONFIG=str(DEMO_SCHOOL), LOCAL_M365_DIR=str(tmp_path / "m365"), _env_file=None
    )


def by_name(checks):
    return {c.name: c for c in checks}


async def migrated_sqlite(tmp_path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    db = Database(url)
    await db.migrate()
    await db.close()
    return url


async def test_local_backend_all_good(tmp_path, clean_env):
    url = await migrated_sqlite(tmp_path)
    checks = by_name(await run_checks(settings_for(tmp_path, url)))
    assert checks["settings"].ok and "local mode" in checks["settings"].detail
    assert checks["school"].ok and "Kestrel Brook School: 40 staff" in checks["school"].detail
    assert checks["store"].ok and "migrated" in checks["store"].detail
    assert checks["graph"].ok is None and "local Microsoft 365 backend" in checks["graph"].detail
    assert checks["channel"].ok
    written = [p for p in (tmp_path / "m365").rglob("*") if p.is_file()]
    assert written == [], "the smoke test writes no file"


async def test_an_unmigrated_store_is_reported_and_left_alone(tmp_path, clean_env):
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}"
    checks = by_name(await run_checks(settings_for(tmp_path, url)))
    assert checks["store"].ok is False and "not migrated" in checks["store"].detail
    db = Database(url)
    async with db.engine.connect() as conn:
        from sqlalchemy import text

        tables = (await conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))).all()
    await db.close()
    assert tables == [], "the check must not migrate (or create anything)"


async def test_an_unreachable_store_fails_in_one_line(tmp_path, clean_env):
    checks = by_name(await run_checks(settings_for(tmp_path, "postgresql+asyncpg://nobody@127.0.0.1:9/none")))
    assert checks["store"].ok is False
    assert "cannot reach the database in DATABASE_URL" in checks["store"].detail
    assert "nobody" not in checks["store"].detail, "no part of the URL is printed"


async def test_graph_sign_in_and_channel_folder_against_the_double(tmp_path, clean_env, school):
    double = await seeded_double(school)
    try:
        url = await migrated_sqlite(tmp_path)
        gs = graph_settings(double)
        checks = by_name(
            await run_checks(
                settings_for(tmp_path, url), graph_settings=gs, credential=StaticTokenCredential(double.token)
            )
        )
        assert checks["graph"].ok and "signed in" in checks["graph"].detail
        assert checks["channel"].ok, checks["channel"].detail
        assert checks["teams app"].ok
        assert double.find("GET", rf"^/teams/{TEAM_ID}/channels/.*/filesFolder$")
        assert not [r for r in double.requests if r.method != "GET"], "only reads: nothing written to Microsoft 365"

        # The Sites.Selected route: configured ids, proved by reading the folder item itself.
        drive, folder = double.channels[(TEAM_ID, CHANNEL_ID)]
        double.requests.clear()
        gs2 = graph_settings(double, channel_drive_id=drive, channel_folder_id=folder)
        checks = by_name(
            await run_checks(
                settings_for(tmp_path, url), graph_settings=gs2, credential=StaticTokenCredential(double.token)
            )
        )
        assert checks["channel"].ok
        assert double.find("GET", rf"^/drives/{drive}/items/{folder}$")

        gs3 = graph_settings(double, channel_drive_id=drive, channel_folder_id="no-such-item")
        checks = by_name(
            await run_checks(
                settings_for(tmp_path, url), graph_settings=gs3, credential=StaticTokenCredential(double.token)
            )
        )
        assert checks["channel"].ok is False and "not found" in checks["channel"].detail
    finally:
        await double.close()


async def test_a_failed_sign_in_skips_the_channel_check(tmp_path, clean_env, school):
    from azure.core.exceptions import ClientAuthenticationError

    double = await seeded_double(school)
    try:
        url = await migrated_sqlite(tmp_path)
        bad = StaticTokenCredential(error=ClientAuthenticationError("AADSTS7000222: the client secret has expired"))
        checks = by_name(
            await run_checks(settings_for(tmp_path, url), graph_settings=graph_settings(double), credential=bad)
        )
        assert checks["graph"].ok is False and "expired" in checks["graph"].detail
        assert checks["channel"].ok is None
    finally:
        await double.close()


def test_main_exits_non_zero_on_a_failure_and_two_on_bad_settings(tmp_path, clean_env, monkeypatch):
    monkeypatch.setenv("SCHOOL_CONFIG", str(DEMO_SCHOOL))
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'never.sqlite3'}")
    monkeypatch.setenv("LOCAL_M365_DIR", str(tmp_path / "m365"))
    lines: list[str] = []
    assert main([], out=lines.append) == 1
    assert any(line.startswith("FAIL store") for line in lines)
    monkeypatch.setenv("HOST", "0.0.0.0")  # no bot credentials: refused, as at start-up
    lines.clear()
    assert main([], out=lines.append) == 2
    assert lines[0].startswith("FAIL settings")
