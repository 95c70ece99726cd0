"""First contact: opening the bot for the first time (the Playground installs it in the personal chat, sending an
installationUpdate and a conversationUpdate at once, as Teams does) should give one welcome card and no error."""

from __future__ import annotations

import importlib.util

import pytest
from playwright.sync_api import expect

from tests.e2e.processes import PLAYGROUND_DIR

pytestmark = pytest.mark.e2e

SORRY = "Sorry — something went wrong on our side"


def _config_for(person: str, folder):
    spec = importlib.util.spec_from_file_location("make_configs", PLAYGROUND_DIR / "make_configs.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    path = folder / f"{person}.yml"
    path.write_text(mod.build_configs(people=[person])[person], encoding="utf-8")
    return path


def test_first_contact_gives_one_welcome_and_no_error(teams, e2e_dir):
    # Helen is not one of the five everyday Playground people, so no other test has met the bot as her.
    pg = teams("helen.ashdown", config=_config_for("helen.ashdown", e2e_dir))

    # The welcome arrives after install: wait for it (up to the locator timeout), then check there is exactly one.
    expect(pg.cards_titled("Welcome, Helen")).to_have_count(1)
    assert pg.page.get_by_text(SORRY).count() == 0
