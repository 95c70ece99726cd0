"""The embedded Microsoft 365 backend: no tenant needed. Files in a folder, meetings in the store plus .ics."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from pathlib import Path

from bot.school.config import School
from bot.store.db import Database
from graph.local.apps import LocalApps
from graph.local.calendar import LocalCalendar
from graph.local.directory import ALL_STAFF_GROUP, LocalDirectory
from graph.local.files import LocalChannelFiles, LocalPersonalFiles


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class LocalBackend:
    mode = "local"

    def __init__(
        self,
        *,
        db: Database,
        school: School,
        root: Path,
        team_id: str | None = None,
        channel: str | None = None,
        managers: Mapping[str, str] | None = None,
        clock: Callable[[], dt.datetime] = _utcnow,
    ):
        cfg = school.settings.safeguarding_channel
        self.root = Path(root)
        self.directory = LocalDirectory(school, managers=managers)
        self.calendar = LocalCalendar(db, self.directory, self.root, clock=clock)
        self.channel_files = LocalChannelFiles(self.root, team_id or cfg.team_id, channel or cfg.channel_name)
        self.personal_files = LocalPersonalFiles(self.root, db, self.directory, clock=clock)
        self.apps = LocalApps(db, self.directory, clock=clock)

    async def verify(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)

    async def close(self) -> None:
        return None


__all__ = ["ALL_STAFF_GROUP", "LocalBackend"]
