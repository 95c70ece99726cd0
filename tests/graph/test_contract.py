"""The Microsoft 365 contract: every test runs once on the local backend and once on msgraph-sdk → Graph double."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.outbox import OutboxWorker, PermanentFailure, enqueue
from graph import Attendee, GraphNotFound, GraphRequestError, MeetingRequest, graph_handlers
from graph.handlers import calendar_cancel, calendar_create, calendar_update, channel_upload, personal_share
from graph.ports import Apps, Calendar, ChannelFiles, Directory, PersonalFiles

UTC = dt.timezone.utc
MON = dt.datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def staff(school, sid):
    return school.staff[sid]


def req(
    school,
    key="booking:1",
    *,
    start=MON.replace(hour=13),
    minutes=60,
    organizer="priya.raman",
    attendees=("tom.hollis",),
    subject="Supervision",
):
    org = staff(school, organizer)
    return MeetingRequest(
        organizer=org.email,
        attendees=tuple(Attendee(staff(school, a).email, staff(school, a).name) for a in attendees),
        start=start,
        end=start + dt.timedelta(minutes=minutes),
        idempotency_key=key,
        subject=subject,
    )


async def busy(m365, who: str, start=MON, end=MON + dt.timedelta(hours=10)):
    [s] = await m365.backend.calendar.get_schedule([who], start, end)
    assert s.error is None, s.error
    return [(b.start, b.end) for b in s.busy]


# ---------------------------------------------------------------- shape


async def test_backend_exposes_the_ports(m365):
    b = m365.backend
    assert b.mode == m365.kind
    assert isinstance(b.directory, Directory) and isinstance(b.calendar, Calendar)
    assert isinstance(b.channel_files, ChannelFiles) and isinstance(b.personal_files, PersonalFiles)
    assert isinstance(b.apps, Apps)


# ---------------------------------------------------------------- directory


async def test_user_by_object_id_and_by_address(m365, school):
    tom = staff(school, "tom.hollis")
    by_id = await m365.backend.directory.get_user(tom.aad_object_id)
    by_mail = await m365.backend.directory.get_user(tom.email)
    assert by_id == by_mail
    assert (by_id.id, by_id.display_name, by_id.mail, by_id.job_title) == (
        tom.aad_object_id,
        "Tom Hollis",
        tom.email,
        "Teaching assistant",
    )
    assert await m365.backend.directory.get_user("nobody@kestrelbrook.example") is None


async def test_group_members_cover_the_whole_roster_including_nested_groups(m365, school):
    members = await m365.backend.directory.group_members(m365.all_staff)
    assert sorted(u.id for u in members) == sorted(s.aad_object_id for s in school.staff.values())
    streamed = [u.id async for u in m365.backend.directory.iter_group_members(m365.all_staff, page_size=7)]
    assert sorted(streamed) == sorted(u.id for u in members)


async def test_unknown_group_is_an_error_not_an_empty_roster(m365):
    with pytest.raises(GraphNotFound):
        await m365.backend.directory.group_members("no-such-group")


async def test_manager(m365, school):
    m = await m365.backend.directory.get_manager(staff(school, "tom.hollis").aad_object_id)
    assert m is not None and m.id == staff(school, "amara.okafor").aad_object_id
    assert await m365.backend.directory.get_manager(staff(school, "grace.mensah").aad_object_id) is None


# ---------------------------------------------------------------- calendar


async def test_create_a_private_teams_meeting_and_see_it_in_free_busy(m365, school):
    r = req(school)
    m = await m365.backend.calendar.create_meeting(r)
    assert m.subject == "Supervision" and m.sensitivity == "private" and m.is_online_meeting
    assert m.join_url and m.join_url.startswith("https://")
    assert (m.start, m.end) == (r.start, r.end)
    assert m.organizer == staff(school, "priya.raman").email
    assert m.attendees == (staff(school, "tom.hollis").email,)
    assert await m365.backend.calendar.get_meeting(r.organizer, m.id) == m
    for who in ("priya.raman", "tom.hollis"):
        assert await busy(m365, staff(school, who).email) == [(r.start, r.end)]
    assert await busy(m365, staff(school, "grace.mensah").email) == []


async def test_the_same_idempotency_key_books_once(m365, school):
    first = await m365.backend.calendar.create_meeting(req(school, "booking:7"))
    again = await m365.backend.calendar.create_meeting(req(school, "booking:7"))
    assert again.id == first.id
    assert len(await busy(m365, staff(school, "tom.hollis").email)) == 1
    other = await m365.backend.calendar.create_meeting(req(school, "booking:8", start=MON.replace(hour=15)))
    assert other.id != first.id
    assert len(await busy(m365, staff(school, "tom.hollis").email)) == 2


async def test_move_and_reinvite(m365, school):
    m = await m365.backend.calendar.create_meeting(req(school))
    new_start = MON.replace(hour=10)
    grace = staff(school, "grace.mensah")
    moved = await m365.backend.calendar.update_meeting(
        staff(school, "priya.raman").email,
        m.id,
        start=new_start,
        end=new_start + dt.timedelta(minutes=45),
        attendees=[Attendee(grace.email, grace.name)],
    )
    assert moved.id == m.id and moved.start == new_start and moved.attendees == (grace.email,)
    assert moved.subject == "Supervision"
    assert await busy(m365, grace.email) == [(new_start, new_start + dt.timedelta(minutes=45))]
    assert await busy(m365, staff(school, "tom.hollis").email) == []


async def test_cancel_frees_the_time_and_twice_is_fine(m365, school):
    r = req(school)
    m = await m365.backend.calendar.create_meeting(r)
    await m365.backend.calendar.cancel_meeting(r.organizer, m.id)
    assert await m365.backend.calendar.get_meeting(r.organizer, m.id) is None
    assert await busy(m365, staff(school, "tom.hollis").email) == []
    await m365.backend.calendar.cancel_meeting(r.organizer, m.id)


async def test_update_of_a_cancelled_meeting_is_not_found(m365, school):
    r = req(school)
    m = await m365.backend.calendar.create_meeting(r)
    await m365.backend.calendar.cancel_meeting(r.organizer, m.id)
    with pytest.raises(GraphNotFound):
        await m365.backend.calendar.update_meeting(r.organizer, m.id, subject="Supervision (moved)")


async def test_free_busy_for_more_than_twenty_people_keeps_order_and_reports_unknown_mailboxes(m365, school):
    await m365.backend.calendar.create_meeting(req(school, attendees=("tom.hollis", "grace.mensah")))
    people = [s.email for s in school.staff.values()] + ["left.last.year@kestrelbrook.example"]
    assert len(people) > 40
    out = await m365.backend.calendar.get_schedule(people, MON, MON + dt.timedelta(days=5), interval_minutes=15)
    assert [s.person for s in out] == people
    assert out[-1].error and not out[-1].busy
    by = {s.person: s for s in out}
    assert [
        len(by[staff(school, w).email].busy) for w in ("tom.hollis", "grace.mensah", "priya.raman", "amara.okafor")
    ] == [1, 1, 1, 0]
    assert all(s.error is None for s in out[:-1])


@pytest.mark.parametrize("days,interval", [(62, 30), (70, 30), (5, 4), (5, 1441)])
async def test_free_busy_limits_are_enforced(m365, school, days, interval):
    with pytest.raises(GraphRequestError):
        await m365.backend.calendar.get_schedule(
            [staff(school, "tom.hollis").email], MON, MON + dt.timedelta(days=days), interval_minutes=interval
        )


async def test_free_busy_just_inside_the_limits(m365, school):
    out = await m365.backend.calendar.get_schedule(
        [staff(school, "tom.hollis").email], MON, MON + dt.timedelta(days=61, hours=23), interval_minutes=1440
    )
    assert out[0].error is None


async def test_meeting_arguments_are_checked(m365, school):
    with pytest.raises(GraphRequestError):
        await m365.backend.calendar.create_meeting(req(school, minutes=0))
    with pytest.raises(GraphRequestError):
        await m365.backend.calendar.create_meeting(req(school, subject="  "))
    with pytest.raises(GraphRequestError):
        await m365.backend.calendar.create_meeting(req(school, start=dt.datetime(2026, 11, 23, 9, 0)))


# ---------------------------------------------------------------- channel files


async def test_channel_folder_and_never_overwrite(m365):
    folder = await m365.backend.channel_files.resolve_folder()
    assert folder.drive_id and folder.item_id
    a = await m365.backend.channel_files.upload("Group record Autumn 2.docx", b"first version")
    assert (a.name, a.reused, a.size) == ("Group record Autumn 2.docx", False, len(b"first version"))
    assert a.web_url
    b = await m365.backend.channel_files.upload("Group record Autumn 2.docx", b"a different record")
    assert b.name == "Group record Autumn 2 (2).docx" and not b.reused
    c = await m365.backend.channel_files.upload("group record autumn 2.docx", b"yet another")
    assert c.name == "group record autumn 2 (3).docx"
    assert m365.channel_file("Group record Autumn 2.docx") == b"first version"
    assert m365.channel_file("Group record Autumn 2 (2).docx") == b"a different record"


async def test_a_retried_upload_reuses_the_identical_file(m365):
    first = await m365.backend.channel_files.upload("Record.docx", b"same bytes")
    again = await m365.backend.channel_files.upload("Record.docx", b"same bytes")
    assert again.name == first.name == "Record.docx" and again.reused and again.item_id == first.item_id


async def test_large_file_and_subfolders(m365):
    blob = bytes(range(256)) * 4000 + b"tail"  # ~1 MiB: an upload session on msgraph
    f = await m365.backend.channel_files.upload("Minutes.pdf", blob, subfolder="Records/2026-27")
    assert f.name == "Minutes.pdf" and f.size == len(blob)
    assert m365.channel_file("Minutes.pdf", "Records/2026-27") == blob
    g = await m365.backend.channel_files.upload("Minutes.pdf", blob[::-1], subfolder="Records/2026-27")
    assert g.name == "Minutes (2).pdf"
    assert m365.channel_file("Minutes (2).pdf", "Records/2026-27") == blob[::-1]


async def test_unsafe_names_are_made_safe(m365):
    f = await m365.backend.channel_files.upload('Notes: "A/B" <draft>?.docx', b"x", subfolder="../../escape")
    assert "/" not in f.name and ":" not in f.name and f.name.endswith(".docx")
    assert m365.channel_file(f.name, "escape") == b"x"


# ---------------------------------------------------------------- personal files


async def test_one_to_one_record_is_shared_with_the_supervisee_only(m365, school):
    sup, supervisee = staff(school, "priya.raman"), staff(school, "tom.hollis")
    f = await m365.backend.personal_files.upload_and_share(
        sup.aad_object_id, "1-1 record.docx", b"record", share_with=supervisee.email, role="read"
    )
    assert f.name == "1-1 record.docx" and f.web_url
    grants = await m365.backend.personal_files.grants(sup.aad_object_id, f.item_id)
    assert [(g.recipient, g.roles, g.link_scope) for g in grants] == [(supervisee.email, ("read",), None)]
    assert m365.onedrive_file(sup.aad_object_id, "Supervision records", "1-1 record.docx", sup.id) == b"record"
    again = await m365.backend.personal_files.upload_and_share(
        sup.aad_object_id, "1-1 record.docx", b"record", share_with=supervisee.email, role="read"
    )
    assert again.reused and again.item_id == f.item_id
    assert len(await m365.backend.personal_files.grants(sup.aad_object_id, f.item_id)) == 1


async def test_share_an_existing_record_with_one_more_person_and_revoke_it(m365, school):
    """A handover (seed 004 §5): the new supervisor is given read access to a record already in the writer's
    OneDrive; a later handover ends it. Revoking twice, or someone who never had access, is not an error."""
    files = m365.backend.personal_files
    sup, supervisee, successor = (staff(school, i) for i in ("priya.raman", "tom.hollis", "amara.okafor"))
    f = await files.upload_and_share(sup.aad_object_id, "r.docx", b"record", share_with=supervisee.email)
    g = await files.share(sup.aad_object_id, f.item_id, share_with=successor.email)
    assert g.recipient == successor.email.lower() and g.roles == ("read",)
    await files.share(sup.aad_object_id, f.item_id, share_with=successor.email)  # again: still one grant
    assert sorted(x.recipient for x in await files.grants(sup.aad_object_id, f.item_id)) == sorted(
        [supervisee.email.lower(), successor.email.lower()]
    )
    assert await files.revoke(sup.aad_object_id, f.item_id, recipient=successor.email) is True
    assert [x.recipient for x in await files.grants(sup.aad_object_id, f.item_id)] == [supervisee.email.lower()]
    assert await files.revoke(sup.aad_object_id, f.item_id, recipient=successor.email) is False
    with pytest.raises(GraphNotFound):
        await files.share(sup.aad_object_id, "no-such-item", share_with=successor.email)


async def test_specialist_notes_are_one_file_shared_with_each_attendee(m365, school):
    """Seed 001 §3.3: one upload, one invitation naming every attendee (no copies, no links)."""
    sup = staff(school, "amara.okafor")
    people = [staff(school, x) for x in ("tom.hollis", "isla.brennan", "nadia.farouk")]
    f = await m365.backend.personal_files.upload_and_share(
        sup.aad_object_id, "notes.docx", b"notes", share_with=[p.email for p in people], role="read"
    )
    grants = await m365.backend.personal_files.grants(sup.aad_object_id, f.item_id)
    assert sorted((g.recipient, g.roles, g.link_scope) for g in grants) == sorted(
        (p.email, ("read",), None) for p in people
    )
    with pytest.raises(GraphRequestError):
        await m365.backend.personal_files.upload_and_share(sup.aad_object_id, "x.docx", b"x", share_with=[])


async def test_a_shared_record_is_read_back_and_replaced_in_place(m365, school):
    """An amendment reads the record back; the sign-off rewrites it in place: same item, link and sharing."""
    sup, supervisee = staff(school, "priya.raman"), staff(school, "tom.hollis")
    files = m365.backend.personal_files
    f = await files.upload_and_share(sup.aad_object_id, "r.docx", b"unsigned", share_with=supervisee.email)
    assert await files.download(sup.aad_object_id, f.item_id) == b"unsigned"
    g = await files.replace(sup.aad_object_id, f.item_id, b"signed by both")
    assert (g.item_id, g.name, g.web_url) == (f.item_id, f.name, f.web_url)
    assert await files.download(sup.aad_object_id, f.item_id) == b"signed by both"
    assert [x.recipient for x in await files.grants(sup.aad_object_id, f.item_id)] == [supervisee.email]
    with pytest.raises(GraphNotFound):
        await files.download(sup.aad_object_id, "no-such-item")
    with pytest.raises(GraphNotFound):
        await files.replace(sup.aad_object_id, "no-such-item", b"x")
    # The channel's files too (a group record's sign-off table).
    c = await m365.backend.channel_files.upload("Group.docx", b"v1")
    d = await m365.backend.channel_files.replace(c.item_id, b"v1 signed")
    assert d.item_id == c.item_id and await m365.backend.channel_files.download(c.item_id) == b"v1 signed"


async def test_sharing_role_is_read_or_write_only(m365, school):
    with pytest.raises(GraphRequestError):
        await m365.backend.personal_files.upload_and_share(
            staff(school, "priya.raman").aad_object_id,
            "x.docx",
            b"x",
            share_with=staff(school, "tom.hollis").email,
            role="owner",
        )


# ---------------------------------------------------------------- apps


async def test_install_the_app_once(m365, school):
    grace = staff(school, "grace.mensah").aad_object_id
    assert await m365.backend.apps.install_for_user(grace) is True
    assert await m365.backend.apps.install_for_user(grace) is False
    with pytest.raises(GraphNotFound):
        await m365.backend.apps.install_for_user("00000000-0000-4000-8000-0000000000ff")


# ---------------------------------------------------------------- through the outbox


async def test_side_effects_delivered_by_the_outbox_worker(m365, school, sqlite_db, clock):
    """A journey's transaction enqueues; the real worker delivers through the backend; results land on rows."""
    loaded = []

    async def load_content(ref):
        loaded.append(ref)
        return b"record for " + ref["record_id"].encode()

    start = MON.replace(hour=13)
    async with sqlite_db.session() as s:
        await enqueue(
            s,
            *calendar_create(
                "booking:42",
                organizer_id="priya.raman",
                attendees=["tom.hollis"],
                start=start,
                end=start + dt.timedelta(hours=1),
            ),
            key="calendar:booking:42:create",
            chain="calendar:booking:42",
        )
        await enqueue(
            s,
            *calendar_update("booking:42", start=MON.replace(hour=14), end=MON.replace(hour=15)),
            key="calendar:booking:42:move",
            chain="calendar:booking:42",
        )
        await enqueue(s, *channel_upload("Record.docx", content_ref={"record_id": "g7"}, record_id=7), key="rec:g7")
        await enqueue(
            s,
            *personal_share("1-1.docx", owner_id="priya.raman", share_with_id="tom.hollis", content=b"one to one"),
            key="rec:p3",
        )
    recorded = {}

    async def on_delivered(row, result):
        recorded[row.key] = result

    worker = OutboxWorker(
        sqlite_db,
        graph_handlers(m365.backend, db=sqlite_db, school=school, load_content=load_content),
        clock=clock,
        on_delivered=on_delivered,
    )
    assert await worker.drain() == 4
    created = recorded["calendar:booking:42:create"]
    assert recorded["calendar:booking:42:move"]["meeting_id"] == created["meeting_id"]
    assert recorded["calendar:booking:42:move"]["start"] == MON.replace(hour=14).isoformat()
    assert recorded["rec:g7"]["name"] == "Record.docx" and recorded["rec:g7"]["web_url"]
    assert loaded == [{"record_id": "g7"}] and m365.channel_file("Record.docx") == b"record for g7"
    assert await m365.backend.channel_files.download(recorded["rec:g7"]["item_id"]) == b"record for g7"
    assert recorded["rec:p3"]["name"] == "1-1.docx"
    async with sqlite_db.session() as s:
        await enqueue(s, *calendar_cancel("booking:42"), key="calendar:booking:42:cancel", chain="calendar:booking:42")
        await enqueue(s, *calendar_cancel("never-booked"), key="calendar:never:cancel")
    assert await worker.drain() == 2
    assert recorded["calendar:booking:42:cancel"] == {"cancelled": True, "meeting_id": created["meeting_id"]}
    assert recorded["calendar:never:cancel"]["cancelled"] is False
    assert await busy(m365, staff(school, "tom.hollis").email) == []


async def test_the_journeys_calendar_payloads(m365, school, sqlite_db, clock):
    """The shapes bot/journeys enqueue today: staff ids, an event_key, and personal (offline) copies."""
    start = MON.replace(hour=10)
    payload = {
        "event_key": "session:5",
        "organizer_id": "amara.okafor",
        "attendee_ids": ["amara.okafor", "tom.hollis", "grace.mensah"],
        "start": start.isoformat(),
        "end": (start + dt.timedelta(hours=1)).isoformat(),
        "subject": "Supervision",
        "online": True,
    }
    own_copy = {
        "event_key": "session:5:attendee:priya.raman",
        "organizer_id": "priya.raman",
        "attendee_ids": ["priya.raman"],
        "start": start.isoformat(),
        "end": (start + dt.timedelta(hours=1)).isoformat(),
        "subject": "Supervision",
        "online": False,
    }
    handlers = graph_handlers(m365.backend, db=sqlite_db, school=school)
    first = await handlers["calendar.create"](payload)
    again = await handlers["calendar.create"](payload)  # the outbox retrying after a lost answer
    assert again["meeting_id"] == first["meeting_id"] and first["join_url"]
    m = await m365.backend.calendar.get_meeting(staff(school, "amara.okafor").email, first["meeting_id"])
    assert sorted(m.attendees) == sorted([staff(school, "tom.hollis").email, staff(school, "grace.mensah").email])
    mine = await handlers["calendar.create"](own_copy)
    assert mine["join_url"] is None
    for who in ("amara.okafor", "tom.hollis", "priya.raman"):
        assert await busy(m365, staff(school, who).email) == [(start, start + dt.timedelta(hours=1))]
    with pytest.raises(PermanentFailure):
        await handlers["calendar.create"]({**payload, "event_key": "x", "organizer_id": "not.on.roster"})
