"""Proactive messages in end-to-end tests: read a conversation reference the bot stored, and send to it.

Two routes, both test-only:
- `send_card_as_bot(reference, card)` uses the bot's own proactive sender (bot.teams.adapter.TeamsMessenger →
  Bot Framework connector client), in local mode, exactly as the outbox worker does;
- `post_activity(service_url, conversation_id, activity)` is the bare HTTP call that sender makes
  (`POST {serviceUrl}/v3/conversations/{id}/activities`), for injecting a fixture card the bot has no journey for.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import sqlite3
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StoredReference:
    kind: str
    key: str
    conversation_id: str
    service_url: str
    team_id: str | None
    channel_name: str | None
    reference: dict


def stored_reference(db_path: Path, key: str, *, kind: str = "personal") -> StoredReference | None:
    """The reference the bot saved for a person (kind personal, key = staff id) or a channel (key = channel id)."""
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
        row = db.execute(
            "SELECT kind, key, conversation_id, service_url, team_id, channel_name, reference "
            "FROM conversation_refs WHERE kind = ? AND key = ?",
            (kind, key),
        ).fetchone()
    if row is None:
        return None
    ref = row[6] if isinstance(row[6], dict) else json.loads(row[6])
    return StoredReference(row[0], row[1], row[2], row[3], row[4], row[5], ref)


def all_references(db_path: Path) -> list[StoredReference]:
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT kind, key, conversation_id, service_url, team_id, channel_name, reference "
            "FROM conversation_refs ORDER BY id"
        ).fetchall()
    return [
        StoredReference(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6]) if isinstance(r[6], str) else r[6])
        for r in rows
    ]


def post_activity(service_url: str, conversation_id: str, activity: dict, timeout: float = 10.0) -> tuple[int, dict]:
    """POST an activity to a connector, as the Bot Framework connector client does. Returns (status, body)."""
    url = f"{service_url.rstrip('/')}/v3/conversations/{urllib.parse.quote(conversation_id, safe='')}/activities"
    req = urllib.request.Request(
        url, data=json.dumps(activity).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:  # noqa: S310 - loopback only
            body = r.read()
            return r.status, (json.loads(body) if body else {})
    except urllib.error.HTTPError as e:
        return e.code, {"error": e.read().decode(errors="replace")}


def card_activity(card: dict, *, bot: dict, conversation_id: str, text: str | None = None) -> dict:
    act = {
        "type": "message",
        "from": bot,
        "conversation": {"id": conversation_id},
        "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}],
    }
    if text:
        act["text"] = text
    return act


def send_card_as_bot(reference: dict, card: dict, *, text: str | None = None) -> str | None:
    """Send `card` to a stored reference with the bot's own proactive sender (local mode: no credentials).

    Runs on a worker thread with its own event loop, so it is safe to call from a synchronous Playwright test."""

    async def _send() -> str | None:
        from bot.settings import load_settings
        from bot.teams.adapter import TeamsMessenger, build_adapter

        settings = load_settings(MicrosoftAppId="", MicrosoftAppPassword="", WORKERS=False)
        adapter, auth = build_adapter(settings)
        # Built as bot/app.py builds it (from the adapter's authentication, or — earlier — the adapter itself).
        first = next(iter(inspect.signature(TeamsMessenger).parameters))
        messenger = TeamsMessenger(auth if first == "auth" else adapter, settings.app_id)
        try:
            return await messenger.send_card(reference, card, text=text)
        finally:
            await auth.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _send()).result(timeout=30)
