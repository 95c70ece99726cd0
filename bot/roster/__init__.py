"""The roster from the school's tenant: `python -m bot.roster sync [--apply]`.

Design (the YAML stays the local-mode source):
* The school YAML (SCHOOL_CONFIG) keeps everything a person writes by hand — term dates, groups, settings, and per
  person what Entra does not know (supervisor training date, capacity, absence, start date). Its optional
  `directory:` section names the Entra groups (bot/school/config.py DirectoryGroups).
* `sync` reads the tenant through the directory port (graph/ports.py Directory) and prints the diff against the
  roster in use (ids and names only). `--apply` writes `<school>.roster.yaml` beside the YAML — a complete staff
  list in the YAML's own schema — which `load_school` uses instead of the YAML's `staff:`. Without that file (local
  mode, the Playground, every test) the YAML is the roster, unchanged. Deleting it goes back to the YAML.
* Who is staff, with names and job titles: one paged read of the all-staff group's transitive members (the only
  read that returns profiles). Which roles and class each person has: Graph **delta queries** on the role and class
  groups (`GET /groups/delta?$filter=id eq …&$select=members`), whose direct memberships are kept, with the delta
  link, in `<school>.roster-state.json`; nested groups found there are tracked as well and expanded locally. A quiet
  day costs one delta request; an expired link (410 / syncStateNotFound: tokens last seven days) or a changed group
  list starts a new initial round.
* Never from the directory alone: a supervisor role needs `supervisor_trained_on` in the YAML (the pool is trained
  staff only); someone who leaves keeps their entry with `left_on` set (records and history still name them); a
  disabled account counts as left; a member of a role group who is not in all-staff is ignored, with a warning.
* The running bot reads the roster at start-up: restart it after `--apply` (DEPLOY.md), or run the daily job just
  before the nightly restart.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.school.config import DirectoryGroups, Role, School, StaffMember, load_school, roster_override_path
from graph.errors import GraphDeltaExpired, GraphNotFound
from graph.ports import MAX_DELTA_GROUPS, DirectoryUser

ROLE_FIELDS = {
    Role.DSL: "dsl",
    Role.ALLOCATOR: "allocators",
    Role.SUPERVISOR: "supervisors",
    Role.GOVERNOR: "governors",
}
MAX_NESTING_ROUNDS = 5


class RosterError(Exception):
    """The sync cannot run or cannot be trusted; the message says why."""


def state_path(school_path: Path) -> Path:
    return school_path.with_name(f"{school_path.stem}.roster-state.json")


# ---------------------------------------------------------------- the diff


@dataclass
class Change:
    staff_id: str
    name: str
    what: str  # "added" | "left" | "rejoined" | "roles" | "group" | "renamed"
    detail: str = ""

    def line(self) -> str:
        return f"  {self.what:<9} {self.staff_id} ({self.name}){': ' + self.detail if self.detail else ''}"


@dataclass
class SyncResult:
    staff: list[StaffMember]
    changes: list[Change]
    warnings: list[str]
    state: dict
    requests: dict[str, int] = field(default_factory=dict)

    def report(self) -> str:
        lines = [f"roster: {len(self.staff)} staff, {len(self.changes)} change(s)"]
        lines += [c.line() for c in self.changes]
        lines += [f"  warning   {w}" for w in self.warnings]
        return "\n".join(lines)


# ---------------------------------------------------------------- membership state (delta)


def _empty_state() -> dict:
    return {"version": 1, "links": [], "members": {}}


def load_state(path: Path) -> dict:
    if not path.is_file():
        return _empty_state()
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return _empty_state()  # a damaged state only costs a new initial round
    return state if state.get("version") == 1 else _empty_state()


async def _read_memberships(directory, group_ids: list[str], state: dict, counts: dict) -> dict:
    """Direct members per group ({"users": [...], "groups": [...]}), brought up to date with delta queries."""
    # Nested groups found on earlier runs stay tracked, so their delta link (keyed by the id list) is reused.
    earlier = [g for link in state.get("links", []) for g in link.get("ids", [])]
    tracked = list(dict.fromkeys([*group_ids, *earlier]))
    for _ in range(MAX_NESTING_ROUNDS):
        chunks = [tracked[i : i + MAX_DELTA_GROUPS] for i in range(0, len(tracked), MAX_DELTA_GROUPS)]
        old_links = {tuple(link["ids"]): link["link"] for link in state.get("links", [])}
        members = {
            g: {"users": list(v.get("users", [])), "groups": list(v.get("groups", []))}
            for g, v in state.get("members", {}).items()
            if g in tracked
        }
        links = []
        for chunk in chunks:
            link = old_links.get(tuple(chunk))
            try:
                delta = await directory.groups_delta(chunk, delta_link=link)
                counts["delta_rounds"] = counts.get("delta_rounds", 0) + 1
            except GraphDeltaExpired:
                counts["delta_expired"] = counts.get("delta_expired", 0) + 1
                link = None
                delta = await directory.groups_delta(chunk)
            if delta.initial or link is None:
                for g in chunk:
                    members[g] = {"users": [], "groups": []}
            for c in delta.changes:
                slot = members.setdefault(c.group_id, {"users": [], "groups": []})[
                    "users" if c.kind == "user" else "groups"
                ]
                if c.removed:
                    if c.member_id in slot:
                        slot.remove(c.member_id)
                elif c.member_id not in slot:
                    slot.append(c.member_id)
            links.append({"ids": chunk, "link": delta.delta_link})
        state = {"version": 1, "links": links, "members": members}
        nested = [g for v in members.values() for g in v["groups"] if g not in tracked]
        if not nested:
            return state
        tracked += list(dict.fromkeys(nested))
    raise RosterError(f"groups nest more than {MAX_NESTING_ROUNDS} levels deep; flatten them")


def _transitive(state: dict, group_id: str) -> set[str]:
    seen, users, todo = {group_id}, set(), [group_id]
    while todo:
        g = todo.pop()
        entry = state["members"].get(g, {})
        users |= set(entry.get("users", []))
        for sub in entry.get("groups", []):
            if sub not in seen:
                seen.add(sub)
                todo.append(sub)
    return users


# ---------------------------------------------------------------- the roster it implies


def _new_id(user: DirectoryUser, taken: set[str]) -> str:
    base = (user.user_principal_name or user.mail or user.display_name or user.id).split("@")[0].lower()
    base = re.sub(r"[^a-z0-9.]+", ".", base).strip(".") or "staff"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}{n}", n + 1
    return candidate


async def compute(school: School, directory, *, today: dt.date, state: dict | None = None) -> SyncResult:
    cfg: DirectoryGroups | None = school.data.directory
    if cfg is None:
        raise RosterError(
            f"{school.path}: no `directory:` section naming the Entra groups to read "
            "(see bot/school/config.py DirectoryGroups)"
        )
    counts: dict[str, int] = {}
    warnings: list[str] = []
    try:
        people = {u.id.lower(): u async for u in directory.iter_group_members(cfg.all_staff)}
    except GraphNotFound:
        raise RosterError(
            f"the all-staff group {cfg.all_staff} does not exist (or the app cannot read it): "
            "refusing to read that as \"everyone left\""
        ) from None
    counts["staff_read"] = len(people)
    if not people:
        raise RosterError(f"the all-staff group {cfg.all_staff} has no members: refusing to mark everyone as left")
    role_groups = {role: getattr(cfg, f) for role, f in ROLE_FIELDS.items() if getattr(cfg, f)}
    tracked = [*role_groups.values(), *cfg.groups.values()]
    state = await _read_memberships(directory, tracked, state or _empty_state(), counts) if tracked else _empty_state()
    members_of = {g: {m.lower() for m in _transitive(state, g)} for g in tracked}

    # A supervisor from another school of the trust or from outside it is not in this school's Entra groups: they
    # are kept exactly as the school file has them, never marked as leavers (issue 10).
    visiting = [s for s in school.data.staff if s.visiting]
    current = {s.aad_object_id.lower(): s for s in school.data.staff if not s.visiting and s.aad_object_id}
    taken = {s.id for s in school.data.staff}
    out: list[StaffMember] = []
    changes: list[Change] = []
    visiting_aad = {v.aad_object_id.lower() for v in visiting if v.aad_object_id}
    for aad, user in people.items():
        if aad in visiting_aad:
            continue  # listed by the school file as visiting: kept as it is (below)
        old = current.get(aad)
        if user.account_enabled is False:
            continue  # a disabled account is treated as having left (below)
        sid = old.id if old else _new_id(user, taken)
        taken.add(sid)
        group = next((gid for gid, entra in cfg.groups.items() if aad in members_of[entra]), None)
        if group is None:
            if old is not None and old.group not in cfg.groups:
                group = old.group  # a group the directory does not manage: as the YAML has it
            elif cfg.default_group:
                group = cfg.default_group
            elif old is not None:
                group = old.group
                warnings.append(f"{sid} ({user.display_name}) is in none of the mapped class groups; kept in {group}")
            else:
                warnings.append(
                    f"{user.display_name} ({aad}) is in none of the mapped groups and there is no "
                    "directory.default_group: not added"
                )
                continue
        roles = set(old.roles) if old else set()
        for role, entra in role_groups.items():
            if aad in members_of[entra]:
                roles.add(role)
            else:
                roles.discard(role)
        trained = old.supervisor_trained_on if old else None
        if Role.SUPERVISOR in roles and trained is None:
            roles.discard(Role.SUPERVISOR)
            warnings.append(
                f"{sid} ({user.display_name}) is in the supervisors group but has no "
                "supervisor_trained_on in the school YAML: not in the pool until it is recorded"
            )
        data: dict[str, Any] = old.model_dump(by_alias=True) if old else {}
        data.update(
            id=sid,
            name=user.display_name or (old.name if old else sid),
            email=user.mail or user.user_principal_name or (old.email if old else ""),
            aad_object_id=user.id,
            job_title=user.job_title or (old.job_title if old else ""),
            group=group,
            roles=sorted(r.value for r in roles),
        )
        if old is not None and old.left_on is not None and old.left_on <= today:
            data["left_on"] = None
            changes.append(Change(sid, data["name"], "rejoined"))
        member = StaffMember.model_validate(data)
        out.append(member)
        if old is None:
            changes.append(Change(sid, member.name, "added", f"{group}; roles: {_roles(member.roles) or 'none'}"))
            continue
        if set(old.roles) != set(member.roles):
            gained = sorted(r.value for r in set(member.roles) - set(old.roles))
            lost = sorted(r.value for r in set(old.roles) - set(member.roles))
            changes.append(
                Change(sid, member.name, "roles", " ".join([*(f"+{r}" for r in gained), *(f"-{r}" for r in lost)]))
            )
        if old.group != member.group:
            changes.append(Change(sid, member.name, "group", f"{old.group} → {member.group}"))
        if old.name != member.name:
            changes.append(Change(sid, member.name, "renamed", f"was {old.name}"))
    kept = {s.aad_object_id.lower() for s in out}
    for aad, old in current.items():
        if aad in kept:
            continue
        if old.left_on is not None and old.left_on <= today:
            out.append(old)  # left earlier: kept as it is
            continue
        out.append(old.model_copy(update={"left_on": today}))
        reason = "account disabled" if aad in people else "no longer in the all-staff group"
        changes.append(Change(old.id, old.name, "left", reason))
    for role, entra in role_groups.items():
        outside = members_of[entra] - set(people)
        if outside:
            warnings.append(
                f"{len(outside)} member(s) of the {ROLE_FIELDS[role]} group are not in the all-staff group: ignored"
            )
    out.extend(v for v in visiting if v.id not in {m.id for m in out})
    if not any(Role.DSL in s.roles and s.left_on is None for s in out):
        raise RosterError("after the sync nobody would have the dsl role: check the DSL group before applying")
    if not any(Role.ALLOCATOR in s.roles and s.left_on is None for s in out):
        raise RosterError("after the sync nobody would have the allocator role: check the allocators group")
    return SyncResult(staff=out, changes=changes, warnings=warnings, state=state, requests=counts)


def _roles(roles) -> str:
    return ", ".join(sorted(r.value if isinstance(r, Role) else str(r) for r in roles))


# ---------------------------------------------------------------- applying


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def apply(school_path: Path, result: SyncResult, *, now: dt.datetime) -> Path:
    """Write `<school>.roster.yaml` and the delta state, after checking the school loads with the new roster."""
    override = roster_override_path(school_path)
    staff = [s.model_dump(mode="json", by_alias=True, exclude_defaults=True) for s in result.staff]
    for entry in staff:
        entry.setdefault("roles", [])
    header = (
        f"# Written by `python -m bot.roster sync --apply` at {now.isoformat(timespec='seconds')} from the "
        f"tenant's groups.\n# It replaces the staff list of {school_path.name}; delete it to go back to that "
        "list. Hand edits are overwritten\n# by the next sync: record training dates, capacity and absences in "
        f"{school_path.name}.\n"
    )
    text = header + yaml.safe_dump({"staff": staff}, sort_keys=False, allow_unicode=True)
    candidate = override.with_name(f".{override.name}.check")
    candidate.write_text(text, encoding="utf-8")
    try:
        raw = yaml.safe_load(school_path.read_text(encoding="utf-8"))
        raw["staff"] = yaml.safe_load(text)["staff"]
        from bot.school.config import SchoolFile

        SchoolFile.model_validate(raw)  # the school must still load; raises with the field if not
    finally:
        candidate.unlink(missing_ok=True)
    _atomic_write(override, text)
    _atomic_write(state_path(school_path), json.dumps(result.state, indent=1) + "\n")
    return override


async def sync(school_path: Path, directory, *, do_apply: bool, today: dt.date, now: dt.datetime) -> SyncResult:
    school = load_school(school_path)
    result = await compute(school, directory, today=today, state=load_state(state_path(school_path)))
    if do_apply:
        apply(school_path, result, now=now)
    return result
