"""The local backend's own promises: where files land, .ics invitations per person, meetings in the store on both
SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from icalendar import Calendar as ICalendar

from graph import Attendee, MeetingRequest, build_backend
from graph.settings import GraphSettings

UTC = dt.timezone.utc
MON = dt.datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


@pytest.fixture
async def local(school, db, tmp_path, clock):
    """The local backend on each store (the shared `db` fixture runs SQLite and PostgreSQL)."""
    b = build_backend(GraphSettings(_env_file=None), db=db, school=school, local_dir=tmp_path / "m365", clock=clock)
    yield b
    await b.close()


def ics(path):
    cal = ICalendar.from_ical(path.read_bytes())
    [ev] = cal.walk("VEVENT")
    return cal, ev


def request(school, *attendees, key="b1"):
    sup = school.staff["priya.raman"]
    return MeetingRequest(
        organizer=sup.aad_object_id,
        attendees=tuple(Attendee(school.staff[a].email, school.staff[a].name) for a in attendees),
        start=MON,
        end=MON + dt.timedelta(hours=1),
        idempotency_key=key,
    )


async def test_each_person_gets_an_ics_invitation_and_a_cancellation(local, school, tmp_path):
    m = await local.calendar.create_meeting(request(school, "tom.hollis", "grace.mensah"))
    root = tmp_path / "m365" / "calendars"
    people = [
        "priya.raman@kestrelbrook.example",
        "tom.hollis@kestrelbrook.example",
        "grace.mensah@kestrelbrook.example",
    ]
    for email in people:
        cal, ev = ics(root / email / f"{m.id}.ics")
        assert str(cal["method"]) == "REQUEST" and str(ev["summary"]) == "Supervision"
        assert str(ev["class"]) == "PRIVATE" and ev.decoded("dtstart") == MON
        assert str(ev["url"]) == m.join_url
    _, ev = ics(root / people[1] / f"{m.id}.ics")
    assert {str(a) for a in ev.get("attendee")} == {f"mailto:{people[1]}", f"mailto:{people[2]}"}

    grace = school.staff["grace.mensah"]
    await local.calendar.update_meeting(
        school.staff["priya.raman"].email, m.id, attendees=[Attendee(grace.email, grace.name)]
    )
    cal, ev = ics(root / people[1] / f"{m.id}.ics")
    assert str(cal["method"]) == "CANCEL"  # taken off the meeting: their copy says so
    cal, ev = ics(root / people[2] / f"{m.id}.ics")
    assert str(cal["method"]) == "REQUEST" and int(ev["sequence"]) == 1

    await local.calendar.cancel_meeting(school.staff["priya.raman"].email, m.id)
    for email in (people[0], people[2]):
        cal, ev = ics(root / email / f"{m.id}.ics")
        assert str(cal["method"]) == "CANCEL" and str(ev["status"]) == "CANCELLED"


async def test_meetings_live_in_the_store_and_survive_a_new_backend(local, school, db, tmp_path, clock):
    m = await local.calendar.create_meeting(request(school, "tom.hollis"))
    again = build_backend(GraphSettings(_env_file=None), db=db, school=school, local_dir=tmp_path / "m365", clock=clock)
    assert (await again.calendar.get_meeting(school.staff["priya.raman"].email, m.id)).id == m.id
    assert (await again.calendar.create_meeting(request(school, "tom.hollis"))).id == m.id
    [s] = await again.calendar.get_schedule(
        [school.staff["tom.hollis"].email], MON - dt.timedelta(hours=1), MON + dt.timedelta(hours=3)
    )
    assert [(b.start, b.end) for b in s.busy] == [(MON, MON + dt.timedelta(hours=1))]


async def test_files_land_in_the_documented_folders(local, school, tmp_path):
    f = await local.channel_files.upload("Record.docx", b"group")
    assert (tmp_path / "m365" / "channels" / "kb-team" / "Safeguarding" / "Record.docx").read_bytes() == b"group"
    assert f.web_url.startswith("file://")
    sup, who = school.staff["priya.raman"], school.staff["tom.hollis"]
    g = await local.personal_files.upload_and_share(sup.email, "1-1.docx", b"one", share_with=who.aad_object_id)
    assert (tmp_path / "m365" / "onedrive" / "priya.raman" / "Supervision records" / "1-1.docx").read_bytes() == b"one"
    assert [x.recipient for x in await local.personal_files.grants(sup.aad_object_id, g.item_id)] == [who.email]


async def test_a_file_put_there_by_someone_else_is_never_replaced(local, tmp_path):
    folder = tmp_path / "m365" / "channels" / "kb-team" / "Safeguarding"
    folder.mkdir(parents=True)
    (folder / "RECORD.DOCX").write_bytes(b"a person's own file")
    f = await local.channel_files.upload("Record.docx", b"ours")
    assert f.name == "Record (2).docx"
    assert (folder / "RECORD.DOCX").read_bytes() == b"a person's own file"


async def test_people_outside_the_roster(local, school):
    from graph import GraphNotFound, GraphRequestError

    with pytest.raises(GraphNotFound):
        await local.personal_files.upload_and_share(
            "stranger@elsewhere.example", "x.docx", b"x", share_with=school.staff["tom.hollis"].email
        )
    with pytest.raises(GraphRequestError):
        await local.personal_files.upload_and_share(
            school.staff["priya.raman"].email, "x.docx", b"x", share_with="stranger@elsewhere.example"
        )
    with pytest.raises(GraphNotFound):
        await local.calendar.create_meeting(
            MeetingRequest(
                organizer="stranger@elsewhere.example",
                attendees=(Attendee(school.staff["tom.hollis"].email),),
                start=MON,
                end=MON + dt.timedelta(hours=1),
                idempotency_key="x",
            )
        )


async def test_config_groups_are_directory_groups(local, school):
    willow = await local.directory.group_members("willow")
    assert sorted(u.id for u in willow) == sorted(s.aad_object_id for s in school.group_members("willow"))


def test_a_write_killed_half_way_leaves_no_torn_file_under_the_real_name(tmp_path, monkeypatch):
    """The local files backend writes whole to a hidden temporary file, then links it into place: a crash
    between the two leaves only the hidden leftover, never listed, and the retry gets the real name."""
    import os as _os

    from graph.local import files as lf

    def boom(*_a, **_k):
        raise KeyboardInterrupt("killed between the write and the link")

    monkeypatch.setattr(_os, "link", boom)
    with pytest.raises(KeyboardInterrupt):
        lf.write_unique(tmp_path, "record.docx", b"whole content")
    assert not (tmp_path / "record.docx").exists()
    monkeypatch.undo()
    name, path, reused = lf.write_unique(tmp_path, "record.docx", b"whole content")
    assert (name, reused) == ("record.docx", False) and path.read_bytes() == b"whole content"
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(lf.TEMP_PREFIX)) == ["record.docx"]
