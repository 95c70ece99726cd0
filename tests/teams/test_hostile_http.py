"""Hostile HTTP at /api/messages: what an outside prober tried — a body nested 50 000 deep, oversized bodies,
invokes the bot has no answer for, a turn that crashes mid-invoke — each answered with a clear status and body,
never a 500 from the edge, and the bot keeps serving."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.teams.adapter import MAX_BODY_BYTES, MAX_DEPTH, SORRY, _shape_problem, _shape_problem_of
from tests.fakes.teams import person


async def _raw(teams, body: bytes, **headers) -> tuple[int, dict | None]:
    async with teams.http.post(teams.url, data=body, headers={"Content-Type": "application/json", **headers}) as r:
        return r.status, (await r.json() if r.content_type == "application/json" else None)


async def _still_serving(teams, connector, school) -> None:
    connector.clear()
    assert await teams.say(person(school, "tom.hollis"), "help") in (200, 201)
    assert connector.cards(), "the bot stopped answering"


async def test_fifty_thousand_nested_objects_is_a_400_not_a_recursion_error(teams, connector, school):
    body = b'{"a":' * 50_000 + b"1" + b"}" * 50_000  # 300 KB: under the size limit, so it is parsed
    assert len(body) < MAX_BODY_BYTES
    status, reply = await _raw(teams, body)
    assert (status, reply) == (400, {"error": "body is not valid JSON"})
    await _still_serving(teams, connector, school)


async def test_a_parseable_but_deeply_nested_activity_is_refused_before_the_turn(teams, connector, db, school):
    act = teams._base(person(school, "tom.hollis")) | {"type": "message", "text": "help"}
    deep: dict = {}
    node = deep
    for _ in range(MAX_DEPTH + 5):
        node["a"] = {}
        node = node["a"]
    act["value"] = deep
    status, reply = await teams.post(act)
    assert status == 400 and "nested deeper" in reply["error"]
    assert not connector.sent
    # A normal activity is far from the limit.
    await _still_serving(teams, connector, school)


def _big_activity(teams, school, size: int) -> bytes:
    act = teams._base(person(school, "tom.hollis")) | {"type": "message", "text": "x" * size}
    return json.dumps(act).encode()


async def test_a_body_over_the_limit_is_a_413(teams, connector, school):
    status, reply = await _raw(teams, _big_activity(teams, school, MAX_BODY_BYTES))
    assert status == 413 and str(MAX_BODY_BYTES) in reply["error"]
    assert not connector.sent


async def test_a_chunked_body_over_the_limit_is_a_413(teams, connector, school):
    body = _big_activity(teams, school, MAX_BODY_BYTES)

    async def chunks():
        for i in range(0, len(body), 64 * 1024):
            yield body[i : i + 64 * 1024]

    async with teams.http.post(teams.url, data=chunks(), headers={"Content-Type": "application/json"}) as r:
        assert r.request_info.headers.get("Transfer-Encoding") == "chunked"
        assert r.status == 413 and "error" in await r.json()
    assert not connector.sent


async def test_a_body_over_the_apps_own_limit_is_a_413_too(teams, connector, school):
    status, reply = await _raw(teams, _big_activity(teams, school, 2 * 1024 * 1024))
    assert status == 413 and "error" in reply
    await _still_serving(teams, connector, school)


async def test_the_longest_message_teams_can_send_still_gets_the_polite_answer(teams, connector, school):
    """~100 KB of text (Teams' cap) plus its HTML copy: under the limit, so the person is told to shorten it."""
    act = teams._base(person(school, "tom.hollis")) | {
        "type": "message",
        "text": "é" * 100_000,
        "attachments": [{"contentType": "text/html", "content": "<p>" + "é" * 100_000 + "</p>"}],
    }
    body = json.dumps(act, ensure_ascii=False).encode()
    assert 300_000 < len(body) < MAX_BODY_BYTES
    status, _ = await _raw(teams, body)
    assert status in (200, 201)
    [msg] = connector.texts()
    assert "100000 characters" in msg


@pytest.mark.parametrize(
    "name",
    [
        "task/fetch",
        "task/submit",
        "composeExtension/query",
        "composeExtension/fetchTask",
        "signin/verifyState",
        "signin/tokenExchange",
        "config/fetch",
        "fileConsent/invoke",
        "actionableMessage/executeAction",
        "tab/fetch",
        "healthCheck",
        "",
        None,
    ],
)
async def test_an_invoke_the_app_does_not_handle_is_a_clear_400(teams, connector, db, school, name):
    act = teams._base(person(school, "tom.hollis")) | {"type": "invoke", "value": {"commandId": "x"}}
    if name is not None:
        act["name"] = name
    status, reply = await teams.post(act)
    assert status == 400, (name, status, reply)
    assert reply["statusCode"] == 400 and reply["type"] == "application/vnd.microsoft.error"
    assert reply["value"]["code"] == "NotSupported" and reply["value"]["message"]
    assert not connector.sent


@pytest.fixture
def boom(teams):
    """A verb whose journey raises, as a bug would (registered on the running app's router)."""
    from bot.app import SERVICES

    async def explode(services, turn):
        raise RuntimeError(f"bug while handling {turn.data.get('secret')}")

    teams.app[SERVICES].router.verb("test.boom", explode)
    return "test.boom"


async def test_a_crash_during_an_invoke_is_answered_in_place_not_an_empty_501(teams, connector, school, boom, caplog):
    status, body = await teams.submit(person(school, "tom.hollis"), boom, {"secret": "pupil name"})
    assert status == 500
    assert body["statusCode"] == 500 and body["type"] == "application/vnd.microsoft.error"
    assert body["value"]["message"] == SORRY
    assert not connector.sent  # the apology is in the card's place, not a second message
    assert "turn failed: RuntimeError" in caplog.text and "pupil name" not in caplog.text
    await _still_serving(teams, connector, school)


@pytest.mark.parametrize(
    "url", ["not a url", "javascript:alert(1)", "http://", "ftp://127.0.0.1/", 42, "http://127.0.0.1:99999/"]
)
async def test_a_service_url_the_bot_cannot_answer_is_refused_before_the_turn(teams, connector, db, school, url):
    from tests.fakes.hostile import row_counts

    before = await row_counts(db)
    act = teams._base(person(school, "tom.hollis")) | {"type": "message", "text": "help", "serviceUrl": url}
    status, reply = await teams.post(act)
    assert status == 400 and "serviceUrl" in reply["error"]
    assert await row_counts(db) == before  # not even the conversation reference is saved


@pytest.mark.parametrize(
    "field,value",
    [
        ("timestamp", "not a date"),
        ("timestamp", 12),
        ("from", {"id": 7}),
        ("conversation", {"id": ["x"]}),
        ("entities", "x"),
        ("attachments", {"a": 1}),
        ("recipient", "bot"),
        ("channelData", ["x"]),
        ("locale", {"x": 1}),
        # found by bench/fuzz.py: each of these was accepted, and the turn then failed part-way (on_turn_error)
        ("id", {}),
        ("id", {"": 0}),
        ("membersAdded", [None]),
        ("membersAdded", [{"id": 5}]),
        ("replyToId", 5),
        ("text", ["help"]),
        ("entities", [None]),
    ],
)
async def test_wrongly_typed_envelope_fields_are_refused_400(teams, connector, db, school, field, value, caplog):
    from tests.fakes.hostile import row_counts

    before = await row_counts(db)
    act = teams._base(person(school, "tom.hollis")) | {"type": "message", "text": "help", field: value}
    if field == "membersAdded":
        act["type"] = "conversationUpdate"
    status, reply = await teams.post(act)
    assert status == 400 and "error" in reply, (status, reply)
    assert "turn failed" not in caplog.text
    assert not connector.sent and await row_counts(db) == before
    await _still_serving(teams, connector, school)


@pytest.mark.parametrize(
    "raw,problem",
    [
        (b'"text": "help", "value": {"request_id": NaN}', "not valid JSON"),  # NaN/Infinity are not JSON
        (b'"text": "help", "value": {"request_id": Infinity}', "not valid JSON"),
        (b'"text": "help", "value": {"request_id": 2147483648}', "out of range"),  # past the store's int4 ids
        (b'"text": "help", "value": {"request_id": 1180591620717411303424}', "out of range"),  # 2**70
        (b'"text": "help", "channelData": {"n": 9007199254740993}', "out of range"),  # past what JavaScript can send
        (b'"text": "a\\u0000b"', "cannot be stored"),  # PostgreSQL text holds no NUL
        (b'"text": "\\ud800"', "cannot be stored"),  # a lone surrogate: not UTF-8
        (b'"text": "help", "value": {"\\u0000": 1}', "cannot be stored"),
    ],
)
async def test_values_no_teams_client_sends_are_refused_before_the_turn(teams, connector, db, school, raw, problem):
    from tests.fakes.hostile import row_counts

    before = await row_counts(db)
    act = teams._base(person(school, "tom.hollis")) | {"type": "message"}
    body = json.dumps(act)[:-1].encode() + b", " + raw + b"}"
    status, reply = await _raw(teams, body)
    assert status == 400 and problem in reply["error"], reply
    assert not connector.sent and await row_counts(db) == before


async def test_numbers_a_card_really_carries_still_work(teams, connector, school):
    act = teams._base(person(school, "tom.hollis")) | {
        "type": "message",
        "text": "help",
        "value": {"request_id": 2147483647, "n": -1, "x": 0.5},
        "channelData": {"tenant": {"id": "t"}, "big": 9007199254740991},
    }
    status, _ = await teams.post(act)
    assert status in (200, 201)


# ---- the walk is skipped only where it could not find anything -------------------------------------------------
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**64), max_value=2**64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(codec=None, exclude_categories=()), max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=60,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.dictionaries(st.sampled_from(["type", "value", "text", "channelData"]), _JSON, max_size=4))
def test_skipping_the_walk_never_changes_its_answer(body):
    """Every body — lone surrogates, U+0000, numbers of any size, deep nesting — gets the same answer from the raw
    bytes' pre-check as from the full walk, written the way Teams writes JSON (UTF-8, non-ASCII as is) and escaped."""
    for raw in (
        json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass"),
        json.dumps(body).encode(),
    ):
        assert _shape_problem_of(raw, json.loads(raw)) == _shape_problem(json.loads(raw))
