"""The only package that imports botbuilder. Everything Bot-Framework-shaped stops here."""

from bot.teams import perf as _perf  # noqa: F401  (applies the msrest retry-list fix before any client exists)
