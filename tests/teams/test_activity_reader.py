"""bot/teams/activity_reader.py reads every activity into exactly the Activity msrest's deserializer gives."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from botbuilder.schema import Activity
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from msrest.exceptions import DeserializationError
from msrest.serialization import Model

from bot.teams import activity_reader
from bot.teams.activity_reader import read_activity

TENANT = "00000000-0000-0000-0000-0000000000aa"
BASE = {
    "id": "act-1",
    "channelId": "msteams",
    "serviceUrl": "http://127.0.0.1:9/",
    "from": {"id": "29:user", "name": "Tom Hollis", "aadObjectId": "aad-1", "role": "user"},
    "recipient": {"id": "28:bot", "name": "Supervision"},
    "conversation": {"id": "a:conv", "conversationType": "personal", "tenantId": TENANT},
    "channelData": {"tenant": {"id": TENANT}},
    "timestamp": "2026-11-23T10:00:00.000Z",
    "localTimestamp": "2026-11-23T10:00:00.1234567+00:00",
    "locale": "en-GB",
}

CORPUS = [
    BASE | {"type": "message", "text": "help"},
    BASE
    | {
        "type": "message",
        "text": "<at>Supervision</at> request",
        "entities": [
            {"type": "mention", "text": "<at>Supervision</at>", "mentioned": {"id": "28:bot", "name": "Supervision"}},
            {"type": "clientInfo", "locale": "en-GB", "country": "GB", "platform": "Web", "timezone": "Europe/London"},
        ],
        "attachments": [{"contentType": "text/html", "content": "<p>request</p>"}],
        "textFormat": "plain",
        "replyToId": "msg-1",
    },
    BASE
    | {
        "type": "invoke",
        "name": "adaptiveCard/action",
        "replyToId": "msg-2",
        "value": {
            "action": {"type": "Action.Execute", "verb": "request.submit", "data": {"draft_id": "x", "n": [1, 2]}},
            "trigger": "manual",
        },
    },
    BASE | {"type": "conversationUpdate", "membersAdded": [{"id": "28:bot"}, {"id": "29:user", "name": "T"}]},
    BASE | {"type": "installationUpdate", "action": "add"},
    BASE
    | {
        "type": "message",
        "conversation": {"id": "19:chan;messageid=7", "conversationType": "channel", "isGroup": True},
        "channelData": {"team": {"id": "19:team"}, "channel": {"id": "19:chan"}, "tenant": {"id": TENANT}},
        "unknownTopLevel": {"kept": ["in", "additional_properties"]},
        "relatesTo": {"activityId": "1", "conversation": {"id": "c"}, "channelId": "msteams", "serviceUrl": "s"},
        "suggestedActions": {"to": ["a"], "actions": [{"type": "imBack", "title": "Yes", "value": "yes"}]},
        "textHighlights": [{"text": "x", "occurrence": 1}],
        "reactionsAdded": [{"type": "like"}],
        "listenFor": ["a", "b"],
        "semanticAction": {"id": "s", "entities": {"e": {"type": "t", "extra": 1}}, "state": "start"},
    },
    BASE | {"type": "message", "from": {"id": "29:u", "name": None}, "text": None},
]


def same(a, b, path="activity") -> None:
    """Field-by-field equality of two msrest models (or values), types included."""
    assert type(a) is type(b), (path, type(a), type(b))
    if isinstance(a, Model):
        va, vb = vars(a), vars(b)
        assert va.keys() == vb.keys(), (path, va.keys() ^ vb.keys())
        for k in va:
            same(va[k], vb[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{path}[{i}]")
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            same(a[k], b[k], f"{path}[{k!r}]")
    elif isinstance(a, dt.datetime):
        assert (a, a.utcoffset()) == (b, b.utcoffset()), path
    else:
        assert a == b, (path, a, b)


def msrest(body: dict):
    try:
        return Activity().deserialize(json.loads(json.dumps(body)))
    except DeserializationError as exc:
        return exc


def ours(body: dict):
    try:
        return read_activity(json.loads(json.dumps(body)))
    except DeserializationError as exc:
        return exc


@pytest.mark.parametrize("body", CORPUS, ids=lambda b: b["type"])
def test_the_activities_teams_sends_read_the_same_as_msrest_reads_them(body):
    same(ours(body), msrest(body))


def test_the_fast_plan_reads_them_without_falling_back(monkeypatch):
    """Not a fallback in disguise: msrest is never asked for these bodies."""

    def refuse(*_a, **_k):
        raise AssertionError("fell back to msrest")

    monkeypatch.setattr(activity_reader.Activity, "deserialize", refuse)
    for body in CORPUS:
        read_activity(json.loads(json.dumps(body)))


def test_a_field_of_the_wrong_type_is_read_by_msrest_with_its_own_answer():
    for odd in (
        {"text": 5},
        {"from": "a string"},
        {"entities": {"not": "a list"}},
        {"timestamp": "not a date"},
        {"timestamp": 12},
        {"membersAdded": [1, 2]},
        {"historyDisclosed": "true"},
    ):
        body = BASE | {"type": "message"} | odd
        a, b = ours(body), msrest(body)
        if isinstance(b, Exception):
            assert type(a) is type(b), odd
        else:
            same(a, b)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)
KEYS = sorted({d["key"] for d in Activity._attribute_map.values()}) + ["extra", "mentioned"]
ACCOUNT = st.fixed_dictionaries({"id": st.text(max_size=10)}, optional={"name": JSON, "aadObjectId": JSON, "x": JSON})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(st.sampled_from(KEYS), JSON | ACCOUNT | st.lists(ACCOUNT, max_size=2), max_size=10),
    st.sampled_from(["2026-11-23T10:00:00Z", "2026-11-23T10:00:00.5+01:00", "bad", ""]),
)
def test_any_body_reads_the_same_as_msrest_reads_it(fields, stamp):
    body = {"type": "message", "timestamp": stamp} | fields
    a, b = ours(body), msrest(body)
    if isinstance(b, Exception):
        assert type(a) is type(b)
    else:
        same(a, b)


@pytest.mark.parametrize(
    "stamp",
    [
        "2026-11-23T10:00:00Z",
        "2026-11-23T10:00:00.1Z",
        "2026-11-23T10:00:00.123Z",
        "2026-11-23T10:00:00.1234567Z",
        "2026-11-23T10:00:00.9999999+01:00",
        "2026-03-29T01:30:00.000+05:30",
        "2026-11-23T23:59:59.5-08:00",
        "2026-11-23t10:00:00z",
        "2026-13-23T10:00:00Z",
        "2026-02-30T10:00:00Z",
        "0000-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999999-01:00",
        "2026-11-23 10:00:00Z",
        "2026-11-23T10:00Z",
    ],
)
def test_a_timestamp_is_the_instant_msrest_reads(stamp):
    from msrest.serialization import Deserializer

    try:
        want = Deserializer.deserialize_iso(stamp)
    except Exception as exc:  # noqa: BLE001 - whatever msrest raises, ours raises too
        with pytest.raises(type(exc)):
            activity_reader._iso(stamp)
        return
    got = activity_reader._iso(stamp)
    assert (got, got.utcoffset()) == (want, want.utcoffset())
