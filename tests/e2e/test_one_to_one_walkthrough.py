"""Issue 11's "Done when", walked through in the Playground with the demo school's invented people.

Priya Raman (supervisor) and Tom Hollis (teaching assistant) make their supervision agreement; Priya writes up a
1:1 session with a confidentiality escalation ticked; Tom asks for a change, Priya amends, Tom confirms and the
version is locked (the .docx says who signed and when); a later amendment is a new version Tom signs again. The
DSL team (Daniel Whitcombe, Amara Okafor) is told that an escalation was raised, by whom, when and in which
category, and the record's words appear in none of their windows, nor in the bot's log, nor in the SQLite store.
Then Daniel hands Tom over to Kate Lowther: she gets the last six months of Tom's records (shared through the
local files port) and nothing older; Priya's access ends, in the bot and on the files an earlier handover gave her.

Tom's history before Priya is seeded straight into the store: he was with Samuel Kerr until 60 days ago, when an
earlier handover gave Priya his two records (one of 7 months ago, one of 3 months ago), both files in Samuel's
OneDrive (the local backend's folder) shared with Tom and Priya.

The tests run in order and share the session's windows and store: run the module whole.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib.util
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from docx import Document
from playwright.sync_api import expect

from tests.e2e.processes import PLAYGROUND_DIR

pytestmark = pytest.mark.e2e

SUPERVISOR, SUPERVISEE = "priya.raman", "tom.hollis"
DSL, DSL_TOO = "daniel.whitcombe", "amara.okafor"  # both on the DSL team (Daniel also allocates)
SUCCESSOR, EARLIER = "kate.lowther", "samuel.kerr"  # trained supervisors outside the Playground's default five
EMAIL = "{}@kestrelbrook.example"
TZ = ZoneInfo("Europe/London")

#: Distinctive words of the record: they may go into the .docx and nowhere else.
SECRET = "Kingfisher-lantern-7731"
DISCUSSION = f"{SECRET}: the lunchtime rota and a worry about a disclosure made in Willow Class."
DISCUSSION_V2 = f"{SECRET}: the lunchtime rota, the worry about a disclosure, and how it was passed on at once."
COMMENT = "Gannet-harbour-4417: please say that the concern was passed on the same day."
VENUE = "The SENCo office, Tuesday mornings, door closed"
CATEGORY = "A child protection (or vulnerable adult) concern"
COMMENT_WORDS = COMMENT.split(":")[0]
NOT_SUPERVISOR_START = "Only someone's allocated supervisor can write up their 1:1 supervision."
TAMPERED = "Sorry, I can't do that with this card. Type note to start again."

FOLDER = "Supervision records"
OUTBOX_MS = 45_000  # a share or a notice goes through the outbox: give it time on a busy machine

#: What the tests learn and later ones check (the module runs in order).
state: dict = {}


# ---- helpers --------------------------------------------------------------------------------------------------


def _in_thread(fn):
    """Run an async function against the store from another thread (Playwright's sync API keeps an event loop
    running in this one)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(fn())).result()


@pytest.fixture(scope="module", autouse=True)
def _tom_unpaired_afterwards(e2e_bot):
    """The session's store is shared by every e2e module: Tom leaves this one with no supervisor, as he came
    (test_request_journey has him request one)."""
    yield
    from sqlalchemy import update

    from bot.store import Database
    from bot.store.models_request import Pairing

    async def go() -> None:
        db = Database(e2e_bot.database_url)
        try:
            async with db.session() as s:
                await s.execute(
                    update(Pairing)
                    .where(Pairing.supervisee_id == SUPERVISEE, Pairing.ended_at.is_(None))
                    .values(ended_at=dt.datetime.now(dt.timezone.utc), ended_by=DSL)
                )
        finally:
            await db.close()

    _in_thread(go)


def _config_for(person: str, folder: Path) -> Path:
    """A Playground config in which `person` (not one of the default five) is the current user."""
    spec = importlib.util.spec_from_file_location("make_configs", PLAYGROUND_DIR / "make_configs.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    path = folder / f"{person}.yml"
    path.write_text(mod.build_configs(people=[person])[person], encoding="utf-8")
    return path


def _wait_for(what: str, check, timeout: float = OUTBOX_MS / 1000):
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f}s")
        time.sleep(0.25)


def _docx(path: Path) -> str:
    doc = Document(str(path))
    parts = [p.text for p in doc.paragraphs]
    for t in doc.tables:
        for row in t.rows:
            parts.append(" | ".join(c.text for c in row.cells))
    return "\n".join(parts)


def _record_file(e2e_bot, version: int) -> Path:
    folder = e2e_bot.m365_dir / "onedrive" / SUPERVISOR / FOLDER
    suffix = f"-v{version}" if version > 1 else ""
    pattern = re.compile(rf"^\d{{4}}-\d{{2}}-\d{{2}} Supervision record - Tom Hollis{re.escape(suffix)}\.docx$")
    return _wait_for(
        f"the version {version} .docx in {folder}",
        lambda: (
            next((p for p in sorted(folder.glob("*.docx")) if pattern.match(p.name)), None) if folder.exists() else None
        ),
    )


def _signoff(path: Path) -> dict[str, tuple[str, str]]:
    from bot.records.docx_writer import read_signoff

    return {r.role: (r.name, r.signed) for r in read_signoff(path.read_bytes())}


def _button_in_row(card, row_text: str, title: str):
    """The button `title` on the line of a card that reads `row_text` (cards with one line per person)."""
    row = card.locator.locator("div").filter(has_text=row_text).filter(has=card.page.get_by_role("button", name=title))
    return row.last.get_by_role("button", name=title, exact=True)


def _click_in_row(card, row_text: str, title: str):
    card.owner.mark_cards_seen()
    _button_in_row(card, row_text, title).click()
    return card.owner.wait_for_new_card()


def _choose_starting(card, label: str, prefix: str) -> None:
    """Pick the dropdown option that starts with `prefix` (options with counts in them, e.g. "(2 supervisees)")."""
    combo = card.locator.get_by_role("combobox", name=label, exact=True)
    combo.click()
    card.page.get_by_role("option", name=re.compile("^" + re.escape(prefix))).first.click()
    expect(combo).to_have_value(re.compile("^" + re.escape(prefix)))


def _store_files(e2e_bot) -> list[Path]:
    return sorted(e2e_bot.db_path.parent.glob(e2e_bot.db_path.name + "*"))


_B64_ZIP = re.compile(rb"UEsDB[A-Za-z0-9+/]{100,}")


def _words_in(raw: bytes, words, *, decode_docx: bool = True) -> set[str]:
    """Which of `words` the bytes hold: as text, or (decode_docx) inside a base64 .docx (a zip) such as an outbox
    payload carries — each local file entry inflated on its own, so a fragment of a payload is enough."""
    found = {w for w in words if w.encode() in raw}
    if not decode_docx:
        return found
    import base64
    import zlib

    for m in _B64_ZIP.finditer(raw):
        run = m.group(0)
        data = base64.b64decode(run[: len(run) // 4 * 4])
        at = data.find(b"PK\x03\x04")
        while at >= 0:
            name_len = int.from_bytes(data[at + 26 : at + 28], "little")
            extra = int.from_bytes(data[at + 28 : at + 30], "little")
            start = at + 30 + name_len + extra
            try:
                text = zlib.decompressobj(-15).decompress(data[start:])
            except zlib.error:
                text = data[start:]
            found |= {w for w in words if w.encode() in text}
            at = data.find(b"PK\x03\x04", at + 4)
    return found


def _options(card, label: str) -> list[str]:
    """The titles a dropdown ChoiceSet offers (opened, read, closed again)."""
    combo = card.locator.get_by_role("combobox", name=label, exact=True)
    combo.click()
    names = [t.strip() for t in card.page.get_by_role("option").all_inner_texts()]
    combo.press("Escape")
    return names


def _today() -> dt.date:
    return dt.datetime.now(TZ).date()


def _stamp_day(d: dt.date) -> str:
    """The date part of a sign-off stamp ("02 Dec 2026 16:40")."""
    from bot.labels import stamp

    return stamp(dt.datetime.combine(d, dt.time(12), TZ), TZ)[:-6]


# ---- the world before the walkthrough -------------------------------------------------------------------------


def _seed_history(e2e_bot) -> None:
    """Tom with Samuel until 60 days ago, then with Priya through a handover that gave her Samuel's two records
    (7 and 3 months old: files in Samuel's OneDrive, shared with Tom and Priya in the local backend's table)."""
    from sqlalchemy import select

    from bot.store import Database
    from bot.store.models_followup import Handover, RecordAccess
    from bot.store.models_local_m365 import LocalSharingGrant
    from bot.store.models_request import Pairing
    from bot.store.models_targeted import DELIVERED, TargetedRecord

    now = dt.datetime.now(dt.timezone.utc)
    handed = now - dt.timedelta(days=60)
    drive = e2e_bot.m365_dir / "onedrive" / EARLIER / FOLDER
    drive.mkdir(parents=True, exist_ok=True)
    old_day, recent_day = _today() - dt.timedelta(days=213), _today() - dt.timedelta(days=90)
    files = {}
    for label, day in (("old", old_day), ("recent", recent_day)):
        name = f"{day.isoformat()} Supervision record - Tom Hollis.docx"
        doc = Document()
        doc.add_paragraph(f"1:1 supervision record (seeded for the end-to-end walkthrough, {label} session).")
        doc.save(str(drive / name))
        files[label] = (day, name)

    async def go() -> dict:
        db = Database(e2e_bot.database_url)
        try:
            async with db.session() as s:
                existing = (
                    await s.execute(
                        select(Pairing).where(
                            Pairing.supervisor_id == SUPERVISOR,
                            Pairing.supervisee_id == SUPERVISEE,
                            Pairing.ended_at.is_(None),
                        )
                    )
                ).scalar_one_or_none()
                s.add(
                    Pairing(
                        supervisee_id=SUPERVISEE,
                        supervisor_id=EARLIER,
                        started_at=now - dt.timedelta(days=400),
                        ended_at=handed,
                        ended_by=DSL_TOO,
                    )
                )
                if existing is None:
                    s.add(Pairing(supervisee_id=SUPERVISEE, supervisor_id=SUPERVISOR, started_at=handed))
                ho = Handover(
                    nonce="e2e-walkthrough-earlier-handover",
                    supervisee_id=SUPERVISEE,
                    from_id=EARLIER,
                    to_id=SUPERVISOR,
                    by_id=DSL_TOO,
                    records_since=handed.date() - dt.timedelta(days=183),
                    record_count=2,
                    at=handed,
                )
                s.add(ho)
                await s.flush()
                ids = {}
                for label, (day, name) in files.items():
                    submitted = dt.datetime.combine(day, dt.time(16), dt.timezone.utc)
                    r = TargetedRecord(
                        supervisor_id=EARLIER,
                        supervisee_id=SUPERVISEE,
                        session_date=day,
                        template_id="one_to_one",
                        submit_key=f"e2e-walkthrough-{label}",
                        file_name=name,
                        delivered_name=name,
                        web_url=(drive / name).resolve().as_uri(),
                        item_id=f"{FOLDER}/{name}",
                        status=DELIVERED,
                        action_count=0,
                        submitted_at=submitted,
                        delivered_at=submitted,
                    )
                    s.add(r)
                    await s.flush()
                    s.add(RecordAccess(record_id=r.id, staff_id=SUPERVISOR, handover_id=ho.id, granted_at=handed))
                    for who in (SUPERVISEE, SUPERVISOR):
                        s.add(
                            LocalSharingGrant(
                                drive_id=f"local:onedrive/{EARLIER}",
                                item_id=f"{FOLDER}/{name}",
                                recipient=EMAIL.format(who),
                                role="read",
                                created_at=submitted if who == SUPERVISEE else handed,
                            )
                        )
                    ids[label] = r.id
                return ids
        finally:
            await db.close()

    state["seeded"] = _in_thread(go)
    state["seeded_items"] = {label: f"{FOLDER}/{name}" for label, (_, name) in files.items()}


def _grants() -> set[tuple[str, str, str]]:
    """(drive, item, recipient) of every sharing grant the local files backend holds."""
    return {(d, i, r) for d, i, r in _query("SELECT drive_id, item_id, recipient FROM local_m365_grants")}


def _query(sql: str, *params):
    import sqlite3

    con = sqlite3.connect(f"file:{state['db_path']}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


# ---- 1. the agreement ----------------------------------------------------------------------------------------


def test_supervisor_and_teaching_assistant_make_their_agreement(teams, e2e_bot, e2e_dir):
    state["db_path"] = e2e_bot.db_path
    _seed_history(e2e_bot)
    # Everyone the walkthrough notifies opens the bot first (a proactive message needs their conversation).
    for person in (DSL, DSL_TOO):
        teams(person).open_personal_chat()
    teams(SUCCESSOR, config=_config_for(SUCCESSOR, e2e_dir)).open_personal_chat()
    tom = teams(SUPERVISEE).open_personal_chat()
    tom.mark_cards_seen()
    priya = teams(SUPERVISOR).open_personal_chat()

    card = priya.ask("agreement")
    assert card.title() == "Supervision agreements"
    assert "Tom Hollis (you supervise them)" in card.text()
    form = _click_in_row(card, "Tom Hollis (you supervise them)", "Record agreement")
    assert form.title() == "Our supervision agreement", form.text()
    form.choose("How often we'll meet (required)", "Every six weeks")
    form.choose("How long a session lasts (required)", "An hour")
    form.fill("Where we meet (required)", VENUE)
    form.fill("Contact between sessions (required)", "A quick word at the end of the school day")
    from cards.targeted import AGREEMENT_POINTS

    for _, point in AGREEMENT_POINTS:
        form.tick(point)
    done = form.click("Agree and send to confirm")
    assert "Recorded and confirmed by you. I've asked Tom Hollis to confirm." in done.text(), done.text()

    ask = tom.wait_for_new_card(timeout_ms=OUTBOX_MS)
    assert ask.title() == "Please confirm your supervision agreement"
    assert ask.facts()["Recorded by"] == "Priya Raman"
    assert ask.facts()["Arrangements"] == "Every six weeks, 60 minutes"
    priya.mark_cards_seen()
    confirmed = ask.click("Confirm")
    assert "Confirmed by both of you." in confirmed.text(), confirmed.text()
    told = priya.wait_for_new_card(timeout_ms=OUTBOX_MS)
    assert told.title() == "Supervision agreement confirmed"
    assert "Tom Hollis confirmed your supervision agreement" in told.text()

    # The typed terms are in the agreement's document (Priya's OneDrive), not in the store.
    folder = e2e_bot.m365_dir / "onedrive" / SUPERVISOR / FOLDER
    [doc] = _wait_for("the agreement .docx", lambda: sorted(folder.glob("* Supervision agreement - Tom Hollis*.docx")))
    assert VENUE in _docx(doc)
    [(status, freq, minutes, both)] = _query(
        "SELECT status, frequency, minutes, supervisee_confirmed_at IS NOT NULL AND supervisor_confirmed_at IS NOT NULL "
        "FROM supervision_agreements WHERE supervisor_id = ? AND supervisee_id = ?",
        SUPERVISOR,
        SUPERVISEE,
    )
    assert (status, freq, minutes, both) == ("agreed", "six_weekly", 60, 1)


# ---- 2. the record, with an escalation; a change asked, amended, confirmed --------------------------------------


def test_record_with_escalation_is_validated_amended_and_signed_by_both(teams, e2e_bot):
    priya, tom = teams(SUPERVISOR), teams(SUPERVISEE)
    daniel, amara = teams(DSL), teams(DSL_TOO)
    for pg in (tom, daniel, amara):
        pg.mark_cards_seen()

    picker = priya.ask("note")
    assert picker.title() == "Write up a 1:1 supervision session"
    picker.choose("Who was the session with?", "Tom Hollis")
    card = picker.click("Open the record")
    assert card.title() == "1:1 supervision record"
    assert "Tom Hollis" in card.text()
    session_day = _today() - dt.timedelta(days=1)
    state["session_day"] = session_day
    card.fill("Date of the session (required)", session_day.isoformat())
    card.fill("What we talked about (required)", DISCUSSION)
    card.tick(
        "We agreed what stays between us and what must be passed on (a safeguarding concern always is). (required)"
    )
    card.choose("Does something discussed have to be passed on?", CATEGORY)
    done = card.click("Submit and share")
    assert done.title() == "Record submitted", done.text()
    assert f"You raised an escalation ({CATEGORY})" in done.text()
    assert "Log the concern in" in done.text()
    state["escalated_at"] = dt.datetime.now(TZ)

    v1 = _record_file(e2e_bot, 1)
    assert SECRET in _docx(v1)
    assert _signoff(v1)["Supervisee"] == ("Tom Hollis", "")

    # Tom is told (no content), opens it and asks for a change.
    notice = tom.wait_for_new_card(timeout_ms=OUTBOX_MS)
    assert notice.title() == "A supervision record was shared with you"
    assert "Priya Raman" in notice.text() and SECRET not in notice.text()
    file_card = notice.click("Open the record")
    assert file_card.title() == "Supervision record", file_card.text()
    assert {"Confirm it's accurate", "Ask for a change"} <= set(file_card.buttons())
    file_card.button("Ask for a change").click()
    file_card.fill("What should be corrected? (goes to your supervisor only)", COMMENT)
    priya.mark_cards_seen()
    sent = file_card.click("Send to my supervisor")
    assert "Sent to Priya Raman." in sent.text(), sent.text()

    # Priya gets the comment (only she does), amends: version 2, filled in from the document.
    asked = priya.wait_for_new_card(timeout_ms=OUTBOX_MS)
    assert asked.title() == "A change was asked for"
    assert COMMENT in asked.text()
    amend = asked.click("Amend the record")
    assert amend.title() == "Amend the 1:1 record: version 2", amend.text()
    assert amend.input("What we talked about (required)").input_value() == DISCUSSION  # read back from the .docx
    assert f"An escalation was raised with this record: {CATEGORY}." in amend.text()
    amend.fill("What we talked about (required)", DISCUSSION_V2)
    amend.tick(
        "We agreed what stays between us and what must be passed on (a safeguarding concern always is). (required)"
    )
    amend.fill("What changed in this version? (required)", "Added that the concern was passed on the same day.")
    tom.mark_cards_seen()
    saved = amend.click("Save version 2 and share")
    assert saved.title() == "Version 2 saved", saved.text()

    # Tom confirms version 2: signed by both, locked, and the document says who signed and when.
    notice2 = tom.wait_for_new_card(timeout_ms=OUTBOX_MS)
    assert notice2.title() == "A supervision record was shared with you"
    v2_card = notice2.click("Open the record")
    assert v2_card.title() == "Supervision record (version 2)", v2_card.text()
    priya.mark_cards_seen()
    signed = v2_card.click("Confirm it's accurate")
    assert "It is signed by both of you and locked." in signed.text(), signed.text()
    assert "Signed by both of you: this version is final." in signed.text()
    assert "Confirm it's accurate" not in signed.buttons()
    told = priya.wait_for_new_card(timeout_ms=OUTBOX_MS)
    assert told.title() == "Supervision record confirmed"
    assert told.facts()["Version"] == "2"

    v2 = _record_file(e2e_bot, 2)
    assert DISCUSSION_V2 in _docx(v2)
    assert DISCUSSION in _docx(v1)  # the earlier version is kept as it was
    today = _stamp_day(_today())
    rows = _wait_for("the sign-off written into version 2", lambda: (r := _signoff(v2))["Supervisee"][1] and r)
    assert rows["Supervisor"][0] == "Priya Raman" and rows["Supervisor"][1].startswith(today)
    assert rows["Supervisee"][0] == "Tom Hollis" and rows["Supervisee"][1].startswith(today)
    assert "version 2 confirmed by everyone above. It is final" in _docx(v2)


# ---- 3. a later amendment is a new version, signed again ---------------------------------------------------------


def test_a_later_amendment_makes_a_new_version_that_is_signed_again(teams, e2e_bot):
    priya, tom = teams(SUPERVISOR), teams(SUPERVISEE)
    told = priya.newest_card()
    assert told.title() == "Supervision record confirmed"
    locked = told.click("Open the record")
    assert "Signed by both of you: this version is final." in locked.text(), locked.text()
    amend = locked.click("New version")
    assert amend.title() == "Amend the 1:1 record: version 3", amend.text()
    assert "Both of you confirmed the current version, so it is locked." in amend.text()
    amend.tick(
        "We agreed what stays between us and what must be passed on (a safeguarding concern always is). (required)"
    )
    amend.fill("What changed in this version? (required)", "Corrected the date of the next session.")
    tom.mark_cards_seen()
    saved = amend.click("Save version 3 and share")
    assert saved.title() == "Version 3 saved", saved.text()

    notice = tom.wait_for_new_card(timeout_ms=OUTBOX_MS)
    v3_card = notice.click("Open the record")
    assert v3_card.title() == "Supervision record (version 3)", v3_card.text()
    assert v3_card.facts().get("Supervisee: Tom Hollis") == "not yet"
    assert "Confirm it's accurate" in v3_card.buttons()  # needs signing again
    v3 = _record_file(e2e_bot, 3)
    assert _signoff(v3)["Supervisee"] == ("Tom Hollis", "")
    assert _signoff(_record_file(e2e_bot, 2))["Supervisee"][1]  # version 2 stays signed

    priya.mark_cards_seen()
    signed = v3_card.click("Confirm it's accurate")
    assert "signed by both of you and locked" in signed.text(), signed.text()
    told3 = priya.wait_for_new_card(timeout_ms=OUTBOX_MS)
    assert told3.title() == "Supervision record confirmed" and told3.facts()["Version"] == "3"
    _wait_for("the sign-off written into version 3", lambda: _signoff(v3)["Supervisee"][1])


# ---- 4. the DSL team: that an escalation was raised, never what was said ------------------------------------------


def test_the_dsl_team_sees_the_escalation_never_the_content(teams, e2e_bot):
    for person in (DSL, DSL_TOO):
        pg = teams(person)
        notice = pg.card_titled("A confidentiality escalation was raised")
        facts = notice.facts()
        assert facts["Raised by"] == "Priya Raman"
        assert facts["Category"] == CATEGORY
        assert facts["On"] == "a 1:1 supervision record"
        raised = state["escalated_at"]
        assert facts["When"].startswith(_stamp_day(raised.date())), facts
        # Everything the DSL's window shows: every card, and the Playground's own log of what it received.
        shown = pg.page.locator("body").inner_text()
        for words in (SECRET, COMMENT_WORDS, VENUE):
            assert words not in shown, f"{words!r} reached {person}'s window"
        for c in pg.cards():
            assert SECRET not in c.text()

    assert SECRET not in e2e_bot.log(), "the record's words reached the bot's log"
    assert COMMENT_WORDS not in e2e_bot.log()
    # The store's files, read as bytes: the database, its -wal and -shm. The record's words and the agreement's
    # terms were never written as text (only inside the .docx, in the outbox until delivered).
    for path in _store_files(e2e_bot):
        found = _words_in(path.read_bytes(), (SECRET, VENUE), decode_docx=False)
        assert not found, f"{found} in {path.name}"
    # The main database file holds nothing typed at all, not even inside a queued .docx, nor Tom's comment.
    found = _words_in(e2e_bot.db_path.read_bytes(), (SECRET, VENUE, COMMENT_WORDS))
    assert not found, f"{found} in {e2e_bot.db_path.name}"
    # The store knows that an escalation was raised, by whom and in which category: nothing else.
    rows = _query("SELECT category, raised_by FROM escalations")
    assert ("child_protection", SUPERVISOR) in rows


def test_what_the_outbox_scrubbed_is_not_left_in_the_sqlite_wal(e2e_bot):
    for path in _store_files(e2e_bot):
        found = _words_in(path.read_bytes(), (SECRET, VENUE, COMMENT_WORDS))
        print(f"walkthrough store check: {path.name}: {sorted(found) or 'clean'}")
        assert not found, f"{found} in {path.name}"


# ---- 5. the handover: six months, and no more; the predecessor's access ends --------------------------------------


def test_handover_gives_the_successor_six_months_and_ends_the_predecessors_access(teams, e2e_bot):
    daniel, priya, tom = teams(DSL), teams(SUPERVISOR), teams(SUPERVISEE)
    kate = teams(SUCCESSOR)
    told = priya.newest_card()  # "Supervision record confirmed" (version 3): its button opens the record
    assert told.title() == "Supervision record confirmed"
    for pg in (priya, tom, kate):
        pg.mark_cards_seen()

    form = daniel.ask("handover")
    assert form.title() == "Hand a supervisee over to a new supervisor", form.text()
    form.choose("Who is moving to a new supervisor?", "Tom Hollis, now with Priya Raman")
    _choose_starting(form, "Their new supervisor", "Kate Lowther")
    done = form.click("Hand over")
    assert done.title() == "Handover done", done.text()
    facts = done.facts()
    assert (facts["Supervisee"], facts["From"], facts["To"]) == ("Tom Hollis", "Priya Raman", "Kate Lowther")
    # The seeded 3-month-old record and versions 1-3 of today's: not the 7-month-old one.
    assert facts["Records shared"].startswith("4 "), facts
    assert facts["Earlier access ended"] == "2"  # Priya's, on Samuel's two records

    notice = kate.wait_for_new_card(timeout_ms=OUTBOX_MS)
    assert notice.title() == "A supervisee has been handed over to you"
    assert notice.facts()["Supervisee"] == "Tom Hollis"
    assert SECRET not in notice.text()
    record_buttons = [b for b in notice.buttons() if b.startswith("Record of ")]
    assert len(record_buttons) == 4, notice.buttons()
    old_day = _today() - dt.timedelta(days=213)
    from bot.labels import short_date

    assert f"Record of {short_date(old_day)}" not in record_buttons
    opened = notice.click(f"Record of {short_date(_today() - dt.timedelta(days=90))}")
    assert opened.title() == "Supervision record", opened.text()
    assert "Open the record" in opened.buttons()
    assert opened.facts()["Supervisee"] == "Tom Hollis"  # the successor sees whose record it is
    assert "since the handover, with you to read" in opened.text()

    assert priya.wait_for_new_card(timeout_ms=OUTBOX_MS).title() == "A supervisee has moved to a new supervisor"
    assert tom.wait_for_new_card(timeout_ms=OUTBOX_MS).title() == "You have a new supervisor"

    # The files port: Kate holds read grants on the four, none on the old one; Priya's handed-over grants are gone.
    kate_email, priya_email, tom_email = (EMAIL.format(p) for p in (SUCCESSOR, SUPERVISOR, SUPERVISEE))
    samuel = f"local:onedrive/{EARLIER}"
    old_item, recent_item = state["seeded_items"]["old"], state["seeded_items"]["recent"]
    own = {(f"local:onedrive/{SUPERVISOR}", f"{FOLDER}/{_record_file(e2e_bot, v).name}") for v in (1, 2, 3)}

    def settled():
        g = _grants()
        done = all((d, i, kate_email) in g for d, i in own | {(samuel, recent_item)})
        gone = (samuel, old_item, priya_email) not in g and (samuel, recent_item, priya_email) not in g
        return g if done and gone else None

    grants = _wait_for("the handover's grants and revocations in the local files backend", settled)
    assert (samuel, old_item, kate_email) not in grants  # older than six months: never shared
    assert {(samuel, old_item, tom_email), (samuel, recent_item, tom_email)} <= grants  # Tom keeps his own
    assert [i for d, i, r in grants if r == kate_email and d == samuel] == [recent_item]
    roles = {r for (r,) in _query("SELECT role FROM local_m365_grants WHERE recipient = ?", kate_email)}
    assert roles == {"read"}

    # In the bot: Priya's button to her own record now refuses, and `note` no longer offers Tom.
    refused = told.click("Open the record")
    assert TAMPERED in refused.text(), refused.text()
    priya.send("note")  # a card if she still supervises someone else (another test's pairing), else a sentence
    answer = _wait_for(
        "Priya's answer to note",
        lambda: (
            (priya.new_card_count() and priya.wait_for_new_card())
            or (priya.page.get_by_text(NOT_SUPERVISOR_START).count() and NOT_SUPERVISOR_START)
        ),
        timeout=15,
    )
    if answer != NOT_SUPERVISOR_START:
        assert answer.title() == "Write up a 1:1 supervision session"
        assert "Tom Hollis" not in _options(answer, "Who was the session with?")
    # Kate is Tom's supervisor now: her `note` offers him.
    assert "Tom Hollis" in _options(kate.ask("note"), "Who was the session with?")
