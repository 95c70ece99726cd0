"""Domain errors the store raises; journeys map each to a card (aiohttp-demos' `RecordNotFound` pattern).

Each carries the least needed to explain itself to the person — ids, never content."""

from __future__ import annotations


class StoreError(Exception):
    """Something the person can be told about; the transaction it happened in is rolled back."""


class NotFound(StoreError):
    """No such row (or not one this person may see: the two are never told apart)."""


class NotYours(StoreError):
    """The row exists but belongs to someone else (a draft, a request)."""


class AlreadyRecorded(StoreError):
    """This session already has a record; amend it instead."""

    def __init__(self, record_id: int | None = None):
        super().__init__(record_id)
        self.record_id = record_id


class RecordedMeanwhile(StoreError):
    """Someone else submitted the same record (or a newer version) while this card was open."""


class OfferUsed(StoreError):
    """The slot offer was booked or replaced while the card was open."""


class Concurrent(StoreError):
    """A row changed between reading and writing it; the caller re-reads and shows the new state."""


class OverCapacity(StoreError):
    """The supervisor's last place went to someone else meanwhile."""


class AlreadySubmitted(StoreError):
    """This card's submit key already made a record: there is no draft to save any more."""


class AlreadySent(StoreError):
    """This form was sent before (a double click, a retried request): the first one was kept."""


class StoreBusy(StoreError):
    """The database could not take this unit of work in time — SQLite's busy timeout ran out under many writers at
    once, or no pooled connection came free. The transaction was rolled back, so nothing was written: the person
    is asked to try again, and the card they clicked (with what they typed, or their saved draft) stays."""
