"""Where a command may be typed is enforced on the server (bot/scopes.py), not only by Teams' command menu: record
content never appears in a group chat, and the attendance picture never in a channel."""

from bot.journeys.router import ELSEWHERE
from tests.fakes.teams import person

CHANNEL = {"id": "19:safeguarding@thread.tacv2"}


async def test_record_content_commands_are_refused_in_a_group_chat(teams, connector, school):
    amara = person(school, "amara.okafor")
    for word in ("record", "attendance", "actions", "note", "myactions", "requests", "reminders", "sessions"):
        connector.clear()
        assert await teams.say(amara, word, kind="groupChat") in (200, 201)
        assert connector.texts() == [ELSEWHERE.format(word=word)] and not connector.cards(), word


async def test_help_and_request_still_work_in_a_group_chat(teams, connector, school):
    tom = person(school, "tom.hollis")
    for word in ("help", "request"):
        connector.clear()
        await teams.say(tom, word, kind="groupChat")
        assert connector.cards() and ELSEWHERE.format(word=word) not in connector.texts(), word


async def test_attendance_is_not_shown_in_a_channel_but_in_personal_chat_it_is(teams, connector, school):
    amara = person(school, "amara.okafor")
    await teams.say(amara, "attendance", kind="channel", channel=CHANNEL)
    assert connector.texts() == [ELSEWHERE.format(word="attendance")] and not connector.cards()
    connector.clear()
    await teams.say(amara, "attendance")
    assert connector.cards() and not connector.texts()
