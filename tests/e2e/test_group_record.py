"""Issue #4 end to end in the Agents Playground: the DSL records a class group's session; the .docx lands in the
local folder that stands for the Safeguarding channel's files (read back with python-docx); the summary shows in
the Playground's Safeguarding channel; attendance is marked for the staff who came.

The session itself is put in the bot's store first (as the `schedule` flow or another journey would have, earlier
in the half term): scheduling can't book a session in the past, and recording needs one that has happened.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from docx import Document

from tests.e2e.processes import e2e_school

pytestmark = pytest.mark.e2e

CHANNEL_FILES = ("channels", "kb-team", "Safeguarding")


def _seed_session(db_url: str) -> tuple[int, dt.date, str]:
    """A Willow Class session that started an hour ago, facilitated by Amara; returns (id, date, half term)."""
    from bot.domain.calendar import TermCalendar
    from bot.records.rules import half_term_label
    from bot.school import load_school
    from bot.store import Database
    from bot.store.models_sessions import GroupSession

    school = load_school(e2e_school())
    start = dt.datetime.now(dt.timezone.utc).replace(second=0, microsecond=0) - dt.timedelta(hours=1)
    day = start.astimezone(school.tz).date()
    ht = TermCalendar.from_school(school).half_term_for(day)
    if ht is None:
        pytest.fail(f"{day} is outside the e2e school's half terms: tests/e2e/processes.py school_around is wrong")
    label = half_term_label(school.terms.academic_year, ht.name)

    async def go() -> int:
        db = Database(db_url)
        try:
            async with db.session() as s:
                row = GroupSession(
                    kind="class",
                    group_id="willow",
                    title="Group supervision – Willow Class",
                    starts_at=start,
                    ends_at=start + dt.timedelta(hours=1),
                    local_date=day,
                    half_term=label,
                    facilitator_id="amara.okafor",
                    status="scheduled",
                    external_support=False,
                    created_by="amara.okafor",
                    created_at=start - dt.timedelta(days=7),
                )
                s.add(row)
                await s.flush()
                return row.id
        finally:
            await db.close()

    # Playwright's sync API keeps an event loop running in this thread: the store is written from another one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(go())).result(), day, label


def _wait_for_file(folder, name: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        path = folder / name
        if path.is_file():
            return path
        time.sleep(0.2)
    raise AssertionError(
        f"{name} did not appear in {folder} within {timeout:.0f}s "
        f"(there: {sorted(p.name for p in folder.glob('*')) if folder.exists() else 'no folder'})"
    )


def test_dsl_records_a_class_session_into_the_safeguarding_channel(teams, e2e_bot):
    sid, day, half_term = _seed_session(e2e_bot.database_url)
    amara = teams("amara.okafor")
    # The bot is in the team's Safeguarding channel (a channel message saves where it can post).
    amara.open_channel("Safeguarding").ask("help")

    amara.open_personal_chat()
    picker = amara.ask("record")
    assert picker.title() == "Record a group supervision session"
    picker.choose(
        "Which session are you recording?", next(ln for ln in _session_titles(picker) if ln.startswith("Willow Class"))
    )
    card = picker.click("Open the record")
    assert card.title() == "Group supervision record"

    for name in ("Tom Hollis", "Isla Brennan", "Nadia Farouk"):
        card.tick(name)
    card.fill("Summary of the discussion (required)", "Talked through lunchtime cover. Agreed to share the rota.")
    card.tick(
        "We agreed what stays in the room and what must be passed on (any safeguarding concern always is). (required)"
    )
    card.fill("Action 1", "Check the lunchtime rota")
    card.fill("Action 1: due by", (day + dt.timedelta(days=7)).isoformat())
    done = card.click("Submit record")
    assert done.title() == "Record submitted"
    assert done.facts()["Attended"] == "3" and done.facts()["Actions"] == "1"
    file_name = done.facts()["File"]
    assert file_name == f"{day.isoformat()} Group supervision - Willow Class.docx"

    # The record lands in the channel's files (the local stand-in), with the right content.
    path = _wait_for_file(e2e_bot.m365_dir.joinpath(*CHANNEL_FILES), file_name)
    doc = Document(str(path))
    facts = {r.cells[0].text: r.cells[1].text for r in doc.tables[0].rows}
    assert facts["School"] == "Kestrel Brook School" and facts["Group"] == "Willow Class"
    assert facts["Facilitator"].startswith("Amara Okafor") and facts["Half term"] == half_term
    assert [r.cells[0].text for r in doc.tables[1].rows[1:]] == ["Isla Brennan", "Nadia Farouk", "Tom Hollis"]
    assert any("Agreed to share the rota." in p.text for p in doc.paragraphs)
    assert doc.tables[2].rows[1].cells[0].text == "Check the lunchtime rota"

    # The summary shows in the Safeguarding channel: counts and the file, not the discussion.
    amara.open_channel("Safeguarding")
    amara.wait_for_text("Group supervision recorded", timeout_ms=30_000)
    summary = amara.card_titled("Group supervision recorded")
    assert summary.facts()["Attended"] == "3" and summary.facts()["File"] == file_name
    assert "lunchtime cover" not in summary.text()
    # Its own post in the channel, not a reply in the thread where someone last mentioned the bot.
    thread = amara.page.get_by_role("group").filter(has=summary.locator)
    assert thread.get_by_text("help", exact=True).count() == 0

    # Attendance is marked for those staff, in the half term the session falls in.
    with sqlite3.connect(e2e_bot.db_path) as conn:
        rows = conn.execute(
            "SELECT staff_id, half_term FROM attendance WHERE session_id = ? ORDER BY staff_id", (sid,)
        ).fetchall()
    assert rows == [("isla.brennan", half_term), ("nadia.farouk", half_term), ("tom.hollis", half_term)]


def _session_titles(card) -> list[str]:
    """The choices of the session dropdown, read by opening it (the renderer lists them only while open)."""
    combo = card.locator.get_by_role("combobox", name="Which session are you recording?", exact=True)
    combo.click()
    titles = [t.strip() for t in card.page.get_by_role("option").all_inner_texts()]
    combo.press("Escape")
    return titles
