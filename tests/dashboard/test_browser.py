"""The dashboard in real headless Chromium (Debian's, driven by Playwright; never downloaded), offline: the app on a
loopback port with a year's worth of figures, opened as the DSL in local mode. The charts must have drawn data (the
screenshot of each chart box has coloured pixels: series, not just axes and text), a phone-sized window must not
scroll sideways, nothing may be fetched from off the machine, and a teaching assistant gets 403.

Runs on its own: `.venv/bin/python -m pytest tests/dashboard/test_browser.py` (skipped, saying why, without
Chromium or Playwright — scripts/setup.sh --test installs both)."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bot.apppackage.png import read_png
from bot.store import Database
from bot.store.models_request import SupervisionRequest
from tests.reminders.helpers import AUTUMN2, add_session, record_attendance

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"  # git-ignored: the screenshots, to look at
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} not found (scripts/setup.sh --test)")


class AppThread(threading.Thread):
    """The real app (create_app) on its own event loop in a thread, so Playwright's sync API can drive Chromium
    from the test's thread."""

    def __init__(self, settings, clock, seed):
        super().__init__(daemon=True)
        self.settings, self.clock, self.seed = settings, clock, seed
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self.port = 0

    def run(self) -> None:
        self.loop = asyncio.new_event_loop()
        try:
            self.loop.run_until_complete(self._start())
        except BaseException as exc:  # noqa: BLE001 - reported to the test thread
            self.error = exc
            self.ready.set()
            return
        self.ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(self.runner.cleanup())
        self.loop.close()

    async def _start(self) -> None:
        from aiohttp import web

        from bot.app import create_app

        self.db = Database(self.settings.database_url)
        app = create_app(self.settings, clock=self.clock, db=self.db)
        self.runner = web.AppRunner(app)
        await self.runner.setup()  # migrates the store
        await self.seed(self.db)
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.join(timeout=15)


async def _a_term_of_figures(db, school, clock) -> None:
    """Attendance in Autumn 1 and 2, and requests from most staff with topics and open pupil cases."""
    active = [p for p in school.staff.values() if p.group]
    s1 = await add_session(db, day=dt.date(2026, 10, 6), group_id="willow", half_term="2026-27 Autumn 1")
    await record_attendance(db, s1, [p.id for p in active[: len(active) * 3 // 4]])
    s2 = await add_session(db, day=dt.date(2026, 11, 10), group_id="willow", half_term=AUTUMN2)
    await record_attendance(db, s2, [p.id for p in active[: len(active) // 3]])
    topics = [["wellbeing"], ["safeguarding", "wellbeing"], ["education"], ["development", "wellbeing"]]
    async with db.session() as s:
        for i, p in enumerate(active):
            for day in (dt.datetime(2026, 9, 20, 9, tzinfo=dt.timezone.utc), clock() - dt.timedelta(days=3)):
                s.add(
                    SupervisionRequest(
                        draft_id=f"seed-{i}-{day:%m%d}",
                        requester_id=p.id,
                        kind="one_to_one",
                        continue_current=False,
                        topics=topics[i % len(topics)],
                        urgency="routine",
                        times=["any"],
                        days=[],
                        colleagues=[],
                        pupil_cases=(i * 7) % 23,
                        route="allocation",
                        status="withdrawn",
                        created_at=day,
                        updated_at=day,
                    )
                )


@pytest.fixture
def app_url(tmp_path, clock, school):
    # Sync fixtures only: Playwright's sync API runs its own event loop in this thread (so not the shared
    # `settings` fixture, which waits on an async one).
    from bot.settings import load_settings
    from graph.settings import GraphSettings

    settings = load_settings(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}",
        LOCAL_M365_DIR=str(tmp_path / "m365"),
        WORKERS=False,
        graph=GraphSettings(_env_file=None),
    )

    async def seed(db):
        await _a_term_of_figures(db, school, clock)

    t = AppThread(settings, clock, seed)
    t.start()
    t.ready.wait(60)
    if t.error:
        raise t.error
    yield f"http://127.0.0.1:{t.port}"
    t.stop()


@pytest.fixture
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    pw = sync_api.sync_playwright().start()
    b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
    yield b
    b.close()
    pw.stop()


def _context(browser, off_machine: list[str], **kw):
    ctx = browser.new_context(locale="en-GB", timezone_id="Europe/London", **kw)

    def loopback_only(route):
        host = urlsplit(route.request.url).hostname or ""
        if host in ("127.0.0.1", "localhost") or route.request.url.startswith("data:"):
            return route.continue_()
        off_machine.append(route.request.url)
        return route.abort("blockedbyclient")

    ctx.route("**/*", loopback_only)
    return ctx


def plot_area(page, chart: str):
    """pygal's plot group (bars, lines, dots and guides) inside the chart's figure."""
    return page.locator(f"{chart} svg g.plot").first


def coloured_pixels(png_bytes: bytes) -> tuple[int, int]:
    """(coloured pixels, all pixels) of a screenshot: saturated colour is a chart's series (bars, lines, dots);
    the page background, text, axes and guides are white, grey or black."""
    png = read_png(png_bytes)
    coloured = sum(1 for r, g, b, _a in png.pixels if max(r, g, b) - min(r, g, b) > 60)
    return coloured, len(png.pixels)


def test_the_dsl_sees_drawn_charts_offline_and_a_phone_window_does_not_scroll_sideways(browser, app_url):
    ARTIFACTS.mkdir(exist_ok=True)
    off_machine: list[str] = []
    ctx = _context(browser, off_machine, viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    scripts: list[str] = []
    page.on("request", lambda r: scripts.append(r.url) if r.resource_type == "script" else None)
    r = page.goto(f"{app_url}/dashboard?as=amara.okafor")
    assert r.status == 200
    assert page.locator("h1").inner_text() == "Supervision at a glance"
    for chart in ("#attendance", "#caseload", "#themes"):
        assert page.locator(f"{chart} svg").count() == 1, chart
        coloured, total = coloured_pixels(plot_area(page, chart).screenshot())
        # The plot area alone (no title, no legend): guides and labels are grey, so a chart with no data has no
        # saturated pixels at all (see the control below); the thinnest drawn series here (the themes' lines
        # across two half terms) has several hundred.
        assert coloured >= 200, f"{chart}: {coloured} coloured pixels of {total}: the chart looks blank"
    # The control: no agreements were seeded, so their bars are all below the threshold and not drawn.
    coloured, total = coloured_pixels(plot_area(page, "#agreements").screenshot())
    assert coloured < 20, f"#agreements should be empty, has {coloured} coloured pixels of {total}"
    page.screenshot(path=str(ARTIFACTS / "dashboard-desktop.png"), full_page=True)
    assert page.locator("svg").count() == 6  # attendance, agreements, actions, load, caseload, themes
    assert "Middle half" in page.content() and "fewer than 5" in page.content()
    assert off_machine == [] and scripts == []  # offline by design, and no scripts at all in local mode

    phone = _context(browser, off_machine, viewport={"width": 400, "height": 800}, is_mobile=True).new_page()
    assert phone.goto(f"{app_url}/dashboard?as=amara.okafor").status == 200
    widths = phone.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the page is {widths[0]} px wide in a {widths[1]} px window"
    chart_width = phone.locator("#attendance svg").bounding_box()["width"]
    assert 300 <= chart_width <= 400  # the charts shrink to the window rather than overflow it
    phone.screenshot(path=str(ARTIFACTS / "dashboard-phone.png"), full_page=True)
    shot = phone.locator("#caseload").screenshot()
    assert coloured_pixels(shot)[0] > 0
    assert off_machine == []
    ctx.close()


def test_a_teaching_assistant_is_refused(browser, app_url):
    off_machine: list[str] = []
    page = _context(browser, off_machine).new_page()
    r = page.goto(f"{app_url}/dashboard?as=tom.hollis")
    assert r.status == 403
    assert "DSL team and senior leaders" in page.content() and page.locator("svg").count() == 0
    assert page.goto(f"{app_url}/dashboard").status == 403  # nobody named: nobody let in
