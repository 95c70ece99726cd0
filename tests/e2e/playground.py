"""Page objects for the Microsoft 365 Agents Playground (0.2.28), for end-to-end journey tests.

    pg = teams("tom.hollis")            # fixture: that person's Playground window (one per person per session)
    pg.open_personal_chat()
    card = pg.ask("help")               # type, send, wait for the bot's next card
    assert card.title() == "What you can do, Tom"
    card.fill("Anything to add?", "…"); card.choose("When", "Tuesday"); card.tick("I agree")
    card = card.click("Send request")   # Action.Execute: returns the card that replaced it

    pg.open_channel("Safeguarding")     # channel posts @mention the bot (Teams only delivers those to bots)
    card = pg.ask("help")

How "the bot's next card" is found: just before sending (or clicking) every card on screen is marked as seen,
with its text; the next card that is unmarked, or whose text changed, is the answer — a new message, or a card
replaced in place by an Action.Execute response (the Playground re-renders the same element). Cards the
Playground causes by itself (the welcome, when it installs the bot on first opening a conversation in a page) are
waited for when the conversation is opened, so they are never mistaken for an answer.

Selectors rely on the Playground's accessible names (tree items, "Send Message", "Post", labels), its message box
(a Lexical editor) and log panel, and the Adaptive Cards renderer's classes (`.ac-adaptiveCard`, `.ac-actionSet`,
`.ac-fact-title`); the Playground is pinned (infra/playground/package.json): re-check them when it moves.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import yaml
from playwright.sync_api import Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"

# Top-level cards only: an Action.ShowCard renders a card inside a card.
CARD = ".ac-adaptiveCard:not(.ac-adaptiveCard .ac-adaptiveCard)"
LOG_PANES = "[contenteditable=true][spellcheck=false]"  # first: the log list; second: the selected entry's JSON
INVOKE_FAILED = "Unable to reach app. Please try again."
DEFAULT_TIMEOUT_MS = 15_000

_card_ids = itertools.count(1)

# In-page helpers. A card counts as new if it was not on screen at the last mark_cards_seen(), or if its text
# changed since (the Playground re-renders a card in place when an Action.Execute answer replaces it).
_JS_COMMON = """
  const top = () => [...document.querySelectorAll('.ac-adaptiveCard')].filter(e => !e.parentElement.closest('.ac-adaptiveCard'));
  const seen = window.__e2eSeen || (window.__e2eSeen = new WeakMap());
  const isNew = e => !seen.has(e) || seen.get(e) !== e.innerText;
  const invokes = () => [...document.querySelectorAll('span')]
      .filter(s => /^invoke [0-9]{3}$/.test(s.textContent.trim())).map(s => +s.textContent.trim().slice(7));
  const sent = () => {
    const pane = document.querySelector('[contenteditable=true][spellcheck=false]');
    const counts = {};
    for (const line of pane ? pane.children : []) {
      const m = /Microsoft 365 Agents Playground -> User Application ([A-Za-z]+) [0-9]{3}/.exec(line.textContent);
      if (m) counts[m[1]] = (counts[m[1]] || 0) + 1;
    }
    return counts;
  };
  const failures = text => document.evaluate(`count(//*[normalize-space(text())="${text}"])`, document, null,
      XPathResult.NUMBER_TYPE, null).numberValue;
"""
_MARK_SEEN = (
    "([failText]) => {"
    + _JS_COMMON
    + """
  top().forEach(e => seen.set(e, e.innerText));
  return {invokes: invokes().length, failures: failures(failText), sent: sent()};
}"""
)
_SENT_SINCE = "([kind, before]) => {" + _JS_COMMON + " return (sent()[kind] || 0) > before; }"
_COUNT_NEW = "() => {" + _JS_COMMON + " return top().filter(isNew).length; }"
_WAIT_FOR_NEW_CARD = (
    "([id, base, failText]) => {"
    + _JS_COMMON
    + """
  const card = top().find(isNew);
  if (card) { card.setAttribute('data-e2e-card', id); seen.set(card, card.innerText); return 'card'; }
  const bad = invokes().slice(base.invokes).find(status => status >= 400);
  if (bad) return `the bot answered the invoke with HTTP ${bad}`;
  if (failures(failText) > base.failures) return `the Playground says "${failText}"`;
  return false;
}"""
)
_PIN = "(e, id) => {" + _JS_COMMON + " e.setAttribute('data-e2e-card', id); seen.set(e, e.innerText); }"


class PlaygroundError(AssertionError):
    """The Playground showed an error instead of the bot's answer."""


class Card:
    """One rendered Adaptive Card (a stable handle: the element carries a unique data-e2e-card id)."""

    def __init__(self, page: Page, locator: Locator, owner: PlaygroundPage):
        self.page = page
        self.locator = locator
        self.owner = owner

    # ---- reading -------------------------------------------------------------------------------------------
    def text(self) -> str:
        """All visible text of the card, one element per line."""
        return self.locator.inner_text()

    def lines(self) -> list[str]:
        return [ln.strip() for ln in self.text().splitlines() if ln.strip()]

    def title(self) -> str:
        """The first line of text (our cards start with a title block)."""
        lines = self.lines()
        return lines[0] if lines else ""

    def facts(self) -> dict[str, str]:
        """A FactSet's title → value pairs, as rendered."""
        titles = self.locator.locator(".ac-fact-title").all_inner_texts()
        values = self.locator.locator(".ac-fact-value").all_inner_texts()
        return {t.strip(): v.strip() for t, v in zip(titles, values)}

    def buttons(self) -> list[str]:
        """Titles of the card's action buttons, in order."""
        return [t.strip() for t in self.locator.locator(".ac-actionSet button").all_inner_texts()]

    def contains(self, text: str) -> bool:
        return text in self.text()

    # ---- inputs --------------------------------------------------------------------------------------------
    def input(self, label: str) -> Locator:
        """The input element labelled `label` (text, number, date, time, or a dropdown ChoiceSet's box)."""
        return self.locator.get_by_label(label, exact=True).and_(self.locator.locator("input, textarea"))

    def fill(self, label: str, value: str) -> Card:
        """Type into a text, number, date (YYYY-MM-DD) or time (HH:MM) input found by its label.

        Types key by key: the Playground's card renderer keeps a value only if it saw real key input — after
        Playwright's fill() the box shows the text, but the next change elsewhere in the card resets it to empty
        and the value is not submitted."""
        field = self.input(label)
        if field.get_attribute("role") == "combobox":
            # Input.Date / Input.Time are pickers: they parse the text when focus leaves, then show it their way
            # ("December 1, 2026", "2:30 PM"); the card submits 2026-12-01 / 14:30.
            field.fill(value)
            field.press("Tab")
            expect(field).not_to_have_value("")
            return self
        field.click()
        field.press("ControlOrMeta+a")
        field.press("Backspace")
        field.press_sequentially(value)
        expect(field).to_have_value(value)
        return self

    def choose(self, label: str, option: str) -> Card:
        """Pick `option` (its title) in the ChoiceSet labelled `label`: radio buttons, checkboxes or a dropdown."""
        combo = self.locator.get_by_role("combobox", name=label, exact=True)
        if combo.count():
            combo.click()
            self.page.get_by_role("option", name=option, exact=True).click()
            expect(combo).to_have_value(option)
            return self
        group = self.locator.get_by_role("radiogroup", name=label, exact=True)
        if not group.count():
            group = self.locator.get_by_role("group", name=label, exact=True)
        box = group.locator(f"xpath=.//input[@id=//label[normalize-space()={_xpath_str(option)}]/@for]")
        box.check()
        return self

    def checkbox(self, title: str) -> Locator:
        """The checkbox (Input.Toggle, or a choice of a multi-select ChoiceSet) whose own label is `title`."""
        return self.locator.locator(
            f"xpath=.//input[@type='checkbox'][@id=//label[normalize-space()={_xpath_str(title)}]/@for]"
        )

    def radio(self, option: str) -> Locator:
        """The radio button (a choice of an expanded ChoiceSet) whose label is `option`."""
        return self.locator.locator(
            f"xpath=.//input[@type='radio'][@id=//label[normalize-space()={_xpath_str(option)}]/@for]"
        )

    def tick(self, title: str, on: bool = True) -> Card:
        """Set the checkbox titled `title` (an Input.Toggle, or one choice of a multi-select ChoiceSet)."""
        # Not get_by_label: a checkbox's accessible name also includes its ChoiceSet's label.
        self.checkbox(title).set_checked(on)
        return self

    # ---- actions -------------------------------------------------------------------------------------------
    def button(self, title: str) -> Locator:
        return self.locator.get_by_role("button", name=title, exact=True)

    def click(self, title: str, *, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> Card:
        """Click an action button and return the bot's answer: the card that replaced this one (Action.Execute)
        or the next new card (Action.Submit). Raises PlaygroundError at once if the bot answered the invoke with
        an error status, or the Playground could not reach it."""
        self.owner.mark_cards_seen()
        self.button(title).click()
        return self.owner.wait_for_new_card(timeout_ms=timeout_ms)

    def click_without_waiting(self, title: str) -> None:
        self.button(title).click()

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{_safe(name)}.png"
        self.locator.screenshot(path=str(path))
        return path

    def __repr__(self) -> str:
        try:
            return f"<Card {self.title()!r}>"
        except Exception:  # noqa: BLE001 - repr must not raise
            return "<Card (gone)>"


class PlaygroundPage:
    """One person's Playground window: choose a conversation, type, read and act on the bot's cards."""

    def __init__(self, page: Page, url: str, config_path: Path, process=None):
        self.page = page
        self.url = url
        self.process = process  # the PlaygroundProcess behind this window (its service_url, log), if known
        self.config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
        self.bot_name: str = self.config["bot"]["name"]
        self.team_name: str = self.config["team"]["name"]
        self.group_chat_name: str = self.config["groupChat"]["name"]
        self.user: dict = self.config["currentUser"]
        self._installs_requested = 0
        self._baseline = {"invokes": 0, "failures": 0, "sent": {}}
        self._where = "personal"
        page.on("request", self._on_request)

    # ---- identity ------------------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.user["name"]

    @property
    def first_name(self) -> str:
        return self.user["givenName"]

    @property
    def aad_object_id(self) -> str:
        return self.user["aadObjectId"]

    # ---- navigation ----------------------------------------------------------------------------------------
    def load(self) -> PlaygroundPage:
        """(Re)load the Playground; it opens the personal chat and installs the bot there."""
        self.page.goto(self.url)
        expect(self.page.get_by_role("treeitem", name="Personal Chat")).to_be_visible()
        # The toolbar names the current user. "Me" means the Playground found no config and fell back to its
        # built-in one (e.g. its working directory vanished): fail here, not with a puzzling card later.
        expect(self.page.get_by_role("toolbar").get_by_text(self.name, exact=True)).to_be_visible()
        self._where = "personal"
        self.settle()
        return self

    def open_personal_chat(self) -> PlaygroundPage:
        return self._open("Personal Chat", "personal")

    def open_group_chat(self) -> PlaygroundPage:
        return self._open(self.group_chat_name, "group")

    def open_channel(self, channel: str = "Safeguarding") -> PlaygroundPage:
        return self._open(f"{self.team_name} - {channel}", "channel")

    def _open(self, tree_name: str, kind: str) -> PlaygroundPage:
        item = self.page.get_by_role("treeitem", name=tree_name, exact=True)
        item.click()
        self._where = kind
        # The composer of that conversation ("Start a new post" in a channel, a message box in a chat).
        expect(self._composer()).to_be_visible()
        self.settle()
        return self

    def settle(self, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> None:
        """Wait until every installation the Playground triggered (first open of a conversation in this page)
        has been answered by the bot — so the welcome cards it causes are on screen before we type.

        Each installation is one installationUpdate and one conversationUpdate to the bot; the Playground logs
        each only once the bot has answered, and the bot sends its replies before answering."""
        want = self._installs_requested
        if not want:
            return
        self.page.wait_for_function(
            """([want]) => {
                 const n = kind => [...document.querySelectorAll('span')]
                   .filter(s => new RegExp('^' + kind + ' [0-9]{3}$').test(s.textContent.trim())).length;
                 return n('installationUpdate') >= want && n('conversationUpdate') >= want;
               }""",
            arg=[want],
            timeout=timeout_ms,
        )

    # ---- typing --------------------------------------------------------------------------------------------
    def _composer(self) -> Locator:
        # The Playground's message box (a Lexical editor) — not get_by_role("textbox"), which also finds a card's
        # text inputs. In a channel the first one is "Start a new post"; each thread has a reply box after it.
        return self.page.locator("[contenteditable=true][data-lexical-editor=true]").first

    def send(self, text: str, *, mention: bool | None = None) -> None:
        """Type `text` and send it. In a channel or group chat the message starts with an @mention of the bot
        (Teams delivers only those to a bot); pass mention=False to post without one."""
        if mention is None:
            mention = self._where in ("channel", "group")
        self.mark_cards_seen()
        box = self._composer()
        box.click()
        if mention:
            self.page.keyboard.type("@" + self.bot_name.split()[0])
            self.page.locator("#typeahead-menu").get_by_text(self.bot_name, exact=True).click()
            self.page.keyboard.type(" ")
        self.page.keyboard.type(text)
        if self._where == "channel":
            self.page.get_by_role("button", name="Post", exact=True).click()
        else:
            self.page.get_by_role("button", name="Send Message", exact=True).first.click()
        expect(box).to_have_text("")

    def ask(self, text: str, *, mention: bool | None = None, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> Card:
        """Send `text` and return the first card the bot sends after it."""
        self.send(text, mention=mention)
        return self.wait_for_new_card(timeout_ms=timeout_ms)

    # ---- reading -------------------------------------------------------------------------------------------
    def mark_cards_seen(self) -> None:
        """Mark every card now on screen as seen, and remember how many invokes and errors the log shows."""
        self._baseline = self.page.evaluate(_MARK_SEEN, [INVOKE_FAILED])

    def new_card_count(self) -> int:
        """How many cards are new (or changed) since the last mark_cards_seen()."""
        return self.page.evaluate(_COUNT_NEW)

    def wait_for_new_card(self, *, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> Card:
        """The first card on screen that was not there when cards were last marked seen (mark_cards_seen, which
        send() and Card.click() call). Fails fast with PlaygroundError when, since then, the bot answered an
        invoke with an error status (the Playground then leaves the card as it was) or the Playground showed
        "Unable to reach app"."""
        cid = str(next(_card_ids))
        try:
            outcome = self.page.wait_for_function(
                _WAIT_FOR_NEW_CARD, arg=[cid, self._baseline, INVOKE_FAILED], timeout=timeout_ms
            ).json_value()
        except PlaywrightTimeoutError:
            raise AssertionError(
                f"no new card from the bot within {timeout_ms / 1000:.0f}s "
                f"(newest card on screen: {self.newest_card_text()!r})"
            ) from None
        if outcome != "card":
            raise PlaygroundError(
                f"{outcome} — the bot's answer never arrived; see the bot's log "
                "(and pg.last_sent('invoke', response=True))"
            )
        return Card(self.page, self.page.locator(f'[data-e2e-card="{cid}"]'), self)

    def wait_for_new_cards(self, n: int, *, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> list[Card]:
        """The next n new cards, in order (for a reply made of several cards)."""
        return [self.wait_for_new_card(timeout_ms=timeout_ms) for _ in range(n)]

    def _pin(self, loc: Locator) -> Card:
        cid = str(next(_card_ids))
        loc.evaluate(_PIN, cid)
        return Card(self.page, self.page.locator(f'[data-e2e-card="{cid}"]'), self)

    def cards(self) -> list[Card]:
        """Every card now on screen in this conversation, oldest first."""
        return [self._pin(self.page.locator(CARD).nth(i)) for i in range(self.page.locator(CARD).count())]

    def newest_card(self) -> Card:
        loc = self.page.locator(CARD).last
        expect(loc).to_be_visible()
        return self._pin(loc)

    def card_titled(self, title: str) -> Card:
        """The newest card on screen whose title is `title` (in a channel, posts are not in time order on screen:
        each thread is a block, newest thread first)."""
        loc = self.page.locator(CARD).filter(has_text=title).last
        expect(loc).to_be_visible()
        return self._pin(loc)

    def newest_card_text(self) -> str | None:
        loc = self.page.locator(CARD)
        return loc.last.inner_text() if loc.count() else None

    def cards_titled(self, title: str) -> Locator:
        """Cards whose first text block is exactly `title` (for counting)."""
        return self.page.locator(CARD).filter(
            has=self.page.locator(".ac-textBlock").first.get_by_text(title, exact=True)
        )

    def wait_for_text(self, text: str | re.Pattern, *, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> Locator:
        """Wait for text anywhere in the conversation (e.g. a plain-text reply) and return its locator."""
        loc = self.page.get_by_text(text).last
        expect(loc).to_be_visible(timeout=timeout_ms)
        return loc

    # ---- the Playground's log panel -----------------------------------------------------------------------
    def log_lines(self) -> list[str]:
        """The Playground's log panel, one entry per line ("[time] A -> B <type> <status> <text>")."""
        entries = self.page.locator(LOG_PANES).first.locator(":scope > div")
        return [" ".join(t.split()) for t in entries.all_inner_texts() if t.strip()]

    def sent_to_bot(self) -> list[tuple[str, int, str]]:
        """(activity type, the bot's HTTP status, text) for each activity this window sent to the bot and the
        bot answered — e.g. ("message", 201, "<at>Safeguarding Supervision</at> help"), ("invoke", 200, "")."""
        out = []
        for line in self.log_lines():
            m = re.search(r"Microsoft 365 Agents Playground -> User Application (\w+) (\d{3}) ?(.*)$", line)
            if m:
                out.append((m.group(1), int(m.group(2)), m.group(3)))
        return out

    def last_sent(self, kind: str = "message", *, response: bool = False, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> dict:
        """The activity of this type the window last sent to the bot, as JSON — or, with response=True, the bot's
        HTTP answer to it (for an invoke: the card it returned). Read from the log panel's detail view.

        Waits until the log shows one sent since the last mark_cards_seen() (which send() and Card.click() call):
        the Playground logs an activity only once the bot has answered it, which can be just after the reply
        card is on screen."""
        before = self._baseline.get("sent", {}).get(kind, 0)
        self.page.wait_for_function(_SENT_SINCE, arg=[kind, before], timeout=timeout_ms)
        entries = (
            self.page.locator(LOG_PANES)
            .first.locator(":scope > div")
            .filter(has_text=f"Microsoft 365 Agents Playground -> User Application {kind} ")
        )
        entries.last.get_by_text(re.compile(rf"^{kind} \d{{3}}$")).click()
        self.page.get_by_role("tab", name="Response" if response else "Request").click()
        details = self.page.locator(LOG_PANES).nth(1)
        expect(details).to_contain_text("{")
        text = details.inner_text()
        return json.loads(text) if text.strip() else {}

    # ---- evidence ------------------------------------------------------------------------------------------
    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{_safe(name)}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def _on_request(self, request) -> None:
        if (
            request.method == "POST"
            and request.url.endswith("/installation")
            and "/_debug/conversation/" in request.url
        ):
            self._installs_requested += 1


def _xpath_str(s: str) -> str:
    """An XPath string literal for s (XPath 1.0 has no escapes: split on the quote it contains)."""
    if "'" not in s:
        return f"'{s}'"
    if '"' not in s:
        return f'"{s}"'
    return "concat(" + ", \"'\", ".join(f"'{part}'" for part in s.split("'")) + ")"


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:150]
