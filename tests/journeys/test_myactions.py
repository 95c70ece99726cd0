"""`myactions`: the actions agreed in a 1:1 record are seen by its supervisor and supervisee only (seed 004 summary
of actions; seed 001 §3.2 1:1 notes not kept centrally), on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from bot.store.models_targeted import TargetedAction
from tests.journeys.one_to_one_kit import SEE, SUP, kit, pairs, submitted  # noqa: F401
from tests.journeys.test_request_kit import texts_of

# ---- 1:1 actions ---------------------------------------------------------------------------------------------


async def test_agreed_actions_are_seen_by_the_two_people_only(kit, pairs):  # noqa: F811
    await submitted(kit)
    tom = await kit.say(SEE, "myactions")
    flat = texts_of(tom)
    assert flat.index("Yours") < flat.index("Ask for a lunchtime swap") < flat.index("The other person's")
    assert flat.index("The other person's") < flat.index("Find the wellbeing leaflet")
    assert "1:1 with Priya Raman, 19 Nov" in flat
    priya = texts_of(await kit.say(SUP, "myactions"))
    assert "Find the wellbeing leaflet" in priya and "Ask for a lunchtime swap" in priya
    # Not on the DSL team's list, and not on anyone else's.
    assert "lunchtime swap" not in texts_of(await kit.say("amara.okafor", "actions"))
    assert "lunchtime swap" not in texts_of(await kit.say("marcus.fenwick", "myactions"))
    async with kit.db.session() as s:
        aid = (await s.execute(select(TargetedAction.id).where(TargetedAction.owner_id == SEE))).scalar_one()
    out = await kit.click("marcus.fenwick", "targeted.action_done", {"action_id": aid})
    assert "can't do that" in texts_of(out)
    done = await kit.click(SEE, "targeted.action_done", {"action_id": aid})
    assert "Marked done." in texts_of(done) and "Done in the last 30 days" in texts_of(done)
