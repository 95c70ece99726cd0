"""The production in-doubt reader (bot/outbox/indoubt.py GraphChatHistory over graph/msgraph/chats.py): the real
msgraph-sdk against the Graph double, with the outbox and the Teams handlers. A send whose answer was lost is looked
up in the person's 1:1 chat (installedApps → chat → messages) or the Safeguarding channel: found → delivered without a
second message; not found, or Graph cannot say (403, 404, throttled, too slow) → sent again."""

from __future__ import annotations

import logging

import pytest

from bot.messaging import SendError
from bot.outbox.indoubt import GraphChatHistory, HttpChatHistory, chat_history_for, marker_of
from bot.store import conversations
from tests.fakes.m365 import CHANNEL_ID, TEAM_ID, TEAMS_APP_ID
from tests.fakes.messenger import FakeMessenger
from tests.faults.test_in_doubt import deliver_twice

pytestmark = pytest.mark.graph

CARD = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "hello"}]}


class TeamsOverGraph(FakeMessenger):
    """Teams as the double holds it: a send Teams accepts lands in the chat (or channel) Graph reads back. The first
    send's answer is lost on the way back (status None), whether or not Teams accepted it."""

    def __init__(self, double, *, accept_first: bool, lose: int = 1):
        super().__init__()
        self.double, self.accept_first, self.lose, self.calls = double, accept_first, lose, 0

    async def send_card(self, reference, card, *, text=None):
        self.calls += 1
        accepted = self.calls > self.lose or self.accept_first
        if accepted:
            conv = reference["conversation"]
            if conv.get("conversationType") == "channel":
                self.double.post_to_channel(TEAM_ID, conv["id"].split(";")[0], card)
            else:
                user = reference["user"]["aadObjectId"]
                self.double.post_to_chat(self.double.personal_chat_id(user, TEAMS_APP_ID), card, text=text)
        if self.calls <= self.lose:
            raise SendError(None)
        return await super().send_card(reference, card, text=text)


@pytest.fixture
async def setup(graph_backend, double, school, sqlite_db, clock):
    backend = graph_backend.default
    db = sqlite_db

    async def ref(staff_id: str, *, installed: bool = True):
        aad = school.staff[staff_id].aad_object_id
        if installed:
            await backend.apps.install_for_user(aad)
        async with db.session() as s:
            await conversations.save_reference(
                s,
                conversations.Reference(
                    kind="personal",
                    key=staff_id,
                    staff_id=staff_id,
                    conversation_id=f"a:1{staff_id}",
                    service_url="http://connector",
                    reference={
                        "conversation": {"id": f"a:1{staff_id}", "conversationType": "personal"},
                        "user": {"id": f"29:{staff_id}", "aadObjectId": aad},
                    },
                ),
                now=clock(),
            )

    async def channel_ref():
        cfg = school.settings.safeguarding_channel
        async with db.session() as s:
            await conversations.save_reference(
                s,
                conversations.Reference(
                    kind="channel",
                    key=cfg.channel_id,
                    staff_id=None,
                    conversation_id=CHANNEL_ID,
                    service_url="http://connector",
                    # A reference learnt from a message in a thread: the channel is what comes before ';messageid='.
                    reference={"conversation": {"id": f"{CHANNEL_ID};messageid=1700", "conversationType": "channel"}},
                    channel_name="Safeguarding",
                ),
                now=clock(),
            )

    async def deliver(messenger, rows, *, history=None, kind="teams.notify"):
        history = history or chat_history_for(backend)
        return await deliver_twice(db, school, clock, messenger, history, rows, kind=kind)

    class Setup:
        pass

    out = Setup()
    out.backend, out.ref, out.channel_ref, out.deliver = backend, ref, channel_ref, deliver
    return out


def _installed_apps_reads(double):
    return double.find("GET", r"^/users/[^/]+/teamwork/installedApps$")


async def test_the_msgraph_backend_is_the_reader_and_local_mode_keeps_its_url(setup):
    assert isinstance(chat_history_for(setup.backend), GraphChatHistory)
    assert chat_history_for(setup.backend).team_id == TEAM_ID
    local = chat_history_for(object(), local_url="http://127.0.0.1:9/history")
    assert isinstance(local, HttpChatHistory)
    assert chat_history_for(object()) is None


async def test_a_send_teams_accepted_is_found_in_the_chat_and_not_sent_again(setup, double, school):
    await setup.ref("tom.hollis")
    m = TeamsOverGraph(double, accept_first=True)
    [row] = await setup.deliver(m, [("n1", {"staff_id": "tom.hollis", "card": CARD})])
    assert row.status == "delivered" and row.result.get("reconciled") is True
    assert m.calls == 1 and m.sent == []  # one message in Teams: the first, whose answer was lost
    chat = double.personal_chat_id(school.staff["tom.hollis"].aad_object_id, TEAMS_APP_ID)
    [msg] = double.chat_messages[chat]
    assert f'"{marker_of(row.id)}"' in msg["attachments"][0]["content"]
    assert row.result.get("activity_id") == msg["id"]
    # The look-up: the installation (filtered to our app, definition expanded), its chat, then one page of messages.
    [apps] = _installed_apps_reads(double)
    assert apps.query["$filter"] == f"teamsApp/id eq '{TEAMS_APP_ID}'"
    assert "teamsAppDefinition" in apps.query["$expand"]
    assert len(double.find("GET", r"/teamwork/installedApps/[^/]+/chat$")) == 1
    [read] = double.find("GET", r"^/chats/[^/]+/messages$")
    assert read.path == f"/chats/{chat}/messages" and read.query["$top"] == "50"


async def test_a_send_teams_never_got_is_sent_on_the_retry(setup, double):
    await setup.ref("tom.hollis")
    m = TeamsOverGraph(double, accept_first=False)
    [row] = await setup.deliver(m, [("n1", {"staff_id": "tom.hollis", "card": CARD})])
    assert row.status == "delivered" and not row.result.get("reconciled")
    assert m.calls == 2 and len(m.sent) == 1
    assert len(double.find("GET", r"^/chats/[^/]+/messages$")) == 1  # looked, did not find, sent


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(("GET", r"^/chats/[^/]+/messages$", 403), id="403-no-consent"),
        pytest.param(("GET", r"/teamwork/installedApps/[^/]+/chat$", 404), id="404-chat"),
        pytest.param(("GET", r"^/chats/[^/]+/messages$", 429), id="throttled"),
        pytest.param(("GET", r"^/users/[^/]+/teamwork/installedApps$", 503), id="unavailable"),
    ],
)
async def test_when_graph_cannot_say_the_send_goes_again(setup, double, fault, caplog):
    double.errors_expected = True
    method, path, status = fault
    double.fail(method, path, status=status, retry_after=0 if status == 429 else None, times=None)
    await setup.ref("tom.hollis")
    m = TeamsOverGraph(double, accept_first=True)
    with caplog.at_level(logging.WARNING, logger="bot.outbox.indoubt"):
        [row] = await setup.deliver(m, [("n1", {"staff_id": "tom.hollis", "card": CARD})])
    assert row.status == "delivered" and not row.result.get("reconciled")
    assert m.calls == 2 and len(m.sent) == 1  # twice in Teams: the known cost of "cannot tell"
    [line] = [r.getMessage() for r in caplog.records if r.name == "bot.outbox.indoubt"]
    assert "chat history unavailable" in line and "hello" not in line and "outbox-" not in line


async def test_a_person_without_the_app_is_not_found_and_the_send_goes_again(setup, double):
    await setup.ref("tom.hollis", installed=False)
    m = TeamsOverGraph(double, accept_first=False)
    [row] = await setup.deliver(m, [("n1", {"staff_id": "tom.hollis", "card": CARD})])
    assert row.status == "delivered" and m.calls == 2
    assert len(_installed_apps_reads(double)) == 1 and not double.find("GET", r"/messages$")


async def test_a_slow_graph_is_cannot_tell(setup, double):
    await setup.ref("tom.hollis")
    double.slow("GET", r"^/chats/[^/]+/messages$", delay=1.0)
    m = TeamsOverGraph(double, accept_first=True)
    history = GraphChatHistory(setup.backend.chats, team_id=TEAM_ID, timeout=0.2)
    [row] = await setup.deliver(m, [("n1", {"staff_id": "tom.hollis", "card": CARD})], history=history)
    assert row.status == "delivered" and not row.result.get("reconciled") and m.calls == 2


async def test_the_chat_id_is_looked_up_once_per_person(setup, double, school):
    await setup.ref("tom.hollis")
    await setup.ref("grace.mensah")
    m = TeamsOverGraph(double, accept_first=True, lose=3)  # three sends whose answers are lost, all accepted
    rows = await setup.deliver(
        m,
        [
            ("n1", {"staff_id": "tom.hollis", "card": CARD}),
            ("n2", {"staff_id": "tom.hollis", "card": CARD}),
            ("n3", {"staff_id": "grace.mensah", "card": CARD}),
        ],
    )
    assert [r.result.get("reconciled") for r in rows] == [True, True, True] and m.sent == []
    looked_up = sorted(r.path.split("/")[2] for r in _installed_apps_reads(double))
    people = sorted(school.staff[p].aad_object_id for p in ("tom.hollis", "grace.mensah"))
    assert looked_up == people  # one installedApps look-up per person, not per send
    assert len(double.find("GET", r"^/chats/[^/]+/messages$")) == 3


async def test_a_channel_post_teams_accepted_is_found_in_the_channel(setup, double):
    await setup.channel_ref()
    m = TeamsOverGraph(double, accept_first=True)
    [row] = await setup.deliver(m, [("c1", {"card": CARD})], kind="teams.channel")
    assert row.status == "delivered" and row.result.get("reconciled") is True and m.calls == 1
    [read] = double.find("GET", r"^/teams/[^/]+/channels/[^/]+/messages$")
    assert read.path == f"/teams/{TEAM_ID}/channels/{CHANNEL_ID}/messages" and read.query["$top"] == "50"
    assert not _installed_apps_reads(double)


async def test_a_channel_post_is_sent_again_when_the_team_has_not_consented(setup, double):
    double.errors_expected = True
    double.fail("GET", r"^/teams/[^/]+/channels/[^/]+/messages$", status=403, times=None)
    await setup.channel_ref()
    m = TeamsOverGraph(double, accept_first=True)
    [row] = await setup.deliver(m, [("c1", {"card": CARD})], kind="teams.channel")
    assert row.status == "delivered" and not row.result.get("reconciled") and m.calls == 2


async def test_without_a_team_id_the_channel_is_not_read(setup, double):
    await setup.channel_ref()
    m = TeamsOverGraph(double, accept_first=True)
    history = GraphChatHistory(setup.backend.chats, team_id=None)
    [row] = await setup.deliver(m, [("c1", {"card": CARD})], kind="teams.channel", history=history)
    assert m.calls == 2 and not double.find("GET", r"/messages$")


async def test_a_group_chat_or_a_reference_without_the_person_is_not_read(setup, double):
    history = chat_history_for(setup.backend)
    group = {"conversation": {"id": "19:abc@thread.v2", "conversationType": "groupChat"}, "user": {"aadObjectId": "x"}}
    assert await history.find(group, "outbox-1") is None
    assert await history.find({"conversation": {"id": "a:1tom"}}, "outbox-1") is None
    assert await history.find({}, "outbox-1") is None
    assert double.requests == []
