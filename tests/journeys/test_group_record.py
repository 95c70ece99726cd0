"""The group record journey end to end through the real app (HTTP → handler → router → store → outbox → local
Microsoft 365 → channel), on SQLite and PostgreSQL: record, drafts, submit, delivery, amendments, refusals."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import logging

import pytest
from docx import Document
from sqlalchemy import func, select

from bot.app import SERVICES
from bot.journeys import group_record as journey
from bot.journeys import group_sessions
from bot.outbox import OutboxWorker
from bot.store.models_group_record import GroupRecord, GroupRecordDraft, GroupRecordVersion, RecordAction
from bot.store.models_outbox import OutboxRow
from bot.store.models_sessions import Attendance, GroupSession, SessionInvitee
from cards.base import validation_errors
from tests.fakes.teams import person

CHANNEL = {"id": "19:safeguarding@thread.tacv2", "name": "Safeguarding"}
WILLOW = ["isla.brennan", "nadia.farouk", "samuel.kerr", "tom.hollis", "yasmin.shah"]


# ---- helpers shared by the group record test modules ------------------------------------------------------------


def card_of(body: dict | None) -> dict:
    assert body and body.get("type") == "application/vnd.microsoft.card.adaptive", body
    card = body["value"]
    assert validation_errors(card) == [], validation_errors(card)
    return card


def text_of(body: dict | None) -> str:
    """The plain message shown in place of the clicked card (a small message card)."""
    card = card_of(body)
    assert not inputs(card), "a plain message has no inputs"
    return " ".join(b.get("text", "") for b in card["body"][1:] if b.get("type") == "TextBlock")


def inputs(card: dict) -> dict[str, dict]:
    out: dict[str, dict] = {}

    def walk(n):
        if isinstance(n, dict):
            if str(n.get("type", "")).startswith("Input."):
                out[n["id"]] = n
            for v in n.values():
                walk(v)
        elif isinstance(n, list):
            for v in n:
                walk(v)

    walk(card)
    return out


def button(card: dict, title: str) -> dict:
    found = []

    def walk(n):
        if isinstance(n, dict):
            if n.get("type") == "Action.Execute" and n.get("title", "").startswith(title):
                found.append(n)
            for v in n.values():
                walk(v)
        elif isinstance(n, list):
            for v in n:
                walk(v)

    walk(card)
    assert found, f"no button {title!r}"
    return found[0]


async def click(teams, who, card: dict, title: str, values: dict | None = None):
    """Press a card button as Teams would: the button's data with the card's input values merged in."""
    b = button(card, title)
    data = dict(b.get("data") or {})
    if b.get("associatedInputs") != "none":
        data.update(values or {})
    return await teams.submit(who, b["verb"], data)


async def add_session(
    db,
    *,
    group="willow",
    kind="class",
    start=dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc),
    facilitator="amara.okafor",
    status="scheduled",
    half_term="2026-27 Autumn 2",
    invite=(),
) -> int:
    async with db.session() as s:
        row = GroupSession(
            kind=kind,
            group_id=group,
            title="Group supervision",
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
            local_date=start.date(),
            half_term=half_term,
            facilitator_id=facilitator,
            status=status,
            external_support=False,
            created_by="amara.okafor",
            created_at=start - dt.timedelta(days=7),
        )
        s.add(row)
        await s.flush()
        for sid in invite:
            s.add(SessionInvitee(session_id=row.id, staff_id=sid, added_at=row.created_at, added_via="invite"))
        return row.id


class Delivery:
    """The app's own outbox worker, as wired in bot/app.py: the local Microsoft 365 backend (files in a folder),
    the real Teams handlers, and this journey's delivered hook."""

    def __init__(self, teams, view):
        services = teams.app[SERVICES]
        self.backend = services.m365
        self.worker = services.outbox_worker
        self.view = view

    def files(self) -> dict[str, bytes]:
        """The Safeguarding channel folder's files, read from whichever backend the app runs on."""
        return self.view.channel_files()

    async def run(self) -> int:
        return await self.worker.drain()


@pytest.fixture
async def delivery(teams, m365_view):
    return Delivery(teams, m365_view)


async def open_record(teams, who, sid: int) -> dict:
    status, body = await teams.submit(who, "grouprec.open", {"session_id": sid})
    assert status == 200
    return card_of(body)


def filled(**extra) -> dict:
    return {
        "att_group": "tom.hollis,isla.brennan,nadia.farouk",
        "att_other": "grace.mensah",
        "f_summary": "We talked about lunchtime supervision.\nAgreed to share the rota.",
        "f_confidentiality": "true",
        "act_0_text": "Check the lunchtime rota",
        "act_0_owner": "amara.okafor",
        "act_0_due": "2026-12-01",
        **extra,
    }


async def count(db, model, *where) -> int:
    async with db.session() as s:
        return (await s.execute(select(func.count()).select_from(model).where(*where))).scalar_one()


# ---- the journey ---------------------------------------------------------------------------------------------


async def test_dsl_records_a_class_session_and_it_lands_in_the_channel(teams, connector, db, school, delivery, caplog):
    caplog.set_level(logging.DEBUG, logger="bot")
    amara = person(school, "amara.okafor")
    # The Safeguarding channel knows the bot (so it can post there), and the DSL team have 1:1 chats.
    await teams.say(amara, "help", kind="channel", channel=CHANNEL)
    sid = await add_session(db)
    connector.clear()

    await teams.say(amara, "record")
    [picker] = connector.cards()
    assert validation_errors(picker) == []
    assert inputs(picker)["session_id"]["choices"][0]["title"].startswith("Willow Class · Mon 23 Nov, 09:00")

    status, body = await click(teams, amara, picker, "Open the record", {"session_id": str(sid)})
    card = card_of(body)
    att = inputs(card)["att_group"]
    assert [c["value"] for c in att["choices"]] == WILLOW and "value" not in att  # nobody pre-ticked
    assert "Summary of the discussion" in json.dumps(card)

    status, body = await click(teams, amara, card, "Submit record", filled())
    done = card_of(body)
    assert "Record submitted" in json.dumps(done)
    facts = {f["title"]: f["value"] for f in done["body"][1]["facts"]}
    assert facts["Attended"] == "4" and facts["Actions"] == "1"
    assert facts["File"] == "2026-11-23 Group supervision - Willow Class.docx"

    # Attendance for the half term the session falls in, one row each; the session is recorded.
    async with db.session() as s:
        rows = (await s.execute(select(Attendance).where(Attendance.session_id == sid))).scalars().all()
        sess = await s.get(GroupSession, sid)
        acts = (await s.execute(select(RecordAction))).scalars().all()
    assert sorted(r.staff_id for r in rows) == ["grace.mensah", "isla.brennan", "nadia.farouk", "tom.hollis"]
    assert {(r.half_term, r.local_date, r.recorded_by) for r in rows} == {
        ("2026-27 Autumn 2", dt.date(2026, 11, 23), "amara.okafor")
    }
    assert sess.status == "recorded"
    assert [(a.text, a.owner_id, a.due_on, a.status) for a in acts] == [
        ("Check the lunchtime rota", "amara.okafor", dt.date(2026, 12, 1), "open")
    ]

    # Deliver: the .docx reaches the channel folder, then the summary is posted in the channel.
    connector.clear()
    await delivery.run()
    [(name, content)] = delivery.files().items()
    assert name == "2026-11-23 Group supervision - Willow Class.docx"
    doc = Document(io.BytesIO(content))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "We talked about lunchtime supervision." in text and "Agreed to share the rota." in text
    names = [r.cells[0].text for r in doc.tables[1].rows[1:]]
    assert names == ["Grace Mensah", "Isla Brennan", "Nadia Farouk", "Tom Hollis"]
    assert doc.tables[2].rows[1].cells[0].text == "Check the lunchtime rota"
    assert dict((r.cells[0].text, r.cells[1].text) for r in doc.tables[0].rows)["School"] == "Kestrel Brook School"

    posted = [s for s in connector.sent if s.conversation_id.startswith(CHANNEL["id"])]
    assert len(posted) == 1
    summary = posted[0].activity["attachments"][0]["content"]
    assert validation_errors(summary) == []
    sf = {f["title"]: f["value"] for f in summary["body"][1]["facts"]}
    assert sf == {
        "Group": "Willow Class",
        "Date": "Mon 23 Nov 2026",
        "Facilitator": "Amara Okafor",
        "Attended": "4",
        "Actions for the DSL meeting": "1",
        "File": "2026-11-23 Group supervision - Willow Class.docx",
    }
    url = delivery.view.channel_file_url(name)
    assert url and summary["actions"][0]["url"] == url
    assert "lunchtime" not in json.dumps(summary)

    # Metadata only in the store now: where the file is; no drafts; nothing of the record in the logs.
    async with db.session() as s:
        v = (await s.execute(select(GroupRecordVersion))).scalar_one()
    assert (v.status, v.delivered_name, v.web_url) == ("delivered", name, url)
    assert await count(db, GroupRecordDraft) == 0
    async with db.session() as s:
        upload = (await s.execute(select(OutboxRow).where(OutboxRow.kind == "files.channel_upload"))).scalar_one()
    assert "content_b64" not in upload.payload  # the outbox's copy of the document is gone too
    assert "lunchtime" not in caplog.text and "rota" not in caplog.text


async def test_save_draft_and_reopen_with_everything_typed(teams, connector, db, school):
    amara = person(school, "amara.okafor")
    sid = await add_session(db)
    card = await open_record(teams, amara, sid)
    half = {"att_group": "tom.hollis", "f_summary": "Half written…", "act_0_text": "Think about it"}
    status, body = await click(teams, amara, card, "Save draft", half)
    saved = card_of(body)
    assert "Draft saved at 10:00" in json.dumps(saved)
    assert inputs(saved)["f_summary"]["value"] == "Half written…"
    key = button(saved, "Save draft")["data"]["draft_key"]
    async with db.session() as s:
        d = (await s.execute(select(GroupRecordDraft))).scalar_one()
    assert (d.draft_key, d.owner_id, d.session_id) == (key, "amara.okafor", sid)

    # Later: `record` lists the draft; continuing shows everything typed.
    connector.clear()
    await teams.say(amara, "record")
    [picker] = connector.cards()
    status, body = await click(teams, amara, picker, "Continue: Willow Class")
    again = card_of(body)
    ins = inputs(again)
    assert ins["att_group"]["value"] == "tom.hollis" and ins["f_summary"]["value"] == "Half written…"
    assert ins["act_0_text"]["value"] == "Think about it"
    # Opening the session again also finds the draft instead of starting a blank one.
    reopened = await open_record(teams, amara, sid)
    assert inputs(reopened)["f_summary"]["value"] == "Half written…"
    assert button(reopened, "Submit record")["data"]["draft_key"] == key

    # Saving twice keeps one draft; submitting deletes it.
    await click(teams, amara, again, "Save draft", half | {"f_summary": "Now longer"})
    assert await count(db, GroupRecordDraft) == 1
    status, body = await click(teams, amara, again, "Submit record", filled(f_summary="Now longer"))
    assert "Record submitted" in json.dumps(card_of(body))
    assert await count(db, GroupRecordDraft) == 0


async def test_a_draft_belongs_to_the_dsl_who_started_it(teams, db, school):
    amara, marcus = person(school, "amara.okafor"), person(school, "marcus.fenwick")
    sid = await add_session(db)
    card = await open_record(teams, amara, sid)
    await click(teams, amara, card, "Save draft", {"f_summary": "Amara's words"})
    key = button(card, "Save draft")["data"]["draft_key"]
    for verb in ("grouprec.resume", "grouprec.discard"):
        status, body = await teams.submit(marcus, verb, {"draft_key": key})
        assert "can't do that" in text_of(body)
    status, body = await teams.submit(
        marcus, "grouprec.save", {"session_id": sid, "draft_key": key, "f_summary": "overwritten"}
    )
    assert "can't do that" in text_of(body)
    # Nor can he file a record under her key (it filed under her key and deleted her draft: found by the
    # authorisation matrix, tests/security/test_authorization_matrix.py).
    status, body = await teams.submit(
        marcus, "grouprec.submit", {"session_id": sid, "draft_key": key, **filled(act_0_owner="marcus.fenwick")}
    )
    assert "can't do that" in text_of(body)
    assert await count(db, GroupRecord) == 0 and await count(db, GroupRecordDraft) == 1
    async with db.session() as s:
        d = (await s.execute(select(GroupRecordDraft))).scalar_one()
    assert d.content["f_summary"] == "Amara's words"
    # Marcus opening the same session gets his own, blank card.
    mine = await open_record(teams, marcus, sid)
    assert "value" not in inputs(mine)["f_summary"]
    status, body = await teams.submit(amara, "grouprec.discard", {"draft_key": key})
    assert "Draft deleted." in json.dumps(card_of(body)) and await count(db, GroupRecordDraft) == 0


async def test_invalid_submit_keeps_everything_and_shows_errors_beside_fields(teams, db, school):
    amara = person(school, "amara.okafor")
    sid = await add_session(db)
    card = await open_record(teams, amara, sid)
    bad = filled(f_summary="", f_confidentiality="false", act_1_text="No date", act_1_owner="marcus.fenwick")
    status, body = await click(teams, amara, card, "Submit record", bad)
    again = card_of(body)
    flat = json.dumps(again)
    assert "Please check 3 fields" in flat and "nothing you typed has been lost" in flat
    summary_error = flat.index("Please fill this in.")
    assert flat.index('"id": "f_summary"') < summary_error < flat.index('"id": "f_confidentiality"')
    assert flat.index('"id": "act_1_due"') < flat.index("Give a due date.") < flat.index('"id": "act_2_text"')
    ins = inputs(again)
    assert ins["att_group"]["value"] == "tom.hollis,isla.brennan,nadia.farouk"
    assert ins["att_other"]["value"] == "grace.mensah" and ins["act_1_text"]["value"] == "No date"
    assert await count(db, GroupRecord) == 0 and await count(db, Attendance) == 0


async def test_double_click_makes_one_record(teams, db, school):
    amara = person(school, "amara.okafor")
    sid = await add_session(db)
    card = await open_record(teams, amara, sid)
    first = await click(teams, amara, card, "Submit record", filled())
    second = await click(teams, amara, card, "Submit record", filled())
    assert "Record submitted" in json.dumps(card_of(first[1]))
    assert "already submitted; nothing was created twice" in json.dumps(card_of(second[1]))
    assert await count(db, GroupRecord) == 1 and await count(db, GroupRecordVersion) == 1
    assert await count(db, Attendance) == 4 and await count(db, RecordAction) == 1
    assert await count(db, OutboxRow, OutboxRow.kind == "files.channel_upload") == 1


async def test_a_second_dsl_cannot_record_the_same_session_twice(teams, db, school):
    amara, marcus = person(school, "amara.okafor"), person(school, "marcus.fenwick")
    sid = await add_session(db)
    a_card = await open_record(teams, amara, sid)
    m_card = await open_record(teams, marcus, sid)
    await click(teams, amara, a_card, "Submit record", filled())
    status, body = await click(teams, marcus, m_card, "Submit record", filled(f_summary="Marcus's version"))
    assert "recorded this session a moment ago" in json.dumps(card_of(body))
    assert await count(db, GroupRecord) == 1
    async with db.session() as s:  # his text is not lost: it is his draft now
        d = (await s.execute(select(GroupRecordDraft))).scalar_one()
    assert d.owner_id == "marcus.fenwick" and d.content["f_summary"] == "Marcus's version"
    status, body = await teams.submit(marcus, "grouprec.open", {"session_id": sid})
    assert "Already recorded" in json.dumps(card_of(body))


@pytest.mark.parametrize("who", ["tom.hollis", "priya.raman", "ruth.calloway"])
async def test_only_the_dsl_team_can_record(teams, connector, db, school, who, caplog):
    caplog.set_level(logging.INFO, logger="bot")
    sid = await add_session(db)
    p = person(school, who)
    await teams.say(p, "record")
    assert connector.texts()[-1] == journey.NOT_DSL
    for verb, data in [
        ("grouprec.open", {"session_id": sid}),
        ("grouprec.submit", {"session_id": sid, "draft_key": "a" * 32, **filled()}),
        ("grouprec.save", {"session_id": sid, "draft_key": "a" * 32}),
        ("grouprec.schedule_submit", {"nonce": "b" * 32}),
    ]:
        status, body = await teams.submit(p, verb, data)
        assert text_of(body) in (journey.NOT_DSL, group_sessions.NOT_DSL_SCHEDULE)
    assert await count(db, GroupRecord) == 0 and await count(db, GroupRecordDraft) == 0
    # The router refuses before any handler runs, and logs which verb and whom it needs (never the content).
    assert "refused record: needs DSL team" in caplog.text and "lunchtime" not in caplog.text
    assert "refused grouprec.submit: needs DSL team" in caplog.text


async def test_someone_not_on_the_roster_is_refused(teams, db, school):
    from tests.fakes.teams import Person

    stranger = Person("visitor", "99999999-0000-4000-8000-000000000000", "A Visitor")
    sid = await add_session(db)
    status, body = await teams.submit(
        stranger, "grouprec.submit", {"session_id": sid, "draft_key": "a" * 32, **filled()}
    )
    assert text_of(body) == journey.NOT_DSL and await count(db, GroupRecord) == 0


@pytest.mark.parametrize(
    "tamper",
    [
        {"att_group": "tom.hollis,grace.mensah"},  # ticked someone outside the group's tick list
        {"att_other": "not.on.roster"},  # an attendee outside the roster
        {"act_0_owner": "tom.hollis"},  # an action owner outside the DSL team
        {"session_id": 99999},  # another (unknown) session
        {"session_id": "1; drop table"},
        {"draft_key": "../../etc"},
    ],
)
async def test_tampered_payloads_are_refused(teams, db, school, tamper, caplog):
    caplog.set_level(logging.INFO, logger="bot")
    amara = person(school, "amara.okafor")
    sid = await add_session(db)
    data = {"session_id": sid, "draft_key": "c" * 32, **filled(), **tamper}
    status, body = await teams.submit(amara, "grouprec.submit", data)
    assert "can't do that with this card" in text_of(body)
    assert await count(db, GroupRecord) == 0 and await count(db, Attendance) == 0
    assert "refused group record" in caplog.text and "lunchtime" not in caplog.text


async def test_specialist_sessions_are_not_recorded_centrally(teams, db, school):
    amara = person(school, "amara.okafor")
    sid = await add_session(db, kind="specialist", group=None)
    status, body = await teams.submit(amara, "grouprec.open", {"session_id": sid})
    assert "can't do that" in text_of(body)


async def test_future_and_cancelled_sessions_cannot_be_recorded_yet(teams, db, school):
    amara = person(school, "amara.okafor")
    later = await add_session(db, start=dt.datetime(2026, 11, 25, 14, 0, tzinfo=dt.timezone.utc))
    gone = await add_session(db, status="cancelled", group="rowan")
    status, body = await teams.submit(amara, "grouprec.open", {"session_id": later})
    assert "Not started yet" in json.dumps(card_of(body))
    status, body = await teams.submit(
        amara, "grouprec.submit", {"session_id": later, "draft_key": "d" * 32, **filled()}
    )
    assert "hasn't happened yet" in json.dumps(card_of(body))
    status, body = await teams.submit(amara, "grouprec.open", {"session_id": gone})
    assert "Session cancelled" in json.dumps(card_of(body))
    # The picker counts the later one but offers only sessions that have started.
    status, body = await teams.submit(amara, "grouprec.start", {})
    picker = card_of(body)
    assert "session_id" not in inputs(picker) and "1 more is scheduled for later dates" in json.dumps(picker)


async def test_mop_up_session_ticks_its_invitees(teams, db, school):
    amara = person(school, "amara.okafor")
    sid = await add_session(db, kind="mop_up", group=None, invite=["tom.hollis", "delia.moss"])
    card = await open_record(teams, amara, sid)
    att = inputs(card)["att_group"]
    assert att["label"] == "Tick who came (everyone invited)"
    assert [c["value"] for c in att["choices"]] == ["delia.moss", "tom.hollis"]
    status, body = await click(
        teams,
        amara,
        card,
        "Submit record",
        {"att_group": "delia.moss", "f_summary": "Short", "f_confidentiality": "true"},
    )
    assert "2026-11-23 Group supervision - Mop-up session.docx" in json.dumps(card_of(body))


async def test_adhoc_session_is_created_on_submit(teams, db, school, delivery):
    amara = person(school, "amara.okafor")
    status, body = await teams.submit(amara, "grouprec.adhoc", {})
    adhoc = card_of(body)
    assert inputs(adhoc)["adhoc_facilitator"]["value"] == "amara.okafor"
    # Mistakes first: a future date and no group.
    status, body = await click(
        teams,
        amara,
        adhoc,
        "Next",
        {
            "adhoc_kind": "emergency",
            "adhoc_date": "2026-11-30",
            "adhoc_time": "13:00",
            "adhoc_facilitator": "marcus.fenwick",
        },
    )
    again = card_of(body)
    flat = json.dumps(again)
    assert "in the future" in flat and "Choose the group." in flat
    assert inputs(again)["adhoc_kind"]["value"] == "emergency"
    status, body = await click(
        teams,
        amara,
        again,
        "Next",
        {
            "adhoc_kind": "emergency",
            "adhoc_date": "2026-11-20",
            "adhoc_time": "13:00",
            "adhoc_group": "health",
            "adhoc_facilitator": "marcus.fenwick",
        },
    )
    card = card_of(body)
    assert "Emergency group session" in json.dumps(card) and "Marcus Fenwick" in json.dumps(card)
    assert [c["value"] for c in inputs(card)["att_group"]["choices"]] == [
        "delia.moss",
        "ethan.carver",
        "fiona.reid",
        "gareth.poole",
        "grace.mensah",
    ]
    assert await count(db, GroupSession) == 0  # nothing made until submit
    status, body = await click(
        teams,
        amara,
        card,
        "Submit record",
        {
            "att_group": "delia.moss,grace.mensah",
            "f_summary": "Support after an incident.",
            "f_confidentiality": "true",
        },
    )
    assert "Record submitted" in json.dumps(card_of(body))
    async with db.session() as s:
        sess = (await s.execute(select(GroupSession))).scalar_one()
        att = (await s.execute(select(Attendance))).scalars().all()
    assert (sess.kind, sess.group_id, sess.facilitator_id, sess.status, sess.half_term, sess.local_date) == (
        "emergency",
        "health",
        "marcus.fenwick",
        "recorded",
        "2026-27 Autumn 2",
        dt.date(2026, 11, 20),
    )
    assert sess.starts_at == dt.datetime(2026, 11, 20, 13, 0, tzinfo=dt.timezone.utc)  # 13:00 London in winter
    assert sorted(a.staff_id for a in att) == ["delia.moss", "grace.mensah"]
    await delivery.run()
    assert list(delivery.files()) == ["2026-11-20 Group supervision - Nursing and therapy support.docx"]


async def test_adhoc_details_on_a_record_card_are_rechecked(teams, db, school):
    amara = person(school, "amara.okafor")
    adhoc = {
        "kind": "ad_hoc",
        "date": "2026-11-20",
        "time": "13:00",
        "group": "willow",
        "facilitator": "tom.hollis",
    }  # not DSL team
    status, body = await teams.submit(amara, "grouprec.submit", {"adhoc": adhoc, "draft_key": "e" * 32, **filled()})
    assert "can't do that" in text_of(body) and await count(db, GroupSession) == 0


async def test_amendment_makes_v2_keeps_v1_and_notes_it_in_the_channel(teams, connector, db, school, delivery):
    amara, marcus = person(school, "amara.okafor"), person(school, "marcus.fenwick")
    await teams.say(amara, "help", kind="channel", channel=CHANNEL)
    sid = await add_session(db)
    card = await open_record(teams, amara, sid)
    await click(teams, amara, card, "Submit record", filled())
    await delivery.run()
    connector.clear()

    # Any DSL-team member may amend; the card comes back filled in (text read back from the channel's file).
    status, body = await teams.submit(marcus, "grouprec.start", {})
    picker = card_of(body)
    assert "v1 · saved to the channel" in json.dumps(picker, ensure_ascii=False)
    status, body = await click(teams, marcus, picker, "Amend")
    amend = card_of(body)
    ins = inputs(amend)
    assert ins["att_group"]["value"] == "isla.brennan,nadia.farouk,tom.hollis"
    assert ins["att_other"]["value"] == "grace.mensah"
    assert ins["f_summary"]["value"] == "We talked about lunchtime supervision.\nAgreed to share the rota."
    assert ins["act_0_text"]["value"] == "Check the lunchtime rota"
    values = {k: v.get("value") for k, v in ins.items() if v.get("value")}

    # Without saying what changed: an error beside the note, nothing filed.
    status, body = await click(teams, marcus, amend, "Save version 2", values | {"att_group": "isla.brennan"})
    assert "what changed" in json.dumps(card_of(body))
    changes = values | {
        "att_group": "isla.brennan,nadia.farouk,tom.hollis,yasmin.shah",
        "att_other": "",
        "act_0_due": "2026-12-04",
        "act_1_text": "New action",
        "act_1_owner": "marcus.fenwick",
        "act_1_due": "2026-12-02",
        "amend_note": "Yasmin was there; Grace was not.",
    }
    status, body = await click(teams, marcus, amend, "Save version 2", changes)
    assert "Version 2 saved" in json.dumps(card_of(body))
    async with db.session() as s:
        att = sorted((await s.execute(select(Attendance.staff_id).where(Attendance.session_id == sid))).scalars())
        acts = (await s.execute(select(RecordAction).order_by(RecordAction.id))).scalars().all()
        rec = (await s.execute(select(GroupRecord))).scalar_one()
    assert att == ["isla.brennan", "nadia.farouk", "tom.hollis", "yasmin.shah"]
    assert [(a.text, a.due_on) for a in acts] == [
        ("Check the lunchtime rota", dt.date(2026, 12, 4)),
        ("New action", dt.date(2026, 12, 2)),
    ]
    assert rec.current_version == 2

    await delivery.run()
    assert sorted(delivery.files()) == [
        "2026-11-23 Group supervision - Willow Class-v2.docx",
        "2026-11-23 Group supervision - Willow Class.docx",
    ]
    v2 = Document(io.BytesIO(delivery.files()["2026-11-23 Group supervision - Willow Class-v2.docx"]))
    text = "\n".join(p.text for p in v2.paragraphs)
    assert "What changed: Yasmin was there; Grace was not." in text
    posted = [
        s.activity["attachments"][0]["content"] for s in connector.sent if s.conversation_id.startswith(CHANNEL["id"])
    ]
    assert len(posted) == 1 and "amended (version 2)" in json.dumps(posted[0])
    assert "2026-11-23 Group supervision - Willow Class.docx" in json.dumps(posted[0])  # earlier one is kept


async def test_amending_before_delivery_reads_the_text_from_the_outbox(teams, db, school):
    amara = person(school, "amara.okafor")
    sid = await add_session(db)
    card = await open_record(teams, amara, sid)
    await click(teams, amara, card, "Submit record", filled())
    async with db.session() as s:
        rid = (await s.execute(select(GroupRecord.id))).scalar_one()
    status, body = await teams.submit(amara, "grouprec.amend", {"record_id": rid})
    assert inputs(card_of(body))["f_summary"]["value"].startswith("We talked about lunchtime")


async def test_amendment_refuses_actions_of_another_record(teams, db, school):
    amara = person(school, "amara.okafor")
    s1, s2 = await add_session(db), await add_session(db, group="rowan")
    for sid, att in ((s1, "tom.hollis"), (s2, "tara.whitlock")):
        card = await open_record(teams, amara, sid)
        await click(teams, amara, card, "Submit record", filled(att_group=att))
    async with db.session() as s:
        r1 = (await s.execute(select(GroupRecord).where(GroupRecord.session_id == s1))).scalar_one()
        other = (await s.execute(select(RecordAction).where(RecordAction.record_id != r1.id))).scalar_one()
    status, body = await teams.submit(
        amara,
        "grouprec.submit",
        {
            "record_id": r1.id,
            "draft_key": "f" * 32,
            "action_ids": {"0": other.id},
            **filled(att_group="tom.hollis", amend_note="x"),
        },
    )
    assert "can't do that" in text_of(body)


async def test_delivery_is_retried_when_the_channel_files_fail(teams, db, school, delivery, clock):
    amara = person(school, "amara.okafor")
    sid = await add_session(db)
    card = await open_record(teams, amara, sid)
    await click(teams, amara, card, "Submit record", filled())
    real = delivery.backend.channel_files.upload
    calls = []

    async def flaky(name, content, **kw):
        calls.append(name)
        if len(calls) == 1:
            raise ConnectionError("channel files unreachable")
        return await real(name, content, **kw)

    delivery.backend.channel_files.upload = flaky
    await delivery.worker.run_once()
    async with db.session() as s:
        v = (await s.execute(select(GroupRecordVersion))).scalar_one()
    assert v.status == "pending" and calls == [v.file_name]
    assert not delivery.files()
    clock.advance(minutes=5)
    await delivery.run()
    async with db.session() as s:
        v = (await s.execute(select(GroupRecordVersion))).scalar_one()
    assert v.status == "delivered" and len(calls) == 2


async def test_dead_lettered_upload_is_marked_and_the_submitter_told(teams, db, school):
    amara = person(school, "amara.okafor")
    sid = await add_session(db)
    card = await open_record(teams, amara, sid)
    await click(teams, amara, card, "Submit record", filled())
    services = teams.app[SERVICES]
    hooks = services.router.hooks.dead["files.channel_upload"]  # the journey's own, as it registered them

    async def on_dead(row):
        for hook in hooks:
            await hook(services, row)

    async def broken(payload):
        from bot.outbox import PermanentFailure

        raise PermanentFailure("access refused")

    worker = OutboxWorker(db, {"files.channel_upload": broken}, clock=services.clock, on_dead_letter=on_dead)
    await worker.run_once()
    await worker.run_once()
    async with db.session() as s:
        v = (await s.execute(select(GroupRecordVersion))).scalar_one()
        note = (await s.execute(select(OutboxRow).where(OutboxRow.kind == "teams.notify"))).scalar_one()
        upload = (await s.execute(select(OutboxRow).where(OutboxRow.kind == "files.channel_upload"))).scalar_one()
    assert v.status == "failed" and note.payload["staff_id"] == "amara.okafor"
    assert "lunchtime" not in json.dumps(note.payload)
    assert upload.payload["content_b64"]  # the only copy is still there to requeue


async def test_on_record_delivered_is_idempotent(teams, db, school):
    amara = person(school, "amara.okafor")
    sid = await add_session(db)
    card = await open_record(teams, amara, sid)
    await click(teams, amara, card, "Submit record", filled())
    async with db.session() as s:
        vid = (await s.execute(select(GroupRecordVersion.id))).scalar_one()
    for _ in range(2):
        async with db.session() as s:
            await journey.on_record_delivered(
                s,
                vid,
                {"web_url": "https://files.example/r.docx", "name": "r.docx", "item_id": "r.docx"},
                school=school,
            )
    assert await count(db, OutboxRow, OutboxRow.kind == "teams.channel") == 1
    async with db.session() as s:
        row = (await s.execute(select(OutboxRow).where(OutboxRow.kind == "teams.channel"))).scalar_one()
    assert row.payload["fallback_staff_ids"] == [m.id for m in school.data.staff if "dsl" in {r.value for r in m.roles}]
    assert "https://files.example/r.docx" in row.payload["fallback_text"]


async def test_delivered_hook_ignores_other_journeys_uploads(teams, db, school):
    amara = person(school, "amara.okafor")
    sid = await add_session(db)
    card = await open_record(teams, amara, sid)
    await click(teams, amara, card, "Submit record", filled())
    async with db.session() as s:
        vid = (await s.execute(select(GroupRecordVersion.id))).scalar_one()
        # Another journey's channel upload that happens to carry the same record_id number.
        await journey.on_record_delivered(
            s, vid, {"web_url": "https://elsewhere.example/x", "name": "x.docx"}, school=school, key="one_to_one:file:1"
        )
        await journey.on_record_failed(s, vid, school=school, key="one_to_one:file:1")
    async with db.session() as s:
        v = await s.get(GroupRecordVersion, vid)
    assert (v.status, v.web_url) == ("pending", None)
    assert await count(db, OutboxRow, OutboxRow.kind == "teams.channel") == 0


async def test_upload_payload_carries_the_docx_for_the_outbox(teams, db, school):
    amara = person(school, "amara.okafor")
    sid = await add_session(db)
    card = await open_record(teams, amara, sid)
    await click(teams, amara, card, "Submit record", filled())
    async with db.session() as s:
        row = (await s.execute(select(OutboxRow).where(OutboxRow.kind == "files.channel_upload"))).scalar_one()
        vid = (await s.execute(select(GroupRecordVersion.id))).scalar_one()
    assert row.key == f"group_record:file:{vid}" and row.payload["record_id"] == vid
    assert row.payload["name"] == "2026-11-23 Group supervision - Willow Class.docx"
    doc = Document(io.BytesIO(base64.b64decode(row.payload["content_b64"])))
    assert any("lunchtime supervision" in p.text for p in doc.paragraphs)
