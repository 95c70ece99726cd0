"""The production Microsoft 365 backend: msgraph-sdk over an azure-identity credential."""

from __future__ import annotations

import inspect

from graph.msgraph.apps import GraphApps
from graph.msgraph.calendar import GraphCalendar
from graph.msgraph.chats import GraphChats
from graph.msgraph.client import GraphClients, build_clients, build_credential
from graph.msgraph.directory import GraphDirectory
from graph.msgraph.errors import translate
from graph.msgraph.files import GraphChannelFiles, GraphPersonalFiles, Uploader
from graph.ports import FolderRef
from graph.settings import GRAPH_SCOPE, GraphSettings


class MsGraphBackend:
    mode = "msgraph"

    def __init__(self, settings: GraphSettings, *, team_id: str, channel_id: str, credential=None, sleep=None):
        """`credential`: any azure-identity style credential (tests pass one returning a fixed token); by default
        the one the settings describe, owned and closed by this backend."""
        self.settings = settings
        self._owns_credential = credential is None
        self.credential = credential if credential is not None else build_credential(settings)
        self.clients: GraphClients = build_clients(settings, self.credential)
        extra = {"sleep": sleep} if sleep is not None else {}
        uploader = Uploader(self.clients, settings, **extra)
        self.directory = GraphDirectory(self.clients)
        self.calendar = GraphCalendar(self.clients, **extra)
        folder = None
        if settings.channel_drive_id and settings.channel_folder_id:
            folder = FolderRef(drive_id=settings.channel_drive_id, item_id=settings.channel_folder_id)
        self.channel_files = GraphChannelFiles(self.clients, uploader, team_id, channel_id, folder=folder)
        self.personal_files = GraphPersonalFiles(self.clients, uploader, send_invitation=settings.share_send_invitation)
        self.apps = GraphApps(self.clients, settings.teams_app_id)
        # Read-only: the in-doubt check of Teams sends looks for its marker in the bot's recent messages.
        self.chats = GraphChats(self.clients, settings.teams_app_id)
        self.team_id, self.channel_id = team_id, channel_id

    async def verify(self) -> None:
        """Sign in once (the credential caches the token): a bad or expired secret fails here, in one sentence."""
        try:
            token = self.credential.get_token(GRAPH_SCOPE)
            if inspect.isawaitable(token):
                await token
        except Exception as exc:  # noqa: BLE001 - translated into GraphAuthError
            translated = translate(exc, "sign in to Microsoft Graph")
            if translated is exc:
                raise
            raise translated from None

    async def close(self) -> None:
        await self.clients.aclose()
        if self._owns_credential:
            closer = getattr(self.credential, "close", None)
            if closer is not None:
                result = closer()
                if inspect.isawaitable(result):
                    await result


__all__ = ["MsGraphBackend"]
