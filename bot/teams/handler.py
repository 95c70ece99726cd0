"""The Teams activity handler: turns Bot Framework activities into journey Turns and Replies back into
activities. Every reply card is sent as an Adaptive Card attachment; Action.Execute invokes are answered in
the HTTP response so the card updates in place."""

from __future__ import annotations

import logging
import re
from typing import Any

from botbuilder.core import ActivityHandler, CardFactory, InvokeResponse, MessageFactory, TurnContext
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    AdaptiveCardInvokeResponse,
    ChannelAccount,
    ConversationReference,
    DeliveryModes,
)

from bot.deployment import SCHOOL_FIELD, stamp_school
from bot.journeys.base import MAX_TEXT_CHARS, Reply, Services, Turn
from bot.journeys.help import welcome_card
from bot.journeys.router import Router
from bot.journeys.schools import CHOOSE_VERB, SWITCH_WORDS, choose_school_card
from bot.store import conversations

log = logging.getLogger("bot.teams")
_SWITCH = re.compile(rf"^\s*(?:{'|'.join(re.escape(w) for w in SWITCH_WORDS)})\s*[.!]?\s*$", re.IGNORECASE)

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
TOO_LONG = (
    "That message is longer than I can take ({n} characters; the limit is {limit}). Please shorten it — "
    "and remember not to name pupils here."
)


class SupervisionBot(ActivityHandler):
    """Bridges Teams to the journeys; holds no state of its own beyond a cache of saved references and which school
    a person who works in two has chosen.

    `peers`: every school's Services by key (a school on its own: one entry). Each turn is answered by one school's
    services, found by `_school_for` — never from the card alone."""

    def __init__(self, peers: dict[str, Services] | Services, router: Router):
        if isinstance(peers, Services):
            peers = dict(peers.peers) or {peers.school.key: peers}
        self.peers = peers
        self.services = next(iter(peers.values()))  # the first school: the default
        self.router = router
        self._saved_refs: set[tuple] = set()
        self._chosen: dict[str, str] = {}  # aad object id → the school key a person of two schools chose

    @property
    def multi(self) -> bool:
        return len(self.peers) > 1

    def _school_for(self, tc: TurnContext, data: dict | None = None) -> Services | None:
        """Which school's services answer this turn. In order: the team of a school's Safeguarding channel; the
        school a card was stamped with, if the person is on its roster; the person's only school; the school they
        chose. None: they work in more than one school and have not chosen (ask them). Someone on no school's
        roster (a stranger, a trust lead) is answered by the first school, which knows them as nobody."""
        if not self.multi:
            return self.services
        a = tc.activity
        aad = getattr(a.from_property, "aad_object_id", None) if a.from_property else None
        deployment = self.services.deployment
        if _conversation_kind(a) == "channel":
            school = deployment.school_for_team((_team(a) or {}).get("id"))
            if school is not None:
                return self.peers[school.key]
        mine = [s.key for s in deployment.schools_of(aad)]
        hint = (data or {}).get(SCHOOL_FIELD)
        if isinstance(hint, str) and hint in mine:
            return self.peers[hint]
        if len(mine) == 1:
            return self.peers[mine[0]]
        if not mine:
            return self.services
        chosen = self._chosen.get((aad or "").lower())
        return self.peers[chosen] if chosen in mine else None

    async def _choose_school(self, tc: TurnContext, data: dict, *, invoke: bool) -> Reply | None:
        """A person of two schools picked one (school.choose), or asked to switch: remember it, go on there."""
        a = tc.activity
        aad = (getattr(a.from_property, "aad_object_id", None) or "").lower()
        mine = [s.key for s in self.services.deployment.schools_of(aad)]
        key = data.get("choose")
        if key not in mine:
            return Reply.of(choose_school_card(self.services.deployment, mine))
        self._chosen[aad] = key
        services = self.peers[key]
        said = data.get("said") if isinstance(data.get("said"), str) else ""
        turn = self._turn(tc, services, text=said[:MAX_TEXT_CHARS] or "help", invoke=invoke)
        return await self.router.dispatch(services, turn)

    # ---- incoming ---------------------------------------------------------------------------------------
    async def on_turn(self, turn_context: TurnContext):
        """Every activity: an invoke's answer is left where the adapter reads it; everything else as botbuilder does.

        botbuilder's ActivityHandler sends the invoke response through `send_activity`, which deep-copies the whole
        answer (the card, node by node) only for CloudAdapter to store it in the turn state — the one thing done
        here directly. (No middleware or send handler is registered that would see it; with deliveryMode
        expectReplies botbuilder's own path runs, which buffers replies.)"""
        a = turn_context.activity
        if a is None or a.type != ActivityTypes.invoke or a.delivery_mode == DeliveryModes.expect_replies:
            await super().on_turn(turn_context)
            return
        response = await self.on_invoke_activity(turn_context)
        if response and not turn_context.turn_state.get(TurnContext._INVOKE_RESPONSE_KEY):
            turn_context.turn_state[TurnContext._INVOKE_RESPONSE_KEY] = Activity(
                type=ActivityTypes.invoke_response, value=response
            )

    async def on_message_activity(self, turn_context: TurnContext):
        """A typed message or an Action.Submit: routes it to a journey and replies with its card."""
        activity = turn_context.activity
        await self._remember(turn_context)
        text = (activity.text or "").strip()
        if len(text) > MAX_TEXT_CHARS:
            await turn_context.send_activity(TOO_LONG.format(n=len(text), limit=MAX_TEXT_CHARS))
            return
        value = activity.value if isinstance(activity.value, dict) else {}
        text = _strip_mention(text)
        if self.multi and (value.get("verb") == CHOOSE_VERB or _SWITCH.match(text)):
            if _SWITCH.match(text):
                self._chosen.pop((getattr(activity.from_property, "aad_object_id", None) or "").lower(), None)
            reply = await self._choose_school(turn_context, value, invoke=False)
            await self._send(turn_context, self._stamped(reply))
            return
        services = self._school_for(turn_context, value)
        if services is None:
            await self._send(turn_context, self._ask_school(turn_context, said=text))
            return
        turn = self._turn(turn_context, services, text=text, verb=value.get("verb"), data=value)
        reply = await self.router.dispatch(services, turn)
        services.wake_outbox()
        await self._send(turn_context, self._stamped(reply, services))

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
        if self.multi and action.get("verb") == CHOOSE_VERB:
            reply = self._stamped(await self._choose_school(turn_context, data, invoke=True))
            services = self.services
        else:
            services = self._school_for(turn_context, data)
            if services is None:
                reply = self._ask_school(turn_context, said="")
                services = self.services  # nothing ran in any school; the wake below is harmless
            else:
                turn = self._turn(turn_context, services, verb=action.get("verb"), data=data, invoke=True)
                reply = self._stamped(await self.router.dispatch(services, turn), services)
        services.wake_outbox()
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
                await self._welcome(turn_context)

    async def on_installation_update_add(self, turn_context: TurnContext):
        """The app was installed for a person or team: save the conversation reference for proactive messages."""
        first_contact = await self._remember(turn_context, force=True)
        if first_contact and _conversation_kind(turn_context.activity) == "personal":
            await self._welcome(turn_context)

    # ---- helpers ----------------------------------------------------------------------------------------
    async def _welcome(self, tc: TurnContext) -> None:
        services = self._school_for(tc)
        if services is None:
            await self._send(tc, self._ask_school(tc, said="help"))
            return
        turn = self._turn(tc, services)
        await self._send(tc, self._stamped(Reply.of(welcome_card(self.router, services, turn)), services))

    def _ask_school(self, tc: TurnContext, *, said: str) -> Reply:
        aad = getattr(tc.activity.from_property, "aad_object_id", None) if tc.activity.from_property else None
        mine = [s.key for s in self.services.deployment.schools_of(aad)]
        return Reply.of(choose_school_card(self.services.deployment, mine, said=said))

    def _stamped(self, reply: Reply, services: Services | None = None) -> Reply:
        """Every card of the reply names its school, so a click on it comes back to that school."""
        if not self.multi or services is None:
            return reply
        key = services.school.key
        cards = [stamp_school(c, key) for c in reply.cards]
        card = None
        if reply.card is not None:
            card = cards[reply.cards.index(reply.card)] if reply.card in reply.cards else stamp_school(reply.card, key)
        return Reply(cards=cards, text=reply.text, card=card)

    def _configured_channel_name(self, channel_id: str, team_id: str | None) -> str | None:
        school = self.services.deployment.school_for_team(team_id) if self.multi else self.services.school
        return _configured_channel_name_for(school or self.services.school, channel_id, team_id)

    def _turn(
        self,
        tc: TurnContext,
        services: Services | None = None,
        *,
        text: str = "",
        verb: str | None = None,
        data: dict | None = None,
        invoke: bool = False,
    ) -> Turn:
        services = services or self.services
        a = tc.activity
        frm = a.from_property
        aad = getattr(frm, "aad_object_id", None) if frm else None
        return Turn(
            now=services.clock(),
            aad_object_id=aad,
            user_name=getattr(frm, "name", None),
            actor=services.school.by_aad(aad),
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
            # Someone on two schools' rosters is reachable from both: each school keeps its own reference.
            aad = getattr(a.from_property, "aad_object_id", None)
            if self.multi:
                targets = [self.peers[s.key] for s in self.services.deployment.schools_of(aad)]
            else:
                targets = [self.services]
            created = False
            for services in targets:
                created = await self._remember_in(tc, services, force=force) or created
            return created
        if kind == "channel":
            services = self._school_for(tc) if self.multi else self.services
            return await self._remember_in(tc, services or self.services, force=force)
        return False

    async def _remember_in(self, tc: TurnContext, services: Services, *, force: bool) -> bool:
        a = tc.activity
        kind = _conversation_kind(a)
        if kind == "personal":
            actor = services.school.by_aad(getattr(a.from_property, "aad_object_id", None))
            if actor is None:
                return False
            key = actor.id
        else:
            key = _channel_id(a)
            if not key:
                return False
        cache_key = (services.school.key, kind, key, a.service_url, a.conversation.id if a.conversation else None)
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
        async with services.db.session() as s:
            created = await conversations.save_reference(
                s, record, now=services.clock(), tenant_id=getattr(a.conversation, "tenant_id", None)
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
