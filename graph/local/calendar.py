"""Local calendar: meetings in the store (they answer free/busy) plus one .ics file per meeting per person.

data/m365/calendars/<email>/<meeting id>.ics — METHOD:REQUEST while it stands, METHOD:CANCEL once cancelled (or
once that person is taken off it), so anyone can open their invitations in a calendar app.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.store.db import Database
from bot.store.models_local_m365 import LocalMeeting
from graph._common import attendee_emails, check_meeting, check_schedule_args, transaction_id, utc
from graph.errors import GraphNotFound, GraphRequestError
from graph.local.directory import LocalDirectory
from graph.naming import safe_name
from graph.ports import Attendee, BusyBlock, Meeting, MeetingRequest, Schedule

PRODID = "-//Safeguarding Supervision bot//local Microsoft 365 stand-in//EN"


class LocalCalendar:
    def __init__(self, db: Database, directory: LocalDirectory, root: Path, *, clock: Callable[[], dt.datetime]):
        self.db = db
        self.directory = directory
        self.root = Path(root) / "calendars"
        self.clock = clock

    # ------------------------------------------------------------ identities

    def _email(self, user: str, *, must_exist: bool) -> str:
        s = self.directory.find(user)
        if s is not None:
            return s.email.lower()
        if must_exist:
            raise GraphNotFound(f"no mailbox for {user!r}", status=404)
        return user.strip().lower()

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
        if not people:
            return []
        async with self.db.session() as s:
            rows = (
                (
                    await s.execute(
                        select(LocalMeeting)
                        .where(LocalMeeting.is_cancelled.is_(False), LocalMeeting.start < end, LocalMeeting.end > start)
                        .order_by(LocalMeeting.start)
                    )
                )
                .scalars()
                .all()
            )
        out: list[Schedule] = []
        for person in people:
            if self.directory.find(person) is None:
                out.append(Schedule(person=person, error="mailbox not found"))
                continue
            email = self._email(person, must_exist=True)
            busy = tuple(
                BusyBlock(start=r.start, end=r.end, status="busy")
                for r in rows
                if r.organizer == email or email in (r.attendees or [])
            )
            out.append(Schedule(person=person, busy=busy))
        return out

    # ------------------------------------------------------------ meetings

    async def create_meeting(self, request: MeetingRequest) -> Meeting:
        start, end = check_meeting(request)
        organizer = self._email(request.organizer, must_exist=True)
        tx = transaction_id(request.idempotency_key)
        existing = await self._by_tx(organizer, tx)
        if existing is not None:
            return self._meeting(existing)
        now = self.clock()
        mid = uuid.uuid4().hex
        row = LocalMeeting(
            id=mid,
            organizer=organizer,
            transaction_id=tx,
            subject=request.subject.strip(),
            start=start,
            end=end,
            attendees=attendee_emails(request.attendees),
            join_url=f"https://teams.local/l/meetup-join/{mid}" if request.online else "",
            is_cancelled=False,
            sequence=0,
            created_at=now,
            updated_at=now,
        )
        try:
            async with self.db.session() as s:
                s.add(row)
        except IntegrityError:  # the same request raced us: it won, return its meeting
            existing = await self._by_tx(organizer, tx)
            if existing is None:
                raise
            return self._meeting(existing)
        await self._write_ics(row, names={a.email.lower(): a.name for a in request.attendees})
        return self._meeting(row)

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
        org = self._email(organizer, must_exist=True)
        removed: list[str] = []
        async with self.db.session() as s:
            row = await s.get(LocalMeeting, meeting_id)
            if row is None or row.organizer != org or row.is_cancelled:
                raise GraphNotFound("no such meeting in the organiser's calendar", status=404)
            new_start = utc(start, "start") if start is not None else row.start
            new_end = utc(end, "end") if end is not None else row.end
            if new_end <= new_start:
                raise GraphRequestError("a meeting must end after it starts")
            row.start, row.end = new_start, new_end
            if subject is not None:
                if not subject.strip():
                    raise GraphRequestError("a meeting needs a subject")
                row.subject = subject.strip()
            if attendees is not None:
                new = attendee_emails(attendees)
                removed = [a for a in row.attendees if a not in new]
                row.attendees = new
            row.sequence += 1
            row.updated_at = self.clock()
        await self._write_ics(row)
        for email in removed:
            await self._write_ics(row, only=email, cancelled=True)
        return self._meeting(row)

    async def cancel_meeting(self, organizer: str, meeting_id: str, *, comment: str | None = None) -> None:
        org = self._email(organizer, must_exist=True)
        async with self.db.session() as s:
            row = await s.get(LocalMeeting, meeting_id)
            if row is None or row.organizer != org or row.is_cancelled:
                return  # already gone: cancelling twice is not an error
            row.is_cancelled = True
            row.sequence += 1
            row.updated_at = self.clock()
        await self._write_ics(row, cancelled=True)

    async def get_meeting(self, organizer: str, meeting_id: str) -> Meeting | None:
        org = self._email(organizer, must_exist=True)
        async with self.db.session() as s:
            row = await s.get(LocalMeeting, meeting_id)
        if row is None or row.organizer != org or row.is_cancelled:
            return None
        return self._meeting(row)

    # ------------------------------------------------------------ helpers

    async def _by_tx(self, organizer: str, tx: str) -> LocalMeeting | None:
        async with self.db.session() as s:
            return (
                await s.execute(
                    select(LocalMeeting).where(LocalMeeting.organizer == organizer, LocalMeeting.transaction_id == tx)
                )
            ).scalar_one_or_none()

    @staticmethod
    def _meeting(row: LocalMeeting) -> Meeting:
        return Meeting(
            id=row.id,
            organizer=row.organizer,
            subject=row.subject,
            start=row.start,
            end=row.end,
            attendees=tuple(row.attendees or ()),
            join_url=row.join_url or None,
            web_link=f"https://teams.local/calendar/item/{row.id}",
            is_online_meeting=bool(row.join_url),
            sensitivity="private",
        )

    def ics_path(self, email: str, meeting_id: str) -> Path:
        return self.root / safe_name(email.lower()) / f"{meeting_id}.ics"

    async def _write_ics(
        self,
        row: LocalMeeting,
        *,
        names: dict[str, str] | None = None,
        only: str | None = None,
        cancelled: bool | None = None,
    ) -> None:
        cancelled = row.is_cancelled if cancelled is None else cancelled
        people = [only] if only else [row.organizer, *[a for a in row.attendees if a != row.organizer]]
        data = self._ics(row, names or {}, cancelled)
        await asyncio.to_thread(self._write_files, [(self.ics_path(p, row.id), data) for p in people])

    @staticmethod
    def _write_files(files: list[tuple[Path, bytes]]) -> None:
        for path, data in files:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".ics.tmp")
            tmp.write_bytes(data)
            tmp.replace(path)

    def _ics(self, row: LocalMeeting, names: dict[str, str], cancelled: bool) -> bytes:
        # Imported at the first meeting written: memory a bot that books none never needs (bench/README.md).
        from icalendar import Calendar as ICalendar
        from icalendar import Event as IEvent
        from icalendar import vCalAddress, vText

        cal = ICalendar()
        cal.add("prodid", PRODID)
        cal.add("version", "2.0")
        cal.add("method", "CANCEL" if cancelled else "REQUEST")
        ev = IEvent()
        ev.add("uid", f"{row.id}@teams.local")
        ev.add("sequence", row.sequence)
        ev.add("dtstamp", self.clock())
        ev.add("dtstart", row.start)
        ev.add("dtend", row.end)
        ev.add("summary", row.subject)
        ev.add("class", "PRIVATE")
        ev.add("status", "CANCELLED" if cancelled else "CONFIRMED")
        if row.join_url:
            ev.add("location", vText("Microsoft Teams meeting"))
            ev.add("url", row.join_url)
        org = vCalAddress(f"mailto:{row.organizer}")
        ev.add("organizer", org)
        for a in row.attendees:
            addr = vCalAddress(f"mailto:{a}")
            addr.params["ROLE"] = vText("REQ-PARTICIPANT")
            if names.get(a):
                addr.params["CN"] = vText(names[a])
            ev.add("attendee", addr, encode=0)
        cal.add_component(ev)
        return cal.to_ical()
