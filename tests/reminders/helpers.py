"""Helpers for the compliance tests: sessions, attendance facts and conversation references, written directly
(the group-record journey writes them in the product)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.store.models import ConversationRef
from bot.store.models_sessions import Attendance, GroupSession, SessionInvitee

LONDON = ZoneInfo("Europe/London")
AUTUMN2 = "2026-27 Autumn 2"


def at(day: dt.date, hhmm: str, tz=LONDON) -> dt.datetime:
    h, m = map(int, hhmm.split(":"))
    return dt.datetime.combine(day, dt.time(h, m), tzinfo=tz).astimezone(dt.timezone.utc)


async def add_session(
    db,
    *,
    day: dt.date,
    start: str = "15:30",
    minutes: int = 60,
    kind: str = "class",
    group_id: str | None = "willow",
    half_term: str = AUTUMN2,
    facilitator: str = "amara.okafor",
    status: str = "scheduled",
    invitees=(),
    now: dt.datetime | None = None,
) -> int:
    starts = at(day, start)
    async with db.session() as s:
        row = GroupSession(
            kind=kind,
            group_id=group_id,
            title="Group supervision",
            starts_at=starts,
            ends_at=starts + dt.timedelta(minutes=minutes),
            local_date=day,
            half_term=half_term,
            facilitator_id=facilitator,
            status=status,
            external_support=False,
            created_by=facilitator,
            created_at=now or starts - dt.timedelta(days=7),
        )
        s.add(row)
        await s.flush()
        for sid in invitees:
            s.add(SessionInvitee(session_id=row.id, staff_id=sid, added_at=row.created_at, added_via="invite"))
        return row.id


async def record_attendance(db, session_id: int, staff_ids, *, recorded_by: str = "amara.okafor") -> None:
    async with db.session() as s:
        sess = (await s.execute(select(GroupSession).where(GroupSession.id == session_id))).scalar_one()
        for sid in staff_ids:
            s.add(
                Attendance(
                    staff_id=sid,
                    session_id=session_id,
                    local_date=sess.local_date,
                    half_term=sess.half_term,
                    recorded_by=recorded_by,
                    recorded_at=sess.ends_at,
                )
            )
        sess.status = "recorded"


async def add_refs(db, staff_ids, *, service_url: str = "http://127.0.0.1:9/") -> None:
    """A stored 1:1 conversation reference for each person, as if they had installed the app."""
    now = dt.datetime(2026, 9, 1, 8, tzinfo=dt.timezone.utc)
    async with db.session() as s:
        for sid in staff_ids:
            conv = f"a:personal-{sid}"
            s.add(
                ConversationRef(
                    kind="personal",
                    key=sid,
                    staff_id=sid,
                    conversation_id=conv,
                    service_url=service_url,
                    reference={
                        "channelId": "msteams",
                        "serviceUrl": service_url,
                        "conversation": {"id": conv, "conversationType": "personal"},
                        "user": {"id": f"29:{sid}"},
                        "bot": {"id": "28:kestrel-bot"},
                    },
                    updated_at=now,
                )
            )


async def second_instance(db):
    """Another bot instance on the same database: its own engine and connection pool (same schema)."""
    from sqlalchemy import text

    from bot.store import Database

    if db.is_sqlite:
        return Database(db.url)
    async with db.engine.connect() as conn:
        schema = (await conn.execute(text("SELECT current_schema()"))).scalar_one()
    return Database(db.url, schema=schema)


class Killed(BaseException):
    """The sending process died (not an error the code could handle)."""


class FakeTeams:
    """The send callable the throttled sender drives: records what each person would see, when.

    ``blocked``: staff whose chat refuses the bot (403). ``on_send(n)``: called after the n-th delivery
    (1-based), e.g. to crash the run at that moment."""

    def __init__(self, clock, *, blocked=(), fail_first: dict | None = None):
        self.clock = clock
        self.blocked = set(blocked)
        self.fail_first = dict(fail_first or {})
        self.delivered: list[tuple[dt.datetime, str, dict]] = []
        self.on_send = None
        self.kill_at: int | None = None  # die (like kill -9) right after Teams accepts the n-th message

    @staticmethod
    def staff_of(reference: dict) -> str:
        return reference["conversation"]["id"].removeprefix("a:personal-")

    async def __call__(self, reference: dict, card: dict, *, text=None):
        import asyncio

        from bot.messaging import SendError

        staff = self.staff_of(reference)
        await asyncio.sleep(0)
        if self.kill_at is not None and len(self.delivered) >= self.kill_at:
            raise Killed()
        if staff in self.blocked:
            raise SendError(403, code="MessageWritesBlocked")
        if self.fail_first.get(staff):
            self.fail_first[staff] -= 1
            raise SendError(503)
        self.delivered.append((self.clock(), staff, card))
        if self.on_send is not None:
            self.on_send(len(self.delivered))
        if self.kill_at is not None and len(self.delivered) >= self.kill_at:
            raise Killed()  # Teams has it; the process dies before it can record that
        return f"act-{len(self.delivered)}"

    def to(self, staff_id: str) -> list[dict]:
        return [c for _, s, c in self.delivered if s == staff_id]

    def titles(self) -> list[tuple[str, str]]:
        return [(s, c["body"][0]["text"]) for _, s, c in self.delivered]


def fast_sender(send, clock):
    """A throttled sender whose limits do not slow small tests (the limits have their own tests)."""
    import random

    from bot.delivery import RateLimiter, RetryPolicy, ThrottledSender, Window

    return ThrottledSender(
        send,
        limiter=RateLimiter(per_app=(Window(100_000, 1),)),
        policy=RetryPolicy(base=0.001, cap=0.01, rng=random.Random(0)),
    )


def services_for(school, db, clock, **fields):
    from bot.domain.calendar import TermCalendar
    from bot.journeys.base import Services

    return Services(school=school, db=db, clock=clock, calendar=TermCalendar.from_school(school), **fields)
