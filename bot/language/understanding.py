"""Free text → the command a person most likely means, a short choice, a safeguarding disclosure, or nothing.

Pure and local: phrases are data (phrases.yaml beside this file), typos are forgiven with rapidfuzz's edit
distances, nothing leaves the process and nothing is logged or kept — the text may be a disclosure about a child.

How a message is read:
1. lower-cased and rewritten (contractions, "1:1" → "1to1", …), split into words;
2. each word the phrases do not know is corrected to the nearest word they do know, if it is close enough: the same
   first letter (people rarely mistype the first), then at most one edit for words of 5–7 letters, two from 8,
   and for 4-letter words only two swapped letters ("hlep"). Listed real words (`keep`) are never corrected;
3. a safeguarding disclosure is looked for first and wins over everything (seed 004 §6);
4. each command the person may use scores the length of its longest phrase found in the message. A phrase of two
   or more words that beats every other command is understood; a single word is understood only in a short
   message; anything else is a choice between the likeliest two or three.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

PHRASES = Path(__file__).resolve().parent / "phrases.yaml"

#: Words between two words of a phrase ("would like [some] supervision").
MAX_GAP = 3
#: A negator this close before a phrase, or inside its gaps, cancels it ("I do not need supervision").
NEGATORS = frozenset({"not", "no", "never", "without", "nobody"})
NEGATION_REACH = 2
#: A message of at most this many meaningful words may be understood from one word ("compliance please").
SHORT = 2
MAX_CHOICES = 3


class Kind(str, enum.Enum):
    COMMAND = "command"  # one command, confidently
    CHOICE = "choice"  # the likeliest commands, best first: ask which
    DISCLOSURE = "disclosure"  # a safeguarding disclosure: answer safely, never a form
    NOTHING = "nothing"


@dataclass(frozen=True)
class Understood:
    kind: Kind
    commands: tuple[str, ...] = ()

    @property
    def command(self) -> str | None:
        return self.commands[0] if self.kind is Kind.COMMAND else None


Phrase = tuple[str, ...]


@dataclass(frozen=True)
class Lexicon:
    rewrites: tuple[tuple[re.Pattern, str], ...]
    keep: frozenset[str]
    filler: frozenset[str]
    commands: dict[str, tuple[Phrase, ...]]  # command word → phrases, in file order
    concern: tuple[Phrase, ...]
    child: tuple[Phrase, ...]
    adult: tuple[Phrase, ...]
    harm: tuple[Phrase, ...]
    told: tuple[Phrase, ...]
    worry: tuple[Phrase, ...]


class LexiconError(ValueError):
    """phrases.yaml cannot be used; the message names the entry."""


def _split(text: str, rewrites: Sequence[tuple[re.Pattern, str]]) -> list[str]:
    t = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    for pattern, replacement in rewrites:
        t = pattern.sub(replacement, t)
    return re.findall(r"[a-z0-9]+", t)


def load_lexicon(path: Path | str = PHRASES) -> Lexicon:
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    try:
        rewrites = tuple((re.compile(p), r) for p, r in raw.get("rewrite", []))
    except (re.error, ValueError, TypeError) as exc:
        raise LexiconError(f"{path}: rewrite: {exc}") from None

    def phrases(items: Iterable, where: str) -> tuple[Phrase, ...]:
        out = []
        for item in items or ():
            toks = tuple(_split(str(item), rewrites))
            if not toks:
                raise LexiconError(f"{path}: {where}: {item!r} has no words")
            out.append(toks)
        return tuple(out)

    commands = {str(word): phrases(items, f"commands.{word}") for word, items in (raw.get("commands") or {}).items()}
    d = raw.get("disclosure") or {}
    return Lexicon(
        rewrites=rewrites,
        keep=frozenset(raw.get("keep") or ()),
        filler=frozenset(raw.get("filler") or ()),
        commands=commands,
        concern=phrases(d.get("concern"), "disclosure.concern"),
        child=phrases(d.get("child"), "disclosure.child"),
        adult=phrases(d.get("adult"), "disclosure.adult"),
        harm=phrases(d.get("harm"), "disclosure.harm"),
        told=phrases(d.get("told"), "disclosure.told"),
        worry=phrases(d.get("worry"), "disclosure.worry"),
    )


class Matcher:
    """Matches messages against a lexicon. Build once (it indexes the vocabulary); `match` is cheap.

    ``words``: each command's own registered words (``router.command("sessions", "mine", "supervision", …)``),
    added to its phrases so that a misspelt command word is still understood."""

    def __init__(self, lexicon: Lexicon, words: dict[str, Iterable[str]] | None = None):
        self.lexicon = lexicon
        # A command's own words count only when they are all the message says: "recrod" is the command misspelt,
        # "I broke the record" is not.
        self.own: dict[str, tuple[Phrase, ...]] = {
            cmd: tuple(p for p in (tuple(_split(w, lexicon.rewrites)) for w in ws) if p)
            for cmd, ws in (words or {}).items()
        }
        vocab: set[str] = set()
        for group in (
            *lexicon.commands.values(),
            *self.own.values(),
            lexicon.concern,
            lexicon.child,
            lexicon.adult,
            lexicon.harm,
            lexicon.told,
            lexicon.worry,
        ):
            for phrase in group:
                vocab.update(phrase)
        self.vocab = frozenset(vocab)
        by_initial: dict[str, list[str]] = {}
        for w in sorted(vocab):
            if len(w) >= 4 and not w.isdigit():
                by_initial.setdefault(w[0], []).append(w)
        self._by_initial = {k: tuple(v) for k, v in by_initial.items()}

    # ---- words ----------------------------------------------------------------------------------------------
    def words(self, text: str) -> list[str]:
        """The message as the phrases' words: rewritten, split, each unknown word corrected where it is close."""
        return [self._known(w) for w in _split(text, self.lexicon.rewrites)]

    def _known(self, w: str) -> str:
        if w in self.vocab or w in self.lexicon.keep or len(w) < 4 or w.isdigit():
            return w
        for folded in _folds(w):
            if folded in self.vocab:
                return folded
        candidates = self._by_initial.get(w[0])
        if not candidates:
            return w
        # Imported at the first unknown word: a card submit never needs it, and it is memory (bench/README.md).
        from rapidfuzz import process
        from rapidfuzz.distance import OSA

        if len(w) == 4:
            for c in candidates:
                if len(c) == 4 and sorted(c) == sorted(w) and OSA.distance(w, c) == 1:
                    return c  # two letters swapped
            return w
        limit = 1 if len(w) <= 7 else 2
        found = process.extractOne(w, candidates, scorer=OSA.distance, score_cutoff=limit)
        return found[0] if found is not None else w

    # ---- matching -------------------------------------------------------------------------------------------
    def match(self, text: str, allowed: Iterable[str]) -> Understood:
        """What ``text`` most likely asks for, among the ``allowed`` command words (registration order: ties go
        to the earlier). A disclosure is recognised whatever the person may use."""
        words = self.words(text)
        if not words:
            return Understood(Kind.NOTHING)
        if self._is_disclosure(words):
            return Understood(Kind.DISCLOSURE)
        meaningful = [w for w in words if w not in self.lexicon.filler]
        scores: list[tuple[int, int, str]] = []
        for order, cmd in enumerate(allowed):
            phrases = self.lexicon.commands.get(cmd, ())
            if len(meaningful) == 1:
                phrases = phrases + self.own.get(cmd, ())
            best = max((len(p) for p in phrases if _found(words, p)), default=0)
            if best:
                scores.append((-best, order, cmd))
        if not scores:
            return Understood(Kind.NOTHING)
        scores.sort()
        top = -scores[0][0]
        second = -scores[1][0] if len(scores) > 1 else 0
        if top > second and (top >= 2 or len(meaningful) <= SHORT):
            return Understood(Kind.COMMAND, (scores[0][2],))
        likely = tuple(cmd for s, _, cmd in scores if -s >= top - 1)[:MAX_CHOICES]
        return Understood(Kind.CHOICE, likely)

    def _is_disclosure(self, words: list[str]) -> bool:
        lx = self.lexicon

        def any_of(group: tuple[Phrase, ...]) -> bool:
            return any(_found(words, p) for p in group)

        if any_of(lx.concern):
            return True
        child = any_of(lx.child)
        if (child or any_of(lx.adult)) and any_of(lx.harm):
            return True
        return child and (any_of(lx.told) or any_of(lx.worry))


def _folds(w: str) -> list[str]:
    """Plain English endings taken off, for matching "sessions" to "session" or "hitting" to "hit"."""
    out = []
    if w.endswith("es") and len(w) > 4:
        out.append(w[:-2])
    if w.endswith("s") and not w.endswith("ss"):
        out.append(w[:-1])
    for end in ("ing", "ed"):
        if w.endswith(end) and len(w) > len(end) + 2:
            stem = w[: -len(end)]
            out.append(stem)
            if len(stem) > 2 and stem[-1] == stem[-2]:
                out.append(stem[:-1])  # hitting → hit
            out.append(stem + "e")  # shared → share
    return out


def _found(words: Sequence[str], phrase: Phrase) -> bool:
    """The phrase's words in order, at most MAX_GAP words apart, with no negator before it or in its gaps."""
    n = len(words)
    for start in range(n):
        if words[start] != phrase[0]:
            continue
        if phrase[0] not in NEGATORS and any(w in NEGATORS for w in words[max(0, start - NEGATION_REACH) : start]):
            continue
        at = start
        ok = True
        for want in phrase[1:]:
            nxt = next((k for k in range(at + 1, min(n, at + 2 + MAX_GAP)) if words[k] == want), None)
            if nxt is None or any(words[k] in NEGATORS for k in range(at + 1, nxt)):
                ok = False
                break
            at = nxt
        if ok:
            return True
    return False


@lru_cache(maxsize=1)
def default_matcher() -> Matcher:
    """The matcher for the product's own phrases (built once per process)."""
    return Matcher(load_lexicon())
