"""Local app installation: remembers who "has the app", as Teams would after an install."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy.exc import IntegrityError

from bot.store.db import Database
from bot.store.models_local_m365 import LocalAppInstall
from graph.errors import GraphNotFound
from graph.local.directory import LocalDirectory


class LocalApps:
    def __init__(self, db: Database, directory: LocalDirectory, *, clock: Callable[[], dt.datetime]):
        self.db = db
        self.directory = directory
        self.clock = clock

    async def install_for_user(self, user: str) -> bool:
        s = self.directory.find(user)
        if s is None:
            raise GraphNotFound(f"no such user {user!r}", status=404)
        try:
            async with self.db.session() as session:
                session.add(LocalAppInstall(user=s.aad_object_id.lower(), installed_at=self.clock()))
        except IntegrityError:
            return False
        return True
