"""Directory answered from the school config roster (the local stand-in for Entra ID)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence

from bot.school.config import School, StaffMember
from graph.errors import GraphNotFound
from graph.ports import DirectoryUser, GroupsDelta, MemberChange

# The local stand-in for the "all staff" security group a real tenant would sync the roster from.
ALL_STAFF_GROUP = "all-staff"


def to_user(s: StaffMember) -> DirectoryUser:
    return DirectoryUser(
        id=s.aad_object_id,
        display_name=s.name,
        mail=s.email,
        user_principal_name=s.email,
        job_title=s.job_title or None,
        account_enabled=True,
    )


class LocalDirectory:
    """Users are the school's staff; groups are the config's groups plus ALL_STAFF_GROUP.

    Managers come from `managers` (staff id or email → manager's staff id or email), or a `manager` field on a
    staff entry if the config grows one; otherwise nobody has one.
    """

    def __init__(self, school: School, *, managers: Mapping[str, str] | None = None):
        self.school = school
        self.managers = {k.lower(): v for k, v in (managers or {}).items()}

    def find(self, user: str) -> StaffMember | None:
        if not user:
            return None
        key = user.strip().lower()
        s = self.school.by_aad(key) or self.school.staff.get(user.strip())
        if s is not None:
            return s
        for s in self.school.staff.values():
            if s.email.lower() == key:
                return s
        return None

    async def get_user(self, user: str) -> DirectoryUser | None:
        s = self.find(user)
        return to_user(s) if s else None

    async def iter_group_members(self, group_id: str, *, page_size: int = 100) -> AsyncIterator[DirectoryUser]:
        if group_id == ALL_STAFF_GROUP:
            members = list(self.school.staff.values())
        elif group_id in self.school.groups:
            members = self.school.group_members(group_id)
        else:
            raise GraphNotFound(f"no group {group_id!r} in the school config", status=404)
        for s in members:
            yield to_user(s)

    async def group_members(self, group_id: str) -> list[DirectoryUser]:
        return [u async for u in self.iter_group_members(group_id)]

    async def get_manager(self, user: str) -> DirectoryUser | None:
        # Graph answers 404 both for "no manager" and "no such user"; so do we: None.
        s = self.find(user)
        if s is None:
            return None
        ref = self.managers.get(s.id.lower()) or self.managers.get(s.email.lower()) or getattr(s, "manager", None)
        m = self.find(ref) if ref else None
        return to_user(m) if m else None

    async def groups_delta(self, group_ids: Sequence[str], *, delta_link: str | None = None) -> GroupsDelta:
        """The config does not change under a running sync, so every round is an initial one: all members."""
        changes = []
        for gid in dict.fromkeys(group_ids):
            async for u in self.iter_group_members(gid):
                changes.append(MemberChange(group_id=gid, member_id=u.id, kind="user"))
        return GroupsDelta(changes=tuple(changes), delta_link="local:initial", initial=True)
