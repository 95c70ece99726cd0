"""Understanding what staff type: free text → a command, a short choice, or a safeguarding disclosure."""

from bot.language.understanding import Kind, Matcher, Understood, default_matcher, load_lexicon

__all__ = ["Kind", "Matcher", "Understood", "default_matcher", "load_lexicon"]
