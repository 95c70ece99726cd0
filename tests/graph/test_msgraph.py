"""msgraph-specific behaviour, asserted on the requests the real msgraph-sdk sends to the Graph double:
URLs, methods, bodies, paging, batching, throttling and Retry-After, uploads, and sign-in failures."""

from __future__ import annotations

import datetime as dt
import logging
import re

import pytest
from azure.core.exceptions import ClientAuthenticationError

from bot.outbox import OutboxWorker, PermanentFailure, RetryLater, enqueue
from graph import Attendee, GraphAuthError, GraphConflict, GraphRequestError, GraphThrottled, MeetingRequest
from graph.handlers import calendar_create, graph_handlers
from tests.fakes.graph_double import StaticTokenCredential
from tests.graph.conftest import CHANNEL_ID, GRAPH_ALL_STAFF, TEAM_ID, TEAMS_APP_ID

pytestmark = pytest.mark.graph

UTC = dt.timezone.utc
MON = dt.datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CHUNK = 320 * 1024


def meeting(school, key="booking:1", subject="Supervision"):
    sup, who = school.staff["priya.raman"], school.staff["tom.hollis"]
    return MeetingRequest(
        organizer=sup.email,
        attendees=(Attendee(who.email, who.name),),
        start=MON,
        end=MON + dt.timedelta(hours=1),
        idempotency_key=key,
        subject=subject,
    )


class Sleeps:
    def __init__(self):
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


# ---------------------------------------------------------------- calendar


async def test_meeting_request_body_is_private_teams_neutral_and_idempotent(graph_backend, double, school):
    b = graph_backend.default
    m = await b.calendar.create_meeting(meeting(school))
    [post] = double.find("POST", r"^/users/[^/]+/events$")
    assert post.path == f"/users/{school.staff['priya.raman'].email}/events"
    body = post.json
    assert body["isOnlineMeeting"] is True and body["onlineMeetingProvider"] == "teamsForBusiness"
    assert body["sensitivity"] == "private" and body["subject"] == "Supervision"
    assert re.fullmatch(r"[0-9a-f-]{36}", body["transactionId"])
    assert body["start"] == {"dateTime": "2026-11-23T09:00:00.0000000", "timeZone": "UTC"}
    assert [a["emailAddress"]["address"] for a in body["attendees"]] == [school.staff["tom.hollis"].email]
    assert "body" not in body  # nothing but the neutral subject: no topics, no notes
    assert post.headers.get("Prefer") == 'outlook.timezone="UTC"'
    again = await b.calendar.create_meeting(meeting(school))
    posts = double.find("POST", r"^/users/[^/]+/events$")
    assert again.id == m.id and posts[1].json["transactionId"] == body["transactionId"]
    assert len(double.events) == 1


async def test_patch_sends_only_what_changed(graph_backend, double, school):
    b = graph_backend.default
    m = await b.calendar.create_meeting(meeting(school))
    await b.calendar.update_meeting(
        school.staff["priya.raman"].email, m.id, start=MON.replace(hour=11), end=MON.replace(hour=12)
    )
    [patch] = double.find("PATCH", r"/events/")
    assert set(patch.json) - {"@odata.type"} == {"start", "end"}


async def test_cancel_posts_the_cancel_action(graph_backend, double, school):
    b = graph_backend.default
    m = await b.calendar.create_meeting(meeting(school))
    await b.calendar.cancel_meeting(school.staff["priya.raman"].email, m.id)
    await b.calendar.cancel_meeting(school.staff["priya.raman"].email, m.id)  # 404 the second time: fine
    cancels = double.find("POST", r"/events/[^/]+/cancel$")
    assert [r.status for r in cancels] == [202, 404]
    assert not double.find("DELETE", r"/events/")


async def test_up_to_twenty_people_is_one_direct_call(graph_backend, double, school):
    people = [s.email for s in list(school.staff.values())[:20]]
    out = await graph_backend.default.calendar.get_schedule(people, MON, MON + dt.timedelta(days=1))
    assert len(out) == 20
    [call] = double.find("POST", r"/calendar/getSchedule$")
    assert not call.in_batch and not double.find("POST", r"^/\$batch$")
    body = {k.lower(): v for k, v in call.json.items()}
    assert len(body["schedules"]) == 20 and body["availabilityviewinterval"] == 30


async def test_beyond_twenty_people_uses_batch_with_at_most_twenty_per_sub_request(graph_backend, double, school):
    people = [f"person{i}@kestrelbrook.example" for i in range(450)]  # 23 getSchedule calls → 2 batches
    out = await graph_backend.default.calendar.get_schedule(
        people, MON, MON + dt.timedelta(days=1), as_user=school.staff["amara.okafor"].email
    )
    assert [s.person for s in out] == people and all(s.error for s in out)
    batches = double.find("POST", r"^/\$batch$")
    assert [len(b.json["requests"]) for b in batches] == [20, 3]
    subs = double.find("POST", r"/calendar/getSchedule$", in_batch=True)
    assert len(subs) == 23 and max(len(s.json["schedules"]) for s in subs) == 20
    assert sum(len(s.json["schedules"]) for s in subs) == 450
    assert not double.find("POST", r"/calendar/getSchedule$", in_batch=False)


async def test_throttled_batch_sub_request_is_retried_after_its_retry_after(graph_backend, double, school):
    sleeps = Sleeps()
    b = graph_backend.default
    b.calendar.sleep = sleeps
    double.fail("POST", r"/calendar/getSchedule$", status=429, retry_after=2, times=1, in_batch=True)
    people = [s.email for s in school.staff.values()]  # 40 → two sub-requests; the first is throttled
    out = await b.calendar.get_schedule(people, MON, MON + dt.timedelta(days=1))
    assert all(s.error is None for s in out) and len(out) == 40
    assert sleeps.waits == [2.0]
    batches = double.find("POST", r"^/\$batch$")
    assert [len(x.json["requests"]) for x in batches] == [2, 1]  # only the throttled one is sent again


async def test_long_retry_after_in_a_batch_sub_response_becomes_retry_later(graph_backend, double, school):
    double.fail("POST", r"/calendar/getSchedule$", status=429, retry_after=120, times=None, in_batch=True)
    people = [s.email for s in school.staff.values()]
    with pytest.raises(RetryLater) as info:
        await graph_backend.default.calendar.get_schedule(people, MON, MON + dt.timedelta(days=1))
    assert isinstance(info.value, GraphThrottled) and info.value.seconds == 120


async def test_429_with_retry_after_on_event_create_becomes_retry_later(graph_backend, double, school):
    double.fail("POST", r"/events$", status=429, retry_after=17, times=None)
    with pytest.raises(GraphThrottled) as info:
        await graph_backend.default.calendar.create_meeting(meeting(school))
    assert info.value.seconds == 17 and info.value.status == 429 and isinstance(info.value, RetryLater)


async def test_sdk_retry_handler_retries_json_requests_itself(school, double, graph_backend):
    b = graph_backend(sdk_max_retries=1)
    double.fail("POST", r"/events$", status=503, retry_after=1, times=1)  # kiota reads whole seconds
    m = await b.calendar.create_meeting(meeting(school))
    assert m.id and len(double.find("POST", r"/events$")) == 2  # the same transactionId both times


async def test_503_without_retry_after_leaves_the_delay_to_backoff(graph_backend, double, school):
    double.fail("GET", r"^/users/[^/]+$", status=503, times=None)
    with pytest.raises(GraphThrottled) as info:
        await graph_backend.default.directory.get_user(school.staff["tom.hollis"].aad_object_id)
    assert info.value.seconds is None


async def test_a_slow_graph_times_out_as_retry_later(graph_backend, double, school):
    b = graph_backend(timeout_seconds=0.3)
    double.slow("GET", r"^/users/", delay=1.5, times=1)
    with pytest.raises(GraphThrottled, match="did not answer in time"):
        await b.directory.get_user(school.staff["tom.hollis"].aad_object_id)


async def test_forbidden_is_a_permanent_failure_naming_the_permissions_guide(graph_backend, double, school):
    double.fail("POST", r"/events$", status=403, times=None)
    with pytest.raises(PermanentFailure, match="PERMISSIONS.md"):
        await graph_backend.default.calendar.create_meeting(meeting(school))


# ---------------------------------------------------------------- directory


async def test_roster_paging_follows_next_links(graph_backend, double, school):
    double.page_size = 7
    members = await graph_backend.default.directory.group_members(GRAPH_ALL_STAFF)
    assert len(members) == len(school.staff) == 40
    pages = double.find("GET", rf"^/groups/{GRAPH_ALL_STAFF}/transitiveMembers/")
    assert len(pages) == 6
    assert "$skiptoken" not in pages[0].query and all("$skiptoken" in p.query for p in pages[1:])
    assert "$select" in pages[0].query


# ---------------------------------------------------------------- files


async def test_simple_upload_url_and_rename_on_409(graph_backend, double):
    b = graph_backend.default
    await b.channel_files.upload("Record.docx", b"one")
    f = await b.channel_files.upload("Record.docx", b"two")
    assert f.name == "Record (2).docx"
    [folder_call] = double.find("GET", r"/filesFolder$")  # resolved once, then cached
    assert folder_call.path == f"/teams/{TEAM_ID}/channels/{CHANNEL_ID}/filesFolder"
    puts = double.find("PUT", r":/content$")
    assert [p.path.rsplit(":/", 2)[1] for p in puts] == ["Record.docx", "Record.docx", "Record (2).docx"]
    assert [p.status for p in puts] == [201, 409, 201]
    assert all(p.query == {"@microsoft.graph.conflictBehavior": "fail"} for p in puts)
    assert all(p.headers.get("Authorization") == "Bearer test-token" for p in puts)


async def test_throttled_upload_is_not_retried_by_the_sdk_and_becomes_retry_later(graph_backend, double):
    b = graph_backend(sdk_max_retries=3)
    double.fail("PUT", r":/content$", status=429, retry_after=30, times=1)
    with pytest.raises(GraphThrottled) as info:
        await b.channel_files.upload("Record.docx", b"bytes")
    assert info.value.seconds == 30
    assert len(double.find("PUT", r":/content$")) == 1  # GUIDE §2: octet-stream uploads are not retried


async def test_large_upload_uses_a_session_with_320_kib_chunks_and_no_auth_header(graph_backend, double):
    blob = bytes(range(256)) * 5000  # 1 280 000 bytes
    f = await graph_backend.default.channel_files.upload("Big.pdf", blob)
    assert f.size == len(blob)
    [session] = double.find("POST", r":/createUploadSession$")
    assert session.query == {"@microsoft.graph.conflictBehavior": "fail"}
    assert session.json["item"]["@microsoft.graph.conflictBehavior"] == "fail"
    chunks = double.find("PUT", r"^/upload/")
    assert [c.status for c in chunks] == [202, 202, 202, 201]
    assert all(c.body_size % CHUNK == 0 for c in chunks[:-1])
    assert [c.headers["Content-Range"] for c in chunks][:2] == [
        f"bytes 0-{CHUNK - 1}/{len(blob)}",
        f"bytes {CHUNK}-{2 * CHUNK - 1}/{len(blob)}",
    ]
    assert not any("Authorization" in c.headers for c in chunks)
    assert not double.find("PUT", r":/content$")
    drive_id, _ = double.channels[(TEAM_ID, CHANNEL_ID)]
    assert double.files(drive_id)["Safeguarding/Big.pdf"] == blob


async def test_a_throttled_chunk_is_resumed_in_place(graph_backend, double):
    sleeps = Sleeps()
    b = graph_backend.default
    b.channel_files.uploader.sleep = sleeps
    double.fail("PUT", r"^/upload/", status=503, retry_after=1, times=1)
    blob = b"z" * (3 * CHUNK + 10)
    f = await b.channel_files.upload("Resumed.pdf", blob)
    assert f.size == len(blob) and sleeps.waits == [1.0]
    assert len(double.find("POST", r":/createUploadSession$")) == 1
    assert double.find("GET", r"^/upload/")  # asked the session where to carry on


async def test_a_long_throttle_mid_upload_abandons_the_session_for_the_outbox(graph_backend, double):
    double.fail("PUT", r"^/upload/", status=429, retry_after=90, times=None)
    with pytest.raises(GraphThrottled) as info:
        await graph_backend.default.channel_files.upload("Big.pdf", b"y" * (2 * CHUNK))
    assert info.value.seconds == 90
    assert double.find("DELETE", r"^/upload/") and not double.sessions


async def test_a_name_taken_during_a_session_moves_to_the_next_name(graph_backend, double):
    b = graph_backend.default
    blob = b"q" * (CHUNK + 5)
    folder = await b.channel_files.resolve_folder()
    # Someone else's file appears under the same name while our session is open: the last chunk gets 409.
    orig = double._upload_chunk

    async def racing(request, path, raw):
        if request.headers.get("Content-Range", "").startswith(f"bytes {CHUNK}-"):
            d = double.drives[folder.drive_id]
            if double._child(d, folder.item_id, "Race.pdf") is None:
                double._new_item(d, "Race.pdf", folder.item_id, folder=False, content=b"theirs")
        return await orig(request, path, raw)

    double._upload_chunk = racing
    f = await b.channel_files.upload("Race.pdf", blob)
    assert f.name == "Race (2).pdf"
    assert double.files(folder.drive_id)["Safeguarding/Race.pdf"] == b"theirs"


async def test_share_is_an_invitation_never_a_link(graph_backend, double, school):
    sup, who = school.staff["priya.raman"], school.staff["tom.hollis"]
    await graph_backend.default.personal_files.upload_and_share(
        sup.aad_object_id, "1-1.docx", b"x", share_with=who.email, role="write"
    )
    [invite] = double.find("POST", r"/invite$")
    assert invite.json["roles"] == ["write"] and invite.json["requireSignIn"] is True
    assert invite.json["sendInvitation"] is False
    assert invite.json["recipients"] == [{"email": who.email}]
    assert not double.find("POST", r"/createLink$")
    [put] = double.find("PUT", r":/content$")
    assert put.path.endswith(":/Supervision records/1-1.docx:/content")


# ---------------------------------------------------------------- apps


async def test_download_follows_graphs_redirect(graph_backend, double):
    b = graph_backend.default
    f = await b.channel_files.upload("Record.docx", b"the record")
    assert await b.channel_files.download(f.item_id) == b"the record"
    [get] = double.find("GET", r"/content$")
    assert get.status == 302 and double.find("GET", r"^/download/")


async def test_install_app_binds_the_catalog_app(graph_backend, double, school):
    grace = school.staff["grace.mensah"].aad_object_id
    assert await graph_backend.default.apps.install_for_user(grace) is True
    assert await graph_backend.default.apps.install_for_user(grace) is False
    posts = double.find("POST", r"/teamwork/installedApps$")
    assert posts[0].path == f"/users/{grace}/teamwork/installedApps"
    assert posts[0].json["teamsApp@odata.bind"] == f"{double.url}/v1.0/appCatalogs/teamsApps/{TEAMS_APP_ID}"
    assert [p.status for p in posts] == [201, 409]


# ---------------------------------------------------------------- authentication


async def test_a_wrong_token_is_one_plain_auth_error(graph_backend, double, school):
    b = graph_backend(credential=StaticTokenCredential("stale-token"))
    with pytest.raises(GraphAuthError) as info:
        await b.directory.get_user(school.staff["tom.hollis"].aad_object_id)
    assert "401" in str(info.value) and info.value.__cause__ is None and info.value.__suppress_context__
    assert info.value.counts_as_attempt is False


async def test_an_expired_secret_is_one_clear_error_at_start_up_and_in_the_outbox(
    graph_backend, double, school, sqlite_db, clock, caplog
):
    expired = ClientAuthenticationError(
        "ClientSecretCredential.get_token failed: AADSTS7000222: The provided client secret keys for app "
        "'bbbb' are expired. Trace ID: 1 Correlation ID: 2 Timestamp: 2026-11-23 10:00:00Z"
    )
    b = graph_backend(credential=StaticTokenCredential(error=expired))
    with pytest.raises(GraphAuthError) as info:
        await b.verify()
    assert str(info.value) == (
        "Microsoft Graph sign-in failed (AADSTS7000222): the client secret has expired: "
        "create a new one on the app registration and set GRAPH_CLIENT_SECRET"
    )
    async with sqlite_db.session() as s:
        for i in range(4):
            await enqueue(
                s,
                *calendar_create(
                    f"b{i}",
                    organizer_id="priya.raman",
                    attendees=["tom.hollis"],
                    start=MON,
                    end=MON + dt.timedelta(hours=1),
                ),
                key=f"b{i}",
            )
    worker = OutboxWorker(sqlite_db, graph_handlers(b, db=sqlite_db, school=school), clock=clock, max_attempts=2)
    with caplog.at_level(logging.INFO):
        for _ in range(3):
            await worker.run_once()
            clock.advance(minutes=5)
    lines = [r for r in caplog.records if "AADSTS7000222" in r.getMessage()]
    assert len(lines) == 1 and lines[0].exc_info is None  # one line, no stack trace, whatever the row count
    assert not double.find("POST", r"/events$")  # nothing reached Graph without a token
    from sqlalchemy import select

    from bot.store.models_outbox import OutboxRow

    async with sqlite_db.session() as s:
        rows = (await s.execute(select(OutboxRow))).scalars().all()
    assert {(r.status, r.attempts) for r in rows} == {("pending", 0)}  # waiting for a new secret, not dead


async def test_managed_identity_unavailable_is_explained(graph_backend):
    from azure.identity import CredentialUnavailableError

    b = graph_backend(credential=StaticTokenCredential(error=CredentialUnavailableError("no IMDS endpoint")))
    with pytest.raises(GraphAuthError, match="no managed identity is available"):
        await b.verify()


async def test_bad_arguments_are_caught_before_any_request(graph_backend, double, school):
    with pytest.raises(GraphRequestError):
        await graph_backend.default.calendar.get_schedule(["a@b.c"], MON, MON + dt.timedelta(days=62))
    assert not double.requests


async def test_too_many_renames_is_a_conflict(graph_backend, double, monkeypatch):
    import graph.msgraph.files as files

    monkeypatch.setattr(files, "candidates", lambda name: iter([name, name.replace(".", " (2).")]))
    b = graph_backend.default
    await b.channel_files.upload("R.docx", b"1")
    await b.channel_files.upload("R.docx", b"2")
    with pytest.raises(GraphConflict):
        await b.channel_files.upload("R.docx", b"3")


async def test_a_configured_channel_folder_skips_files_folder(graph_backend, double):
    """For Sites.Selected, which does not cover the Teams filesFolder call (see infra/PERMISSIONS.md)."""
    drive_id, folder_id = double.channels[(TEAM_ID, CHANNEL_ID)]
    b = graph_backend(channel_drive_id=drive_id, channel_folder_id=folder_id)
    f = await b.channel_files.upload("Record.docx", b"x")
    assert f.drive_id == drive_id and double.files(drive_id)["Safeguarding/Record.docx"] == b"x"
    assert not double.find("GET", r"/filesFolder$")


async def test_retry_after_reaches_the_outbox_row(graph_backend, double, school, sqlite_db, clock):
    """Graph's Retry-After on a throttled create becomes the row's not_before, to the second."""
    from sqlalchemy import select

    from bot.store.models_outbox import OutboxRow

    double.fail("POST", r"/events$", status=429, retry_after=17, times=1)
    async with sqlite_db.session() as s:
        await enqueue(
            s,
            *calendar_create(
                "b9", organizer_id="priya.raman", attendees=["tom.hollis"], start=MON, end=MON + dt.timedelta(hours=1)
            ),
            key="b9",
        )
    worker = OutboxWorker(sqlite_db, graph_handlers(graph_backend.default, db=sqlite_db, school=school), clock=clock)
    assert await worker.run_once() == 0
    async with sqlite_db.session() as s:
        row = (await s.execute(select(OutboxRow))).scalar_one()
    assert row.not_before == clock.now + dt.timedelta(seconds=17) and "429" in row.last_error
    clock.advance(seconds=17)
    assert await worker.run_once() == 1
    assert len(double.events) == 1


async def test_the_network_guard_is_on(graph_backend):
    """The loopback guard (tests/graph/conftest.py) turns a real sign-in attempt into a local failure."""
    import socket

    with pytest.raises(OSError, match="only loopback"):
        socket.getaddrinfo("login.microsoftonline.com", 443)
