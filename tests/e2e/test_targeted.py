"""The 1:1 (targeted) record in the Playground: the supervisor writes it up, the .docx lands in *their* OneDrive
(the local backend's folder) shared with the supervisee only, and the supervisee is told — without the content."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from docx import Document

pytestmark = pytest.mark.e2e

SUPERVISOR, SUPERVISEE = "priya.raman", "grace.mensah"
DISCUSSION = "Talked about the pressure of the medical rota and how to hand over at the end of the day."


def _pair(db_url: str) -> None:
    """An allocated 1:1 supervision (the request journey makes these; here it is set up directly)."""
    from bot.store import Database
    from bot.store.models_request import Pairing

    async def go() -> None:
        db = Database(db_url)
        try:
            async with db.session() as s:
                s.add(
                    Pairing(
                        supervisee_id=SUPERVISEE,
                        supervisor_id=SUPERVISOR,
                        started_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=30),
                    )
                )
        finally:
            await db.close()

    # Playwright's sync API keeps an event loop running in this thread: the store is written from another one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(lambda: asyncio.run(go())).result()


def _wait_for_docx(folder, timeout: float = 30.0, *, about: str = "Grace Mensah"):
    """The .docx files about this supervisee (other e2e modules leave the supervisor's records of others)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = sorted(p for p in folder.rglob("*.docx") if about in p.name) if folder.exists() else []
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"no .docx appeared under {folder} within {timeout:.0f}s")


def test_supervisor_writes_up_a_1to1_and_it_is_shared_with_the_supervisee_only(teams, e2e_bot):
    _pair(e2e_bot.database_url)
    grace = teams(SUPERVISEE).open_personal_chat()
    grace.mark_cards_seen()
    priya = teams(SUPERVISOR).open_personal_chat()

    picker = priya.ask("note")
    assert picker.title() == "Write up a 1:1 supervision session"
    # Preselected when Grace is Priya's only supervisee; other e2e tests may have given her more.
    picker.choose("Who was the session with?", "Grace Mensah")
    card = picker.click("Open the record")
    assert card.title() == "1:1 supervision record"
    assert "Grace Mensah" in card.text()

    day = dt.date.today() - dt.timedelta(days=1)
    card.fill("Date of the session (required)", day.isoformat())
    card.fill("What we talked about (required)", DISCUSSION)
    card.tick(
        "We agreed what stays between us and what must be passed on (a safeguarding concern always is). (required)"
    )
    done = card.click("Submit and share")
    assert done.title() == "Record submitted", done.text()

    # The document is in the supervisor's OneDrive (local stand-in), with what was written.
    [path] = _wait_for_docx(e2e_bot.m365_dir / "onedrive" / SUPERVISOR)
    text = "\n".join(p.text for p in Document(str(path)).paragraphs)
    assert DISCUSSION in text
    assert not (e2e_bot.m365_dir / "onedrive" / SUPERVISEE).exists() or not list(
        (e2e_bot.m365_dir / "onedrive" / SUPERVISEE).rglob("*.docx")
    )  # shared, not copied

    # The supervisee is told, in their own chat, with no content.
    notice = grace.wait_for_new_card(timeout_ms=45_000)
    assert notice.title() == "A supervision record was shared with you"
    assert "Priya Raman" in notice.text() and DISCUSSION not in notice.text()
