"""Directory through Microsoft Graph: users, transitive group members (paged), managers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.groups.item.transitive_members.graph_user.graph_user_request_builder import (
    GraphUserRequestBuilder,
)
from msgraph.generated.models.user import User
from msgraph.generated.users.item.user_item_request_builder import UserItemRequestBuilder

from graph.errors import GraphNotFound, GraphRequestError
from graph.msgraph.client import GraphClients
from graph.msgraph.errors import call
from graph.ports import MAX_DELTA_GROUPS, DirectoryUser, GroupsDelta, MemberChange

USER_FIELDS = ["id", "displayName", "mail", "userPrincipalName", "jobTitle", "accountEnabled"]


def to_user(u) -> DirectoryUser:
    return DirectoryUser(
        id=u.id or "",
        display_name=getattr(u, "display_name", None) or "",
        mail=getattr(u, "mail", None),
        user_principal_name=getattr(u, "user_principal_name", None),
        job_title=getattr(u, "job_title", None),
        account_enabled=getattr(u, "account_enabled", None),
    )


class GraphDirectory:
    def __init__(self, clients: GraphClients):
        self.c = clients

    async def get_user(self, user: str) -> DirectoryUser | None:
        cfg = RequestConfiguration(
            query_parameters=UserItemRequestBuilder.UserItemRequestBuilderGetQueryParameters(select=USER_FIELDS)
        )
        try:
            u = await call(self.c.graph.users.by_user_id(user).get(cfg), "read a user")
        except GraphNotFound:
            return None
        return to_user(u) if u else None

    async def iter_group_members(self, group_id: str, *, page_size: int = 100) -> AsyncIterator[DirectoryUser]:
        builder = self.c.graph.groups.by_group_id(group_id).transitive_members.graph_user
        cfg = RequestConfiguration(
            query_parameters=GraphUserRequestBuilder.GraphUserRequestBuilderGetQueryParameters(
                select=USER_FIELDS, top=page_size
            )
        )
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

    async def groups_delta(self, group_ids: Sequence[str], *, delta_link: str | None = None) -> GroupsDelta:
        return await groups_delta(self.c, group_ids, delta_link=delta_link)


def _member_changes(group) -> list[MemberChange]:
    """`members@delta` of one group object from a delta page (kiota keeps unknown annotations in additional_data,
    as plain dicts or UntypedNode trees depending on the serializer)."""
    raw = (getattr(group, "additional_data", None) or {}).get("members@delta") or []
    out = []
    for m in _plain(raw):
        kind = "group" if str(m.get("@odata.type", "")).endswith(".group") else "user"
        # kiota reads GUID-looking strings in untyped data as uuid.UUID: back to the string Graph sent.
        out.append(
            MemberChange(
                group_id=str(group.id or ""), member_id=str(m.get("id") or ""), kind=kind, removed="@removed" in m
            )
        )
    return [c for c in out if c.member_id and c.group_id]


def _plain(node):
    """Plain JSON values (this kiota version's additional_data), or an UntypedNode tree (newer kiota)."""
    get_value = getattr(node, "get_value", None)
    if callable(get_value) and not isinstance(node, (dict, list, tuple, str)):
        node = get_value()
    if isinstance(node, dict):
        return {k: _plain(v) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return [_plain(v) for v in node]
    return node


async def groups_delta(
    clients: GraphClients, group_ids: Sequence[str], *, delta_link: str | None = None
) -> GroupsDelta:
    """GET /groups/delta?$filter=id eq '…' or …&$select=members, every page, until the deltaLink (Learn: group
    delta; "Paging through members in a large group": one group may come back on several pages)."""
    from msgraph.generated.groups.delta.delta_request_builder import DeltaRequestBuilder

    ids = list(dict.fromkeys(group_ids))
    if not ids or len(ids) > MAX_DELTA_GROUPS:
        raise GraphRequestError(f"group delta takes 1 to {MAX_DELTA_GROUPS} group ids, got {len(ids)}")
    builder = clients.graph.groups.delta
    if delta_link:
        page = await call(builder.with_url(delta_link).get(), "read group membership changes")
    else:
        flt = " or ".join(f"id eq '{_odata_quote(g)}'" for g in ids)
        cfg = RequestConfiguration(
            query_parameters=DeltaRequestBuilder.DeltaRequestBuilderGetQueryParameters(filter=flt, select=["members"])
        )
        page = await call(builder.get(cfg), "read group memberships")
    changes: list[MemberChange] = []
    while True:
        for group in page.value or []:
            changes += _member_changes(group)
        nxt = getattr(page, "odata_next_link", None)
        if nxt:
            page = await call(builder.with_url(nxt).get(), "read group memberships (next page)")
            continue
        link = getattr(page, "odata_delta_link", None)
        if not link:
            raise GraphRequestError("group delta ended without an @odata.deltaLink")
        return GroupsDelta(changes=tuple(changes), delta_link=link, initial=delta_link is None)


def _odata_quote(value: str) -> str:
    return value.replace("'", "''")
