"""The life of a record card, shared by group records and 1:1 records: a draft is saved, resumed, discarded or
consumed by the submit; a submit key makes one record (a second click finds it); the file then goes through the
outbox and comes back delivered (its link kept) or dead (marked failed, the submitter told).

Seed 001 "Record Keeping": notes go to their secure place (the Safeguarding channel, or the supervisor's OneDrive
shared with the supervisee); the bot keeps a draft's narrative only while it is a draft, and only its owner may see
or change it. A draft is deleted in the same transaction as the submit that files it.

Every method takes the caller's session (the journey opens one transaction per turn). The SQL is in
bot/store/drafts.py; this module holds the rules and raises the store's domain errors:

    GROUP.save(s, key, owner_id, content, session_id=..., record_id=None, adhoc=None, now=...)
    GROUP.own(s, key, owner_id)          # NotFound / NotYours
    ONE_TO_ONE.latest_for(s, owner_id, supervisee_id=...)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot.store import drafts as store
from bot.store.errors import AlreadySubmitted, NotFound, NotYours
from bot.store.models_group_record import DELIVERED, FAILED, PENDING, GroupRecordDraft, GroupRecordVersion
from bot.store.models_specialist_notes import SpecialistNote, SpecialistNoteDraft
from bot.store.models_targeted import TargetedRecord, TargetedRecordDraft

D = TypeVar("D")  # a draft model: draft_key, owner_id, content, created_at, updated_at, target columns
R = TypeVar("R")  # the filed model: submit_key, file_name and the file's delivery state

#: Drafts listed on a picker card.
RECENT = 5


@dataclass(frozen=True)
class RecordLifecycle(Generic[D, R]):
    """Drafts of one record kind, its submit keys and its file's delivery, with the rules both journeys share."""

    draft: type[D]
    filed: type[R]
    #: The journey's outbox key prefix ("group_record:"): its file row is keyed `<prefix>file:<filed id>`.
    prefix: str
    #: Draft columns that say what the draft is of; a save under an existing key must name the same target.
    target: tuple[str, ...]
    #: Draft columns set when the draft is first saved and never compared (e.g. an ad-hoc session's details).
    extra: tuple[str, ...] = ()

    def _split(self, given: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        unknown = set(given) - set(self.target) - set(self.extra)
        if unknown:
            raise TypeError(f"{self.draft.__name__} has no target column(s) {sorted(unknown)}")
        return ({k: given.get(k) for k in self.target}, {k: given[k] for k in self.extra if k in given})

    # ---- drafts ------------------------------------------------------------------------------------------
    async def save(
        self, s: AsyncSession, key: str, owner_id: str, content: dict, *, now: dt.datetime, **target: Any
    ) -> D:
        """Save `content` as `owner_id`'s draft under `key` (made on first save, replaced after).

        AlreadySubmitted if the key already filed a record (no narrative is kept for it); NotYours if the key is
        someone else's draft, or this owner's draft of a different target (a tampered card)."""
        match, extra = self._split(target)
        if await self.submitted(s, key) is not None:
            raise AlreadySubmitted()
        draft = await store.by_key(s, self.draft, key)
        if draft is None:
            return await store.add(
                s,
                self.draft,
                draft_key=key,
                owner_id=owner_id,
                content=content,
                created_at=now,
                updated_at=now,
                **match,
                **extra,
            )
        if draft.owner_id != owner_id or any(getattr(draft, k) != v for k, v in match.items()):
            raise NotYours()
        draft.content, draft.updated_at = content, now
        return draft

    async def keep(
        self, s: AsyncSession, key: str, owner_id: str, content: dict, *, now: dt.datetime, **target: Any
    ) -> D | None:
        """Keep the text of a submit that could not be filed (someone else filed first) as the owner's draft.

        Unlike `save`, never refuses: someone else's draft under the key is left alone (None is returned)."""
        match, extra = self._split(target)
        draft = await store.by_key(s, self.draft, key)
        if draft is None:
            return await store.add(
                s,
                self.draft,
                draft_key=key,
                owner_id=owner_id,
                content=content,
                created_at=now,
                updated_at=now,
                **match,
                **extra,
            )
        if draft.owner_id != owner_id:
            return None
        draft.content, draft.updated_at = content, now
        return draft

    async def find_own(self, s: AsyncSession, key: str, owner_id: str) -> D | None:
        """The draft under `key` if it is `owner_id`'s; None if there is none; NotYours if it is someone else's."""
        draft = await store.by_key(s, self.draft, key)
        if draft is not None and draft.owner_id != owner_id:
            raise NotYours()
        return draft

    async def own(self, s: AsyncSession, key: str, owner_id: str) -> D:
        """The owner's draft under `key`: NotFound if there is none (submitted or deleted), NotYours if it is
        someone else's."""
        draft = await self.find_own(s, key, owner_id)
        if draft is None:
            raise NotFound()
        return draft

    async def discard(self, s: AsyncSession, key: str, owner_id: str) -> bool:
        """Delete the owner's draft under `key`. False if there was none; NotYours if it is someone else's."""
        draft = await self.find_own(s, key, owner_id)
        if draft is None:
            return False
        await store.remove(s, draft)
        return True

    async def latest_for(self, s: AsyncSession, owner_id: str, **target: Any) -> D | None:
        """The owner's most recently saved draft of this target (every target column must be given)."""
        match, _ = self._split(target)
        return await store.latest(s, self.draft, owner_id, **match)

    async def recent(self, s: AsyncSession, owner_id: str, limit: int = RECENT) -> Sequence[D]:
        """The owner's drafts, most recently saved first (the picker's list)."""
        return await store.recent(s, self.draft, owner_id, limit)

    async def has(self, s: AsyncSession, key: str) -> bool:
        """Whether a draft is saved under `key` (the card offers Delete draft then)."""
        return await store.exists(s, self.draft, key)

    async def consume(self, s: AsyncSession, key: str) -> None:
        """The submit filed its record: the draft's narrative goes in the same transaction."""
        await store.delete_key(s, self.draft, key)

    async def drop(
        self, s: AsyncSession, *, keep: str | None = None, saved_before: dt.datetime | None = None, **filters: Any
    ) -> int:
        """Delete drafts matching `filters` (target columns and/or owner_id; None means unset), except `keep`,
        and only those last saved before `saved_before` when given. Returns how many went."""
        allowed = set(self.target) | {"owner_id"}
        if set(filters) - allowed:
            raise TypeError(f"{self.draft.__name__} drafts can't be filtered by {sorted(set(filters) - allowed)}")
        return await store.delete_where(s, self.draft, keep=keep, saved_before=saved_before, **filters)

    # ---- submit keys -------------------------------------------------------------------------------------
    async def submitted(self, s: AsyncSession, key: str) -> R | None:
        """What this card's submit key already filed (a second click, or a retried invoke), or None."""
        return await store.submitted(s, self.filed, key)

    # ---- the file's delivery (outbox hooks) ---------------------------------------------------------------
    def file_key(self, filed_id: int) -> str:
        """The outbox key of the file row for this filed row."""
        return f"{self.prefix}file:{filed_id}"

    def file_id(self, key: str | None) -> int | None:
        """The filed row's id from an outbox key, or None if the key is not one of this journey's file rows
        (hooks on a shared effect kind see other journeys' rows too)."""
        head = f"{self.prefix}file:"
        if not key or not key.startswith(head):
            return None
        tail = key[len(head) :]
        return int(tail) if tail.isdigit() else None

    async def filed_row(self, s: AsyncSession, filed_id: Any) -> R | None:
        try:
            return await store.get(s, self.filed, int(filed_id))
        except (TypeError, ValueError):
            return None

    @staticmethod
    def mark_delivered(row: Any, result: dict | None, now: dt.datetime) -> bool:
        """Keep where the file went (its link, its name as delivered, its drive item id). False if the row was
        already delivered (hooks are idempotent)."""
        if row.status == DELIVERED:
            return False
        result = result or {}
        row.status = DELIVERED
        row.web_url = result.get("web_url") or result.get("webUrl")
        row.delivered_name = result.get("name") or row.file_name
        row.item_id = result.get("item_id") or result.get("id")
        row.delivered_at = now
        return True

    @staticmethod
    def mark_failed(row: Any) -> bool:
        """The outbox gave up on the file (it keeps the payload to requeue). True if this changed the row from
        pending to failed — then, and only then, the submitter is told."""
        if row.status != PENDING:
            return False
        row.status = FAILED
        return True

    async def delivered(self, s: AsyncSession, key: str | None, result: dict | None, now: dt.datetime) -> R | None:
        """The outbox delivered row `key`: the filed row, newly marked delivered; None if the key is not this
        journey's file row, the row is gone, or it was marked already."""
        row = await self.filed_row(s, self.file_id(key)) if self.file_id(key) is not None else None
        return row if row is not None and self.mark_delivered(row, result, now) else None

    async def dead(self, s: AsyncSession, key: str | None) -> R | None:
        """The outbox gave up on row `key`: the filed row, newly marked failed; None otherwise."""
        row = await self.filed_row(s, self.file_id(key)) if self.file_id(key) is not None else None
        return row if row is not None and self.mark_failed(row) else None

    async def sync(self, s: AsyncSession, row: R, now: dt.datetime) -> R:
        """Bring a filed row's delivery state up to date from its outbox row (which keeps the handler's result),
        whether or not the delivered hook ran: delivered → link kept; dead → failed; requeued → pending again."""
        from bot.outbox import get
        from bot.store.models_outbox import DEAD as OUTBOX_DEAD
        from bot.store.models_outbox import DELIVERED as OUTBOX_DELIVERED

        if row.status == DELIVERED:
            return row
        msg = await get(s, self.file_key(row.id))
        if msg is None:
            return row
        if msg.status == OUTBOX_DELIVERED:
            self.mark_delivered(row, msg.result, msg.finished_at or now)
        elif msg.status == OUTBOX_DEAD:
            row.status = FAILED
        elif row.status == FAILED:
            row.status = PENDING
        return row


#: Group records: a draft is of a scheduled session (session_id), of an amendment (record_id), or of an ad-hoc
#: session not created until submit (neither; its details in `adhoc`). Filed as a record version.
GROUP: RecordLifecycle[GroupRecordDraft, GroupRecordVersion] = RecordLifecycle(
    GroupRecordDraft, GroupRecordVersion, prefix="group_record:", target=("session_id", "record_id"), extra=("adhoc",)
)

#: 1:1 records: a draft is of a session with one supervisee. Filed as a targeted record.
ONE_TO_ONE: RecordLifecycle[TargetedRecordDraft, TargetedRecord] = RecordLifecycle(
    TargetedRecordDraft, TargetedRecord, prefix="targeted:", target=("supervisee_id",)
)

#: Specialist group session notes (seed 001 §3.3): a draft is of one session. Filed as a specialist note; its file
#: goes to the supervisor's OneDrive, shared with each attendee (bot/journeys/specialist_notes.py).
SPECIALIST_NOTES: RecordLifecycle[SpecialistNoteDraft, SpecialistNote] = RecordLifecycle(
    SpecialistNoteDraft, SpecialistNote, prefix="specialist_notes:", target=("session_id",)
)
