"""Logging set-up for `python -m bot`: our level for our code, and a floor for libraries that would log content.

Safeguarding data must never reach the logs. At DEBUG, aiosqlite and asyncpg log the statements they run with
their parameters, SQLAlchemy's engine logger does the same when raised, msrest logs whole request bodies (the
cards) and httpx logs every Graph URL (file names, user ids); so these stay at WARNING whatever LOG_LEVEL says.
Alembic's per-plugin start-up lines are noise: also WARNING.
"""

from __future__ import annotations

import logging

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

#: Loggers that may carry record content, card JSON or personal data at DEBUG/INFO.
QUIET = (
    "aiosqlite",
    "asyncpg",
    "sqlalchemy.engine",
    "sqlalchemy.pool",
    "msrest",
    "botframework",
    "botbuilder",
    "httpx",
    "httpcore",
    "kiota_http",
    "azure.core.pipeline.policies.http_logging_policy",
    "azure.identity",
    "msal",
    "alembic.runtime.plugins",
)


def configure(level: str) -> None:
    logging.basicConfig(level=level, format=FORMAT)
    logging.getLogger().setLevel(level)  # also when a handler was already installed (basicConfig then no-ops)
    for name in QUIET:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))
