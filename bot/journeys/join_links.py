"""The Teams join link of a booked meeting, for the cards that announce it (issue 11 part 7).

Graph returns it on the event it creates (`onlineMeeting.joinUrl` when `isOnlineMeeting` is true and the provider
is teamsForBusiness); the local backend makes a local one. The calendar.create handler keeps it beside the event
key (m365_meeting_keys.join_url), so a card built after the outbox delivered the event carries the link, and the
delivered hook here refreshes the cards sent before it existed (a booking's cards go out in the same turn as the
event is queued). No verbs of its own.
"""

from __future__ import annotations

from bot.journeys.base import Services
from bot.journeys.router import Router
from bot.outbox import effects
from bot.outbox.api import get
from bot.store.meeting_links import booked_group_by_event, join_url, join_urls, meeting_by_event

__all__ = ["join_url", "join_urls", "register"]


def register(router: Router) -> None:
    router.on_delivered(effects.CALENDAR_CREATE, calendar_created)


async def calendar_created(services: Services, msg, result: dict | None) -> None:
    """A meeting now exists: put its join link on the cards that announced it (1:1 meetings and offer-booked
    group sessions carry a card ref; others pick the link up when their card is next shown)."""
    from bot.journeys import booking
    from bot.store import bookings

    url = (result or {}).get("join_url")
    key = (msg.payload or {}).get("event_key")
    s = msg.session
    if s is None or not key or not isinstance(url, str) or not url.startswith("https://"):
        return
    meeting = await meeting_by_event(s, key)
    if meeting is not None and meeting.status == bookings.BOOKED:
        told = []
        for sid in (meeting.supervisor_id, meeting.supervisee_id):
            # Only a card sent under the meeting's ref is replaced (the booker's was the reply in place and
            # refreshes itself; a series sends one card for all its dates): an update never sends a new card.
            sent = [await get(s, f"meeting:{meeting.id}:{what}:{sid}") for what in ("booked", "moved-notice")]
            if sid != meeting.booked_by and any(sent):
                told.append(
                    effects.update_card(
                        sid,
                        f"meeting:{meeting.id}",
                        booking.meeting_view(services, meeting, sid, None, None, join_url=url),
                        key=f"meeting:{meeting.id}:join-link:{sid}",
                    )
                )
        await effects.add(s, *told, now=services.clock())
        return
    link = await booked_group_by_event(s, key)
    if link is not None:
        session = await bookings.group_session(s, link.session_id)
        if session.status != "scheduled":
            return
        count = await bookings.invitee_count(s, session.id)
        people = dict.fromkeys([*link.supervisor_ids, *(await _invitees(s, session.id))])
        await effects.add(
            s,
            *(
                effects.update_card(
                    sid,
                    f"group-session:{session.id}",
                    booking.group_session_view(services, session, link, sid, count, join_url=url),
                    key=f"group-session:{session.id}:join-link:{sid}",
                )
                for sid in people
                if sid != link.created_by
            ),
            now=services.clock(),
        )


async def _invitees(s, session_id: int) -> list[str]:
    from bot.store import sessions

    return await sessions.invitee_ids(s, session_id)
