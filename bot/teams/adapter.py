"""CloudAdapter set-up, the /api/messages route, and proactive sending from stored references."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from urllib.parse import urlsplit

from aiohttp import web
from botbuilder.core import CardFactory, InvokeResponse, MessageFactory, TurnContext
from botbuilder.core.serializer_helper import serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    AdaptiveCardInvokeResponse,
    CallerIdConstants,
    ConversationReference,
)
from botframework.connector.auth import AuthenticationConstants
from msrest.exceptions import DeserializationError

from bot.settings import Settings
from bot.store.errors import StoreBusy
from bot.teams import openid
from bot.teams.activity_reader import read_activity
from bot.teams.auth import AUTH_UNAVAILABLE, BotCredentialFactory, CachingBotFrameworkAuthentication

log = logging.getLogger("bot.teams")

SORRY = (
    "Sorry — something went wrong on our side and that action was not completed. Nothing you typed has been "
    "shared. Please try again in a moment; if it keeps happening, tell your DSL."
)


BUSY = (
    "The school's supervision records are very busy right now, so that was not saved — nothing has been sent or "
    "changed. Your card and what you typed are kept: please press the button again in a moment."
)
BUSY_TEXT = (
    "The school's supervision records are very busy right now, so I couldn't do that — nothing has been changed. "
    "Please try again in a moment."
)


class _AuthConfig:
    """The attribute names ConfigurationBotFrameworkAuthentication reads.

    Every endpoint is given explicitly — the public cloud's, unless settings name others — so botbuilder always
    takes its parameterized path: production and the tests' local doubles run the same validation code.
    """

    def __init__(self, s: Settings):
        self.APP_ID = s.app_id
        self.APP_PASSWORD = s.app_password
        self.APP_TYPE = s.app_type
        self.APP_TENANTID = s.app_tenant_id
        self.VALIDATE_AUTHORITY = True
        self.TO_CHANNEL_FROM_BOT_LOGIN_URL = s.login_url or AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX
        self.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE = AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE
        self.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER = AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER
        self.OAUTH_URL = AuthenticationConstants.OAUTH_URL
        self.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL = (
            s.openid_metadata_url or AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
        )
        self.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL = (
            s.emulator_openid_metadata_url or AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL
        )
        self.CALLER_ID = CallerIdConstants.public_azure_channel


def build_adapter(settings: Settings) -> tuple[CloudAdapter, CachingBotFrameworkAuthentication]:
    config = _AuthConfig(settings)
    # botbuilder would fetch these keys synchronously inside the event loop: see bot/teams/openid.py.
    openid.install(config.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL)
    openid.install(config.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL)
    credentials = None
    if settings.app_type in ("MultiTenant", "SingleTenant"):
        credentials = BotCredentialFactory(
            settings.app_id,
            settings.app_password,
            login_url=settings.login_url,
            tenant_id=settings.app_tenant_id if settings.app_type == "SingleTenant" else "",
        )
    inner = ConfigurationBotFrameworkAuthentication(config, credentials_factory=credentials)
    tenant = settings.app_tenant_id if settings.app_type == "SingleTenant" and settings.app_id else ""
    auth = CachingBotFrameworkAuthentication(inner, tenant_id=tenant)
    adapter = CloudAdapter(auth)

    async def on_error(context: TurnContext, error: Exception):
        if isinstance(error, StoreBusy):
            # Rolled back, nothing written (bot/store/db.py): say so, and keep the card.
            await _answer_busy(context)
            return
        # Type only: exception messages can echo user input, and safeguarding content never goes to logs.
        log.error("turn failed: %s", type(error).__name__, exc_info=log.isEnabledFor(logging.DEBUG))
        if context.activity.type == ActivityTypes.invoke:
            # An invoke is answered in the HTTP response: without this, botbuilder answers 501 with an empty body
            # and the card just spins. Say sorry in place, with an honest 500.
            if not context.turn_state.get(CloudAdapter._INVOKE_RESPONSE_KEY):
                await context.send_activity(
                    Activity(
                        type=ActivityTypes.invoke_response,
                        value=InvokeResponse(
                            status=500,
                            body=AdaptiveCardInvokeResponse(
                                status_code=500,
                                type="application/vnd.microsoft.error",
                                value={"code": "InternalError", "message": SORRY},
                            ),
                        ),
                    )
                )
            return
        try:
            await context.send_activity(SORRY)
        except Exception:  # noqa: BLE001 - the channel may be the thing that failed
            log.error("could not tell the user about the failure")

    adapter.on_turn_error = on_error
    return adapter, auth


async def _answer_busy(context: TurnContext) -> None:
    """The store was too busy for this turn. A card click is answered with Universal Actions' error shape, 503:
    Teams shows the message and leaves the clicked card as it was, inputs and all (a card in its place would lose
    what was typed). A typed message gets the same news as text."""
    if context.activity.type == ActivityTypes.invoke:
        if not context.turn_state.get(CloudAdapter._INVOKE_RESPONSE_KEY):
            await context.send_activity(
                Activity(
                    type=ActivityTypes.invoke_response,
                    value=InvokeResponse(
                        status=503,
                        body=AdaptiveCardInvokeResponse(
                            status_code=503,
                            type="application/vnd.microsoft.error",
                            value={"code": "ServiceUnavailable", "message": BUSY},
                        ),
                    ),
                )
            )
        return
    try:
        await context.send_activity(BUSY_TEXT)
    except Exception:  # noqa: BLE001 - the channel may be the thing that failed
        log.error("could not tell the user the store was busy")


REQUIRED = ("type",)
REQUIRED_FOR_REPLY = ("serviceUrl", "conversation")

# The largest /api/messages body accepted. Teams caps a message at about 100 KB; the activity that carries it
# repeats the text as an HTML attachment and adds entities and channelData, so a real activity stays under
# ~250 KB, and card submits are a few KB (every input has a maxLength). 512 KiB is twice the largest real
# activity, so nothing Teams sends is refused — a too-long message still gets the polite "please shorten it"
# reply — while a client cannot make the bot parse and hold megabytes per request. (The app's client_max_size,
# 1 MiB, still caps every route; this is the tighter limit for this one.)
MAX_BODY_BYTES = 512 * 1024
# Teams activities nest about 6 deep (value.action.data.x); card data is flat. Deeper bodies are refused before
# anything recursive (msrest, the journeys, JSON columns) walks them.
MAX_DEPTH = 32


def _error(status: int, message: str, **headers) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers or None)


def _is_http_url(value) -> bool:
    if not isinstance(value, str) or len(value) > 2000:
        return False
    try:
        url = urlsplit(value)
        return url.scheme in ("http", "https") and bool(url.hostname) and url.port != 0
    except ValueError:
        return False


SAFE_INT = 2**53 - 1  # Teams clients are JavaScript: no integer beyond this reaches us from a real card
# Card data names the store's rows by integer id, and the store's integer columns are 32-bit on PostgreSQL: no id,
# count or row number a card carries can be larger. (2**70 as a request id reached SQL and failed there: a 500.)
MAX_CARD_INT = 2**31 - 1
# U+0000 cannot be stored in PostgreSQL text, and a lone surrogate cannot be encoded as UTF-8 at all; JSON from
# Teams never holds either (only an escaped \u0000 or \ud800 gets past the JSON parser).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


# What only `_shape_problem`'s walk can decide, as it shows in a UTF-8 body's own bytes: a U+0000 or a surrogate
# reaches a parsed string as a \u escape or, for a surrogate, as its three-byte form (ED A0..BF xx, which json.loads
# decodes with 'surrogatepass'); a raw NUL byte json.loads refuses. A number out of range has at least ten digits
# (MAX_CARD_INT has ten); nesting deeper than MAX_DEPTH needs at least MAX_DEPTH brackets. A body with none of these
# (every card submit) is not walked.
_WALK_FOR = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])|\xed[\xa0-\xbf]|[0-9]{10}")


def _shape_problem_of(raw: bytes, body) -> str | None:
    """`_shape_problem(body)`, with the walk skipped when the body's bytes show it cannot find anything."""
    if (
        json.detect_encoding(raw) == "utf-8"
        and raw.count(b"{") + raw.count(b"[") < MAX_DEPTH
        and not _WALK_FOR.search(raw)
    ):
        return None
    return _shape_problem(body)


def _shape_problem(value, limit: int = MAX_DEPTH) -> str | None:
    """Why a parsed body cannot be an activity from Teams, or None. One pass, no recursion."""
    stack = [(value, 1, False)]
    while stack:
        item, depth, in_value = stack.pop()
        if isinstance(item, str):
            if _UNSTORABLE.search(item):
                return "body has a character that cannot be stored (U+0000 or a lone surrogate)"
        elif depth > limit:
            return f"body is nested deeper than {limit} levels"
        elif isinstance(item, dict):
            for k, v in item.items():
                if _UNSTORABLE.search(k):
                    return "body has a character that cannot be stored (U+0000 or a lone surrogate)"
                stack.append((v, depth + 1, in_value or (depth == 1 and k == "value")))
        elif isinstance(item, list):
            stack.extend((v, depth + 1, in_value) for v in item)
        elif isinstance(item, int) and not isinstance(item, bool):
            if abs(item) > (MAX_CARD_INT if in_value else SAFE_INT):
                return "body has a number out of range"
    return None


# The Bot Framework activity schema's types for the fields botbuilder and the handler read. msrest deserialises a
# wrongly typed field without complaint and the turn then fails part-way (an `id` that is an object broke the reply;
# `membersAdded: [null]` broke the welcome), so the edge checks them. null stands for "absent", as in the schema.
_STRINGS = (
    "id",
    "type",
    "channelId",
    "serviceUrl",
    "replyToId",
    "name",
    "locale",
    "text",
    "textFormat",
    "timestamp",
    "localTimestamp",
    "action",
    "callerId",
    "deliveryMode",
    "importance",
    "summary",
)
_ACCOUNTS = ("from", "recipient", "conversation")
_ACCOUNT_STRINGS = ("id", "name", "aadObjectId", "role", "tenantId", "conversationType")
_OBJECTS = ("channelData", "relatesTo")
_LISTS_OF_OBJECTS = ("membersAdded", "membersRemoved", "entities", "attachments", "reactionsAdded", "reactionsRemoved")


def _mistyped(body: dict) -> str | None:
    """The first envelope field whose JSON type is not the schema's, or None."""
    for key in _STRINGS:
        if body.get(key) is not None and not isinstance(body[key], str):
            return key
    for key in _ACCOUNTS:
        account = body.get(key)
        if account is None:
            continue
        if not isinstance(account, dict):
            return key
        for sub in _ACCOUNT_STRINGS:
            if account.get(sub) is not None and not isinstance(account[sub], str):
                return f"{key}.{sub}"
    for key in _OBJECTS:
        if body.get(key) is not None and not isinstance(body[key], dict):
            return key
    for key in _LISTS_OF_OBJECTS:
        items = body.get(key)
        if items is not None and not (isinstance(items, list) and all(isinstance(i, dict) for i in items)):
            return key
    for key in ("membersAdded", "membersRemoved"):
        for member in body.get(key) or []:
            if any(member.get(sub) is not None and not isinstance(member[sub], str) for sub in _ACCOUNT_STRINGS):
                return key
    return None


def _no_constants(name: str):
    # NaN and Infinity are not JSON (RFC 8259), though Python's json module accepts them.
    raise ValueError(name)


# A card submit takes milliseconds; 200 at once (a staff meeting's worth) all read, parsed and half-way through
# their unit of work together hold memory for no gain, since the store takes one write at a time. The rest wait
# their turn with their body unread (in the socket), well inside Teams' 15 s for an invoke's answer.
DEFAULT_TURNS_IN_FLIGHT = 24


def messages_handler(adapter: CloudAdapter, bot, *, turns_in_flight: int = DEFAULT_TURNS_IN_FLIGHT):
    """POST /api/messages: reject what is not an activity before botbuilder sees it, then process it. At most
    `turns_in_flight` requests (settings TURNS_IN_FLIGHT) are read and processed at once; the others wait, unread."""
    gate = asyncio.Semaphore(max(1, turns_in_flight))

    async def messages(request: web.Request) -> web.StreamResponse:
        async with gate:
            return await _messages(request)

    async def _messages(request: web.Request) -> web.StreamResponse:
        ctype = request.headers.get("Content-Type", "")
        if "application/json" not in ctype:
            return _error(415, "expected application/json")
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            return _error(413, f"body is larger than {MAX_BODY_BYTES} bytes")
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _error(413, f"body is larger than {MAX_BODY_BYTES} bytes")
        if len(raw) > MAX_BODY_BYTES:  # chunked bodies carry no Content-Length
            return _error(413, f"body is larger than {MAX_BODY_BYTES} bytes")
        try:
            body = json.loads(raw, parse_constant=_no_constants)
        except (UnicodeDecodeError, ValueError, RecursionError):
            # RecursionError: json.loads on thousands of nested '{"a":' — refused, not a 500.
            # (json.JSONDecodeError is a ValueError.)
            return _error(400, "body is not valid JSON")
        if not isinstance(body, dict):
            return _error(400, "body must be a JSON object (an activity)")
        problem = _shape_problem_of(raw, body)
        if problem:
            return _error(400, problem)
        wrong = _mistyped(body)
        if wrong:
            log.warning("activity refused: %s has the wrong type", wrong)
            return _error(400, f"activity field {wrong} has the wrong type")
        missing = [f for f in REQUIRED if not body.get(f)]
        if body.get("type") in ("message", "invoke", "conversationUpdate", "installationUpdate"):
            missing += [f for f in REQUIRED_FOR_REPLY if not body.get(f)]
            conv = body.get("conversation")
            if isinstance(conv, dict) and not conv.get("id"):
                missing.append("conversation.id")
            elif conv is not None and not isinstance(conv, dict):
                missing.append("conversation")
        service_url = body.get("serviceUrl")
        if service_url and not _is_http_url(service_url):
            # Where the reply goes: without a usable URL the turn would run (and write) and then fail to answer.
            missing.append("serviceUrl")
        if missing:
            log.warning("activity refused: missing %s", ", ".join(sorted(set(missing))))
            return _error(400, f"activity is missing: {', '.join(sorted(set(missing)))}")
        if not isinstance(body.get("from"), dict) or not body["from"].get("id"):
            # Nobody to answer: accept and drop, so the channel does not retry forever.
            log.warning("activity without a sender dropped (type=%s)", body.get("type"))
            return web.Response(status=202)
        try:
            response = await _process(adapter, bot, body, request.headers.get("Authorization", ""))
        except (web.HTTPUnauthorized, PermissionError):
            return _error(401, "not authenticated", **{"WWW-Authenticate": "Bearer"})
        except web.HTTPException:
            raise
        except AUTH_UNAVAILABLE as exc:
            # Signing keys or the bot's own token cannot be had: nothing was processed; the caller may retry.
            log.warning("activity not processed: %s", type(exc).__name__)
            return _error(503, "authentication is temporarily unavailable; try again", **{"Retry-After": "30"})
        except (KeyError, TypeError, ValueError, AttributeError, DeserializationError) as exc:
            log.warning("activity could not be read: %s", type(exc).__name__)
            return _error(400, "activity could not be read")
        return response if response is not None else web.Response(status=200)

    return messages


async def _process(adapter: CloudAdapter, bot, body: dict, auth_header: str) -> web.StreamResponse:
    """CloudAdapter.process's POST path, on the body this handler has already parsed and checked.

    botbuilder would read and parse the body a second time, deserialise it with msrest's generic walker
    (`read_activity` gives the same Activity faster), and serialise the invoke response with msrest, which walks
    every node of the card to build the same dict (`_invoke_body`). Authentication, the turn context and the
    middleware pipeline are botbuilder's own (`process_activity`), unchanged."""
    activity: Activity = read_activity(body)  # msrest's Activity, read by a plan made once (activity_reader.py)
    if not activity.type:
        raise web.HTTPBadRequest()
    invoke_response = await adapter.process_activity(auth_header, activity, bot.on_turn)
    if invoke_response:
        return web.json_response(data=_invoke_body(invoke_response.body), status=invoke_response.status)
    return web.Response(status=201)


def _invoke_body(body):
    """An invoke response body as JSON. An AdaptiveCardInvokeResponse whose value is a card or a message — plain
    JSON already (cards are built as dicts by cards/) — is written as it stands, exactly what msrest's serializer
    gives for it (tests/teams check both agree on every card); that serializer cost more than the rest of a card
    submit's reply put together. Anything else goes through botbuilder's serializer."""
    if type(body) is AdaptiveCardInvokeResponse and isinstance(body.value, (dict, str)):
        out = {}
        if body.status_code is not None:
            out["statusCode"] = body.status_code
        if body.type is not None:
            out["type"] = body.type
        out["value"] = body.value
        return out
    return serializer_helper(body)


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
            raise SendError(
                getattr(resp, "status_code", None), retry_after=_seconds(headers.get("Retry-After"))
            ) from None
        except (ClientRequestError, OSError):
            raise SendError(None) from None


def _seconds(value) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except (TypeError, ValueError):
        return None
