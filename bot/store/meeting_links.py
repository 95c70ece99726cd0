"""Look-ups by a calendar event's key: the Teams join link kept beside it (issue 11 part 7), and the 1:1 meeting or
offer-booked group session it belongs to. Used by bot/journeys/join_links.py."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models_local_m365 import M365MeetingKey
from bot.store.models_request import BookedGroupSession, Meeting


def _https(url) -> bool:
    return isinstance(url, str) and url.startswith("https://")


async def join_url(s: AsyncSession, event_key: str | None) -> str | None:
    """The join link of the meeting created under `event_key`, if it is a Teams meeting and has been created."""
    if not event_key:
        return None
    url = (await s.execute(select(M365MeetingKey.join_url).where(M365MeetingKey.key == event_key))).scalar_one_or_none()
    return url if _https(url) else None


async def join_urls(s: AsyncSession, event_keys) -> dict[str, str]:
    keys = [k for k in event_keys if k]
    if not keys:
        return {}
    rows = await s.execute(select(M365MeetingKey.key, M365MeetingKey.join_url).where(M365MeetingKey.key.in_(keys)))
    return {k: u for k, u in rows.all() if _https(u)}


async def meeting_by_event(s: AsyncSession, event_key: str) -> Meeting | None:
    return (await s.execute(select(Meeting).where(Meeting.event_key == event_key))).scalar_one_or_none()


async def booked_group_by_event(s: AsyncSession, event_key: str) -> BookedGroupSession | None:
    return (
        await s.execute(select(BookedGroupSession).where(BookedGroupSession.event_key == event_key))
    ).scalar_one_or_none()
