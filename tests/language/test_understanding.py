"""What staff type, and what the bot takes it to mean. Table-driven: each row is a person (their roles decide which
commands they may use), a message as staff actually write it, and what it must be understood as — one command,
a short choice, a safeguarding disclosure (never a form), or nothing (the help card)."""

from __future__ import annotations

import pytest

from bot.journeys import build_router
from bot.language import Kind, Matcher, default_matcher, load_lexicon

D = "disclosure"
N = "nothing"

# who: ta = teaching assistant (Tom), dsl = DSL and supervisor (Amara), alloc = co-head allocator (Daniel),
# sup = trained supervisor (Priya), gov = safeguarding governor (Ruth).
WHO = {
    "ta": "tom.hollis",
    "dsl": "amara.okafor",
    "alloc": "daniel.whitcombe",
    "sup": "priya.raman",
    "gov": "ruth.calloway",
}

ROWS = [
    # ---- asking for supervision ----------------------------------------------------------------------------
    ("ta", "I'd like some supervision please", "request"),
    ("ta", "I would like supervision", "request"),
    ("ta", "I need to talk to someone", "request"),
    ("ta", "can I have supervision", "request"),
    ("ta", "Can I have some supervision?", "request"),
    ("ta", "could I get supervision", "request"),
    ("ta", "I want supervision", "request"),
    ("ta", "i need supervision asap", "request"),
    ("ta", "book a session", "request"),
    ("ta", "Can I book a session please", "request"),
    ("ta", "I'd like a 1:1", "request"),
    ("ta", "can I have a one to one", "request"),
    ("ta", "I need a 1-1 with someone", "request"),
    ("ta", "I would like to speak to someone", "request"),
    ("ta", "is there someone I can talk to", "request"),
    ("ta", "I need someone to talk to", "request"),
    ("ta", "I'd like to talk to a supervisor", "request"),
    ("ta", "I need some support", "request"),
    ("ta", "I'm struggling", "request"),
    ("ta", "feeling overwhelmed", "request"),
    ("ta", "I'm not coping", "request"),
    ("ta", "I've had a tough week with the kids, can I have supervision", "request"),
    ("ta", "I'd like to discuss a case", "request"),
    ("ta", "request supervision", "request"),
    ("ta", "Request", "request"),
    ("ta", "supervision please", "request"),
    ("ta", "I'd like group supervision", "request"),
    ("ta", "how do I ask for supervision", "request"),
    ("ta", "can I sign up for supervision", "request"),
    ("ta", "I need specialist supervision", "request"),
    ("dsl", "I'd like some supervision please", "request"),
    ("gov", "can I have supervision", "request"),
    # typos
    ("ta", "I'd like some supervison please", "request"),
    ("ta", "can i have supervison", "request"),
    ("ta", "reqest", "request"),
    ("ta", "requets supervision", "request"),
    ("ta", "i need supervsion", "request"),
    ("ta", "book a sesion", "request"),
    ("ta", "I'd like to tlak to someone", "request"),
    # ---- my supervision ------------------------------------------------------------------------------------
    ("ta", "my supervision", "sessions"),
    ("ta", "when is my next session", "sessions"),
    ("ta", "who is my supervisor?", "sessions"),
    ("ta", "my sessions", "sessions"),
    ("ta", "I need to rearrange my session", "sessions"),
    ("ta", "can I reschedule", "sessions"),
    ("ta", "cancel my session please", "sessions"),
    ("sup", "who do I supervise", "sessions"),
    ("sup", "my supervisees", "sessions"),
    ("ta", "supervison", "sessions"),  # the registered word, misspelt
    ("ta", "my sesions", "sessions"),
    # ---- actions, agreements ---------------------------------------------------------------------------------
    ("ta", "my actions", "myactions"),
    ("ta", "My actions?", "myactions"),
    ("ta", "what are my 1:1 actions", "myactions"),
    ("ta", "my to do list", "myactions"),
    ("ta", "my actoins", "myactions"),
    ("dsl", "my actions", "myactions"),
    ("dsl", "action list", "actions"),
    ("dsl", "open actions from group supervision", "actions"),
    ("dsl", "actions for the dsl meeting", "actions"),
    ("ta", "supervision agreement", "agreement"),
    ("ta", "I need to sign my agreement", "agreement"),
    ("ta", "our supervision contract", "agreement"),
    ("ta", "agrement", "agreement"),
    # ---- the DSL team ----------------------------------------------------------------------------------------
    ("dsl", "compliance", "attendance"),
    ("dsl", "Compliance please", "attendance"),
    ("dsl", "the compliance picture", "attendance"),
    ("dsl", "who hasn't been", "attendance"),
    ("dsl", "who hasn't been to supervision", "attendance"),
    ("dsl", "who's not been yet", "attendance"),
    ("dsl", "who hasn't attended this half term", "attendance"),
    ("dsl", "who still needs to attend", "attendance"),
    ("dsl", "mop up session", "attendance"),
    ("dsl", "the mop-up", "attendance"),
    ("dsl", "attendence", "attendance"),
    ("dsl", "complaince", "attendance"),
    ("dsl", "how many have attended", "attendance"),
    ("gov", "compliance", "attendance"),
    ("gov", "attendance figures", "attendance"),
    ("dsl", "record group supervision", "record"),
    ("dsl", "I need to write up the group session", "record"),
    ("dsl", "group notes", "record"),
    ("dsl", "schedule group supervision", "schedule"),
    ("dsl", "plan the group sessions", "schedule"),
    ("dsl", "shedule group sessions", "schedule"),
    ("dsl", "supervisor pool", "pool"),
    ("dsl", "add a supervisor", "pool"),
    ("dsl", "emergency supervision", "specialist"),
    ("dsl", "there was a critical incident", "specialist"),
    ("dsl", "debrief after a bereavement", "specialist"),
    ("dsl", "send reminders", "reminders"),
    ("dsl", "preview the reminders", "reminders"),
    ("dsl", "remindres", "reminders"),
    ("dsl", "chase people who haven't been", "attendance"),
    ("dsl", "who will be reminded", "reminders"),
    ("alloc", "requests to allocate", "requests"),
    ("alloc", "who needs a supervisor", "requests"),
    ("alloc", "any new requests?", "requests"),
    ("alloc", "allocate", "requests"),
    ("sup", "write up a 1:1", "note"),
    ("sup", "1:1 notes", "note"),
    ("sup", "write up my supervision with Tom", "note"),
    ("sup", "enrichment week", "enrichment"),
    # ---- help ------------------------------------------------------------------------------------------------
    ("ta", "what can you do", "help"),
    ("ta", "hello", "help"),
    ("ta", "Hi", "help"),
    ("ta", "help?", "help"),
    ("ta", "hlep", "help"),
    ("ta", "menu please", "help"),
    ("ta", "how does this work", "help"),
    # ---- unsure: a short choice ------------------------------------------------------------------------------
    ("dsl", "write up session", ("choice", {"record", "note"})),
    ("dsl", "book group session", ("choice", {"request", "schedule"})),
    ("dsl", "I need specialist supervision", ("choice", {"request", "specialist"})),
    ("dsl", "my supervision session", ("choice", {"request", "sessions"})),
    # ---- not for this person: never offered ------------------------------------------------------------------
    ("ta", "compliance", N),
    ("ta", "who hasn't been", N),
    ("ta", "send reminders", N),
    ("ta", "write up a 1:1", N),
    ("gov", "record group supervision", N),
    # ---- safeguarding disclosures: a safe answer, never a form -----------------------------------------------
    ("ta", "a pupil told me their dad hits them", D),
    ("ta", "A child in my class said her mum's boyfriend touched her", D),
    ("ta", "one of the kids has bruises on his arms", D),
    ("ta", "I think a student is being abused", D),
    ("ta", "a girl disclosed something to me today", D),
    ("ta", "a boy told me he's scared to go home", D),
    ("ta", "I'm worried about a pupil in my class", D),
    ("ta", "a child has been self-harming", D),
    ("ta", "pupil says stepdad hit him with a belt", D),
    ("ta", "I need to report a safeguarding concern", D),
    ("ta", "a parent hit their child at pick up", D),
    ("ta", "kid said uncle hurts her", D),
    ("ta", "my pupil is not being fed at home", D),
    ("ta", "a child told me something worrying", D),
    ("ta", "a pupl told me her dad hitts her", D),
    ("ta", "I need to talk to someone about a pupil who told me she is being hurt", D),
    ("ta", "can I have supervision, a child told me her dad hits her", D),
    ("dsl", "record that a pupil told me her dad hits her", D),
    ("gov", "a child disclosed abuse", D),
    # ---- must not trigger anything ---------------------------------------------------------------------------
    ("ta", "thanks", N),
    ("ta", "thank you!", N),
    ("ta", "ok", N),
    ("ta", "cheers", N),
    ("ta", "what is this thing", N),
    ("ta", "the printer is broken", N),
    ("ta", "is it raining", N),
    ("ta", "see you tomorrow", N),
    ("ta", "what time is lunch", N),
    ("ta", "I don't need supervision", N),
    ("ta", "I don't want a 1:1 thanks", N),
    ("ta", "no thanks", N),
    ("ta", "the minibus is booked", N),
    ("ta", "I hurt my back", N),
    ("ta", "my son is ill so I'll be late", N),
    ("ta", "the kids were brilliant today", N),
    ("ta", "asdfgh", N),
    ("ta", "\U0001f44d", N),
    ("ta", "", N),
    ("dsl", "the record player is broken", N),
    ("dsl", "I broke the record", N),
    ("dsl", "lunch is at 12", N),
    ("dsl", "I don't mind", N),
]


@pytest.fixture(scope="module")
def router():
    return build_router()


@pytest.fixture(scope="module")
def matcher(router):
    return Matcher(load_lexicon(), words={c.words[0]: c.words for c in router.commands})


def _allowed(router, school, who):
    return [c.words[0] for c in router.commands_for(school.staff[WHO[who]])]


def test_the_table_is_big_enough():
    assert len(ROWS) >= 100
    assert sum(1 for *_, e in ROWS if e == N) >= 20 and sum(1 for *_, e in ROWS if e == D) >= 15


@pytest.mark.parametrize("who,text,expected", ROWS, ids=[f"{w}:{t[:40]}" for w, t, _ in ROWS])
def test_phrasing(router, matcher, school, who, text, expected):
    got = matcher.match(text, _allowed(router, school, who))
    if expected == D:
        assert got.kind is Kind.DISCLOSURE, got
    elif expected == N:
        assert got.kind is Kind.NOTHING, got
    elif isinstance(expected, tuple):
        assert got.kind is Kind.CHOICE and set(got.commands) == expected[1], got
    else:
        assert got.kind is Kind.COMMAND and got.command == expected, got


def test_only_allowed_commands_are_ever_candidates(router, matcher, school):
    for who in WHO:
        allowed = set(_allowed(router, school, who))
        for _, text, _ in ROWS:
            got = matcher.match(text, sorted(allowed))
            assert set(got.commands) <= allowed, (who, text, got)


def test_a_choice_has_at_most_three_and_the_best_first(matcher):
    got = matcher.match("supervision session notes for the group record", ["request", "sessions", "note", "record"])
    assert got.kind is Kind.CHOICE and 2 <= len(got.commands) <= 3


def test_every_command_has_phrases_and_every_phrase_list_is_a_command(router):
    registered = {c.words[0] for c in router.commands}
    assert set(load_lexicon().commands) == registered


def test_default_matcher_is_built_once():
    assert default_matcher() is default_matcher()
