"""The Teams activity handler: turns Bot Framework activities into journey Turns and Replies back into
activities. Every reply card is sent as an Adaptive Card attachment; Action.Execute invokes are answered in
the HTTP response so the card updates in place."""

from __future__ import annotations

import logging
from typing import Any

from botbuilder.core import ActivityHandler, CardFactory, InvokeResponse, MessageFactory, TurnContext
from botbuilder.schema import Activity, AdaptiveCardInvokeResponse, ChannelAccount, ConversationReference

from bot.journeys.base import MAX_TEXT_CHARS, Reply, Services, Turn
from bot.journeys.help import welcome_card
from bot.journeys.router import Router
from bot.store import conversations

log = logging.getLogger("bot.teams")

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
TOO_LONG = (
    "That message is longer than I can take ({n} characters; the limit is {limit}). Please shorten it — "
    "and remember not to name pupils here."
)


class SupervisionBot(ActivityHandler):
    """Bridges Teams to the journeys; holds no state of its own beyond a cache of saved references."""

    def __init__(self, services: Services, router: Router):
        self.services = services
        self.router = router
        self._saved_refs: set[tuple] = set()

    # ---- incoming ---------------------------------------------------------------------------------------
    async def on_message_activity(self, turn_context: TurnContext):
        """A typed message or an Action.Submit: routes it to a journey and replies with its card."""
        activity = turn_context.activity
        await self._remember(turn_context)
        text = (activity.text or "").strip()
        if len(text) > MAX_TEXT_CHARS:
            await turn_context.send_activity(TOO_LONG.format(n=len(text), limit=MAX_TEXT_CHARS))
            return
        value = activity.value if isinstance(activity.value, dict) else {}
        turn = self._turn(turn_context, text=_strip_mention(text), verb=value.get("verb"), data=value)
        reply = await self.router.dispatch(self.services, turn)
        self._wake_outbox()
        await self._send(turn_context, reply)

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        """An Action.Execute click: the journey's card replaces the clicked card (or a message is shown).

        Handled here rather than in ActivityHandler.on_adaptive_card_invoke: botbuilder 4.17.1 serialises that
        response once in the handler and again in CloudAdapter.process (which fails on a dict: every click
        answered 400), and hands `action` over as a dict, not an object. We return the model unserialised, so
        CloudAdapter serialises it exactly once.
        """
        if turn_context.activity.name != "adaptiveCard/action":
            # botbuilder's default answers every other invoke (task/fetch, composeExtension/*, signin/*, config/*,
            # a missing name …) 501 with an empty body. None of them is part of this app: say so, plainly.
            return _invoke_error(400, "NotSupported", "This app does not handle that kind of request.")
        value = turn_context.activity.value if isinstance(turn_context.activity.value, dict) else {}
        action = value.get("action") if isinstance(value.get("action"), dict) else {}
        if action.get("type") != "Action.Execute":
            return _invoke_error(400, "BadRequest", "Only Action.Execute is supported.")
        await self._remember(turn_context)  # only once the invoke is one we answer: a refusal writes nothing
        data = action.get("data") if isinstance(action.get("data"), dict) else {}
        turn = self._turn(turn_context, verb=action.get("verb"), data=data, invoke=True)
        reply = await self.router.dispatch(self.services, turn)
        self._wake_outbox()
        for extra in reply.cards:
            if extra is not reply.card:
                await turn_context.send_activity(MessageFactory.attachment(CardFactory.adaptive_card(extra)))
        if reply.card is not None:
            body = AdaptiveCardInvokeResponse(status_code=200, type=CARD_CONTENT_TYPE, value=reply.card)
        else:
            body = AdaptiveCardInvokeResponse(
                status_code=200, type="application/vnd.microsoft.activity.message", value=reply.text or "Done."
            )
        return InvokeResponse(status=200, body=body)

    async def on_members_added_activity(self, members_added: list[ChannelAccount], turn_context: TurnContext):
        """The bot was added to a chat or team: remember where it is and say hello in personal chats."""
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        if any(m.id == bot_id for m in members_added):
            first_contact = await self._remember(turn_context, force=True)
            if first_contact and _conversation_kind(turn_context.activity) == "personal":
                turn = self._turn(turn_context)
                await self._send(turn_context, Reply.of(welcome_card(self.router, self.services, turn)))

    async def on_installation_update_add(self, turn_context: TurnContext):
        """The app was installed for a person or team: save the conversation reference for proactive messages."""
        first_contact = await self._remember(turn_context, force=True)
        if first_contact and _conversation_kind(turn_context.activity) == "personal":
            turn = self._turn(turn_context)
            await self._send(turn_context, Reply.of(welcome_card(self.router, self.services, turn)))

    # ---- helpers ----------------------------------------------------------------------------------------
    def _configured_channel_name(self, channel_id: str, team_id: str | None) -> str | None:
        return _configured_channel_name_for(self.services.school, channel_id, team_id)

    def _wake_outbox(self) -> None:
        """A journey may have queued side effects: deliver them now rather than at the next poll."""
        self.services.wake_outbox()

    def _turn(
        self,
        tc: TurnContext,
        *,
        text: str = "",
        verb: str | None = None,
        data: dict | None = None,
        invoke: bool = False,
    ) -> Turn:
        a = tc.activity
        frm = a.from_property
        aad = getattr(frm, "aad_object_id", None) if frm else None
        return Turn(
            now=self.services.clock(),
            aad_object_id=aad,
            user_name=getattr(frm, "name", None),
            actor=self.services.school.by_aad(aad),
            text=text,
            verb=verb if isinstance(verb, str) else None,
            data=dict(data or {}),
            conversation_kind=_conversation_kind(a),
            invoke=invoke,
            activity_id=a.reply_to_id,
        )

    async def _send(self, tc: TurnContext, reply: Reply) -> None:
        activities: list[Activity] = []
        if reply.text:
            activities.append(MessageFactory.text(reply.text))
        for card in reply.cards:
            activities.append(MessageFactory.attachment(CardFactory.adaptive_card(card)))
        if activities:
            await tc.send_activities(activities)

    async def _remember(self, tc: TurnContext, *, force: bool = False) -> bool:
        """Save where to reach this person/channel; cached so ordinary turns do no extra write.
        Returns True on first contact (the reference did not exist): the one moment to say welcome, even when
        Teams sends installationUpdate and conversationUpdate for the same install at once."""
        a = tc.activity
        kind = _conversation_kind(a)
        if kind == "personal":
            actor = self.services.school.by_aad(getattr(a.from_property, "aad_object_id", None))
            if actor is None:
                return False
            key = actor.id
        elif kind == "channel":
            key = _channel_id(a)
            if not key:
                return False
        else:
            return False
        cache_key = (kind, key, a.service_url, a.conversation.id if a.conversation else None)
        if not force and cache_key in self._saved_refs:
            return False
        ref = TurnContext.get_conversation_reference(a)
        reference = ConversationReference.serialize(ref) if hasattr(ref, "serialize") else ref.as_dict()
        team = _team(a)
        conversation_id = a.conversation.id
        channel_name = None
        if kind == "channel":
            # A channel message arrives in a thread ('19:…@thread.tacv2;messageid=…'). Keep the channel root, so a
            # later proactive post starts its own thread instead of replying in whichever thread last mentioned us.
            conversation_id = key
            reference = {**reference, "conversation": {**(reference.get("conversation") or {}), "id": key}}
            channel_name = _channel_name(a) or self._configured_channel_name(key, (team or {}).get("id"))
        record = conversations.Reference(
            kind=kind,
            key=key,
            staff_id=key if kind == "personal" else None,
            conversation_id=conversation_id,
            service_url=a.service_url,
            reference=reference,
            team_id=(team or {}).get("id"),
            channel_name=channel_name,
        )
        async with self.services.db.session() as s:
            created = await conversations.save_reference(
                s, record, now=self.services.clock(), tenant_id=getattr(a.conversation, "tenant_id", None)
            )
        self._saved_refs.add(cache_key)
        return created


def _invoke_error(status: int, code: str, message: str) -> InvokeResponse:
    """An invoke refused in the Universal Actions error shape (Teams shows `message` in place)."""
    return InvokeResponse(
        status=status,
        body=AdaptiveCardInvokeResponse(
            status_code=status, type="application/vnd.microsoft.error", value={"code": code, "message": message}
        ),
    )


def _configured_channel_name_for(school, channel_id: str, team_id: str | None) -> str | None:
    """Teams sends a channel's name only on some activities (channelCreated/renamed), never on messages: the
    school's configured Safeguarding channel is known by id, so its configured name is the name."""
    cfg = school.settings.safeguarding_channel
    if cfg.channel_id and cfg.channel_id == channel_id and (team_id is None or team_id == cfg.team_id):
        return cfg.channel_name
    return None


def _conversation_kind(a: Activity) -> str:
    ctype = getattr(a.conversation, "conversation_type", None) if a.conversation else None
    if ctype in ("personal", "channel", "groupChat"):
        return ctype
    cd = a.channel_data if isinstance(a.channel_data, dict) else {}
    if cd.get("channel"):
        return "channel"
    return "personal"


def _channel_data(a: Activity) -> dict[str, Any]:
    cd = a.channel_data
    if isinstance(cd, dict):
        return cd
    return cd.serialize() if hasattr(cd, "serialize") else {}


def _channel_id(a: Activity) -> str | None:
    ch = _channel_data(a).get("channel") or {}
    channel_id = ch.get("id") or (a.conversation.id if a.conversation and a.conversation.id else None)
    return channel_id.split(";")[0] if channel_id else None


def _channel_name(a: Activity) -> str | None:
    return (_channel_data(a).get("channel") or {}).get("name")


def _team(a: Activity) -> dict | None:
    return _channel_data(a).get("team")


def _strip_mention(text: str) -> str:
    """In channels Teams prefixes '<at>Bot</at>'; the command is what follows."""
    if "<at>" in text:
        import re

        text = re.sub(r"<at>.*?</at>", "", text).strip()
    return text
