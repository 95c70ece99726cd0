"""Where each command may be used: personal chat, a team's channels, or a group chat with the bot.

One table, read by the Teams app package (its `commandLists` must list exactly these, per scope: see
bot/apppackage and tests/infra/test_app_package.py) and enforced by the router: a typed command outside its scopes
is answered with a pointer to the 1:1 chat, whatever the menu showed (bot/journeys/router.py dispatch).

The rule behind it: record content (group records, 1:1 notes, action lists, attendance) is for the person it
belongs to or the DSL team, so it lives in personal chat and, for group records, the Safeguarding channel. A group
chat with the bot may only ask for help or make a request; it never shows record content.
"""

from __future__ import annotations

PERSONAL, TEAM, GROUP_CHAT = "personal", "team", "groupChat"
ALL_SCOPES = (PERSONAL, TEAM, GROUP_CHAT)
# Teams' conversation types (Turn.conversation_kind) → manifest scopes.
SCOPE_OF_CONVERSATION = {"personal": PERSONAL, "channel": TEAM, "groupChat": GROUP_CHAT}

# Command word (the first word the router registers) → the scopes where it may be used.
SCOPES: dict[str, tuple[str, ...]] = {
    "help": (PERSONAL, TEAM, GROUP_CHAT),
    "request": (PERSONAL, GROUP_CHAT),  # the form is sent to the requester privately
    "requests": (PERSONAL,),  # names of people waiting: allocators only, in private
    "sessions": (PERSONAL,),
    "series": (PERSONAL,),  # a term of 1:1 sessions: the supervisor, in private
    "record": (PERSONAL, TEAM),  # the DSL team, in the Safeguarding channel
    "schedule": (PERSONAL, TEAM),
    "actions": (PERSONAL, TEAM),  # group-record actions, for the DSL meeting
    "attendance": (PERSONAL,),  # who has not attended is not for a channel
    "reminders": (PERSONAL,),  # who would be reminded: names, for the DSL team in private
    "specialist": (PERSONAL,),
    "enrichment": (PERSONAL,),
    "pool": (PERSONAL,),
    "note": (PERSONAL,),
    "agreement": (PERSONAL,),
    "myactions": (PERSONAL,),
    "audit": (PERSONAL,),  # who looked at what: names, for the DSL team in private
    "trust": (PERSONAL,),  # every school's figures, for the trust's leads
    "export": (PERSONAL,),  # the files go to the Safeguarding channel; the form and links in private
    "handover": (PERSONAL,),  # moving a supervisee and their records: the DSL team, in private
}

# Teams lists at most 12 commands per scope (manifest schema 1.29: commandLists[].commands maxItems 12). These are
# usable in that scope but left out of Teams' command menu; the role-aware help card lists them for whoever may use
# them.
NOT_IN_MENU: dict[tuple[str, str], str] = {
    ("enrichment", PERSONAL): "two weeks a year, trained supervisors only: the help card lists it for them",
    ("pool", PERSONAL): "DSL team only and rarely used: the help card lists it for them",
    ("reminders", PERSONAL): "DSL team only; the round goes by itself, this is for sending it early",
    ("audit", PERSONAL): "DSL team only, for inspection and audit: the help card lists it for them",
    ("trust", PERSONAL): "trust leads only (a trust of several schools): the help card lists it for them",
    ("export", PERSONAL): "DSL team and senior leaders, a few times a year: the help card lists it for them",
    ("handover", PERSONAL): "DSL team only, when a supervisor leaves or changes: the help card lists it for them",
    ("series", PERSONAL): "supervisors only, once a term: the help card and the sessions card lead to it",
}
MAX_MENU_COMMANDS = 12


def allowed_in(word: str, conversation_kind: str) -> bool:
    """May the command `word` be used in a conversation of this kind (personal | channel | groupChat)?"""
    scope = SCOPE_OF_CONVERSATION.get(conversation_kind)
    return scope is not None and scope in SCOPES.get(word, ())


def menu(scope: str) -> list[str]:
    """The command words Teams' menu lists in `scope`, in the table's order."""
    return [w for w, scopes in SCOPES.items() if scope in scopes and (w, scope) not in NOT_IN_MENU]
