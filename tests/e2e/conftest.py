"""End-to-end fixtures: one bot, one Chromium and — lazily — one Agents Playground per person, for the session.

    def test_something(teams):
        tom = teams("tom.hollis")          # PlaygroundPage: Tom's window, loaded and settled
        tom.open_personal_chat()
        card = tom.ask("help")

Fixtures
    e2e_bot          BotProcess: `python -m bot` (local mode, temp SQLite, temp local M365 folder, demo school)
    playgrounds      PlaygroundPool: .start(person) → PlaygroundProcess (one per person, started on first use)
    browser          Playwright Browser (Debian chromium, never downloaded)
    teams            teams(person, *, fresh=False, config=None) → PlaygroundPage; one window per person per
                     session (fresh=True: a new window, which makes the Playground install the bot again;
                     config: a Playground config other than infra/playground/people/<person>/)

On failure (or after every test, with E2E_SCREENSHOTS=1) each window the test used is screenshotted to
test-artifacts/<test>--<person>.png, and the bot's log tail is attached to the report. Requests from the browser to
anything but loopback are refused. E2E tests are moved to the end of the run (see pytest_collection_modifyitems).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.e2e.processes import CHROMIUM, PLAYGROUND_CLI, BotProcess, PlaygroundProcess

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} not found (scripts/setup.sh --test installs Debian chromium)"
    if not PLAYGROUND_CLI.exists():
        return "the Agents Playground is not installed (run scripts/setup.sh)"
    if shutil.which("node") is None:
        return "node is not on PATH"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed (requirements-test.txt)"
    return None


def pytest_collection_modifyitems(config, items):
    e2e = [i for i in items if "e2e" in i.keywords]
    if not e2e:
        return
    # End-to-end tests run last. Playwright's sync API keeps its event loop marked as running on the main thread
    # while the browser is open, and pytest-asyncio cannot start a loop then ("Runner.run() cannot be called from
    # a running event loop"); the browser lives until the session ends, so no async test may come after it.
    items[:] = [i for i in items if "e2e" not in i.keywords] + e2e
    reason = _missing()
    if reason is None:
        return
    if os.environ.get("CI"):
        raise pytest.UsageError(f"CI=true but the end-to-end tests cannot run: {reason}")
    for item in e2e:
        item.add_marker(pytest.mark.skip(reason=reason))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    rep = yield
    setattr(item, f"rep_{rep.when}", rep)
    return rep


@pytest.fixture(scope="session")
def e2e_dir():
    """The session's working folder (bot database and log, one folder per Playground).

    Not pytest's tmp_path: pytest keeps only the last three base temp folders of *any* session, so a second
    pytest run started meanwhile (another terminal, another agent) deletes the folder under a running bot and
    Playground. E2E_KEEP=1 keeps it for a post-mortem."""
    path = Path(tempfile.mkdtemp(prefix="kb-e2e-"))
    yield path
    if not os.environ.get("E2E_KEEP"):
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def e2e_bot(e2e_dir):
    bot = BotProcess(e2e_dir / "bot").start()
    yield bot
    bot.stop()


class PlaygroundPool:
    """One Playground process per person, started on first use and kept for the session."""

    def __init__(self, bot: BotProcess, root: Path):
        self.bot = bot
        self.root = root
        self.running: dict[str, PlaygroundProcess] = {}

    def start(self, person: str, config: Path | None = None) -> PlaygroundProcess:
        if person not in self.running:
            pg = PlaygroundProcess(person, self.bot.messages_url, self.root / person, config=config)
            self.running[person] = pg.start()
        return self.running[person]

    def stop_all(self) -> None:
        for pg in self.running.values():
            pg.stop()


@pytest.fixture(scope="session")
def playgrounds(e2e_bot, e2e_dir):
    pool = PlaygroundPool(e2e_bot, e2e_dir / "playgrounds")
    yield pool
    pool.stop_all()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield b
    b.close()
    pw.stop()


def _loopback_only(route):
    from urllib.parse import urlsplit

    host = urlsplit(route.request.url).hostname or ""
    if host in ("127.0.0.1", "localhost", "::1") or route.request.url.startswith(("data:", "blob:")):
        return route.continue_()
    return route.abort("blockedbyclient")  # fonts/animations from the Office CDN: offline by design


class _Windows:
    """The teams(person) factory; remembers which windows a test used, for screenshots on failure."""

    def __init__(self, browser, playgrounds: PlaygroundPool):
        self.browser = browser
        self.playgrounds = playgrounds
        self.pages: dict[str, object] = {}
        self.extra: list[tuple[str, object]] = []
        self.contexts: list = []
        self.used: list[tuple[str, object]] = []

    def __call__(self, person: str, *, fresh: bool = False, config: Path | None = None):
        from tests.e2e.playground import PlaygroundPage

        if person in self.pages and not fresh:
            page = self.pages[person]
            self.used.append((person, page))
            return page
        proc = self.playgrounds.start(person, config)
        ctx = self.browser.new_context(
            viewport={"width": 1280, "height": 900}, locale="en-GB", timezone_id="Europe/London"
        )
        ctx.set_default_timeout(15_000)
        ctx.route("**/*", _loopback_only)
        self.contexts.append(ctx)
        page = PlaygroundPage(ctx.new_page(), proc.url, proc.workdir / ".m365agentsplayground.yml", proc)
        page.load()
        if fresh:
            self.extra.append((person, page))
        else:
            self.pages[person] = page
        self.used.append((person, page))
        return page

    def close(self) -> None:
        for ctx in self.contexts:
            try:
                ctx.close()
            except Exception:  # noqa: BLE001 - best effort at teardown
                pass


@pytest.fixture(scope="session")
def _windows(browser, playgrounds):
    w = _Windows(browser, playgrounds)
    yield w
    w.close()


@pytest.fixture
def teams(_windows, e2e_bot, request):
    """teams(person) → that person's PlaygroundPage (see module docstring)."""
    _windows.used = []
    yield _windows
    rep = getattr(request.node, "rep_call", None)
    if os.environ.get("E2E_SCREENSHOTS") and rep is not None and not rep.failed:
        for person, page in _windows.used:
            page.screenshot(f"{request.node.name}--{person}")
    if rep is not None and rep.failed:
        for person, page in _windows.used:
            try:
                path = page.screenshot(f"{request.node.name}--{person}")
                rep.sections.append(("e2e screenshot", str(path)))
            except Exception as exc:  # noqa: BLE001 - a failed screenshot must not hide the failure
                rep.sections.append(("e2e screenshot", f"could not take one: {exc}"))
        tail = "\n".join(e2e_bot.log().splitlines()[-30:])
        rep.sections.append(("bot log (tail)", tail))
