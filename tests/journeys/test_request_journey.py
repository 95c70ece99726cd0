"""The whole targeted offer over HTTP, on both store backends: request → allocation → a time free in both
calendars → one event in each calendar, with cards for everyone along the way."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.store.models_request import Meeting, Pairing, SupervisionRequest
from tests.journeys.test_request_kit import REQUEST_TOM, errors_on, find_action, find_input, kit, texts_of, tom_requests  # noqa: F401


async def test_request_allocate_book_puts_one_event_in_both_calendars(kit):
    await kit.install("tom.hollis", "daniel.whitcombe", "helen.ashdown", "priya.raman")
    form, status = await tom_requests(kit)
    assert status["body"][0]["text"] == "Request sent"
    assert status["refresh"]["action"]["verb"] == "request.status"

    # Both allocators (the co-heads) get a card; the note is not on it (only the supervisor sees it). The message
    # itself says who and how soon; opening it (Teams refreshes it) shows the suggestion and caseloads.
    await kit.deliver()
    notice = kit.journey_cards("daniel.whitcombe")[-1]
    assert "Supervision request from Tom Hollis" in texts_of(notice) and "wellbeing" not in texts_of(notice)
    alloc = await kit.open_latest("daniel.whitcombe")
    assert "Supervision request from Tom Hollis" in texts_of(alloc)
    assert "Feeling stretched" not in texts_of(alloc)
    assert "Priya Raman" in texts_of(alloc) and "their preference" in texts_of(alloc)
    assert kit.sent_to("helen.ashdown"), "the other allocator is told too"

    done = await kit.press("daniel.whitcombe", alloc, "request.allocate")
    assert "Allocated to Priya Raman" in texts_of(done)
    await kit.deliver()

    # Tom is told who his supervisor is; Helen's card now says it is done.
    assert any("Your supervisor" in texts_of(c) and "Priya Raman" in texts_of(c) for c in kit.sent_to("tom.hollis"))
    assert "Allocated to **Priya Raman** by Daniel Whitcombe" in texts_of(await kit.open_latest("helen.ashdown"))

    # Priya's notice refreshes into the times; the note is shown to her only.
    notice = kit.journey_cards("priya.raman")[-1]
    assert notice["refresh"]["action"]["verb"] == "schedule.offer"
    offer = await kit.press("priya.raman", notice, "schedule.offer")
    assert "Feeling stretched" in texts_of(offer)
    slot_input = find_input(offer, "slot")
    choices = [c["value"] for c in slot_input["choices"]]
    assert 3 <= len(choices) <= 5
    tz = kit.school.tz
    for iso in choices:
        start = dt.datetime.fromisoformat(iso).astimezone(tz)
        assert (
            start.weekday() < 5
            and dt.time(8, 30) <= start.time()
            and (start + dt.timedelta(minutes=60)).time() <= dt.time(16, 30)
        )
        assert start > kit.clock.now
    # "Afternoons" were asked for: the afternoon times come first when there are enough.
    assert all(dt.datetime.fromisoformat(x).astimezone(tz).time() >= dt.time(13, 30) for x in choices)

    booked = await kit.press("priya.raman", offer, "schedule.book", {"slot": choices[0]})
    assert booked["body"][0]["text"] == "Supervision booked"
    await kit.deliver()

    for who in ("priya.raman", "tom.hollis"):
        events = await kit.events_for(who)
        assert len(events) == 1, who
        assert events[0].subject == "Supervision"
        assert events[0].start == dt.datetime.fromisoformat(choices[0])
    [event] = await kit.events_for("tom.hollis")
    assert event.private and event.stored
    assert "stretched" not in event.stored and "wellbeing" not in event.stored.lower()

    # Tom gets the confirmation with Rearrange / Cancel, and his request card says booked.
    conf = kit.sent_to("tom.hollis")[-2:]
    assert any("Supervision booked" in texts_of(c) for c in conf)
    mine = next(c for c in conf if "Supervision booked" in texts_of(c))
    find_action(mine, "meeting.rearrange")
    find_action(mine, "meeting.cancel_start")
    async with kit.db.session() as s:
        req = (await s.execute(select(SupervisionRequest))).scalar_one()
        assert req.status == "booked" and req.supervisor_id == "priya.raman"
        assert (await s.execute(select(Pairing))).scalar_one().supervisor_id == "priya.raman"
    status_now = await kit.click("tom.hollis", "request.status", {"request_id": req.id})
    assert "Supervision booked" in texts_of(status_now)


async def test_double_submit_makes_one_request(kit):
    await kit.install("tom.hollis", "daniel.whitcombe", "helen.ashdown")
    form, first = await tom_requests(kit)
    again = await kit.press("tom.hollis", form, "request.submit", REQUEST_TOM)
    assert "Already sent" in texts_of(again)
    async with kit.db.session() as s:
        assert len((await s.execute(select(SupervisionRequest))).scalars().all()) == 1
    assert len(await kit.outbox("teams.notify")) == 2  # one card per allocator, not four


async def test_invalid_submit_keeps_answers_and_shows_errors_beside_fields(kit):
    await kit.install("tom.hollis")
    form = await kit.say("tom.hollis", "request")
    bad = dict(REQUEST_TOM, topics="", times="afternoon", note="x" * 301, preferred="ruth.calloway")
    card = await kit.press("tom.hollis", form, "request.submit", bad)
    text = texts_of(card)
    assert "Please keep the note to 300 characters" in text
    assert "Choose at least one thing it is about." in text
    assert "isn't in the trained supervisor pool" in text
    assert find_input(card, "note")["value"] == "x" * 301  # nothing typed is lost
    assert find_input(card, "urgency")["value"] == "week"
    assert find_input(card, "times")["value"] == "afternoon"
    assert (
        find_action(card, "request.submit")["data"]["draft_id"]
        == find_action(form, "request.submit")["data"]["draft_id"]
    )
    async with kit.db.session() as s:
        assert not (await s.execute(select(SupervisionRequest))).scalars().all()
    # The error text sits right after its field.
    body = card["body"]
    note_at = next(i for i, el in enumerate(body) if el.get("id") == "note")
    assert body[note_at + 1]["color"] == "attention"


async def test_open_pupil_cases_is_an_optional_number_kept_on_the_request(kit):
    await kit.install("tom.hollis", "daniel.whitcombe", "helen.ashdown")
    form = await kit.say("tom.hollis", "request")
    field = find_input(form, "pupil_cases")
    assert field["type"] == "Input.Number" and field["min"] == 0 and field["max"] == 200
    assert not field.get("isRequired") and "never names" in field["label"]
    for bad in ("201", "-1", "2.5", "Jo Bloggs", "１２"):
        card = await kit.press("tom.hollis", form, "request.submit", dict(REQUEST_TOM, pupil_cases=bad))
        assert "Open pupil cases is a whole number from 0 to 200" in texts_of(card), bad
        assert find_input(card, "note")["value"] == REQUEST_TOM["note"]  # the draft is kept
    async with kit.db.session() as s:
        assert not (await s.execute(select(SupervisionRequest))).scalars().all()  # nothing half-written
    card = await kit.press("tom.hollis", form, "request.submit", dict(REQUEST_TOM, pupil_cases="12.0"))
    assert "Open pupil cases" in texts_of(card)
    async with kit.db.session() as s:
        (req,) = (await s.execute(select(SupervisionRequest))).scalars().all()
    assert req.pupil_cases == 12


async def test_open_pupil_cases_left_blank_is_no_answer(kit):
    await kit.install("tom.hollis", "daniel.whitcombe", "helen.ashdown")
    form = await kit.say("tom.hollis", "request")
    await kit.press("tom.hollis", form, "request.submit", dict(REQUEST_TOM, pupil_cases=""))
    async with kit.db.session() as s:
        (req,) = (await s.execute(select(SupervisionRequest))).scalars().all()
    assert req.pupil_cases is None


async def test_form_marks_required_fields_for_teams_validation(kit):
    await kit.install("tom.hollis")
    form = await kit.say("tom.hollis", "request")
    for field in ("kind", "preferred", "topics", "urgency", "times"):
        el = find_input(form, field)
        # Teams draws its own marker beside an isRequired label: ours would make it "* *".
        assert el.get("isRequired") is True and el.get("errorMessage") and not el.get("label", "").endswith("*")
    note = find_input(form, "note")
    assert note["maxLength"] == 300 and "don't name pupils" in note["placeholder"]
    prefs = [c["value"] for c in find_input(form, "preferred")["choices"]]
    assert "tom.hollis" not in prefs and "priya.raman" in prefs and "none" in prefs
    assert "continue" not in prefs  # Tom has no supervisor yet


async def test_someone_not_on_the_roster_cannot_request(kit):
    from tests.fakes.teams import Person

    stranger = Person("visitor", "99999999-0000-4000-8000-000000000000", "A Visitor")
    status, body = await kit.teams.submit(stranger, "request.submit", dict(REQUEST_TOM, draft_id="abcdefgh1234"))
    assert status == 200 and "staff list" in texts_of(body["value"])
    async with kit.db.session() as s:
        assert not (await s.execute(select(SupervisionRequest))).scalars().all()


async def test_only_allocators_allocate_and_tampered_ids_are_refused(kit, caplog):
    await kit.install("tom.hollis", "daniel.whitcombe", "helen.ashdown")
    await tom_requests(kit)
    async with kit.db.session() as s:
        req = (await s.execute(select(SupervisionRequest))).scalar_one()
    caplog.clear()
    # A teaching assistant editing the payload to allocate
    reply = await kit.click(
        "grace.mensah", "request.allocate", {"request_id": req.id, "use": "suggested", "supervisor_id": "priya.raman"}
    )
    assert "Only the people who allocate" in texts_of(reply)
    # The requester peeking at someone else's request / withdrawing it
    assert "isn't one of yours" in texts_of(await kit.click("grace.mensah", "request.status", {"request_id": req.id}))
    assert "isn't one of yours" in texts_of(await kit.click("grace.mensah", "request.withdraw", {"request_id": req.id}))
    # A supervisor who was not allocated cannot see the times
    assert "Only the supervisor allocated" in texts_of(
        await kit.click("priya.raman", "schedule.offer", {"request_id": req.id})
    )
    # An allocator choosing someone who is not in the pool
    card = await kit.click(
        "daniel.whitcombe", "request.allocate", {"request_id": req.id, "use": "chosen", "chosen": "grace.mensah"}
    )
    assert any("isn't in the trained supervisor pool" in e for e in errors_on(card))
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "refused" in logged and "Feeling stretched" not in logged and "wellbeing" not in logged
    async with kit.db.session() as s:
        assert (await s.execute(select(SupervisionRequest))).scalar_one().status == "submitted"


async def test_capacity_is_respected_and_suggestion_moves_to_lightest_caseload(kit):
    await kit.install("tom.hollis", "daniel.whitcombe", "helen.ashdown")
    # Priya already supervises four people (the school default capacity).
    now = kit.clock.now
    async with kit.db.session() as s:
        for who in ("isla.brennan", "joseph.adeyemi", "liam.osei", "megan.tranter"):
            s.add(Pairing(supervisee_id=who, supervisor_id="priya.raman", started_at=now))
    await tom_requests(kit)
    await kit.deliver()
    alloc = await kit.open_latest("daniel.whitcombe")
    text = texts_of(alloc)
    assert "at capacity (4 of 4)" in text  # why the preference was not followed
    suggested = find_action(alloc, "request.allocate")["data"]["supervisor_id"]
    assert suggested != "priya.raman"
    # pressing "Allocate chosen supervisor" with Priya: refused, error beside the field, choice kept
    card = await kit.click(
        "daniel.whitcombe",
        "request.allocate",
        {
            "request_id": find_action(alloc, "request.allocate")["data"]["request_id"],
            "use": "chosen",
            "chosen": "priya.raman",
        },
    )
    assert any("at capacity" in e for e in errors_on(card))
    assert find_input(card, "chosen")["value"] == "priya.raman"
    assert "Priya Raman (4 of 4) — full" in texts_of(find_input(card, "chosen"))
    ok = await kit.press("daniel.whitcombe", card, "request.allocate")  # one click: the suggestion
    assert "Allocated to" in texts_of(ok)
    async with kit.db.session() as s:
        assert (await s.execute(select(SupervisionRequest))).scalar_one().supervisor_id == suggested


async def test_a_place_taken_between_the_check_and_the_write_is_refused(kit, monkeypatch):
    """Two allocators at the same moment: the check the card was answered from said Priya had room, but by the
    time this allocation writes, someone else has filled her last place. The write re-checks and refuses."""
    from bot.store import requests as store  # the journey's check and the store's re-check both read it here

    await kit.install("tom.hollis", "daniel.whitcombe", "helen.ashdown")
    now = kit.clock.now
    async with kit.db.session() as s:
        for who in ("isla.brennan", "joseph.adeyemi", "liam.osei"):  # 3 of 4 places
            s.add(Pairing(supervisee_id=who, supervisor_id="priya.raman", started_at=now))
    await tom_requests(kit)
    await kit.deliver()
    alloc = await kit.open_latest("daniel.whitcombe")
    rid = find_action(alloc, "request.allocate")["data"]["request_id"]

    real = store.caseloads
    calls = []

    async def racing(s):
        calls.append(1)
        if len(calls) == 1:  # the first look: before the other allocator's write lands
            loads = await real(s)
            async with kit.db.session() as other:
                other.add(Pairing(supervisee_id="megan.tranter", supervisor_id="priya.raman", started_at=now))
            return loads
        return await real(s)

    monkeypatch.setattr(store, "caseloads", racing)
    card = await kit.click(
        "daniel.whitcombe", "request.allocate", {"request_id": rid, "use": "chosen", "chosen": "priya.raman"}
    )
    assert len(calls) >= 2  # looked again when writing
    assert any("at capacity (4 of 4)" in e for e in errors_on(card))
    async with kit.db.session() as s:
        req = (await s.execute(select(SupervisionRequest))).scalar_one()
        active = (
            (await s.execute(select(Pairing).where(Pairing.supervisor_id == "priya.raman", Pairing.ended_at.is_(None))))
            .scalars()
            .all()
        )
    assert req.status == "submitted" and req.supervisor_id is None and len(active) == 4


async def test_continue_with_current_supervisor_skips_allocation(kit):
    await kit.install("tom.hollis", "daniel.whitcombe", "helen.ashdown", "amara.okafor")
    async with kit.db.session() as s:
        s.add(Pairing(supervisee_id="tom.hollis", supervisor_id="amara.okafor", started_at=kit.clock.now))
    form = await kit.say("tom.hollis", "request")
    prefs = find_input(form, "preferred")
    assert prefs["value"] == "continue" and "Amara Okafor" in texts_of(prefs)
    card = await kit.press("tom.hollis", form, "request.submit", dict(REQUEST_TOM, preferred="continue"))
    assert card["body"][0]["text"] == "Supervisor allocated" and "Amara Okafor" in texts_of(card)
    await kit.deliver()
    assert not kit.sent_to("daniel.whitcombe") and not kit.sent_to("helen.ashdown")
    assert "New supervision: Tom Hollis" in texts_of(kit.journey_cards("amara.okafor")[-1])
    async with kit.db.session() as s:
        assert len((await s.execute(select(Pairing))).scalars().all()) == 1  # same relationship continues


async def test_enrichment_week_requests_go_to_the_enrichment_supervisor(kit):
    kit.clock.now = dt.datetime(2027, 2, 9, 9, 0, tzinfo=dt.timezone.utc)  # Tue of the enrichment week
    await kit.install("tom.hollis", "daniel.whitcombe", "marcus.fenwick")
    form = await kit.say("tom.hollis", "request")
    assert "enrichment supervisor" in texts_of(form)
    card = await kit.press("tom.hollis", form, "request.submit", REQUEST_TOM)
    assert "Marcus Fenwick" in texts_of(card)
    await kit.deliver()
    assert not kit.sent_to("daniel.whitcombe")
    notice = kit.journey_cards("marcus.fenwick")[-1]
    assert "enrichment supervisor" in texts_of(notice)
    offer = await kit.press("marcus.fenwick", notice, "schedule.offer")
    slot = find_input(offer, "slot")["choices"][0]["value"]
    await kit.press("marcus.fenwick", offer, "schedule.book", {"slot": slot})
    async with kit.db.session() as s:
        m = (await s.execute(select(Meeting))).scalar_one()
        assert m.kind == "enrichment" and m.supervisor_id == "marcus.fenwick"
        assert not (await s.execute(select(Pairing))).scalars().all()  # a one-off, not a caseload


async def test_withdraw_updates_allocators_and_forgets_the_note(kit):
    await kit.install("tom.hollis", "daniel.whitcombe", "helen.ashdown")
    _, status = await tom_requests(kit)
    out = await kit.press("tom.hollis", status, "request.withdraw")
    assert out["body"][0]["text"] == "Request withdrawn"
    await kit.deliver()
    assert "Withdrawn by the member of staff" in texts_of(await kit.open_latest("daniel.whitcombe"))
    async with kit.db.session() as s:
        req = (await s.execute(select(SupervisionRequest))).scalar_one()
        assert req.status == "withdrawn" and req.note is None
    alloc_again = await kit.click(
        "daniel.whitcombe",
        "request.allocate",
        {"request_id": req.id, "use": "suggested", "supervisor_id": "priya.raman"},
    )
    assert "withdrew" in texts_of(alloc_again)


async def test_requester_who_is_an_allocator_cannot_allocate_their_own_request(kit):
    await kit.install("helen.ashdown", "daniel.whitcombe")
    form = await kit.say("helen.ashdown", "request")
    await kit.press("helen.ashdown", form, "request.submit", dict(REQUEST_TOM, preferred="none"))
    await kit.deliver()
    assert "Supervision request from Helen Ashdown" in texts_of(kit.journey_cards("daniel.whitcombe")[-1])
    assert not any("Supervision request from" in texts_of(c) for c in kit.sent_to("helen.ashdown"))
    async with kit.db.session() as s:
        req = (await s.execute(select(SupervisionRequest))).scalar_one()
    reply = await kit.click(
        "helen.ashdown", "request.allocate", {"request_id": req.id, "use": "suggested", "supervisor_id": "priya.raman"}
    )
    assert "Another allocator" in texts_of(reply)


async def test_allocators_list_shows_waiting_requests_urgent_first(kit):
    await kit.install("tom.hollis", "grace.mensah", "daniel.whitcombe")
    await tom_requests(kit)
    form = await kit.say("grace.mensah", "request")
    await kit.press("grace.mensah", form, "request.submit", dict(REQUEST_TOM, urgency="urgent", preferred="none"))
    listing = await kit.say("daniel.whitcombe", "requests")
    text = texts_of(listing)
    assert text.index("Grace Mensah") < text.index("Tom Hollis")
    assert "Requests to allocate" not in texts_of(await kit.say("tom.hollis", "help"))
    assert "Only the people who allocate" in texts_of(await kit.say("tom.hollis", "requests"))


async def test_specialist_support_sits_alongside_the_current_supervisor(kit):
    await kit.install("tom.hollis", "daniel.whitcombe", "helen.ashdown", "priya.raman", "marcus.fenwick")
    async with kit.db.session() as s:
        s.add(Pairing(supervisee_id="tom.hollis", supervisor_id="priya.raman", started_at=kit.clock.now))
    form = await kit.say("tom.hollis", "request")
    await kit.press(
        "tom.hollis",
        form,
        "request.submit",
        dict(REQUEST_TOM, kind="specialist", preferred="marcus.fenwick", urgency="urgent"),
    )
    await kit.deliver()
    alloc = await kit.open_latest("daniel.whitcombe")
    assert "Urgent: Supervision request from Tom Hollis" in texts_of(alloc)
    await kit.press("daniel.whitcombe", alloc, "request.allocate")
    async with kit.db.session() as s:
        active = sorted(p.supervisor_id for p in (await s.execute(select(Pairing))).scalars() if p.ended_at is None)
    assert active == ["marcus.fenwick", "priya.raman"]  # Priya is still his supervisor
    mine = await kit.say("tom.hollis", "sessions")
    assert "Your supervisor: **Priya Raman**" in texts_of(mine)
    form = await kit.say("tom.hollis", "request")
    assert "Priya Raman" in texts_of(find_input(form, "preferred"))
    assert find_input(form, "preferred")["value"] == "continue"


async def test_a_new_one_to_one_supervisor_replaces_the_previous_one(kit):
    await kit.install("tom.hollis", "daniel.whitcombe", "helen.ashdown")
    async with kit.db.session() as s:
        s.add(Pairing(supervisee_id="tom.hollis", supervisor_id="amara.okafor", started_at=kit.clock.now))
    form = await kit.say("tom.hollis", "request")
    await kit.press("tom.hollis", form, "request.submit", REQUEST_TOM)  # prefers Priya this time
    await kit.deliver()
    await kit.press("daniel.whitcombe", await kit.open_latest("daniel.whitcombe"), "request.allocate")
    async with kit.db.session() as s:
        rows = {p.supervisor_id: p.ended_at for p in (await s.execute(select(Pairing))).scalars()}
    assert rows["amara.okafor"] is not None and rows["priya.raman"] is None


async def test_group_request_books_one_session_for_everyone(kit):
    from bot.store.models_sessions import GroupSession, SessionInvitee

    await kit.install("tom.hollis", "daniel.whitcombe", "helen.ashdown", "priya.raman", "isla.brennan", "nadia.farouk")
    form = await kit.say("tom.hollis", "request")
    colleagues = [c["value"] for c in find_input(form, "colleagues")["choices"]]
    assert "isla.brennan" in colleagues and "tom.hollis" not in colleagues
    await kit.press(
        "tom.hollis",
        form,
        "request.submit",
        dict(REQUEST_TOM, kind="group", colleagues="isla.brennan,nadia.farouk", times="any"),
    )
    await kit.deliver()
    await kit.press("daniel.whitcombe", await kit.open_latest("daniel.whitcombe"), "request.allocate")
    await kit.deliver()
    offer = await kit.open_latest("priya.raman")
    assert "Book group supervision for Tom Hollis and colleagues" in texts_of(offer)
    assert "Isla Brennan" in texts_of(offer)
    slot = find_input(offer, "slot")["choices"][0]["value"]
    booked = await kit.press("priya.raman", offer, "schedule.book", {"slot": slot})
    assert "Group supervision" in texts_of(booked)
    await kit.deliver()
    async with kit.db.session() as s:
        g = (await s.execute(select(GroupSession))).scalar_one()
        invitees = {i.staff_id for i in (await s.execute(select(SessionInvitee))).scalars()}
        req = (await s.execute(select(SupervisionRequest))).scalar_one()
        assert not (await s.execute(select(Pairing))).scalars().all()  # a one-off, no caseload
    assert g.kind == "ad_hoc" and g.facilitator_id == "priya.raman" and req.status == "booked"
    assert invitees == {"tom.hollis", "isla.brennan", "nadia.farouk"}
    for who in ("priya.raman", "tom.hollis", "isla.brennan", "nadia.farouk"):
        assert [e.subject for e in await kit.events_for(who)] == ["Supervision"], who
    status = await kit.click("tom.hollis", "request.status", {"request_id": req.id})
    assert "Supervision booked" in texts_of(status)
