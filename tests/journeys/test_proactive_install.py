"""Proactive install on both Microsoft 365 backends: someone who never opened the bot gets the app installed
(Graph: POST /users/{id}/teamwork/installedApps; locally: the store), and the card waiting for them arrives once
Teams tells the bot about the install."""

from __future__ import annotations

from tests.journeys.test_request_kit import kit, texts_of, tom_requests  # noqa: F401


async def test_an_allocator_without_a_chat_gets_the_app_installed_then_the_card(kit):  # noqa: F811
    await kit.install("tom.hollis", "helen.ashdown")  # Daniel, the other allocator, never opened the bot
    await tom_requests(kit)
    await kit.deliver()
    assert any("Supervision request from Tom Hollis" in texts_of(c) for c in kit.journey_cards("helen.ashdown"))
    assert kit.sent_to("daniel.whitcombe") == []
    assert await kit.view.installed_for() == {"daniel.whitcombe"}
    [install] = await kit.outbox("apps.install")
    assert install.status == "delivered" and install.payload == {"staff_id": "daniel.whitcombe"}

    # Teams tells the bot the app was added (installationUpdate): the retry finds Daniel's chat.
    who = kit.p("daniel.whitcombe")
    status, _ = await kit.teams.post(kit.teams._base(who) | {"type": "installationUpdate", "action": "add"})
    assert status in (200, 201)
    kit.clock.advance(seconds=121)
    await kit.deliver()
    assert any("Supervision request from Tom Hollis" in texts_of(c) for c in kit.journey_cards("daniel.whitcombe"))
    assert len(await kit.outbox("apps.install")) == 1  # installed once
    assert await kit.view.installed_for() == {"daniel.whitcombe"}
