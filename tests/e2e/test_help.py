"""Typing `help` in a personal chat, as each of the five Playground people: the card greets them by first name and
lists what their roles allow — rendered by a real Teams-like client, not just built as JSON."""

from __future__ import annotations

import pytest

from tests.e2e.processes import DEMO_SCHOOL

pytestmark = pytest.mark.e2e

# Written out, not derived from the bot's code: this is what each person should read.
EXPECTED_ROLE_LINE = {
    "amara.okafor": "Your roles: DSL team, trained supervisor",
    "daniel.whitcombe": "Your roles: DSL team, allocator",
    "priya.raman": "Your roles: trained supervisor",
    "tom.hollis": None,
    "grace.mensah": None,
}
PEOPLE = list(EXPECTED_ROLE_LINE)


@pytest.fixture(scope="module")
def router_and_school():
    from bot.journeys import build_router
    from bot.school import load_school

    router, school = build_router(), load_school(DEMO_SCHOOL)
    router.school = school  # as create_app does: some permissions read the school (its senior leaders group)
    return router, school


def expected_commands(router_and_school, person: str) -> dict[str, str]:
    """word → 'Title — description', as the help card should list them for this person (help itself excluded)."""
    router, school = router_and_school
    actor = school.staff[person]
    items = {c.words[0]: f"{c.title} — {c.description}" for c in router.commands_for(actor) if c.words[0] != "help"}
    return items or {"help": "Show this card"}


@pytest.mark.parametrize("person", PEOPLE)
def test_help_card_greets_by_first_name_and_lists_role_commands(teams, router_and_school, person):
    pg = teams(person)
    pg.open_personal_chat()
    card = pg.ask("help")

    assert card.title() == f"What you can do, {pg.first_name}"
    role_lines = [ln for ln in card.lines() if ln.startswith("Your roles:")]
    want = EXPECTED_ROLE_LINE[person]
    assert role_lines == ([want] if want else [])
    assert card.facts() == expected_commands(router_and_school, person)
    assert "I didn't recognise that" not in card.text()


def test_dsl_and_teaching_assistant_see_different_cards(teams, router_and_school):
    amara = teams("amara.okafor").open_personal_chat().ask("help")
    tom = teams("tom.hollis").open_personal_chat().ask("help")

    assert "Your roles: DSL team, trained supervisor" in amara.lines()
    assert not any(ln.startswith("Your roles:") for ln in tom.lines())
    assert amara.text() != tom.text()
    # Whatever commands exist, a teaching assistant never sees more than the DSL does.
    assert set(tom.facts()) <= set(amara.facts()) | {"help"}


def test_unknown_words_get_the_help_card_with_a_hint(teams):
    pg = teams("grace.mensah").open_personal_chat()
    card = pg.ask("what can you do")  # understood: it asks for help, so no "didn't recognise"
    assert card.title() == "What you can do, Grace"
    assert "I didn't recognise that. Here is what you can ask me:" not in card.lines()
    card = pg.ask("blorp wibble quux")
    assert card.title() == "What you can do, Grace"
    assert "I didn't recognise that. Here is what you can ask me:" in card.lines()
