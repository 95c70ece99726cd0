"""Delivery at Teams' limits: a sliding-window rate limiter, a retry policy and the throttled sender (SDK-free)."""

from bot.delivery.limits import TEAMS_PER_APP, TEAMS_PER_CONVERSATION, RateLimiter, Window
from bot.delivery.retry import Decision, RetryPolicy, classify
from bot.delivery.sender import Message, Outcome, Result, ThrottledMessenger, ThrottledSender, conversation_key

__all__ = [
    "TEAMS_PER_APP",
    "TEAMS_PER_CONVERSATION",
    "Decision",
    "Message",
    "Outcome",
    "RateLimiter",
    "Result",
    "RetryPolicy",
    "ThrottledMessenger",
    "ThrottledSender",
    "Window",
    "classify",
    "conversation_key",
]
