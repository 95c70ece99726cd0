"""The limiter keeps Teams' documented windows for every conversation and for the app."""

from __future__ import annotations

import random

import pytest

from bot.delivery.limits import TEAMS_PER_APP, TEAMS_PER_CONVERSATION, RateLimiter, Window


def _max_in_window(times: list[float], seconds: float) -> int:
    times = sorted(times)
    best = j = 0
    for i, t in enumerate(times):
        while times[j] <= t - seconds + 1e-9:  # float sums of spacings: allow rounding
            j += 1
        best = max(best, i - j + 1)
    return best


def _drain(limiter: RateLimiter, keys: list[str], now: float = 0.0) -> dict[str, list[float]]:
    """Reserve once for each key in order, coming back when told to (as a sender would)."""
    out: dict[str, list[float]] = {}
    for k in keys:
        t = now
        while True:
            ok, at = limiter.reserve(k, t)
            t = at
            if ok:
                break
        out.setdefault(k, []).append(t)
    return out


def test_documented_limits_are_the_defaults():
    assert TEAMS_PER_CONVERSATION == (Window(7, 1), Window(8, 2), Window(60, 30), Window(1800, 3600))
    assert TEAMS_PER_APP == (Window(50, 1),)


def test_one_conversation_never_exceeds_any_of_its_windows():
    limiter = RateLimiter()
    times = _drain(limiter, ["c1"] * 200)["c1"]
    assert _max_in_window(times, 1) <= 7
    assert _max_in_window(times, 2) <= 8
    assert _max_in_window(times, 30) <= 60
    # 200 messages to one person need at least three 30-second windows' worth of time
    assert times[-1] >= 90


def test_hourly_window_for_one_conversation():
    limiter = RateLimiter(per_key=(Window(1800, 3600),), per_app=(Window(10_000, 1),))
    times = _drain(limiter, ["c"] * 1801)["c"]
    assert _max_in_window(times, 3600) == 1800
    assert times[-1] >= 3600


def test_app_limit_across_many_conversations():
    limiter = RateLimiter()
    keys = [f"c{i}" for i in range(1000)]
    times = [t for ts in _drain(limiter, keys).values() for t in ts]
    assert _max_in_window(times, 1) <= 50
    # and it is actually used: 1000 sends take about 20 s, not much more
    assert 19 <= max(times) <= 20.5


def test_headroom_stretches_the_windows():
    limiter = RateLimiter(headroom=0.9)
    keys = [f"c{i}" for i in range(900)]
    times = [t for ts in _drain(limiter, keys).values() for t in ts]
    assert _max_in_window(times, 1) <= 50
    assert _max_in_window(times, 1 / 0.9) <= 50
    assert max(times) >= 900 / 45 - 1.2


def test_a_busy_conversation_does_not_hold_up_others():
    limiter = RateLimiter()
    limiter.block("slow", 60.0)
    ok, at = limiter.reserve("slow", 0.0)
    assert not ok and at == 60.0
    ok, at = limiter.reserve("other", 0.0)
    assert ok and at == 0.0


def test_block_whole_app():
    limiter = RateLimiter()
    limiter.block(None, 5.0)
    ok, at = limiter.reserve("a", 1.0)
    assert ok and at == 5.0


def test_reservations_never_go_backwards_and_random_mix_keeps_all_windows():
    rng = random.Random(7)
    limiter = RateLimiter()
    keys = [f"c{rng.randrange(30)}" for _ in range(3000)]
    per_key = _drain(limiter, keys)
    allt = sorted(t for ts in per_key.values() for t in ts)
    assert _max_in_window(allt, 1) <= 50
    for ts in per_key.values():
        assert _max_in_window(ts, 1) <= 7 and _max_in_window(ts, 2) <= 8 and _max_in_window(ts, 30) <= 60


def test_idle_conversations_are_forgotten():
    limiter = RateLimiter()
    for i in range(5000):
        limiter.reserve(f"c{i}", float(i) * 2)  # one send each, 2 s apart: old ones go idle
    assert limiter.tracked() < 5000


@pytest.mark.parametrize("bad", [0, 1.5, -1])
def test_headroom_is_validated(bad):
    with pytest.raises(ValueError):
        RateLimiter(headroom=bad)


def test_app_sends_are_spaced_evenly_not_burst():
    limiter = RateLimiter()
    times = [t for ts in _drain(limiter, [f"c{i}" for i in range(200)]).values() for t in ts]
    assert _max_in_window(times, 0.1) <= 5
    bursty = RateLimiter(smooth=False)
    times = [t for ts in _drain(bursty, [f"c{i}" for i in range(200)]).values() for t in ts]
    assert _max_in_window(times, 0.001) == 50  # the plain window would let 50 go at once
