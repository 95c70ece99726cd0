"""The Bot Framework send used by the throttled reminder sender: one card to one stored conversation.

It calls the connector's REST client directly instead of going through ``adapter.continue_conversation``: the
adapter's pipeline hands any exception to ``on_turn_error`` (which apologises to the user and swallows it), so a
403, 404 or 429 would look like a success to the caller. Here every channel error becomes
``bot.messaging.SendError(status, retry_after=…)`` for bot/delivery to classify; no msrest type leaves bot/teams.
"""

from __future__ import annotations

from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import ConversationReference
from botframework.connector.auth import AuthenticationConstants, BotFrameworkAuthentication, ClaimsIdentity

from bot.teams.auth import TokenUnavailable


class BotFrameworkSender:
    """``await sender(reference, card, text=None)`` → the new activity's id."""

    def __init__(self, auth: BotFrameworkAuthentication, app_id: str):
        self.auth = auth
        self.app_id = app_id or ""

    async def _client(self, service_url: str):
        claims = ClaimsIdentity(
            {AuthenticationConstants.AUDIENCE_CLAIM: self.app_id, AuthenticationConstants.APP_ID_CLAIM: self.app_id},
            True,
        )
        factory = self.auth.create_connector_factory(claims)
        return await factory.create(service_url, self.auth.get_originating_audience())

    async def __call__(self, reference: dict, card: dict, *, text: str | None = None) -> str | None:
        from msrest.exceptions import ClientRequestError, HttpOperationError

        from bot.messaging import SendError

        ref = ConversationReference().deserialize(reference)
        activity = MessageFactory.attachment(CardFactory.adaptive_card(card))
        if text:
            activity.text = text
        activity.channel_id = ref.channel_id
        activity.service_url = ref.service_url
        activity.conversation = ref.conversation
        activity.from_property = ref.bot
        activity.recipient = ref.user
        try:
            client = await self._client(ref.service_url)
            res = await client.conversations.send_to_conversation(ref.conversation.id, activity)
        except HttpOperationError as exc:
            resp = getattr(exc, "response", None)
            status = getattr(resp, "status_code", None)
            headers = getattr(resp, "headers", None) or {}
            raise SendError(status, retry_after=_seconds(headers.get("Retry-After"))) from None
        except (ClientRequestError, OSError, TokenUnavailable):
            raise SendError(None) from None
        return getattr(res, "id", None)


def _seconds(value) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except (TypeError, ValueError):
        return None
