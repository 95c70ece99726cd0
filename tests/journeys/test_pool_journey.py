"""The DSL keeps the trained supervisor pool; the pool (not the config, once seeded) drives the request card."""

from __future__ import annotations

from sqlalchemy import select

from bot.store.models_request import Pairing, PoolMember
from tests.journeys.test_request_kit import errors_on, find_input, kit, texts_of  # noqa: F401


async def test_pool_is_seeded_from_config_with_caseloads(kit):
    await kit.install("amara.okafor")
    async with kit.db.session() as s:
        s.add(Pairing(supervisee_id="tom.hollis", supervisor_id="priya.raman", started_at=kit.clock.now))
    card = await kit.say("amara.okafor", "pool")
    text = texts_of(card)
    for name in ("Amara Okafor", "Priya Raman", "Marcus Fenwick", "Kate Lowther", "Samuel Kerr"):
        assert name in text
    assert "Helen Ashdown" not in text.split("Add a supervisor")[0]  # trained once, but not in the pool role
    assert "supervising 1 of 4 (school default)" in text
    async with kit.db.session() as s:
        assert {r.staff_id for r in (await s.execute(select(PoolMember))).scalars()} == {
            "amara.okafor",
            "priya.raman",
            "marcus.fenwick",
            "kate.lowther",
            "samuel.kerr",
        }


async def test_only_the_dsl_team_changes_the_pool(kit, caplog):
    await kit.install("tom.hollis")
    assert "Only the DSL team" in texts_of(await kit.say("tom.hollis", "pool"))
    assert "Only the DSL team" in texts_of(
        await kit.click("tom.hollis", "pool.retire", {"staff_id": "priya.raman", "confirm": True})
    )
    assert "Only the DSL team" in texts_of(
        await kit.click("priya.raman", "pool.add", {"staff": "tom.hollis", "trained_on": "2025-01-01"})
    )
    assert "refused pool" in caplog.text
    assert "Supervisor pool" not in texts_of(await kit.say("tom.hollis", "help"))


async def test_add_with_training_date_then_they_appear_on_the_request_card(kit):
    await kit.install("amara.okafor", "tom.hollis")
    card = await kit.say("amara.okafor", "pool")
    done = await kit.press(
        "amara.okafor", card, "pool.add", {"staff": "grace.mensah", "trained_on": "2026-10-01", "capacity": "2"}
    )
    assert "Grace Mensah added to the pool." in texts_of(done)
    assert "supervising 0 of 2" in texts_of(done)
    form = await kit.say("tom.hollis", "request")
    assert "grace.mensah" in [c["value"] for c in find_input(form, "preferred")["choices"]]


async def test_add_rejects_future_training_and_keeps_what_was_typed(kit):
    await kit.install("amara.okafor")
    card = await kit.say("amara.okafor", "pool")
    bad = await kit.press(
        "amara.okafor", card, "pool.add", {"staff": "grace.mensah", "trained_on": "2027-01-10", "capacity": "0"}
    )
    errs = " ".join(errors_on(bad))
    assert "date is in the future" in errs and "whole number from 1 to 50" in errs
    assert find_input(bad, "trained_on")["value"] == "2027-01-10"
    assert find_input(bad, "staff")["value"] == "grace.mensah"
    assert find_input(bad, "trained_on")["max"] == "2026-11-23"
    async with kit.db.session() as s:
        assert (
            await s.execute(select(PoolMember).where(PoolMember.staff_id == "grace.mensah"))
        ).scalar_one_or_none() is None


async def test_retire_asks_first_then_removes_from_request_choices_and_stays_retired(kit):
    await kit.install("amara.okafor", "tom.hollis")
    await kit.say("amara.okafor", "pool")
    ask = await kit.click("amara.okafor", "pool.retire", {"staff_id": "priya.raman"})
    assert "Retire Priya Raman from the pool?" in texts_of(ask)
    done = await kit.press("amara.okafor", ask, "pool.retire")
    assert "Priya Raman has been retired" in texts_of(done)
    again = await kit.press("amara.okafor", ask, "pool.retire")  # double click
    assert "already been retired" in texts_of(again)
    form = await kit.say("tom.hollis", "request")
    assert "priya.raman" not in [c["value"] for c in find_input(form, "preferred")["choices"]]
    # The config still names Priya; a restart (new process state) must not bring her back.
    kit.services.pool.seeded = False
    form = await kit.say("tom.hollis", "request")
    assert "priya.raman" not in [c["value"] for c in find_input(form, "preferred")["choices"]]
    # Re-adding with a new training date brings her back.
    back = await kit.click("amara.okafor", "pool.add", {"staff": "priya.raman", "trained_on": "2026-11-01"})
    assert "Priya Raman added to the pool." in texts_of(back)


async def test_retiring_someone_not_in_the_pool_is_refused(kit, caplog):
    await kit.install("amara.okafor")
    card = await kit.click("amara.okafor", "pool.retire", {"staff_id": "tom.hollis", "confirm": True})
    assert "isn't in the pool" in texts_of(card)
    assert "refused pool.retire" in caplog.text
