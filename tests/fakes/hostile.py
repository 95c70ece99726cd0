"""Hostile input for the real app: hypothesis strategies for Teams activities and card submits, a seeding pass
that harvests real verbs, card data and ids from the cards the bot itself renders, and a runner that posts one
case and judges it (status, crash, hang, partial write). Used by tests/teams/test_hostile_input.py (a few hundred
cases) and bench/fuzz.py (≥ 10 000).

Judging one case:
- 5xx: any HTTP status ≥ 500.
- crash: a turn that reached botbuilder's on_turn_error ("turn failed"), or an exception aiohttp had to catch.
- hang: the case did not finish within HANG_GUARD seconds (asyncio.wait_for, a guard — not a timing assertion).
- partial write: a case where no write may happen (refused with a 4xx, dropped with 202, or sent by someone not
  on the staff list) changed the row count of any table.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from dataclasses import dataclass, field

from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.fakes.teams import BOT, Person, person

HANG_GUARD = 2.0

# ---- text ---------------------------------------------------------------------------------------------------
RTL = "\u202e"  # right-to-left override
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
COMBINING = "e" + "\u0301\u0302\u0303\u0308" * 8
EMOJI = "👩‍👩‍👧‍👦🏳️‍🌈🧑🏽‍🏫🇬🇧"
NASTY_TEXT = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\x00" * 64,
    "\r\n\t\v\f",
    RTL + "gpj.exe",
    "abc" + RTL + "def",
    ZERO_WIDTH,
    "he" + ZERO_WIDTH + "lp",
    COMBINING,
    EMOJI,
    EMOJI * 50,
    "\ud800",
    "x\udfffy",  # lone surrogates
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<at>Supervision</at>",
    "<at>",
    "</at><at>",
    "[click](javascript:alert(1))",
    "**bold** _it_ `code` # h1",
    "${{7*7}} {{7*7}} {% raw %} #{7*7}",
    "'; DROP TABLE supervision_requests; --",
    "\" OR 1=1 --",
    "../../../../etc/passwd",
    "C:\\Windows\\win.ini",
    "%00%2e%2e%2f",
    "\\u0000",
    "null",
    "None",
    "undefined",
    "NaN",
    "true",
    "0",
    "-1",
    "1e309",
    "0x10",
    "help",
    "HELP",
    " help ",
    "request",
    "record",
    "note",
    "agreement",
    "?",
    "menu",
    "٠١٢٣٤٥٦٧٨٩",
    "Ω≈ç√∫",
    "𝕿𝖊𝖘𝖙",
    "ﷺ",
    "ǅ",
    "İ",
    "ß",
    "\u0345",
    "\uffff",
    "\U0010ffff",
    "x" * 4000,
    "x" * 4001,
]
HUGE_TEXT = [
    "x" * 100_000,
    "é" * 100_000,
    (RTL + "a") * 50_000,
    ("a" + "\u0301" * 3) * 25_000,
    "<script>" * 12_500,
    "\x00" * 100_000,
]
DATES = [
    "2026-11-23",
    "2026-13-45",
    "2026-02-30",
    "0000-01-01",
    "0001-01-01",
    "9999-12-31",
    "10000-01-01",
    "1900-01-01",
    "2026-11-23T25:61:61Z",
    "2026-W48",
    "23/11/2026",
    "-2026-01-01",
    "yesterday",
    "",
    "2026-11-23T10:00:00+14:00",
    "2026-11-23T10:00:00-12:00",
    "1970-01-01T00:00:00Z",
]
TIMES = ["10:00", "24:00", "23:59:60", "-01:00", "9:5", "noon", "10:00:00.123456789", "99:99"]
NUMBERS = [
    0,
    -1,
    1,
    2**31 - 1,
    2**31,
    -(2**31) - 1,
    2**53,
    2**63,
    -(2**63) - 1,
    2**70,
    10**30,
    1e308,
    -1e308,
    0.5,
    -0.0,
    float("nan"),
    float("inf"),
]
# What goes into an id field: the forms an id can take, at and past every integer width the store uses.
ID_ATTACKS = [
    0,
    -1,
    1,
    2**31 - 1,
    2**31,
    2**32,
    2**53,
    2**53 + 1,
    2**63,
    2**70,
    "0",
    "-1",
    "00001",
    "1.0",
    "1e3",
    " 1 ",
    "2147483647",
    "2147483648",
    "4294967296",
    "99999999999",
    "9" * 19,
    "9" * 40,
    "",
    None,
    True,
    [1],
    {"id": 1},
    "1; DROP TABLE outbox",
    "١٢",
    "¹",
    "1\x00",
]


# Cached: a strategy built once is validated once (building them inside each draw made drawing 10× slower).
@functools.cache
def text(huge: bool = True) -> st.SearchStrategy[str]:
    parts = [
        st.sampled_from(NASTY_TEXT),
        st.text(max_size=40),
        st.builds(lambda a, b: a + b, st.sampled_from(NASTY_TEXT), st.sampled_from(NASTY_TEXT)),
    ]
    if huge:
        parts.append(st.sampled_from(HUGE_TEXT))
    return st.one_of(*parts)


@functools.cache
def scalars(huge: bool = True) -> st.SearchStrategy:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.sampled_from(NUMBERS),
        st.integers(),
        st.floats(),  # floats: NaN, ±inf too
        text(huge),
        st.sampled_from(DATES),
        st.sampled_from(TIMES),
    )


@functools.cache
def json_values(huge: bool = True) -> st.SearchStrategy:
    return st.recursive(
        scalars(huge),
        lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
        max_leaves=8,
    )


# ---- what the bot itself renders: verbs, their data, inputs ------------------------------------------------
def router_verbs(router) -> list[str]:
    """Every card verb the router knows. (Router keeps them in `_verbs`; should it become a typed registry,
    this is the one place to adapt.)"""
    verbs = getattr(router, "verbs", None)
    if callable(verbs):
        verbs = verbs()
    if verbs is None:
        verbs = router._verbs
    return sorted(verbs)


def router_commands(router) -> list[str]:
    return sorted({w for c in router.commands for w in c.words})


@dataclass
class Harvest:
    """Verbs with the data the bot put on its own buttons (real ids of real objects), and input ids by type."""

    actions: list[tuple[str, dict]] = field(default_factory=list)
    inputs: dict[str, str] = field(default_factory=dict)  # input id → Input.* type

    def add_card(self, card) -> None:
        for node in _walk(card):
            t = node.get("type")
            if t == "Action.Execute" and isinstance(node.get("verb"), str):
                data = node.get("data") if isinstance(node.get("data"), dict) else {}
                pair = (node["verb"], data)
                if pair not in self.actions:
                    self.actions.append(pair)
            elif isinstance(t, str) and t.startswith("Input.") and isinstance(node.get("id"), str):
                self.inputs.setdefault(node["id"], t)


def _walk(value):
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _cards_in(body) -> list[dict]:
    return [n for n in _walk(body) if n.get("type") == "AdaptiveCard"] if body else []


def _filled(card: dict) -> dict:
    """Plausible answers for a card's inputs, as a person would give them: its defaults, else the first choice,
    a date inside the demo school's Autumn 2, a time in the school day, a short text."""
    out = {}
    for node in _walk(card):
        t, key = node.get("type"), node.get("id")
        if not (isinstance(t, str) and t.startswith("Input.") and isinstance(key, str)):
            continue
        if node.get("value") not in (None, ""):
            out[key] = node["value"]
        elif t == "Input.ChoiceSet":
            choices = [c.get("value") for c in node.get("choices") or [] if isinstance(c, dict)]
            if choices:
                out[key] = ",".join(choices[:2]) if node.get("isMultiSelect") else choices[0]
        elif t == "Input.Date":
            out[key] = "2026-11-26"
        elif t == "Input.Time":
            out[key] = "15:30"
        elif t == "Input.Toggle":
            out[key] = node.get("valueOn", "true")
        elif t == "Input.Number":
            out[key] = str(node.get("min", 1))
        else:
            out[key] = "Seeded by the fuzz bench."
    return out


async def seed(driver, school, router, *, people: list[str], depth: int = 3, rounds: int = 2) -> Harvest:
    """As each person in turn (for `rounds` rounds, so later people see what earlier ones made): install the bot,
    send every command, then click every button found, `depth` levels deep, with the card's inputs filled in.
    Leaves real objects in the store (requests, meetings, drafts …) and returns what the cards offered."""
    harvest = Harvest()
    seen: set[str] = set()
    for _ in range(rounds):
        for staff_id in people:
            who = person(school, staff_id)
            await driver.install(who)
            frontier: list[dict] = []
            for word in router_commands(router):
                start = len(driver.connector.sent)
                await driver.say(who, word)
                frontier += [c for s in driver.connector.sent[start:] for c in _cards_in(s.activity)]
            for _ in range(depth):
                nxt: list[dict] = []
                for card in frontier:
                    harvest.add_card(card)
                    answers = _filled(card)
                    for node in _walk(card):
                        if node.get("type") != "Action.Execute" or not isinstance(node.get("verb"), str):
                            continue
                        data = {**answers, **(node.get("data") or {})}
                        key = who.staff_id + json.dumps([node["verb"], data], sort_keys=True, default=str)
                        if key in seen:
                            continue
                        seen.add(key)
                        start = len(driver.connector.sent)
                        _, body = await driver.submit(who, node["verb"], data)
                        nxt += _cards_in(body) + [
                            c for s in driver.connector.sent[start:] for c in _cards_in(s.activity)
                        ]
                frontier = nxt
            for card in frontier:
                harvest.add_card(card)
            driver.connector.clear()
    return harvest


# ---- cases --------------------------------------------------------------------------------------------------
ACTIVITY_TYPES = [
    "message",
    "invoke",
    "conversationUpdate",
    "installationUpdate",
    "event",
    "messageReaction",
    "typing",
    "endOfConversation",
    "messageUpdate",
    "messageDelete",
    "trace",
    "handoff",
    "no-such-type",
    "",
    "MESSAGE",
]
INVOKE_NAMES = [
    "adaptiveCard/action",
    "task/fetch",
    "task/submit",
    "composeExtension/query",
    "composeExtension/submitAction",
    "signin/verifyState",
    "signin/tokenExchange",
    "config/fetch",
    "fileConsent/invoke",
    "actionableMessage/executeAction",
    "tab/fetch",
    "healthCheck",
    "application/search",
    "handoff/action",
    "",
    "ADAPTIVECARD/ACTION",
    "adaptiveCard/action ",
]
ENVELOPE_FIELDS = [
    "from",
    "recipient",
    "conversation",
    "channelData",
    "channelId",
    "timestamp",
    "localTimestamp",
    "locale",
    "id",
    "replyToId",
    "entities",
    "attachments",
    "value",
    "text",
    "name",
    "textFormat",
    "membersAdded",
    "membersRemoved",
    "action",
    "callerId",
    "deliveryMode",
    "importance",
]
# serviceUrl is where the bot replies: it is only ever made malformed, never pointed at another host (tests must
# not send anything beyond loopback) nor at a closed port (a connector outage is a fault test, not input: msrest
# retries for ~10 s).
BAD_SERVICE_URLS = [
    None,
    "",
    42,
    ["x"],
    {"a": 1},
    "not a url",
    "javascript:alert(1)",
    "http://",
    "ftp://127.0.0.1/",
    "\x00",
    "http://[::1",
    "http://127.0.0.1:99999/",
    "//127.0.0.1/",
    "http://127.0.0.1:9/" + "a" * 3000,
]


@dataclass
class Case:
    activity: dict
    stranger: bool
    ensure_ascii: bool
    label: str
    kind: str = "personal"


def cases(driver, school, router, harvest: Harvest, staff_ids: list[str]) -> st.SearchStrategy[Case]:
    """Hostile cases built from what the bot itself shows (the harvest): the suite and bench/fuzz.py alike."""
    verbs = router_verbs(router)
    inputs = sorted(harvest.inputs) or ["note"]
    actions = harvest.actions or [(v, {}) for v in verbs]
    # Ids that exist: every value found on the bot's own buttons (request ids, draft keys, meeting ids …), so
    # that submits name other people's real objects, not only random ones.
    real_values = sorted({v for _, d in actions for v in d.values() if isinstance(v, (str, int))}, key=str) or [""]
    # Every strategy is built once, here; the draws below only pick from them.
    big, small = json_values(), json_values(False)
    s_real = st.sampled_from(real_values)
    s_values = st.one_of(big, s_real)
    s_keys = st.sampled_from(sorted({k for _, d in actions for k in d} | set(inputs)))
    s_mode = st.sampled_from(["real", "real+inputs", "swapped", "ids", "random", "typed"])
    s_id_attack = st.sampled_from(ID_ATTACKS)
    s_action = st.sampled_from(actions)
    s_inputs = st.lists(st.sampled_from(inputs), max_size=6, unique=True)
    s_random_data = st.dictionaries(s_keys, s_values, max_size=8)
    s_extra = st.dictionaries(st.text(max_size=10), s_values, max_size=2)
    s_verb = st.sampled_from(verbs)
    s_small_text = text(huge=False)
    s_any_text = text()
    s_coin = st.booleans()
    s_d10 = st.integers(0, 9)
    s_who = st.sampled_from(staff_ids)
    s_stranger_aad = st.sampled_from(["99999999-0000-4000-8000-000000000000", "", "x" * 300])
    s_kind = st.sampled_from(["personal", "personal", "personal", "channel", "groupChat"])
    s_channel = st.sampled_from(
        [school.settings.safeguarding_channel.channel_id or "19:x@thread.tacv2", "19:general@thread.tacv2"]
    )
    s_type = st.sampled_from(ACTIVITY_TYPES + ["message", "invoke", "invoke", "invoke"])
    s_invoke_name = st.sampled_from(["adaptiveCard/action"] * len(INVOKE_NAMES) + INVOKE_NAMES)
    s_action_type = st.sampled_from(["Action.Execute"] * 6 + ["Action.Submit", "", None, 7])
    s_members = st.one_of(st.lists(st.one_of(st.just(BOT), small), max_size=3), small)
    s_install = st.one_of(st.sampled_from(["add", "remove", "add-upgrade", ""]), small)
    s_fields = st.lists(st.sampled_from(ENVELOPE_FIELDS), max_size=3, unique=True)
    s_bad_url = st.sampled_from(BAD_SERVICE_URLS)
    s_extra_envelope = st.dictionaries(st.text(max_size=8), small, max_size=2)

    def card_data(draw) -> dict:
        mode = draw(s_mode)
        verb, data = draw(s_action)
        data = dict(data)
        if mode in ("real+inputs", "swapped", "typed"):
            for key in draw(s_inputs):
                data[key] = draw(s_values)
        if mode == "swapped":  # someone else's real ids in the right fields
            for key in list(data):
                if draw(s_coin):
                    data[key] = draw(s_real)
        if mode == "ids":  # every field the bot's own button carried, given an id-shaped attack
            for key in list(data):
                data[key] = draw(s_id_attack)
        if mode == "random":
            data = draw(s_random_data)
        for key in sorted(data):
            if draw(s_d10) == 0:
                del data[key]  # missing fields
        data.update(draw(s_extra))  # extra fields
        if mode == "typed":
            for key in list(data):
                if draw(s_coin):
                    data[key] = draw(big)  # wrong types
        pick = draw(st.integers(0, 5))
        if pick == 1:
            verb = draw(s_verb)  # a real verb with the wrong data
        elif pick == 2:
            verb = draw(s_small_text)
        elif pick == 3:
            verb = draw(small)
        return {"verb": verb, "data": data}

    @st.composite
    def case(draw) -> Case:
        stranger = draw(s_d10) == 0
        who = Person("stranger", draw(s_stranger_aad), "A Stranger") if stranger else person(school, draw(s_who))
        kind = draw(s_kind)
        act = driver._base(who, kind="channel" if kind == "channel" else "personal", channel={"id": draw(s_channel)})
        if kind == "groupChat":
            act["conversation"]["conversationType"] = "groupChat"
        atype = draw(s_type)
        act["type"] = atype
        label = atype
        if atype == "invoke":
            name = draw(s_invoke_name)
            submit = card_data(draw)
            value = {"action": {"type": draw(s_action_type), **submit}, "trigger": "manual"}
            act |= {"name": name, "value": value, "replyToId": "msg-fuzz"}
            label = f"invoke {name}"
        elif atype == "message":
            if draw(s_coin):
                act["text"] = draw(s_any_text)
            else:
                act["value"] = card_data(draw)  # Action.Submit arrives as a message
                act["text"] = None if draw(s_coin) else draw(s_small_text)
        elif atype == "conversationUpdate":
            act["membersAdded"] = [BOT, who.account] if draw(s_coin) else draw(s_members)
        elif atype == "installationUpdate":
            act["action"] = draw(s_install)
        # Most cases keep a sound envelope, so that the hostile part reaches the journeys.
        if draw(st.integers(0, 2)) == 0:
            for fld in draw(s_fields):
                if draw(s_coin):
                    act.pop(fld, None)
                else:
                    act[fld] = draw(small)
        if draw(st.integers(0, 14)) == 0:
            act["serviceUrl"] = draw(s_bad_url)
        for key, val in draw(s_extra_envelope).items():
            act.setdefault(key, val)
        return Case(act, stranger, draw(s_coin), label, kind)

    return case()


# ---- judging ------------------------------------------------------------------------------------------------
class CrashCounter(logging.Handler):
    """Counts turns that failed (on_turn_error) and exceptions aiohttp had to catch."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == "aiohttp.server" or record.getMessage().startswith("turn failed"):
            self.records.append(record)

    NAMES = ("bot.teams", "aiohttp.server")

    def __enter__(self) -> CrashCounter:
        self._levels = {}
        for name in self.NAMES:
            logger = logging.getLogger(name)
            self._levels[name] = logger.level
            if logger.getEffectiveLevel() > logging.ERROR:  # a quiet run must not blind the counter
                logger.setLevel(logging.ERROR)
            logger.addHandler(self)
        return self

    def __exit__(self, *exc) -> None:
        for name in self.NAMES:
            logger = logging.getLogger(name)
            logger.removeHandler(self)
            logger.setLevel(self._levels[name])


def all_tables():
    """Every table the models declare: each bot/store/models*.py module registers its tables on Base.metadata."""
    import importlib
    import pkgutil

    import bot.store
    from bot.store.base import Base

    for mod in pkgutil.iter_modules(bot.store.__path__):
        if mod.name.startswith("models"):
            importlib.import_module(f"bot.store.{mod.name}")
    return Base.metadata.sorted_tables


async def row_counts(db) -> dict[str, int]:
    """Rows in every table the models declare (SQLAlchemy metadata), in one connection."""
    tables = all_tables()
    query = select(*[select(func.count()).select_from(t).scalar_subquery().label(t.name) for t in tables])
    async with db.engine.connect() as conn:
        row = (await conn.execute(query)).one()
    return dict(zip((t.name for t in tables), row))


@dataclass
class Verdict:
    status: int | None
    error_5xx: bool = False
    crash: bool = False
    hang: bool = False
    partial_write: bool = False
    changed: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not (self.error_5xx or self.crash or self.hang or self.partial_write)


def encode(case: Case) -> bytes:
    raw = json.dumps(case.activity, ensure_ascii=case.ensure_ascii, allow_nan=True)
    # Lone surrogates cannot be UTF-8: sent as they are (invalid UTF-8) when not escaped.
    return raw.encode("utf-8", "surrogatepass")


async def run_case(driver, db, case: Case, crashes: CrashCounter) -> Verdict:
    before = await row_counts(db)
    crashed_before = len(crashes.records)
    status = None
    try:
        status = await asyncio.wait_for(_post(driver, encode(case)), HANG_GUARD)
    except TimeoutError:
        verdict = Verdict(None, hang=True)
    else:
        verdict = Verdict(status, error_5xx=status >= 500)
    verdict.crash = len(crashes.records) > crashed_before
    if verdict.hang:
        return verdict
    # Someone not on the staff list writes nothing — except that a channel the bot is in is remembered whoever
    # mentions it there (by design: the channel, not the person, is the reference).
    no_write_expected = (case.stranger and case.kind != "channel") or (
        status is not None and (400 <= status < 500 or status == 202)
    )
    if no_write_expected:
        after = await row_counts(db)
        # A refusal is written to the audit trail (issue 12): that row is the one write a refused turn makes.
        verdict.changed = {t: (before[t], after[t]) for t in before if before[t] != after[t] and t != "audit_events"}
        verdict.partial_write = bool(verdict.changed)
    return verdict


async def _post(driver, body: bytes) -> int:
    async with driver.http.post(driver.url, data=body, headers={"Content-Type": "application/json"}) as r:
        await r.read()
        return r.status


def describe(case: Case, verdict: Verdict) -> str:
    """For a failure report: the shape of the case, never its (possibly 100 KB) content."""
    a = case.activity
    value = a.get("value") if isinstance(a.get("value"), dict) else {}
    action = value.get("action") if isinstance(value.get("action"), dict) else value
    verb = action.get("verb") if isinstance(action, dict) else None
    return (
        f"{case.label} verb={str(verb)[:40]!r} stranger={case.stranger} status={verdict.status} "
        f"crash={verdict.crash} hang={verdict.hang} changed={verdict.changed}"
    )
