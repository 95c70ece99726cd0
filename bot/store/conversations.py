"""Conversation references: saved on install / first contact, read when the bot messages proactively."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import ConversationRef


@dataclass(frozen=True)
class Reference:
    kind: str
    key: str
    staff_id: str | None
    conversation_id: str
    service_url: str
    reference: dict
    team_id: str | None = None
    channel_name: str | None = None


async def save_reference(s: AsyncSession, ref: Reference, *, now: dt.datetime, tenant_id: str | None = None) -> bool:
    """Insert or update (kind, key); the latest service URL wins, as Teams may move a conversation.

    Returns True when this call created the row (first contact). Safe when two activities race on first contact
    (Teams sends installationUpdate and conversationUpdate together): the insert is ON CONFLICT DO NOTHING, so
    exactly one caller sees True and nobody hits a unique-constraint error.
    """
    from sqlalchemy import update

    from bot.store.upsert import insert_ignore

    values = dict(
        kind=ref.kind,
        key=ref.key,
        staff_id=ref.staff_id,
        conversation_id=ref.conversation_id,
        service_url=ref.service_url,
        tenant_id=tenant_id,
        team_id=ref.team_id,
        channel_name=ref.channel_name,
        reference=ref.reference,
        updated_at=now,
    )
    if await insert_ignore(s, ConversationRef, [values], conflict=["kind", "key"]) == 1:
        return True
    changes = {k: v for k, v in values.items() if k not in ("kind", "key")}
    if ref.channel_name is None:
        changes.pop("channel_name")  # Teams sends the name only on some activities: keep the one we learnt
    await s.execute(
        update(ConversationRef)
        .where(ConversationRef.kind == ref.kind, ConversationRef.key == ref.key)
        .values(**changes)
    )
    return False


def _to_ref(row: ConversationRef) -> Reference:
    return Reference(
        kind=row.kind,
        key=row.key,
        staff_id=row.staff_id,
        conversation_id=row.conversation_id,
        service_url=row.service_url,
        reference=row.reference,
        team_id=row.team_id,
        channel_name=row.channel_name,
    )


async def personal(s: AsyncSession, staff_id: str) -> Reference | None:
    row = (
        await s.execute(
            select(ConversationRef).where(ConversationRef.kind == "personal", ConversationRef.key == staff_id)
        )
    ).scalar_one_or_none()
    return _to_ref(row) if row else None


async def channel_by_name(s: AsyncSession, name: str) -> Reference | None:
    rows = (await s.execute(select(ConversationRef).where(ConversationRef.kind == "channel"))).scalars().all()
    for row in rows:
        if (row.channel_name or "").strip().lower() == name.strip().lower():
            return _to_ref(row)
    return None


async def channel_by_id(s: AsyncSession, channel_id: str) -> Reference | None:
    row = (
        await s.execute(
            select(ConversationRef).where(ConversationRef.kind == "channel", ConversationRef.key == channel_id)
        )
    ).scalar_one_or_none()
    return _to_ref(row) if row else None
