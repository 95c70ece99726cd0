"""Settings validation, the loopback guard, health, and that `python -m bot` refuses bad start-ups."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot.settings import SettingsError, load_settings
from tests.conftest import ROOT


def test_defaults_are_local_sqlite_on_loopback(monkeypatch):
    for k in ("PORT", "HOST", "DATABASE_URL", "MicrosoftAppId", "MicrosoftAppPassword"):
        monkeypatch.delenv(k, raising=False)
    s = load_settings()
    assert s.port == 3978 and s.host == "127.0.0.1" and s.local_mode
    assert s.database_url.startswith("sqlite+aiosqlite:///") and "/data/" in s.database_url


@pytest.mark.parametrize(
    "overrides,named",
    [
        ({"PORT": "99999"}, "PORT"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"SCHOOL_CONFIG": "/nope/school.yaml"}, "SCHOOL_CONFIG"),
        ({"MicrosoftAppPassword": "secret"}, "MicrosoftAppId"),
        ({"MicrosoftAppType": "Sometimes"}, "MicrosoftAppType"),
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL"),
    ],
)
def test_invalid_settings_name_the_setting(overrides, named):
    with pytest.raises(SettingsError) as e:
        load_settings(**overrides)
    assert named in str(e.value)
    assert "secret" not in str(e.value)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "bot.internal"])
def test_anonymous_mode_refuses_non_loopback_host(host):
    with pytest.raises(SettingsError, match="not a loopback address"):
        load_settings(HOST=host)
    s = load_settings(HOST=host, MicrosoftAppId="app", MicrosoftAppPassword="pw")
    assert not s.local_mode


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_hosts_need_no_credentials(host):
    assert load_settings(HOST=host).local_mode


def test_public_host_needs_the_secret_that_signs_replies():
    """With an app id but no secret, calls in would be authenticated but no reply could be sent: refused."""
    with pytest.raises(SettingsError, match="MicrosoftAppPassword is not set") as e:
        load_settings(
            HOST="0.0.0.0", MicrosoftAppId="app", MicrosoftAppType="SingleTenant", MicrosoftAppTenantId="tenant"
        )
    assert "HOST=0.0.0.0" in str(e.value)
    # A user-assigned managed identity signs without a secret.
    s = load_settings(
        HOST="0.0.0.0",
        MicrosoftAppId="msi-client-id",
        MicrosoftAppType="UserAssignedMSI",
        MicrosoftAppTenantId="tenant",
    )
    assert not s.local_mode
    # On loopback (the Bot Framework Emulator, a tunnel) the app id alone is still allowed.
    assert not load_settings(MicrosoftAppId="app").local_mode


def _run_bot(env_extra: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("Microsoft")}
    env.update(env_extra)
    return subprocess.run([sys.executable, "-m", "bot"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_python_m_bot_exits_nonzero_on_public_host_without_credentials():
    r = _run_bot({"HOST": "0.0.0.0"})
    assert r.returncode != 0
    assert "not a loopback address" in r.stderr


def test_python_m_bot_names_the_bad_school_config_field(tmp_path):
    bad = tmp_path / "school.yaml"
    bad.write_text(
        (ROOT / "infra/demo/school.yaml").read_text().replace("timezone: Europe/London", "timezone: Nowhere/Atall")
    )
    r = _run_bot({"SCHOOL_CONFIG": str(bad), "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/x.sqlite3"})
    assert r.returncode == 2
    assert "school.timezone" in r.stderr and str(bad) in r.stderr


async def test_healthz_reports_version_and_store(teams):
    async with teams.http.get(teams.url.replace("/api/messages", "/healthz")) as r:
        assert r.status == 200
        body = await r.json()
    assert body["store"] == "reachable" and body["version"]


def test_python_m_bot_names_a_closure_on_a_weekend(tmp_path):
    bad = tmp_path / "school.yaml"
    bad.write_text((ROOT / "infra/demo/school.yaml").read_text().replace("date: '2026-11-02'", "date: '2026-11-07'"))
    r = _run_bot({"SCHOOL_CONFIG": str(bad), "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/x.sqlite3"})
    assert r.returncode == 2
    assert "2026-11-07" in r.stderr and str(bad) in r.stderr


async def test_debug_logging_never_carries_what_the_store_is_given(tmp_path, caplog):
    """LOG_LEVEL=DEBUG is for our code: database drivers (which log statements with their parameters), msrest
    (request bodies) and httpx (Graph URLs) stay at WARNING, so record text cannot reach the log."""
    import logging

    from sqlalchemy import text

    from bot.logs import QUIET, configure
    from bot.store import Database

    saved = {name: logging.getLogger(name).level for name in ("", *QUIET)}
    try:
        configure("DEBUG")
        assert logging.getLogger("bot").isEnabledFor(logging.DEBUG)
        assert all(not logging.getLogger(name).isEnabledFor(logging.INFO) for name in QUIET)
        db = Database(f"sqlite+aiosqlite:///{tmp_path}/log.sqlite3")
        with caplog.at_level(logging.DEBUG):
            async with db.session() as s:
                await s.execute(text("SELECT :v"), {"v": "Pupil X disclosed something"})
        await db.close()
        assert "Pupil X" not in caplog.text
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)
