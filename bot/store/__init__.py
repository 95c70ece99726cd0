"""Persistence: SQLAlchemy 2 async on SQLite (embedded default) or PostgreSQL, migrated by Alembic at start-up."""

from bot.store.base import Base
from bot.store.db import Database

__all__ = ["Base", "Database"]
