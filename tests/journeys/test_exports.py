"""Exports for governors and inspection through the real app (HTTP → router → journey → store → outbox → the
Microsoft 365 backend under test, local and msgraph against the Graph double; SQLite and PostgreSQL): the DSL
exports a half term and the files land in the Safeguarding channel's files with the links sent back; the .xlsx and
.csv hold the right rows, the .docx opens and shows no small numbers or names; a teaching assistant is refused; a
senior leader may export the governors' summary only; a double click exports once; bad input keeps the form."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.store.models_audit import AuditEvent
from bot.store.models_exports import Export, ExportFile
from bot.store.models_sessions import Attendance, GroupSession
from tests.journeys.test_request_kit import errors_on, find_action, find_input, kit, texts_of  # noqa: F401

DSL, TA, SENIOR = "amara.okafor", "tom.hollis", "priya.raman"
LABEL = "2026-27 Autumn 2"
WILLOW = ["isla.brennan", "nadia.farouk", "samuel.kerr", "tom.hollis", "yasmin.shah"]
XLSX = f"Exports/{LABEL} - supervision export.xlsx"
DOCX = f"Exports/{LABEL} - governors summary.docx"


async def _seed_attendance(db, attended: dict[str, list[str]]) -> dict[str, int]:
    """Group sessions of Autumn 2 with who came (recorded), by group id → session id."""
    ids = {}
    start = dt.datetime(2026, 11, 16, 15, 30, tzinfo=dt.timezone.utc)
    async with db.session() as s:
        for i, (group, people) in enumerate(attended.items()):
            at = start + dt.timedelta(days=i)
            row = GroupSession(
                kind="class",
                group_id=group,
                title="Group supervision",
                starts_at=at,
                ends_at=at + dt.timedelta(hours=1),
                local_date=at.date(),
                half_term=LABEL,
                facilitator_id=DSL,
                status="recorded",
                external_support=False,
                created_by=DSL,
                created_at=at - dt.timedelta(days=7),
            )
            s.add(row)
            await s.flush()
            ids[group] = row.id
            for sid in people:
                s.add(
                    Attendance(
                        staff_id=sid,
                        session_id=row.id,
                        local_date=at.date(),
                        half_term=LABEL,
                        recorded_by=DSL,
                        recorded_at=at + dt.timedelta(hours=2),
                    )
                )
    return ids


def _parts(card: dict) -> list[str]:
    return [c["value"] for c in find_input(card, "parts")["choices"]]


async def _export(kit, who: str = DSL, parts: str = "register,summary,governors", ht: str | None = None) -> dict:  # noqa: F811
    form = await kit.say(who, "export")
    chosen = {"parts": parts, "ht": ht if ht is not None else find_input(form, "ht")["value"]}
    return await kit.press(who, form, "export.run", chosen)


async def test_the_dsl_exports_a_half_term_and_the_files_land_in_the_channel(kit):  # noqa: F811
    await kit.install(DSL, TA)
    await _seed_attendance(kit.db, {"willow": ["tom.hollis", "isla.brennan", "nadia.farouk"], "rowan": []})
    form = await kit.say(DSL, "export")
    assert find_input(form, "ht")["value"] == "1"  # Autumn 2: the half term in progress on 23 Nov
    assert _parts(form) == ["register", "summary", "governors"]
    queued = await kit.press(DSL, form, "export.run", {"parts": "register,summary,governors", "ht": "1"})
    assert "Export on its way" in texts_of(queued)
    assert kit.view.channel_files() == {}  # nothing inline: the outbox delivers

    await kit.deliver()
    got = kit.view.channel_files()
    assert sorted(got) == sorted(
        f"Exports/{LABEL} - {n}"
        for n in (
            "attendance register.csv",
            "compliance summary.csv",
            "audit trail.csv",
            "supervision export.xlsx",
            "governors summary.docx",
        )
    )
    # The links come back in the DSL's chat once every file is there; the stored copies are dropped.
    done = [c for c in kit.journey_cards(DSL) if c["body"][0]["text"] == "Export saved"]
    assert len(done) == 1
    links = [a for a in done[0]["body"] if a.get("type") == "ActionSet"][0]["actions"]
    assert {a["title"] for a in links} == {p.split("/", 1)[1] for p in got}
    assert {a["url"] for a in links} == {kit.view.channel_file_url(p) for p in got}
    async with kit.db.session() as s:
        files = (await s.execute(select(ExportFile))).scalars().all()
        assert all(f.status == "delivered" and f.content is None and f.web_url for f in files)
        assert (await s.execute(select(Export.status))).scalar_one() == "delivered"

    # The workbook: the register (one line per session attended, one for each person still to attend), the summary
    # by group with a chart, and the half term's audit trail including this export.
    wb = load_workbook(io.BytesIO(got[XLSX]))
    assert wb.sheetnames == ["Compliance summary", "Attendance register", "Audit trail"]
    reg = [r for r in wb["Attendance register"].iter_rows(values_only=True)]
    head = reg.index(
        ("Name", "Staff id", "Staff group", "Job title", "Status", "Session date", "Session", "Facilitator")
    )
    lines = {r[1]: r for r in reg[head + 1 :]}
    assert lines["tom.hollis"][4] == "Attended" and lines["tom.hollis"][5] == "2026-11-16"
    assert lines["tom.hollis"][6].startswith("Willow Class session") and lines["tom.hollis"][7] == "Amara Okafor"
    assert lines["samuel.kerr"][4] == "Still to attend" and lines["samuel.kerr"][5] is None
    summary = [r for r in wb["Compliance summary"].iter_rows(values_only=True)]
    by_group = {r[0]: r for r in summary if r and r[0] and isinstance(r[1], int)}
    assert by_group["Willow Class"][1:4] == (5, 3, 2) and by_group["Willow Class"][6] == 60.0
    assert by_group["Whole school"][2] == 3
    assert len(wb["Compliance summary"]._charts) == 1
    trail = [r for r in wb["Audit trail"].iter_rows(values_only=True)]
    assert any(r[2] == DSL and r[3] == "exported" and r[4] == "export" for r in trail)

    # The CSVs hold the same rows (UTF-8 with a BOM, for Excel).
    register_csv = got[f"Exports/{LABEL} - attendance register.csv"]
    assert register_csv.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(register_csv.decode("utf-8-sig"))))
    assert rows[0][0] == "Name" and len(rows) - 1 == len(reg) - head - 1

    # The governors' page: figures only, small numbers suppressed, small groups folded together.
    doc = Document(io.BytesIO(got[DOCX]))
    text = "\n".join(
        [p.text for p in doc.paragraphs] + [c.text for t in doc.tables for row in t.rows for c in row.cells]
    )
    assert "governors' summary" in text and "Willow Class" in text and "Smaller groups" in text
    assert "fewer than 5" in text  # 3 attended
    for small in ("Rowan Class", "Hazel Class", "Alder Class", "Birch Class"):
        assert small not in text  # 4 people each: shown together, never alone
    for name in ("Tom Hollis", "Isla Brennan", "Amara Okafor", "Samuel Kerr"):
        assert name not in text


async def test_a_teaching_assistant_is_refused_and_the_refusal_is_audited(kit):  # noqa: F811
    await kit.install(TA)
    before = len(kit.connector.sent)
    await kit.teams.say(kit.p(TA), "export")
    said = " ".join(s.activity.get("text") or "" for s in kit.connector.sent[before:])
    assert "Exports are for the DSL team and senior leaders." in said
    status, body = await kit.teams.submit(kit.p(TA), "export.run", {"nonce": "a" * 32, "ht": "1", "parts": "register"})
    assert status == 200
    async with kit.db.session() as s:
        assert (await s.execute(select(func.count()).select_from(Export))).scalar_one() == 0
        rows = [(e.actor_id, e.action, e.object_id) for e in (await s.execute(select(AuditEvent))).scalars()]
    assert rows == [(TA, "refused", "export"), (TA, "refused", "export.run")]
    assert await kit.outbox("files.channel_upload") == []


async def test_a_senior_leader_gets_the_governors_summary_only(kit):  # noqa: F811
    await kit.install(SENIOR)
    form = await kit.say(SENIOR, "export")
    assert _parts(form) == ["governors"]
    nonce = find_action(form, "export.run")["data"]["nonce"]
    # The register is not offered to them: a card asking for it anyway is refused, and nothing is written.
    forged = await kit.click(SENIOR, "export.run", {"nonce": nonce, "ht": "1", "parts": "register,governors"})
    assert "can't do that" in texts_of(forged).lower()
    assert await kit.outbox("files.channel_upload") == []
    await kit.press(SENIOR, form, "export.run", {"parts": "governors", "ht": "1"})
    await kit.deliver()
    assert sorted(kit.view.channel_files()) == [DOCX]


async def test_a_double_click_exports_once(kit):  # noqa: F811
    await kit.install(DSL)
    form = await kit.say(DSL, "export")
    first = await kit.press(DSL, form, "export.run", {"parts": "summary", "ht": "1"})
    second = await kit.press(DSL, form, "export.run", {"parts": "summary", "ht": "1"})
    assert "Export on its way" in texts_of(first) and "already on its way" in texts_of(second)
    async with kit.db.session() as s:
        assert (await s.execute(select(func.count()).select_from(Export))).scalar_one() == 1
    await kit.deliver()
    assert len(kit.view.channel_files()) == 3  # summary .csv, audit trail .csv, .xlsx


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"parts": "", "ht": "1"}, "Choose at least one thing to export."),
        ({"parts": "summary", "ht": ""}, "Choose a half term."),
        ({"parts": "summary", "ht": "3"}, "Spring 2 hasn't started yet"),
    ],
)
async def test_bad_input_keeps_the_form_and_writes_nothing(kit, inputs, message):  # noqa: F811
    await kit.install(DSL)
    form = await kit.say(DSL, "export")
    nonce = find_action(form, "export.run")["data"]["nonce"]
    again = await kit.press(DSL, form, "export.run", inputs)
    assert any(message in e for e in errors_on(again))
    assert find_action(again, "export.run")["data"]["nonce"] == nonce  # the same form, so one export in the end
    async with kit.db.session() as s:
        assert (await s.execute(select(func.count()).select_from(Export))).scalar_one() == 0
        assert (await s.execute(select(func.count()).select_from(AuditEvent))).scalar_one() == 0


async def test_a_past_half_term_can_be_exported(kit):  # noqa: F811
    await kit.install(DSL)
    await _export(kit, parts="register", ht="0")
    await kit.deliver()
    got = kit.view.channel_files()
    assert "Exports/2026-27 Autumn 1 - attendance register.csv" in got
    rows = list(csv.reader(io.StringIO(got["Exports/2026-27 Autumn 1 - attendance register.csv"].decode("utf-8-sig"))))
    assert {r[4] for r in rows[1:]} <= {"Missed", "Exempt (joined late)", "Exempt (left)", "Exempt (long-term absence)"}


async def test_the_help_card_lists_export_for_the_dsl_team_and_senior_leaders_only(kit):  # noqa: F811
    await kit.install(DSL, SENIOR, TA)
    for who, listed in ((DSL, True), (SENIOR, True), (TA, False)):
        help_card = await kit.say(who, "help")
        assert ("**export**" in texts_of(help_card)) is listed, who


async def test_an_upload_that_gives_up_is_said_and_its_file_kept_for_a_retry(kit, monkeypatch):  # noqa: F811
    from bot.outbox.errors import PermanentFailure

    await kit.install(DSL)
    real = kit.backend.channel_files.upload

    async def refuse_docx(name, content, *, subfolder=None):
        if name.endswith(".docx"):
            raise PermanentFailure("the channel refused it")
        return await real(name, content, subfolder=subfolder)

    monkeypatch.setattr(kit.backend.channel_files, "upload", refuse_docx)
    await _export(kit, parts="summary,governors", ht="1")
    await kit.deliver()
    assert sorted(kit.view.channel_files()) == [
        f"Exports/{LABEL} - audit trail.csv",
        f"Exports/{LABEL} - compliance summary.csv",
        XLSX,
    ]
    told = [c for c in kit.journey_cards(DSL) if c["body"][0]["text"] == "Export partly saved"]
    assert len(told) == 1 and f"{LABEL} - governors summary.docx" in texts_of(told[0])
    async with kit.db.session() as s:
        docx = (await s.execute(select(ExportFile).where(ExportFile.name.like("%.docx")))).scalar_one()
        assert docx.status == "failed" and docx.content  # kept: `python -m bot.outbox retry` can send it again
        assert (await s.execute(select(Export.status))).scalar_one() == "failed"
