"""Group records: a confidentiality escalation raised by the facilitator (seed 004 §6), and attendee sign-off where
the school asks for it (`group_record_signoff`; seed 003 App. 3), end to end through the real app."""

from __future__ import annotations

import io
import json
import logging

from docx import Document
from sqlalchemy import select

from bot.app import SERVICES
from bot.records import docx_writer
from bot.store.models_group_record import GroupRecordVersion
from bot.store.models_outbox import OutboxRow
from bot.store.models_signoff import Escalation, RecordChangeRequest, RecordSignature
from tests.fakes.teams import person
from tests.journeys.one_to_one_kit import everything_stored
from tests.journeys.test_group_record import add_session, card_of, click, count, delivery, filled, open_record  # noqa: F401

SUMMARY = "We talked about lunchtime supervision."
COMMENT = "Grace came for the second half only; please say so."


def _signoff_on(teams) -> None:
    services = teams.app[SERVICES]
    services.school.settings = services.school.settings.model_copy(update={"group_record_signoff": True})


async def _recorded(teams, db, school, **extra) -> dict:
    amara = person(school, "amara.okafor")
    for sid in ("amara.okafor", "marcus.fenwick", "tom.hollis", "isla.brennan", "grace.mensah", "nadia.farouk"):
        await teams.install(person(school, sid))
    sess = await add_session(db)
    card = await open_record(teams, amara, sess)
    _, body = await click(teams, amara, card, "Submit record", filled(**extra))
    return card_of(body)


async def test_a_group_escalation_tells_the_rest_of_the_dsl_team_without_the_content(
    teams, connector, db, school, delivery, caplog
):  # noqa: F811
    for name in ("bot", "graph"):
        caplog.set_level(logging.DEBUG, logger=name)
    done = await _recorded(teams, db, school, esc_category="harm")
    assert "You raised an escalation" in json.dumps(done)
    await delivery.run()
    async with db.session() as s:
        [esc] = (await s.execute(select(Escalation))).scalars().all()
        rows = (await s.execute(select(OutboxRow).where(OutboxRow.key.like("escalation:%")))).scalars().all()
    assert (esc.record_kind, esc.category, esc.raised_by) == ("group", "harm", "amara.okafor")
    # Everyone in the DSL team but Amara herself; who/when/category only.
    assert sorted(r.payload["staff_id"] for r in rows) == ["daniel.whitcombe", "helen.ashdown", "marcus.fenwick"]
    for r in rows:
        shown = json.dumps(r.payload["card"])
        assert "Amara Okafor" in shown and "Risk of harm" in shown
        assert "lunchtime" not in shown and "rota" not in shown and "Willow" not in shown
    # The discussion is nowhere in the store (the action for the DSL meeting is kept, by design) nor the logs.
    stored = await everything_stored(db)
    for secret in (SUMMARY, "Agreed to share the rota"):
        assert secret not in stored and secret not in caplog.text
    # The channel's file says an escalation was raised.
    [content] = delivery.files().values()
    assert "Raised with the DSL team: Risk of harm" in "\n".join(
        p.text for p in Document(io.BytesIO(content)).paragraphs
    )


async def test_without_the_setting_nobody_is_asked_to_confirm(teams, connector, db, school, delivery):  # noqa: F811
    await _recorded(teams, db, school)
    await delivery.run()
    assert not [s for s in connector.sent if "Please confirm the group supervision record" in json.dumps(s.activity)]
    async with db.session() as s:
        v = (await s.execute(select(GroupRecordVersion))).scalar_one()
    out = await teams.submit(person(school, "tom.hollis"), "grouprec.sign", {"version_id": v.id})
    assert "doesn't ask for group records to be confirmed" in json.dumps(out[1])
    assert await count(db, RecordSignature) == 0


async def test_attendees_confirm_the_group_record_and_it_is_written_into_the_file(
    teams, connector, db, school, delivery
):  # noqa: F811
    _signoff_on(teams)
    done = await _recorded(teams, db, school)
    assert "Everyone who came is asked to confirm it" in json.dumps(done)
    connector.clear()
    await delivery.run()
    tom, grace = person(school, "tom.hollis"), person(school, "grace.mensah")
    asks = [s for s in connector.sent if "Please confirm the group supervision record" in json.dumps(s.activity)]
    assert len(asks) == 4  # the four who came; never the content
    assert all("lunchtime" not in json.dumps(s.activity) for s in asks)
    [content] = delivery.files().values()
    rows = docx_writer.read_signoff(content)
    assert [(r.role, r.name, bool(r.signed)) for r in rows] == [
        ("Recorded by", "Amara Okafor", True),
        ("Attended", "Grace Mensah", False),
        ("Attended", "Isla Brennan", False),
        ("Attended", "Nadia Farouk", False),
        ("Attended", "Tom Hollis", False),
    ]
    async with db.session() as s:
        v = (await s.execute(select(GroupRecordVersion))).scalar_one()
    # Someone who wasn't there can't sign; Tom can, once.
    out = await teams.submit(person(school, "samuel.kerr"), "grouprec.sign", {"version_id": v.id})
    assert "Only someone who attended" in json.dumps(out[1])
    _, body = await teams.submit(tom, "grouprec.sign", {"version_id": v.id})
    assert "You confirmed it is accurate on" in json.dumps(card_of(body))
    await teams.submit(tom, "grouprec.sign", {"version_id": v.id})
    assert await count(db, RecordSignature, RecordSignature.staff_id == "tom.hollis") == 1
    # Grace asks for a change: it goes to Amara; only that it was asked is kept.
    _, body = await teams.submit(grace, "grouprec.change", {"version_id": v.id, "change_note": COMMENT})
    assert "Sent." in json.dumps(card_of(body))
    connector.clear()
    await delivery.run()
    assert any(COMMENT in json.dumps(s.activity) for s in connector.sent)
    assert await count(db, RecordChangeRequest) == 1
    assert COMMENT not in await everything_stored(db)
    # Tom's signature is in the channel's file now.
    [content] = delivery.files().values()
    signed = {r.name: bool(r.signed) for r in docx_writer.read_signoff(content)}
    assert signed == {
        "Amara Okafor": True,
        "Grace Mensah": False,
        "Isla Brennan": False,
        "Nadia Farouk": False,
        "Tom Hollis": True,
    }
