"""`python -m bot.outbox`: list what was dead-lettered (no content) and requeue it once the cause is fixed."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

from sqlalchemy import update

from bot.outbox import enqueue, get
from bot.store import Database
from bot.store.models_outbox import OutboxRow
from tests.conftest import ROOT


def _cli(url: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("Microsoft")} | {"DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "bot.outbox", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_list_then_retry_a_dead_row(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'outbox.sqlite3'}"

    async def setup() -> None:
        db = Database(url)
        await db.migrate()
        async with db.session() as s:
            await enqueue(s, "teams.notify", {"staff_id": "tom.hollis", "card": {"secret": "Pupil X"}}, key="n:1")
            await enqueue(s, "teams.notify", {"staff_id": "tom.hollis", "card": {}}, key="n:2")
            await s.execute(
                update(OutboxRow)
                .where(OutboxRow.key == "n:1")
                .values(status="dead", attempts=8, last_error="gave up after 8 attempts: Teams answered 503")
            )
        await db.close()

    async def status(key: str) -> str:
        db = Database(url)
        async with db.session() as s:
            row = await get(s, key)
        await db.close()
        return row.status

    asyncio.run(setup())
    listed = _cli(url, "list")
    assert listed.returncode == 0, listed.stderr
    assert "n:1\tteams.notify\tattempts=8" in listed.stdout and "503" in listed.stdout
    assert "n:2" not in listed.stdout and "Pupil X" not in listed.stdout  # only dead rows; never content

    wrong = _cli(url, "retry", "n:2")  # pending: nothing to requeue
    assert wrong.returncode == 1 and "not dead-lettered" in wrong.stderr
    done = _cli(url, "retry", "n:1")
    assert done.returncode == 0 and "requeued 1 of 1" in done.stdout
    assert asyncio.run(status("n:1")) == "pending"
    assert "nothing dead-lettered" in _cli(url, "list").stdout
