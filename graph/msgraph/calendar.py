"""Calendar through Microsoft Graph: getSchedule (batched beyond 20 people) and Teams meetings.

Meetings: POST /users/{organizer}/events with isOnlineMeeting + teamsForBusiness, sensitivity private, the
caller's neutral subject, and transactionId derived from the idempotency key, so a retried create (ours, the
SDK's, or the outbox's after a lost answer) returns the meeting already made instead of booking twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import quote

from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_abstractions.method import Method
from kiota_abstractions.request_information import RequestInformation
from kiota_abstractions.serialization import ParseNodeFactoryRegistry
from msgraph.generated.models.attendee import Attendee as GraphAttendee
from msgraph.generated.models.attendee_type import AttendeeType
from msgraph.generated.models.date_time_time_zone import DateTimeTimeZone
from msgraph.generated.models.email_address import EmailAddress
from msgraph.generated.models.event import Event
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.online_meeting_provider_type import OnlineMeetingProviderType
from msgraph.generated.models.sensitivity import Sensitivity
from msgraph.generated.users.item.calendar.get_schedule.get_schedule_post_request_body import GetSchedulePostRequestBody
from msgraph.generated.users.item.calendar.get_schedule.get_schedule_post_response import GetSchedulePostResponse
from msgraph.generated.users.item.events.item.cancel.cancel_post_request_body import CancelPostRequestBody

from graph._common import check_meeting, check_schedule_args, graph_datetime, graph_datetime_str, transaction_id, utc
from graph.errors import GraphNotFound, GraphRequestError, GraphThrottled
from graph.msgraph.client import GraphClients
from graph.msgraph.errors import THROTTLE_STATUSES, TRANSIENT_STATUSES, call, from_status
from graph.ports import (
    MAX_BATCH_REQUESTS,
    MAX_SCHEDULES_PER_CALL,
    Attendee,
    BusyBlock,
    Meeting,
    MeetingRequest,
    Schedule,
)

PREFER_UTC = 'outlook.timezone="UTC"'


def _dtz(value: dt.datetime) -> DateTimeTimeZone:
    return DateTimeTimeZone(date_time=graph_datetime_str(value), time_zone="UTC")


def _attendees(attendees: Sequence[Attendee]) -> list[GraphAttendee]:
    return [
        GraphAttendee(email_address=EmailAddress(address=a.email, name=a.name or None), type=AttendeeType.Required)
        for a in attendees
    ]


def _utc_config() -> RequestConfiguration:
    cfg = RequestConfiguration()
    cfg.headers.add("Prefer", PREFER_UTC)
    return cfg


class GraphCalendar:
    """`batch_retries` / `max_inline_wait`: a throttled $batch sub-request (which the SDK never retries) is retried
    here when the service asks for a short wait; a longer wait becomes GraphThrottled for the caller (or outbox)."""

    def __init__(
        self,
        clients: GraphClients,
        *,
        batch_retries: int = 2,
        max_inline_wait: float = 5.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ):
        self.c = clients
        self.batch_retries = batch_retries
        self.max_inline_wait = max_inline_wait
        self.sleep = sleep
        self.rng = rng or random.Random()

    # ------------------------------------------------------------ free/busy

    async def get_schedule(
        self,
        people: Sequence[str],
        start: dt.datetime,
        end: dt.datetime,
        *,
        interval_minutes: int = 30,
        as_user: str | None = None,
    ) -> list[Schedule]:
        start, end = check_schedule_args(people, start, end, interval_minutes)
        people = list(people)
        if not people:
            return []
        as_user = as_user or people[0]
        chunks = [people[i : i + MAX_SCHEDULES_PER_CALL] for i in range(0, len(people), MAX_SCHEDULES_PER_CALL)]
        if len(chunks) == 1:
            body = GetSchedulePostRequestBody(
                schedules=chunks[0],
                start_time=_dtz(start),
                end_time=_dtz(end),
                availability_view_interval=interval_minutes,
            )
            resp = await call(
                self.c.graph.users.by_user_id(as_user).calendar.get_schedule.post(body, _utc_config()), "read free/busy"
            )
            return self._schedules(chunks[0], resp)
        results: dict[int, GetSchedulePostResponse] = {}
        for first in range(0, len(chunks), MAX_BATCH_REQUESTS):
            group = {str(i): chunks[i] for i in range(first, min(first + MAX_BATCH_REQUESTS, len(chunks)))}
            results.update(await self._schedule_batch(as_user, group, start, end, interval_minutes))
        out: list[Schedule] = []
        for i, chunk in enumerate(chunks):
            out.extend(self._schedules(chunk, results[i]))
        return out

    async def _schedule_batch(
        self, as_user: str, group: dict[str, list[str]], start: dt.datetime, end: dt.datetime, interval: int
    ) -> dict[int, GetSchedulePostResponse]:
        done: dict[int, GetSchedulePostResponse] = {}
        pending = dict(group)
        for attempt in range(self.batch_retries + 1):
            requests = [
                {
                    "id": rid,
                    "method": "POST",
                    "url": f"/users/{quote(as_user, safe='@')}/calendar/getSchedule",
                    "headers": {"Content-Type": "application/json", "Prefer": PREFER_UTC},
                    "body": {
                        "schedules": people,
                        "startTime": {"dateTime": graph_datetime_str(start), "timeZone": "UTC"},
                        "endTime": {"dateTime": graph_datetime_str(end), "timeZone": "UTC"},
                        "availabilityViewInterval": interval,
                    },
                }
                for rid, people in pending.items()
            ]
            responses = await self._batch(requests, "read free/busy ($batch)")
            waits: list[float | None] = []
            retry: dict[str, list[str]] = {}
            for rid in pending:
                status, headers, body = responses.get(rid, (None, {}, None))
                if status is not None and 200 <= status < 300:
                    done[int(rid)] = self._parse(body, GetSchedulePostResponse)
                    continue
                code, message = _error_of(body)
                err = from_status(status or 500, headers, code, message, "read free/busy ($batch sub-request)")
                if status is None or status in THROTTLE_STATUSES or status in TRANSIENT_STATUSES or status >= 500:
                    retry[rid] = pending[rid]
                    waits.append(getattr(err, "seconds", None))
                    continue
                raise err
            if not retry:
                return done
            known = [w for w in waits if w is not None]
            wait = max(known) if known else min(self.max_inline_wait, 0.5 * 2**attempt) * (0.5 + self.rng.random() / 2)
            if attempt == self.batch_retries or wait > self.max_inline_wait:
                raise GraphThrottled(
                    max(known) if known else None,
                    f"read free/busy: {len(retry)} $batch sub-request(s) throttled by Microsoft Graph",
                )
            await self.sleep(wait)
            pending = retry
        raise AssertionError("unreachable")  # pragma: no cover

    async def _batch(self, requests: list[dict], what: str) -> dict[str, tuple[int | None, dict, object]]:
        """POST /$batch through the SDK's request adapter (auth, middleware); return id → (status, headers, body).

        msgraph-core's own batch helpers import the `Deprecated` package, which is not pinned here, so the batch
        envelope is built by hand; every HTTP call still goes through msgraph-sdk's adapter and middleware.
        """
        if len(requests) > MAX_BATCH_REQUESTS:
            raise GraphRequestError(f"$batch takes at most {MAX_BATCH_REQUESTS} requests")
        ri = RequestInformation(Method.POST, "{+baseurl}/$batch", {})
        ri.headers.try_add("Accept", "application/json")
        ri.set_stream_content(json.dumps({"requests": requests}).encode(), "application/json")
        raw = await call(self.c.adapter.send_primitive_async(ri, "bytes", {"XXX": ODataError}), what)
        try:
            payload = json.loads(raw or b"{}")
        except ValueError:
            raise GraphThrottled(None, f"{what}: unreadable $batch response") from None
        out: dict[str, tuple[int | None, dict, object]] = {}
        for r in payload.get("responses") or []:
            out[str(r.get("id"))] = (r.get("status"), r.get("headers") or {}, r.get("body"))
        return out

    def _parse(self, body, model):
        data = body if isinstance(body, (bytes, bytearray)) else json.dumps(body or {}).encode()
        node = ParseNodeFactoryRegistry().get_root_parse_node("application/json", data)
        return node.get_object_value(model)

    @staticmethod
    def _schedules(people: list[str], resp: GetSchedulePostResponse | None) -> list[Schedule]:
        infos = list(resp.value or []) if resp else []
        by_id = {(i.schedule_id or "").lower(): i for i in infos}
        out = []
        for n, person in enumerate(people):
            info = by_id.get(person.lower()) or (infos[n] if n < len(infos) else None)
            if info is None:
                out.append(Schedule(person=person, error="no answer for this mailbox"))
                continue
            if info.error is not None:
                out.append(Schedule(person=person, error=info.error.message or info.error.response_code or "error"))
                continue
            busy = []
            for item in info.schedule_items or []:
                status = item.status.value if item.status is not None else "busy"
                if status == "free":
                    continue
                s = graph_datetime(item.start.date_time, item.start.time_zone) if item.start else None
                e = graph_datetime(item.end.date_time, item.end.time_zone) if item.end else None
                if s and e:
                    busy.append(BusyBlock(start=s, end=e, status=status))
            out.append(Schedule(person=person, busy=tuple(sorted(busy, key=lambda b: b.start))))
        return out

    # ------------------------------------------------------------ meetings

    async def create_meeting(self, request: MeetingRequest) -> Meeting:
        start, end = check_meeting(request)
        body = Event(
            subject=request.subject.strip(),
            start=_dtz(start),
            end=_dtz(end),
            attendees=_attendees(request.attendees),
            is_online_meeting=request.online,
            sensitivity=Sensitivity.Private,
            transaction_id=transaction_id(request.idempotency_key),
        )
        if request.online:
            body.online_meeting_provider = OnlineMeetingProviderType.TeamsForBusiness
        ev = await call(
            self.c.graph.users.by_user_id(request.organizer).events.post(body, _utc_config()), "create a meeting"
        )
        return self._meeting(ev, request.organizer)

    async def update_meeting(
        self,
        organizer: str,
        meeting_id: str,
        *,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        attendees: Sequence[Attendee] | None = None,
        subject: str | None = None,
    ) -> Meeting:
        patch = Event()
        if start is not None:
            patch.start = _dtz(utc(start, "start"))
        if end is not None:
            patch.end = _dtz(utc(end, "end"))
        if start is not None and end is not None and utc(end, "end") <= utc(start, "start"):
            raise GraphRequestError("a meeting must end after it starts")
        if attendees is not None:
            patch.attendees = _attendees(attendees)
        if subject is not None:
            if not subject.strip():
                raise GraphRequestError("a meeting needs a subject")
            patch.subject = subject.strip()
        ev = await call(
            self.c.graph.users.by_user_id(organizer).events.by_event_id(meeting_id).patch(patch, _utc_config()),
            "update a meeting",
        )
        return self._meeting(ev, organizer)

    async def cancel_meeting(self, organizer: str, meeting_id: str, *, comment: str | None = None) -> None:
        body = CancelPostRequestBody(comment=comment or "")
        try:
            await call(
                self.c.graph.users.by_user_id(organizer).events.by_event_id(meeting_id).cancel.post(body),
                "cancel a meeting",
            )
        except GraphNotFound:
            return  # already cancelled (Exchange removes it): cancelling twice is not an error

    async def get_meeting(self, organizer: str, meeting_id: str) -> Meeting | None:
        try:
            ev = await call(
                self.c.graph.users.by_user_id(organizer).events.by_event_id(meeting_id).get(_utc_config()),
                "read a meeting",
            )
        except GraphNotFound:
            return None
        return self._meeting(ev, organizer) if ev else None

    @staticmethod
    def _meeting(ev: Event | None, organizer: str) -> Meeting:
        if ev is None or not ev.id:
            raise GraphThrottled(None, "Microsoft Graph returned no event: try again")
        org = organizer
        if ev.organizer and ev.organizer.email_address and ev.organizer.email_address.address:
            org = ev.organizer.email_address.address.lower()
        attendees = tuple(
            (a.email_address.address or "").lower()
            for a in ev.attendees or []
            if a.email_address and a.email_address.address
        )
        return Meeting(
            id=ev.id,
            organizer=org,
            subject=ev.subject or "",
            start=graph_datetime(ev.start.date_time, ev.start.time_zone) if ev.start else None,
            end=graph_datetime(ev.end.date_time, ev.end.time_zone) if ev.end else None,
            attendees=attendees,
            join_url=ev.online_meeting.join_url if ev.online_meeting else None,
            web_link=ev.web_link,
            is_online_meeting=bool(ev.is_online_meeting),
            sensitivity=ev.sensitivity.value if ev.sensitivity is not None else "normal",
        )


def _error_of(body) -> tuple[str | None, str | None]:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"].get("code"), body["error"].get("message")
    return None, None
