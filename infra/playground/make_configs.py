"""Write one Agents Playground config per person you can *be*, from a school config or a trust file.

    .venv/bin/python infra/playground/make_configs.py             # the demo school → infra/playground/people/
    .venv/bin/python infra/playground/make_configs.py --check     # exit 1 if a committed demo file is stale
    .venv/bin/python infra/playground/make_configs.py --school my-school.yaml [--as ID …] [--out DIR]
    .venv/bin/python infra/playground/make_configs.py --school infra/demo/trust.yaml --as corrie.halloran

The Playground is single-user: its config's `currentUser` is who you are, and it wants exactly five more `users`.
So every config names the same circle of six people from the school — the first six with an `aad_object_id`, or
those named with `--as` topped up from the top of the roster — and you can be any of the first five (or each
person named with `--as`). The group chat and the team have the same members whoever you are, and each person
keeps their Teams user id and the school file's aadObjectId in every config, which is how the bot recognises them.

Everything else comes from the school config too: the team is `school.safeguarding_channel.team_id`, named after
the school, with its Safeguarding channel (`channel_id`, `channel_name`); chat, bot and tenant ids are derived from
the team id, so they are stable across runs (conversation references saved by the bot survive a restart of the
Playground) and different for each school.

A trust file (bot/school/trust.py): `--as` takes anyone on any of its schools' rosters (with an aad_object_id) and
the trust's leads. Each person's config is their own school's, built exactly as from that school's file alone —
its circle, team, channel and group chat — so the default (nobody named) is the first school's five, the same files
as from that school on its own (the demo trust's first school is the demo school: infra/playground/people/ serves
both). A supervisor visiting from another school of the trust is at home in their home school's config. A trust
lead is on no school's roster: their config has them with five of the first school's circle and the first school's
team (where they are nobody, as in Teams); what they use is the personal chat ('trust'). One deployment is one bot
in one tenant: every school's config has the first school's tenant and bot id (unless the trust file gives a
school its own tenant_id).

Without --out, the demo school's (or the demo trust's) default configs go to infra/playground/people/ (committed)
and any other school's, or any run with --as, to data/playground/<school file name>/people/ (not committed); stale
configs there are removed.
"""

from __future__ import annotations

import argparse
import re
import sys
import uuid
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SCHOOL = ROOT / "infra" / "demo" / "school.yaml"
TRUST = ROOT / "infra" / "demo" / "trust.yaml"
PEOPLE_DIR = HERE / "people"
CONFIG_NAME = ".m365agentsplayground.yml"

#: The Playground knows `currentUser` plus exactly five `users` (GUIDE §3).
CIRCLE = 6
#: People you can be by default: the first five of the circle (the sixth is one of the five `users` of each).
PLAYABLE = 5
BOT_NAME = "Safeguarding Supervision"
_NAMESPACE = uuid.UUID("6f0c3f5e-3b0a-4a57-9d4e-6b2b7f0e5a10")  # ours: derived ids never collide with real ones


def _deployment(path: Path):
    """The school file's one school, or the trust file's schools and leads (bot/school/trust.py)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from bot.school import SchoolConfigError
    from bot.school.trust import load_deployment

    try:
        return load_deployment(path)
    except SchoolConfigError as exc:
        raise SystemExit(f"make_configs: {exc}") from None


def _school(path: Path):
    return _deployment(path).first


def _prefix(team_id: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", team_id.lower()).strip("-") or "school"
    return slug[:-5] if slug.endswith("-team") and len(slug) > 5 else slug


def _user(person) -> dict:
    given, _, surname = person.name.partition(" ")
    return {
        "id": f"29:{person.id}",
        "name": person.name,
        "userPrincipleName": person.email,  # sic: the Playground's schema spells it this way
        "aadObjectId": person.aad_object_id,
        "givenName": given,
        "surname": surname,
        "email": person.email,
    }


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def circle_for(school, people: list[str] | None = None) -> tuple[list, list]:
    """(the circle of six, in roster order; the people to write a config for)."""
    roster = [m for m in school.data.staff if m.aad_object_id]
    by_id = {m.id: m for m in roster}
    if people:
        missing = [p for p in people if p not in by_id]
        if missing:
            raise SystemExit(f"make_configs: not on {_shown(school.path)} with an aad_object_id: {', '.join(missing)}")
        if len(set(people)) > CIRCLE:
            raise SystemExit(f"make_configs: --as names {len(set(people))} people; the Playground knows {CIRCLE}")
    if len(roster) < CIRCLE:
        raise SystemExit(
            f"make_configs: {_shown(school.path)} has {len(roster)} staff with an aad_object_id; the "
            f"Playground needs {CIRCLE} (you and exactly five others)"
        )
    named = set(people or ())
    chosen = named | set([m.id for m in roster if m.id not in named][: CIRCLE - len(named)])
    circle = [m for m in roster if m.id in chosen]
    you = [by_id[p] for p in dict.fromkeys(people)] if people else circle[:PLAYABLE]
    return circle, you


def build_configs(school_path: Path = SCHOOL, people: list[str] | None = None) -> dict[str, str]:
    """staff id → YAML text of that person's Playground config (a school file or a trust file)."""
    school_path = Path(school_path)
    deployment = _deployment(school_path)
    if not deployment.is_trust:
        school = deployment.first
        circle, you = circle_for(school, people)
        return _configs(school, circle, you, source=school_path)
    first = deployment.first
    ids = _ids(first.settings.safeguarding_channel.team_id)  # one deployment is one bot, in one tenant

    def configs(school, circle, you, source):
        tenant = deployment.tenant_of(school.key) or ids["tenant"]
        return _configs(school, circle, you, source=source, tenant=tenant, bot=ids["bot"])

    if not people:  # the first school's five, exactly as from its own file
        return configs(first, *circle_for(first, None), first.path)
    by_school, leads = _who_is_where(deployment, people)
    out: dict[str, str] = {}
    for school in deployment.schools.values():
        named = by_school.get(school.key, [])
        if not named and not (leads and school is first):
            continue
        circle, you = circle_for(school, named or None)
        if named:
            out.update(configs(school, circle, you, school.path))
        if leads and school is first:
            # A trust lead is on no roster: them and five of the first school's circle (those named first).
            keep = {m.id for m in sorted(circle, key=lambda m: m.id not in named)[: CIRCLE - 1]}
            others = [m for m in circle if m.id in keep]
            for lead in leads:
                out.update(configs(school, [lead, *others], [lead], deployment.path))
    return {p: out[p] for p in dict.fromkeys(people)}  # in the order asked for


def _who_is_where(deployment, people: list[str] | None) -> tuple[dict[str, list[str]], list]:
    """The people named, by school key (each at their home school), and the trust leads among them."""
    if not people:
        return {}, []
    leads = {lead.id: lead for lead in deployment.trust.leads}
    by_school: dict[str, list[str]] = {}
    found_leads = []
    missing = []
    no_teams = []
    for pid in dict.fromkeys(people):
        if pid in leads:
            found_leads.append(leads[pid])
            continue
        home = _home_school(deployment, pid)
        if home is not None:
            by_school.setdefault(home, []).append(pid)
        elif any(pid in s.staff for s in deployment.schools.values()):
            no_teams.append(pid)
        else:
            missing.append(pid)
    if no_teams:
        raise SystemExit(
            f"make_configs: no Teams account (no aad_object_id; an external supervisor is reached by e-mail and "
            f"calendar invitation, never in the bot): {', '.join(no_teams)}"
        )
    if missing:
        raise SystemExit(
            f"make_configs: not on any school's roster of {_shown(deployment.path)} with an aad_object_id, nor a "
            f"trust lead: {', '.join(missing)}"
        )
    return by_school, found_leads


def _home_school(deployment, pid: str) -> str | None:
    """The school whose config a person gets: where they are on the staff; a supervisor visiting from another
    school of the trust, their home school (or, if that roster lacks them, the first school listing them)."""
    listed = [s for s in deployment.schools.values() if (m := s.staff.get(pid)) is not None and m.aad_object_id]
    for s in listed:
        if not s.staff[pid].visiting:
            return s.key
    for s in listed:
        home = s.staff[pid].home_school
        if home in {x.key for x in listed}:
            return home
    return listed[0].key if listed else None


def _ids(team_id: str) -> dict[str, str]:
    """The ids a school's configs derive from its team id (stable across runs, different for each school)."""
    prefix = _prefix(team_id)
    return {
        "prefix": prefix,
        "tenant": str(uuid.uuid5(_NAMESPACE, f"tenant:{team_id}")),
        "bot": f"28:{prefix}-supervision-bot",
    }


def _configs(
    school, circle: list, you: list, *, source: Path, tenant: str | None = None, bot: str | None = None
) -> dict[str, str]:
    s = school.settings
    short = s.short_name or s.name
    team_id = s.safeguarding_channel.team_id
    ids = _ids(team_id)
    prefix = ids["prefix"]
    channel = {
        "id": s.safeguarding_channel.channel_id or f"19:{prefix}-safeguarding@thread.tacv2",
        "name": s.safeguarding_channel.channel_name,
    }
    header = (
        f"# Generated by infra/playground/make_configs.py from {_shown(Path(source))} — edit those, not "
        "this file.\n# Microsoft 365 Agents Playground config: you are `currentUser`. Invented people only.\n"
    )
    out = {}
    for person in you:
        config = {
            "version": "0.1.1",
            "tenantId": tenant or ids["tenant"],
            "bot": {"id": bot or ids["bot"], "name": BOT_NAME},
            "currentUser": _user(person),
            "users": [_user(o) for o in circle if o.id != person.id],
            # A personal chat is one person and the bot, so its id is per person (as in Teams).
            "personalChat": {"id": f"a:{prefix}-personal-{person.id}"},
            "groupChat": {"id": f"19:{prefix}-staff-group@thread.v2", "name": f"{short} staff chat"},
            # General always exists, with the team's id; the Playground allows one channel besides it.
            "team": {
                "id": team_id,
                "name": f"{short} Staff",
                "aadGroupId": str(uuid.uuid5(_NAMESPACE, f"team:{team_id}")),
                "channels": [channel],
            },
        }
        out[person.id] = header + yaml.safe_dump(config, sort_keys=False, allow_unicode=True, width=120)
    return out


def default_out(school_path: Path, people: list[str] | None) -> Path:
    if Path(school_path).resolve() in (SCHOOL.resolve(), TRUST.resolve()) and not people:
        return PEOPLE_DIR  # the same five either way: the demo trust's first school is the demo school
    return ROOT / "data" / "playground" / Path(school_path).stem / "people"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--school", type=Path, default=SCHOOL, help="a school config or a trust file (default: the demo school)"
    )
    ap.add_argument(
        "--as",
        dest="people",
        action="append",
        metavar="ID",
        help="a staff id (or a trust lead's id) to be (repeat, or comma-separate); default: the (first) school's first "
        "five with an aad_object_id",
    )
    ap.add_argument("--out", type=Path, help="folder for <staff-id>/.m365agentsplayground.yml")
    ap.add_argument("--check", action="store_true", help="do not write; exit 1 if any file differs")
    ap.add_argument("--print-people", action="store_true", help="print the ids written, one a line, in roster order")
    args = ap.parse_args(argv)
    people = [p.strip() for item in args.people or () for p in item.split(",") if p.strip()] or None
    out_dir = args.out or default_out(args.school, people)
    configs = build_configs(args.school, people)
    stale = []
    for sid, text in configs.items():
        path = out_dir / sid / CONFIG_NAME
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current == text:
            continue
        stale.append(_shown(path))
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    extra = (
        sorted(p for p in out_dir.glob(f"*/{CONFIG_NAME}") if p.parent.name not in configs) if out_dir.is_dir() else []
    )
    if args.check:
        if stale or extra:
            print(
                "make_configs: out of date (run infra/playground/make_configs.py): "
                + ", ".join(stale + [_shown(p) + " (not generated)" for p in extra]),
                file=sys.stderr,
            )
            return 1
        return 0
    if out_dir.resolve() != PEOPLE_DIR.resolve():
        for p in extra:  # someone from an earlier run who is not in this one
            p.unlink()
            try:
                p.parent.rmdir()
            except OSError:
                pass
    if stale:
        print("make_configs: wrote " + ", ".join(stale), file=sys.stderr)
    if args.print_people:
        print("\n".join(configs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
