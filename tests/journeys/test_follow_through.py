"""Follow-through on the 1:1 record (issue 11 part 4): the previous sessions' open actions open the next record
("review of actions", seed 002 App. 2), each marked done / carried forward / dropped in the record's own
transaction; a pair with no agreement is flagged on the supervisor's record card and on the DSL's attendance card;
overdue actions show on the owner's `myactions`. Through the real app, both backends."""

from __future__ import annotations

import io

from docx import Document
from sqlalchemy import select

from bot.reminders import followup
from bot.store.models_targeted import DONE, DROPPED, OPEN, TargetedAction, TargetedRecord
from tests.journeys.one_to_one_kit import SEE, SUP, answers, count, kit, open_card, pairs  # noqa: F401
from tests.journeys.test_group_record import delivery  # noqa: F401
from tests.journeys.test_request_kit import errors_on, find_input, texts_of

NO_SECOND = {"act_1_text": "", "act_1_due": ""}


async def _actions(db) -> dict[str, TargetedAction]:
    async with db.session() as s:
        return {a.text: a for a in (await s.execute(select(TargetedAction))).scalars()}


async def test_earlier_actions_open_the_next_record_and_are_marked_in_its_transaction(kit, pairs):  # noqa: F811
    first = await open_card(kit)
    assert "Review of actions from last time" not in texts_of(first)  # nothing to review the first time
    await kit.press(SUP, first, "targeted.submit", answers(sess_date="2026-11-12"))
    before = await _actions(kit.db)
    swap, leaflet = before["Ask for a lunchtime swap"], before["Find the wellbeing leaflet"]

    card = await open_card(kit)
    flat = texts_of(card)
    assert flat.index("Review of actions from last time") < flat.index("The record")
    assert find_input(card, f"rev_{swap.id}") and find_input(card, f"rev_{leaflet.id}")

    # Unmarked: shown as mistakes, nothing written, everything typed kept.
    second = answers(sess_date="2026-11-19", act_0_text="Book the first-aid refresher", **NO_SECOND)
    bad = await kit.press(SUP, card, "targeted.submit", {**second, f"rev_{swap.id}": "carried"})
    assert "Mark this one: done, carry forward or drop it." in errors_on(bad)
    assert find_input(bad, f"rev_{swap.id}")["value"] == "carried"
    assert await count(kit.db, TargetedRecord) == 1
    # A mark no card offers is tampering.
    odd = await kit.press(SUP, card, "targeted.submit", {**second, f"rev_{swap.id}": "x", f"rev_{leaflet.id}": "done"})
    assert "can't do that" in texts_of(odd)

    out = await kit.press(
        SUP, bad, "targeted.submit", {**second, f"rev_{swap.id}": "carried", f"rev_{leaflet.id}": "done"}
    )
    assert "Record submitted" in texts_of(out), errors_on(out)
    after = await _actions(kit.db)
    async with kit.db.session() as s:
        newest = (await s.execute(select(TargetedRecord).order_by(TargetedRecord.id.desc()))).scalars().first()
    assert after["Find the wellbeing leaflet"].status == DONE and after["Find the wellbeing leaflet"].done_by == SUP
    assert after["Ask for a lunchtime swap"].status == OPEN
    assert {after[t].reviewed_in_id for t in ("Find the wellbeing leaflet", "Ask for a lunchtime swap")} == {newest.id}

    # The review is in the record's document.
    await kit.deliver()
    doc = next(
        sh for sh in await kit.view.shares() if sh.path.endswith("2026-11-19 Supervision record - Tom Hollis.docx")
    )
    cells = [c.text for t in Document(io.BytesIO(doc.content)).tables for r in t.rows for c in r.cells]
    assert "Carried forward" in cells and "Done" in cells and "Find the wellbeing leaflet" in cells

    # Next time: the carried one and the new one, not the done one; dropping takes it off the lists.
    third = await open_card(kit)
    new = after["Book the first-aid refresher"]
    assert _has(third, f"rev_{swap.id}") and _has(third, f"rev_{new.id}") and not _has(third, f"rev_{leaflet.id}")
    await kit.press(
        SUP,
        third,
        "targeted.submit",
        answers(
            sess_date="2026-11-23",
            act_0_text="",
            act_0_due="",
            **NO_SECOND,
            **{f"rev_{swap.id}": "dropped", f"rev_{new.id}": "carried"},
        ),
    )
    assert (await _actions(kit.db))["Ask for a lunchtime swap"].status == DROPPED
    assert "Ask for a lunchtime swap" not in texts_of(await kit.say(SEE, "myactions"))


def _has(card: dict, input_id: str) -> bool:
    try:
        return bool(find_input(card, input_id))
    except AssertionError:
        return False


async def test_a_pair_with_no_agreement_is_flagged_to_the_supervisor_and_the_dsl(kit, pairs):  # noqa: F811
    card = await open_card(kit)
    assert "no supervision agreement with this person yet" in texts_of(card)
    dsl = texts_of(await kit.say("amara.okafor", "attendance"))
    assert "1:1 supervision with no agreement yet** (2)" in dsl
    assert "Tom Hollis with Priya Raman (since 1 Oct)" in dsl


async def test_an_overdue_action_shows_on_the_owners_list_and_is_reminded_once(kit, pairs):  # noqa: F811
    await kit.press(
        SUP, await open_card(kit), "targeted.submit", answers(sess_date="2026-11-12", act_0_due="2026-11-20")
    )
    mine = texts_of(await kit.say(SEE, "myactions"))
    assert "Ask for a lunchtime swap" in mine and "overdue" in mine
    assert await followup.plan(kit.services, kit.clock.now) >= 1
    await followup.plan(kit.services, kit.clock.now)
    await kit.deliver()
    reminded = [c for c in kit.journey_cards(SEE) if "An action from supervision is overdue" in texts_of(c)]
    assert len(reminded) == 1 and "Ask for a lunchtime swap" in texts_of(reminded[0])


async def test_myactions_lists_the_owners_group_record_actions_without_a_button(kit, pairs):  # noqa: F811
    import datetime as dt

    from bot.store.models_group_record import GroupRecord, RecordAction
    from tests.reminders.helpers import add_session

    sid = await add_session(kit.db, day=dt.date(2026, 11, 5), status="held")
    async with kit.db.session() as s:
        g = GroupRecord(
            session_id=sid,
            template_id="g",
            facilitator_id="amara.okafor",
            created_by="amara.okafor",
            created_at=kit.clock.now,
        )
        s.add(g)
        await s.flush()
        s.add(
            RecordAction(
                record_id=g.id,
                text="Share the new rota",
                owner_id=SEE,
                due_on=dt.date(2026, 11, 20),
                created_by="amara.okafor",
                created_at=kit.clock.now,
            )
        )
    card = await kit.say(SEE, "myactions")
    flat = texts_of(card)
    assert "Share the new rota" in flat and "the DSL team ticks these off" in flat
    assert "targeted.action_done" not in flat  # no "Mark done" on anyone's card: Tom has no 1:1 actions yet
    assert "Share the new rota" not in texts_of(await kit.say(SUP, "myactions"))


# ---- the same for a group: the group's earlier open actions open its next record ----------------------------


async def test_a_groups_earlier_actions_open_its_next_record(teams, db, school, delivery):
    import datetime as dt
    import json

    from bot.store.models_group_record import RecordAction
    from tests.fakes.teams import person
    from tests.journeys.test_group_record import add_session, card_of, click, filled, inputs, open_record

    amara = person(school, "amara.okafor")
    first = await add_session(db, start=dt.datetime(2026, 11, 9, 9, 0, tzinfo=dt.timezone.utc))
    now = await add_session(db)  # 23 Nov, Willow Class again
    other = await add_session(db, group="rowan", start=dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.timezone.utc))
    card = await open_record(teams, amara, first)
    assert "Review of actions from last time" not in json.dumps(card)
    _, body = await click(teams, amara, card, "Submit record", filled())
    assert "Record submitted" in json.dumps(card_of(body))
    async with db.session() as s:
        [rota] = (await s.execute(select(RecordAction))).scalars().all()

    assert f"rev_{rota.id}" not in inputs(await open_record(teams, amara, other))  # another group's: not here
    card = await open_record(teams, amara, now)
    assert f"rev_{rota.id}" in inputs(card)
    _, body = await click(teams, amara, card, "Submit record", filled(act_0_text="Invite the school nurse"))
    bad = card_of(body)
    assert "Mark this one: done, carry forward or drop it." in json.dumps(bad)
    _, body = await click(
        teams, amara, bad, "Submit record", filled(act_0_text="Invite the school nurse", **{f"rev_{rota.id}": "done"})
    )
    assert "Record submitted" in json.dumps(card_of(body))
    async with db.session() as s:
        acts = {a.text: a for a in (await s.execute(select(RecordAction))).scalars()}
    assert (
        acts["Check the lunchtime rota"].status == DONE and acts["Check the lunchtime rota"].done_by == "amara.okafor"
    )
    assert acts["Invite the school nurse"].status == OPEN
    await delivery.run()
    content = delivery.files()["2026-11-23 Group supervision - Willow Class.docx"]
    cells = [c.text for t in Document(io.BytesIO(content)).tables for r in t.rows for c in r.cells]
    assert "Check the lunchtime rota" in cells and "Done" in cells
