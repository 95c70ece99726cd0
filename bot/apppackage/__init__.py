"""The Teams app package: appPackage/manifest.json (a template with the Agents Toolkit's `${{VAR}}` placeholders)
filled from env/.env.<env> (and the ignored env/.env.<env>.user), checked, and zipped with its two icons into
appPackage/build/appPackage.<env>.zip — the same file names and layout the toolkit's `teamsApp/zipAppPackage` step
writes, so either route gives an admin the same package.

    python -m bot.apppackage local          # or: scripts/package.sh local

Checks before anything is written (each problem is named; nothing is zipped if there is one):
* every `${{VAR}}` has a non-empty value in the env file;
* the manifest validates against the official schema (../shared/schemas/teams-manifest-1.29.schema.json) when that
  file is beside the checkout — otherwise the build says it skipped that check;
* `commandLists` list exactly the router's commands, per scope, as bot/scopes.py says;
* no resource-specific consent permission is asked for without a reason in RSC_REASONS;
* the dashboard tab (staticTabs entity `dashboard`) is the bot's own https host + /dashboard, on a valid domain,
  and webApplicationInfo (Teams SSO) names the bot's app id and an Application ID URI on that host;
* color.png is 192×192, outline.png 32×32, white on a transparent background.
"""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from bot.apppackage.png import PngError, read_png

ROOT = Path(__file__).resolve().parent.parent.parent
APP_PACKAGE = ROOT / "appPackage"
ENV_DIR = ROOT / "env"
SCHEMA_NAME = "teams-manifest-1.29.schema.json"
PLACEHOLDER = re.compile(r"\$\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
ICONS = {"color": 192, "outline": 32}
# Resource-specific consent permissions the manifest may ask for, each with the feature that needs it (channel files
# and calendars use the application permissions in infra/PERMISSIONS.md; the bot posts as a bot, which needs no RSC).
# Not ChatMessage.Read.Chat: in a personal chat RSC grants only ChatMessageReadReceipt.Read.Chat (Learn, "RSC
# permissions for a chat or meeting"), so it could never read the bot's 1:1 chats, and the bot reads no group chat.
RSC_REASONS: dict[str, str] = {
    "ChannelMessage.Read.Group": (
        "the in-doubt check of the bot's Safeguarding channel posts reads the channel's recent root messages "
        "(bot/outbox/indoubt.py; infra/PERMISSIONS.md §6)"
    ),
}
# A fixed timestamp for every zip entry, so the same inputs always give the same bytes (a reproducible package).
ZIP_TIME = (2026, 1, 1, 0, 0, 0)
# Placeholders that may be empty (but must be defined): a production environment has no name suffix.
MAY_BE_EMPTY = {"APP_NAME_SUFFIX"}


class PackageError(Exception):
    """The package cannot be built; the message lists every problem found."""


@dataclass
class Built:
    env: str
    zip_path: Path
    manifest: dict
    schema: Path | None
    notes: list[str] = field(default_factory=list)


def schema_candidates(root: Path = ROOT) -> list[Path]:
    """Where the official schema may be: ../shared beside the checkout (CI's fresh clone, the main checkout), or the
    workplace's shared folder for a git worktree that lives one level deeper."""
    return [root.parent / "shared" / "schemas" / SCHEMA_NAME, Path("/work/shared/schemas") / SCHEMA_NAME]


def find_schema(root: Path = ROOT) -> Path | None:
    return next((p for p in schema_candidates(root) if p.is_file()), None)


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines as the toolkit writes them; `#` comments and blank lines ignored; quotes stripped."""
    values: dict[str, str] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if "=" not in line:
            raise PackageError(f"{path}:{n}: expected KEY=VALUE")
        key, value = line.split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def load_env(env: str, env_dir: Path = ENV_DIR) -> dict[str, str]:
    if not re.fullmatch(r"[a-z][a-z0-9-]{0,30}", env):
        raise PackageError(f"environment name {env!r}: use lower-case letters, digits and '-' (e.g. local, dev)")
    path = env_dir / f".env.{env}"
    if not path.is_file():
        known = sorted(p.name.removeprefix(".env.") for p in env_dir.glob(".env.*") if not p.name.endswith(".user"))
        raise PackageError(f"no {path} (environments: {', '.join(known) or 'none'})")
    values = read_env_file(path)
    user = env_dir / f".env.{env}.user"
    if user.is_file():
        values.update(read_env_file(user))
    return values


def render(template: str, values: dict[str, str], *, source: str = "manifest.json") -> str:
    """Replace every `${{VAR}}`; PackageError naming every variable that is missing or empty."""
    names = sorted(set(PLACEHOLDER.findall(template)))
    missing = [n for n in names if n not in values or (not values[n] and n not in MAY_BE_EMPTY)]
    if missing:
        raise PackageError(
            f"{source} needs {', '.join(missing)}, missing or empty in the env file "
            "(the toolkit fills TEAMS_APP_ID, BOT_ID and BOT_DOMAIN when it provisions; see README)"
        )
    return PLACEHOLDER.sub(lambda m: _json_string_safe(m.group(1), values[m.group(1)]), template)


def _json_string_safe(name: str, value: str) -> str:
    if any(c in value for c in '"\\\n\r\t'):
        raise PackageError(f"{name} contains a quote, backslash or control character; it cannot go into the manifest")
    return value


def schema_problems(manifest: dict, schema_path: Path) -> list[str]:
    from jsonschema import Draft7Validator

    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    return [
        f"schema: {'/'.join(str(p) for p in e.absolute_path) or '(top)'}: {e.message[:200]}"
        for e in sorted(Draft7Validator(schema).iter_errors(manifest), key=lambda e: list(e.absolute_path))
    ]


def command_problems(manifest: dict, router=None) -> list[str]:
    """The manifest's command menus against the router and bot/scopes.py: every command that exists, per scope."""
    from bot.scopes import ALL_SCOPES, MAX_MENU_COMMANDS, NOT_IN_MENU, SCOPES, menu

    if router is None:
        from bot.journeys import build_router

        router = build_router()
    problems: list[str] = []
    words = [c.words[0] for c in router.commands]
    for w in words:
        if w not in SCOPES:
            problems.append(f"command {w!r} has no entry in bot/scopes.py SCOPES: say where it may be used")
    for w in SCOPES:
        if w not in words:
            problems.append(f"bot/scopes.py lists {w!r}, which the router does not register")
    for (w, scope), _reason in NOT_IN_MENU.items():
        if scope not in SCOPES.get(w, ()):
            problems.append(f"bot/scopes.py NOT_IN_MENU has {w!r} in {scope}, where it is not usable anyway")
    bots = manifest.get("bots") or []
    if len(bots) != 1:
        return problems + [f"expected exactly one bot in the manifest, found {len(bots)}"]
    bot = bots[0]
    lists: dict[str, list[str]] = {}
    for cl in bot.get("commandLists") or []:
        for scope in cl.get("scopes") or []:
            if scope in lists:
                problems.append(f"commandLists: scope {scope} appears in more than one list")
            lists[scope] = [c.get("title") for c in cl.get("commands") or []]
    for scope in ALL_SCOPES:
        if scope not in (bot.get("scopes") or []):
            problems.append(f"bots[0].scopes lacks {scope}")
        want = [w for w in menu(scope) if w in words]
        have = lists.get(scope, [])
        if len(want) > MAX_MENU_COMMANDS:
            problems.append(
                f"{scope}: {len(want)} commands for a menu of at most {MAX_MENU_COMMANDS}; move some to "
                "NOT_IN_MENU in bot/scopes.py (the help card still lists them)"
            )
        for w in want:
            if w not in have:
                problems.append(f"commandLists[{scope}] lacks {w!r}")
        for w in have:
            if w not in want:
                why = (
                    "it is not a command"
                    if w not in words
                    else f"bot/scopes.py does not offer it in {scope}"
                    if scope not in SCOPES.get(w, ())
                    else f"bot/scopes.py keeps it out of the {scope} menu"
                )
                problems.append(f"commandLists[{scope}] lists {w!r}, but {why}")
        if have and [w for w in have if w in want] != [w for w in want if w in have]:
            problems.append(f"commandLists[{scope}] is not in bot/scopes.py's order")
    return problems


def permission_problems(manifest: dict) -> list[str]:
    rsc = ((manifest.get("authorization") or {}).get("permissions") or {}).get("resourceSpecific") or []
    return [
        f"authorization.permissions.resourceSpecific asks for {p.get('name')!r} with no reason in "
        "bot/apppackage RSC_REASONS"
        for p in rsc
        if p.get("name") not in RSC_REASONS
    ]


def tab_problems(manifest: dict) -> list[str]:
    """The dashboard tab and its single sign-on, against bot/dashboard (entity id, path) and each other."""
    from urllib.parse import urlsplit

    from bot.dashboard.web import ENTITY_ID

    problems: list[str] = []
    tabs = [t for t in manifest.get("staticTabs") or [] if t.get("entityId") == ENTITY_ID]
    if len(tabs) != 1:
        return [f"staticTabs: expected one tab with entityId {ENTITY_ID!r}, found {len(tabs)}"]
    tab = tabs[0]
    url = urlsplit(tab.get("contentUrl") or "")
    if url.scheme != "https" or url.path != "/dashboard" or url.query:
        problems.append("staticTabs[dashboard].contentUrl must be https://<bot host>/dashboard")
    if url.hostname not in (manifest.get("validDomains") or []):
        problems.append(f"staticTabs[dashboard].contentUrl's host {url.hostname!r} is not in validDomains")
    if "personal" not in (tab.get("scopes") or []):
        problems.append("staticTabs[dashboard] must be available in the personal scope")
    sso = manifest.get("webApplicationInfo") or {}
    bot_id = ((manifest.get("bots") or [{}])[0]).get("botId")
    if sso.get("id") != bot_id:
        problems.append("webApplicationInfo.id must be the bot's app id (the tab signs in with the same Entra app)")
    res = urlsplit(sso.get("resource") or "")
    if res.scheme != "api" or res.hostname != url.hostname or not (sso.get("resource") or "").endswith(str(bot_id)):
        problems.append("webApplicationInfo.resource must be api://<the tab's host>/botid-<app id>")
    return problems


def icon_problems(folder: Path, manifest: dict) -> list[str]:
    problems: list[str] = []
    icons = manifest.get("icons") or {}
    for kind, size in ICONS.items():
        name = icons.get(kind)
        if not name or "/" in name or "\\" in name:
            problems.append(f"icons.{kind} must name a file beside manifest.json, got {name!r}")
            continue
        path = folder / name
        if not path.is_file():
            problems.append(f"icons.{kind}: no {path}")
            continue
        try:
            png = read_png(path.read_bytes())
        except PngError as exc:
            problems.append(f"{name}: {exc}")
            continue
        if (png.width, png.height) != (size, size):
            problems.append(f"{name}: {png.width}×{png.height}, Teams needs {size}×{size}")
        if kind == "outline":
            if not png.has_alpha:
                problems.append(f"{name}: needs a transparent background (an alpha channel)")
            visible = [p for p in png.pixels if p[3] > 0]
            if len(visible) == len(png.pixels):
                problems.append(f"{name}: no transparent pixel; the background must be transparent")
            if not visible:
                problems.append(f"{name}: fully transparent; draw the outline in white")
            coloured = sum(1 for r, g, b, a in visible if (r, g, b) != (255, 255, 255))
            if coloured:
                problems.append(f"{name}: {coloured} visible pixels are not white; the outline must be white only")
    return problems


def build(
    env: str,
    *,
    root: Path = ROOT,
    env_dir: Path | None = None,
    schema: Path | None = None,
    require_schema: bool = False,
    router=None,
) -> Built:
    """Build appPackage/build/appPackage.<env>.zip (and manifest.<env>.json beside it)."""
    folder = root / "appPackage"
    values = load_env(env, env_dir or root / "env")
    text = render((folder / "manifest.json").read_text(encoding="utf-8"), values)
    try:
        manifest = json.loads(text)
    except ValueError as exc:
        raise PackageError(f"appPackage/manifest.json is not valid JSON once filled in: {exc}") from None
    notes: list[str] = []
    problems: list[str] = []
    schema = schema or find_schema(root)
    if schema is not None:
        problems += schema_problems(manifest, schema)
        notes.append(f"validated against {schema}")
    elif require_schema:
        problems.append(f"the official schema was not found at {' or '.join(map(str, schema_candidates(root)))}")
    else:
        notes.append(
            f"schema check SKIPPED: {SCHEMA_NAME} not found beside the checkout "
            f"({', '.join(map(str, schema_candidates(root)))})"
        )
    problems += command_problems(manifest, router)
    problems += permission_problems(manifest)
    problems += tab_problems(manifest)
    problems += icon_problems(folder, manifest)
    if problems:
        raise PackageError(f"the {env} app package was not built:\n  - " + "\n  - ".join(problems))
    out = folder / "build"
    out.mkdir(parents=True, exist_ok=True)
    filled = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    (out / f"manifest.{env}.json").write_text(filled, encoding="utf-8")
    zip_path = out / f"appPackage.{env}.zip"
    tmp = zip_path.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
        # Teams wants the three files at the root of the zip, not in a folder.
        _add(z, "manifest.json", filled.encode("utf-8"))
        for kind in ICONS:
            name = manifest["icons"][kind]
            _add(z, name, (folder / name).read_bytes())
    tmp.replace(zip_path)
    return Built(env, zip_path, manifest, schema, notes)


def _add(z: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    z.writestr(info, data)
