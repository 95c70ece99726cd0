"""Directory through Microsoft Graph: users, transitive group members (paged), managers."""
from __future__ import annotations

from typing import AsyncIterator

from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.groups.item.transitive_members.graph_user.graph_user_request_builder import \
    GraphUserRequestBuilder
from msgraph.generated.models.user import User
from msgraph.generated.users.item.user_item_request_builder import UserItemRequestBuilder

from graph.errors import GraphNotFound
from graph.msgraph.client import GraphClients
from graph.msgraph.errors import call
from graph.ports import DirectoryUser

USER_FIELDS = ["id", "displayName", "mail", "userPrincipalName", "jobTitle", "accountEnabled"]


def to_user(u) -> DirectoryUser:
    return DirectoryUser(id=u.id or "", display_name=getattr(u, "display_name", None) or "",
                         mail=getattr(u, "mail", None), user_principal_name=getattr(u, "user_principal_name", None),
                         job_title=getattr(u, "job_title", None), account_enabled=getattr(u, "account_enabled", None))


class GraphDirectory:
    def __init__(self, clients: GraphClients):
        self.c = clients

    async def get_user(self, user: str) -> DirectoryUser | None:
        cfg = RequestConfiguration(query_parameters=UserItemRequestBuilder.UserItemRequestBuilderGetQueryParameters(
            select=USER_FIELDS))
        try:
            u = await call(self.c.graph.users.by_user_id(user).get(cfg), "read a user")
        except GraphNotFound:
            return None
        return to_user(u) if u else None

    async def iter_group_members(self, group_id: str, *, page_size: int = 100) -> AsyncIterator[DirectoryUser]:
        builder = self.c.graph.groups.by_group_id(group_id).transitive_members.graph_user
        cfg = RequestConfiguration(query_parameters=GraphUserRequestBuilder.GraphUserRequestBuilderGetQueryParameters(
            select=USER_FIELDS, top=page_size))
        page = await call(builder.get(cfg), "list group members")
        while page is not None:
            for u in page.value or []:
                yield to_user(u)
            if not page.odata_next_link:
                break
            page = await call(builder.with_url(page.odata_next_link).get(), "list group members (next page)")

    async def group_members(self, group_id: str) -> list[DirectoryUser]:
        return [u async for u in self.iter_group_members(group_id)]

    async def get_manager(self, user: str) -> DirectoryUser | None:
        try:
            obj = await call(self.c.graph.users.by_user_id(user).manager.get(), "read a manager")
        except GraphNotFound:  # Graph says 404 both for "no manager" and "no such user"
            return None
        if obj is None:
            return None
        if isinstance(obj, User):
            return to_user(obj)
        return DirectoryUser(id=obj.id or "", display_name="")
