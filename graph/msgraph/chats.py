"""Reading back the bot's own recent Teams messages through Microsoft Graph (the in-doubt check of Teams sends,
bot/outbox/indoubt.py). Read-only; nothing read here is kept, logged or returned beyond each message's id and its
attachments' content, which the caller searches for one marker and drops.

Platform facts (Microsoft Learn; infra/PERMISSIONS.md §6 for the permissions):

* A personal conversation id (`a:…`) is not a Graph chat id. The chat between a user and our app comes from the
  app's installation for that user: `GET /users/{id}/teamwork/installedApps?$expand=teamsAppDefinition
  &$filter=teamsApp/id eq '{catalog app id}'` → the installation id, then
  `GET /users/{id}/teamwork/installedApps/{installation-id}/chat`
  (https://learn.microsoft.com/en-us/graph/api/userscopeteamsappinstallation-get-chat; application permission
  TeamsAppInstallation.ReadForUser.All at least). The pair's chat id does not change, so it is looked up once per
  person per process.
* `GET /chats/{chat-id}/messages?$top=50` (https://learn.microsoft.com/en-us/graph/api/chat-list-messages): $top is
  at most 50; ordered by lastModifiedDateTime, newest first, by default.
* `GET /teams/{team-id}/channels/{channel-id}/messages?$top=50`
  (https://learn.microsoft.com/en-us/graph/api/channel-list-messages): the channel's root messages (no replies),
  at most 50 a page.

Errors come out as graph.errors (403 without consent → GraphRequestError, 404 → GraphNotFound, 429/503/504 after
the SDK's own retries → GraphThrottled): the caller decides what "cannot read" means.
"""

from __future__ import annotations

import asyncio

from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.chats.item.messages.messages_request_builder import MessagesRequestBuilder as ChatMessages
from msgraph.generated.teams.item.channels.item.messages.messages_request_builder import (
    MessagesRequestBuilder as ChannelMessages,
)
from msgraph.generated.users.item.teamwork.installed_apps.installed_apps_request_builder import (
    InstalledAppsRequestBuilder,
)
from msgraph.generated.users.item.teamwork.installed_apps.item.chat.chat_request_builder import ChatRequestBuilder

from graph.errors import GraphNotFound
from graph.msgraph.client import GraphClients
from graph.msgraph.errors import call

MAX_TOP = 50  # chat-list-messages and channel-list-messages: at most 50 messages a page

# One message as the in-doubt check needs it: its id and the content of each attachment (a card's JSON, as text).
Message = tuple[str | None, tuple[str, ...]]


class GraphChats:
    def __init__(self, clients: GraphClients, teams_app_id: str):
        self.c = clients
        self.teams_app_id = teams_app_id
        self._chat_ids: dict[str, str] = {}  # user object id (lower case) → the Graph id of their chat with the bot
        self._locks: dict[str, asyncio.Lock] = {}

    async def personal_chat_id(self, user: str) -> str:
        """The Graph chat id of the user's 1:1 chat with our app. GraphNotFound if the app is not installed for
        them; other graph.errors as Graph answered."""
        key = user.lower()
        if key in self._chat_ids:
            return self._chat_ids[key]
        # Two of someone's sends retried at once (the outbox delivers several rows together) look up once.
        async with self._locks.setdefault(key, asyncio.Lock()):
            if key not in self._chat_ids:
                self._chat_ids[key] = await self._look_up_chat_id(user)
        return self._chat_ids[key]

    async def _look_up_chat_id(self, user: str) -> str:
        apps = self.c.graph.users.by_user_id(user).teamwork.installed_apps
        cfg = RequestConfiguration(
            query_parameters=InstalledAppsRequestBuilder.InstalledAppsRequestBuilderGetQueryParameters(
                expand=["teamsAppDefinition"], filter=f"teamsApp/id eq '{_odata_quote(self.teams_app_id)}'"
            )
        )
        page = await call(apps.get(cfg), "find the app's installation for a user")
        installs = [i for i in (page.value if page else None) or [] if i.id]
        if not installs:
            raise GraphNotFound("the app is not installed for this user")
        chat_cfg = RequestConfiguration(
            query_parameters=ChatRequestBuilder.ChatRequestBuilderGetQueryParameters(select=["id"])
        )
        chat = await call(
            apps.by_user_scope_teams_app_installation_id(installs[0].id).chat.get(chat_cfg),
            "read the chat between a user and the app",
        )
        if chat is None or not chat.id:
            raise GraphNotFound("no chat between this user and the app")
        return chat.id

    async def chat_messages(self, chat_id: str, *, top: int = MAX_TOP) -> list[Message]:
        """The newest `top` (≤ 50) messages of a chat."""
        cfg = RequestConfiguration(
            query_parameters=ChatMessages.MessagesRequestBuilderGetQueryParameters(top=min(top, MAX_TOP))
        )
        page = await call(self.c.graph.chats.by_chat_id(chat_id).messages.get(cfg), "read a chat's recent messages")
        return _messages(page)

    async def channel_messages(self, team_id: str, channel_id: str, *, top: int = MAX_TOP) -> list[Message]:
        """The newest `top` (≤ 50) root messages of a channel."""
        cfg = RequestConfiguration(
            query_parameters=ChannelMessages.MessagesRequestBuilderGetQueryParameters(top=min(top, MAX_TOP))
        )
        builder = self.c.graph.teams.by_team_id(team_id).channels.by_channel_id(channel_id).messages
        page = await call(builder.get(cfg), "read a channel's recent messages")
        return _messages(page)


def _messages(page) -> list[Message]:
    out: list[Message] = []
    for m in (page.value if page else None) or []:
        contents = tuple(a.content for a in (m.attachments or []) if isinstance(getattr(a, "content", None), str))
        out.append((m.id, contents))
    return out


def _odata_quote(value: str) -> str:
    return value.replace("'", "''")
