"""CloudAdapter set-up, the /api/messages route, and proactive sending from stored references."""
from __future__ import annotations

import json
import logging

from aiohttp import web
from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity, ConversationReference

from bot.settings import Settings
from bot.teams.auth import CachingBotFrameworkAuthentication

log = logging.getLogger("bot.teams")

SORRY = ("Sorry — something went wrong on our side and that action was not completed. Nothing you typed has been "
         "shared. Please try again in a moment; if it keeps happening, tell your DSL.")


class _AuthConfig:
    """The attribute names ConfigurationBotFrameworkAuthentication reads."""

    def __init__(self, s: Settings):
        self.APP_ID = s.app_id
        self.APP_PASSWORD = s.app_password
        self.APP_TYPE = s.app_type
        self.APP_TENANTID = s.app_tenant_id


def build_adapter(settings: Settings) -> tuple[CloudAdapter, CachingBotFrameworkAuthentication]:
    auth = CachingBotFrameworkAuthentication(ConfigurationBotFrameworkAuthentication(_AuthConfig(settings)))
    adapter = CloudAdapter(auth)

    async def on_error(context: TurnContext, error: Exception):
        # Type only: exception messages can echo user input, and safeguarding content never goes to logs.
        log.error("turn failed: %s", type(error).__name__, exc_info=log.isEnabledFor(logging.DEBUG))
        try:
            await context.send_activity(SORRY)
        except Exception:  # noqa: BLE001 - the channel may be the thing that failed
            log.error("could not tell the user about the failure")

    adapter.on_turn_error = on_error
    return adapter, auth


REQUIRED = ("type",)
REQUIRED_FOR_REPLY = ("serviceUrl", "conversation")


def messages_handler(adapter: CloudAdapter, bot):
    """POST /api/messages: reject what is not an activity before botbuilder sees it, then process it."""

    async def messages(request: web.Request) -> web.StreamResponse:
        ctype = request.headers.get("Content-Type", "")
        if "application/json" not in ctype:
            return web.json_response({"error": "expected application/json"}, status=415)
        raw = await request.read()
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return web.json_response({"error": "body is not valid JSON"}, status=400)
        if not isinstance(body, dict):
            return web.json_response({"error": "body must be a JSON object (an activity)"}, status=400)
        missing = [f for f in REQUIRED if not body.get(f)]
        if body.get("type") in ("message", "invoke", "conversationUpdate", "installationUpdate"):
            missing += [f for f in REQUIRED_FOR_REPLY if not body.get(f)]
            conv = body.get("conversation")
            if isinstance(conv, dict) and not conv.get("id"):
                missing.append("conversation.id")
            elif conv is not None and not isinstance(conv, dict):
                missing.append("conversation")
        if missing:
            log.warning("activity refused: missing %s", ", ".join(sorted(set(missing))))
            return web.json_response({"error": f"activity is missing: {', '.join(sorted(set(missing)))}"},
                                     status=400)
        if not isinstance(body.get("from"), dict) or not body["from"].get("id"):
            # Nobody to answer: accept and drop, so the channel does not retry forever.
            log.warning("activity without a sender dropped (type=%s)", body.get("type"))
            return web.Response(status=202)
        try:
            response = await adapter.process(request, bot)
        except web.HTTPException:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            log.warning("activity could not be read: %s", type(exc).__name__)
            return web.json_response({"error": "activity could not be read"}, status=400)
        return response if response is not None else web.Response(status=200)

    return messages


class TeamsMessenger:
    """Sends and updates cards proactively at a stored conversation reference (the outbox's Teams transport).

    It talks to the connector client directly rather than through `adapter.continue_conversation`, whose pipeline
    hands exceptions to `on_turn_error` (which apologises and swallows them) — a 403 or 429 would look like
    success. Channel errors become `bot.messaging.SendError`, so nothing outside bot/teams sees msrest types.
    """

    def __init__(self, auth, app_id: str):
        from bot.teams.sender import BotFrameworkSender

        self.sender = BotFrameworkSender(auth, app_id)

    async def send_card(self, reference: dict, card: dict, *, text: str | None = None) -> str | None:
        return await self.sender(reference, card, text=text)

    async def update_card(self, reference: dict, activity_id: str, card: dict) -> None:
        from msrest.exceptions import ClientRequestError, HttpOperationError

        from bot.messaging import SendError

        ref = ConversationReference().deserialize(reference)
        act: Activity = MessageFactory.attachment(CardFactory.adaptive_card(card))
        act.id = activity_id
        act.channel_id = ref.channel_id
        act.service_url = ref.service_url
        act.conversation = ref.conversation
        act.from_property = ref.bot
        act.recipient = ref.user
        try:
            client = await self.sender._client(ref.service_url)
            await client.conversations.update_activity(ref.conversation.id, activity_id, act)
        except HttpOperationError as exc:
            resp = getattr(exc, "response", None)
            headers = getattr(resp, "headers", None) or {}
            raise SendError(getattr(resp, "status_code", None),
                            retry_after=_seconds(headers.get("Retry-After"))) from None
        except (ClientRequestError, OSError):
            raise SendError(None) from None


def _seconds(value) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except (TypeError, ValueError):
        return None
