"""Two things a school tries in its first week, each in a Playground of its own (its own bot process):
- the DSL previews the reminder round and sends it now, and the colleague who has not attended gets it — on the
  demo clock (DEMO_TODAY), so the sending window is open whatever time the tests run;
- `scripts/run.sh --school` for a second school that shares nothing with the demo: its Playground people are built
  by infra/playground/make_configs.py from that file, and its people get their own help card.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import PlaygroundPool, _Windows
from tests.e2e.processes import ROOT, BotProcess, e2e_school

pytestmark = pytest.mark.e2e

SECOND_SCHOOL = ROOT / "infra" / "demo" / "second-school.yaml"


def _school_day_on_or_after(day: dt.date) -> dt.date:
    from bot.domain.calendar import TermCalendar
    from bot.school import load_school

    cal = TermCalendar.from_school(load_school(e2e_school()))
    return next(iter(cal.school_days_from(day)))


class World:
    """A bot process with its own settings, its own Playgrounds and windows in the session's browser."""

    def __init__(self, root: Path, browser, school: Path | None = None, **env):
        self.bot = BotProcess(root / "bot", extra_env=env, **({"school": school} if school else {}))
        self.bot.start()
        self.pool = PlaygroundPool(self.bot, root / "playgrounds")
        self.windows = _Windows(browser, self.pool)

    def close(self) -> None:
        self.windows.close()
        self.pool.stop_all()
        self.bot.stop()


@pytest.fixture
def world(browser, e2e_dir):
    made: list[World] = []

    def make(name: str, school: Path | None = None, **env) -> World:
        w = World(e2e_dir / name, browser, school, **env)
        made.append(w)
        return w

    yield make
    for w in made:
        w.close()


def test_dsl_previews_and_sends_the_reminder_round_and_the_colleague_gets_it(world):
    from zoneinfo import ZoneInfo

    day = _school_day_on_or_after(dt.datetime.now(ZoneInfo("Europe/London")).date())
    w = world("reminders", DEMO_TODAY=f"{day.isoformat()}T10:00")
    tom = w.windows("tom.hollis").open_personal_chat()
    tom.ask("help")  # Tom has opened the bot, so a reminder can reach him
    tom.mark_cards_seen()
    amara = w.windows("amara.okafor").open_personal_chat()

    preview = amara.ask("reminders")
    assert preview.title().startswith("Reminders")
    assert "Tom Hollis" in preview.text() and "Send now" in preview.buttons()
    after = preview.click("Send now")
    assert "Sent" in after.text() or "Sending" in after.text()

    card = tom.wait_for_new_card(timeout_ms=45_000)
    assert card.title().startswith("Group supervision this half term")
    assert "Hi Tom" in card.text()


def test_a_second_school_gets_its_own_playground_from_its_own_file(world, tmp_path):
    out = tmp_path / "people"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "infra" / "playground" / "make_configs.py"),
            "--school",
            str(SECOND_SCHOOL),
            "--out",
            str(out),
        ],
        check=True,
        cwd=ROOT,
    )
    people = sorted(p.name for p in out.iterdir() if (p / ".m365agentsplayground.yml").is_file())
    assert len(people) == 5  # the Playground knows you and five others: any of the first five can be "you"
    w = world("second", school=SECOND_SCHOOL)
    first = people[0]
    page = w.windows(first, config=out / first / ".m365agentsplayground.yml").open_personal_chat()
    card = page.ask("help")

    from bot.school import load_school

    school = load_school(SECOND_SCHOOL)
    assert card.title() == f"What you can do, {school.staff[first].first_name}"
    assert "Kestrel" not in card.text()
