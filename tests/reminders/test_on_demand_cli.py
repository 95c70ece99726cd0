"""`python -m bot.reminders preview|send [--at]` and the demo clock (DEMO_TODAY): local mode only for moving time,
the same claims as the scheduled round, and a refusal at start-up when bot credentials are set."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys

import pytest
from sqlalchemy import select

from bot.democlock import DemoClock, parse_moment, start_of
from bot.reminders.__main__ import run
from bot.settings import SettingsError, load_settings
from bot.store import Database
from bot.store.models_compliance import ReminderClaim
from tests.conftest import ROOT
from tests.reminders.helpers import add_refs


def test_demo_today_parses_and_starts_at_the_rounds_time(school):
    assert parse_moment("2026-12-07") == (dt.date(2026, 12, 7), None)
    assert parse_moment("2026-12-07T10:30") == (dt.date(2026, 12, 7), dt.time(10, 30))
    for bad in ("7/12/2026", "2026-13-01", "tomorrow", "2026-12-07T25:00"):
        with pytest.raises(ValueError):
            parse_moment(bad)
    # 09:00 London on 7 Jul 2027 is 08:00 UTC (summer time); in December it is 09:00 UTC.
    assert start_of("2027-07-07", school) == dt.datetime(2027, 7, 7, 8, 0, tzinfo=dt.timezone.utc)
    assert start_of("2026-12-07T15:00", school) == dt.datetime(2026, 12, 7, 15, 0, tzinfo=dt.timezone.utc)


def test_demo_clock_runs_on_from_its_start():
    ticks = iter([100.0, 100.0, 160.5])
    clock = DemoClock(dt.datetime(2026, 12, 7, 9, tzinfo=dt.timezone.utc), monotonic=lambda: next(ticks))
    assert clock() == dt.datetime(2026, 12, 7, 9, tzinfo=dt.timezone.utc)
    assert clock() == dt.datetime(2026, 12, 7, 9, 1, 0, 500000, tzinfo=dt.timezone.utc)


def test_demo_today_is_refused_with_bot_credentials():
    assert load_settings(DEMO_TODAY="2026-12-07").demo_today == "2026-12-07"
    assert load_settings(DEMO_TODAY="").demo_today is None
    with pytest.raises(SettingsError, match="DEMO_TODAY"):
        load_settings(DEMO_TODAY="2026-12-07", MicrosoftAppId="app", MicrosoftAppPassword="pw")
    with pytest.raises(SettingsError, match="DEMO_TODAY"):
        load_settings(DEMO_TODAY="next week")


def test_python_m_bot_refuses_demo_today_in_production(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("Microsoft")}
    env.update(
        DEMO_TODAY="2026-12-07",
        MicrosoftAppId="app",
        MicrosoftAppPassword="pw",
        HOST="127.0.0.1",
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}",
    )
    done = subprocess.run([sys.executable, "-m", "bot"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "DEMO_TODAY" in done.stderr and "local mode only" in done.stderr


def _settings(tmp_path, **kw):
    return load_settings(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}",
        LOCAL_M365_DIR=str(tmp_path / "m365"),
        WORKERS=False,
        INSTANCE_ID="cli@test",
        **kw,
    )


async def test_preview_then_send_at_a_moment(tmp_path, connector, capsys):
    settings = _settings(tmp_path)
    db = Database(settings.database_url)
    await db.migrate()
    await add_refs(db, ["tom.hollis", "grace.mensah"], service_url=connector.url)
    await db.close()

    assert await run(argparse.Namespace(command="preview", at="2026-11-23T10:00"), settings) == 0
    out = capsys.readouterr().out
    assert (
        "half term: 2026-27 Autumn 2" in out and "round: 10 school days left (brought forward from 2026-12-07)" in out
    )
    assert "tom.hollis" in out.split("would remind:")[1].split("\n")[0]
    assert "ruth.calloway(no_conversation)" in out
    assert "next automatic round: 2026-12-07T09:00:00+00:00 (10 school days left)" in out

    assert await run(argparse.Namespace(command="send", at="2026-11-23T10:00"), settings) == 0
    assert "sent: 2," in capsys.readouterr().out
    assert {s.conversation_id for s in connector.sent} == {"a:personal-tom.hollis", "a:personal-grace.mensah"}
    # Again: nobody is reminded twice for the point.
    assert await run(argparse.Namespace(command="send", at="2026-11-23T10:05"), settings) == 1
    assert "not sent: nobody to remind" in capsys.readouterr().out and len(connector.sent) == 2
    db = Database(settings.database_url)
    async with db.session() as s:
        rows = (await s.execute(select(ReminderClaim.staff_id).where(ReminderClaim.status == "sent"))).scalars().all()
    await db.close()
    assert sorted(rows) == ["grace.mensah", "tom.hollis"]


async def test_send_outside_the_window_sends_nothing(tmp_path, connector, capsys):
    settings = _settings(tmp_path)
    assert await run(argparse.Namespace(command="send", at="2026-11-21T10:00"), settings) == 1  # a Saturday
    assert "not sent: the sending window is closed" in capsys.readouterr().out and not connector.sent


async def test_send_at_is_local_mode_only(tmp_path, capsys):
    settings = _settings(tmp_path, MicrosoftAppId="app", MicrosoftAppPassword="pw")
    assert await run(argparse.Namespace(command="send", at="2026-11-23"), settings) == 2
    assert "local mode only" in capsys.readouterr().err
