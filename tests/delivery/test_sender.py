"""The throttled sender: retries what Teams says to retry, stops on 403, honours Retry-After, keeps the limits."""

from __future__ import annotations

import random

import pytest

from bot.delivery import Message, Outcome, RateLimiter, RetryPolicy, ThrottledMessenger, ThrottledSender
from bot.delivery.retry import Decision, classify
from tests.delivery.fakes import ScriptedSend, SendFailed, VirtualTime


def _msg(i: int | str, conv: str | None = None) -> Message:
    conv = conv or f"a:conv-{i}"
    return Message(key=i, conversation=conv, reference={"conversation": {"id": conv}}, card={"type": "AdaptiveCard"})


def _sender(send, t: VirtualTime, **kw) -> ThrottledSender:
    kw.setdefault("policy", RetryPolicy(rng=random.Random(1)))
    return ThrottledSender(send, clock=t, sleep=t.sleep, **kw)


@pytest.mark.parametrize(
    "status,decision",
    [
        (429, Decision.RETRY),
        (412, Decision.RETRY),
        (502, Decision.RETRY),
        (503, Decision.RETRY),
        (504, Decision.RETRY),
        (None, Decision.RETRY),
        (403, Decision.UNREACHABLE),
        (404, Decision.UNREACHABLE),
        (400, Decision.FAIL),
        (401, Decision.FAIL),
        (500, Decision.FAIL),
        (413, Decision.FAIL),
    ],
)
def test_classification_follows_teams_guidance(status, decision):
    assert classify(status) is decision


async def test_success_first_time():
    t = VirtualTime()
    send = ScriptedSend(t)
    res = await t.run(_sender(send, t).deliver(_msg(1)))
    assert res.outcome is Outcome.SENT and res.attempts == 1 and res.activity_id == "act-1"


@pytest.mark.parametrize("status", [412, 502, 503, 504])
async def test_transient_errors_are_retried_with_backoff(status):
    t = VirtualTime()
    send = ScriptedSend(t, {"a:conv-1": [status, status, None]})
    res = await t.run(_sender(send, t).deliver(_msg(1)))
    assert res.outcome is Outcome.SENT and res.attempts == 3
    assert len(send.delivered) == 1


async def test_429_waits_retry_after_in_full():
    t = VirtualTime()
    send = ScriptedSend(t, {"a:conv-1": [429, None]}, retry_after=7.0)
    res = await t.run(_sender(send, t).deliver(_msg(1)))
    assert res.outcome is Outcome.SENT
    (t0, _), (t1, _) = send.calls
    assert 7.0 <= t1 - t0 <= 7.0 * 1.1 + 1e-9


async def test_429_blocks_only_that_conversation():
    t = VirtualTime()
    send = ScriptedSend(t, {"a:conv-slow": [429, None]}, retry_after=30.0)
    sender = _sender(send, t, concurrency=4)
    msgs = [_msg("slow", "a:conv-slow")] + [_msg(i) for i in range(10)]
    results = await t.run(sender.deliver_all(msgs))
    assert all(r.outcome is Outcome.SENT for r in results)
    others = [ts for ts, c in send.delivered if c != "a:conv-slow"]
    slow = [ts for ts, c in send.delivered if c == "a:conv-slow"]
    assert max(others) < 1.0 and slow[0] >= 30.0


@pytest.mark.parametrize("status", [403, 404])
async def test_blocked_or_gone_is_unreachable_without_retry(status):
    t = VirtualTime()
    send = ScriptedSend(t, {"a:conv-1": [status]})
    res = await t.run(_sender(send, t).deliver(_msg(1)))
    assert res.outcome is Outcome.UNREACHABLE and res.attempts == 1 and res.status == status


async def test_bad_request_fails_without_retry():
    t = VirtualTime()
    send = ScriptedSend(t, {"a:conv-1": [400, None]})
    res = await t.run(_sender(send, t).deliver(_msg(1)))
    assert res.outcome is Outcome.FAILED and len(send.calls) == 1


async def test_gives_up_after_max_attempts_and_asks_to_retry_later():
    t = VirtualTime()
    send = ScriptedSend(t, {"a:conv-1": [503] * 10})
    res = await t.run(_sender(send, t, policy=RetryPolicy(max_attempts=4, rng=random.Random(0))).deliver(_msg(1)))
    assert res.outcome is Outcome.RETRY_LATER and res.attempts == 4 and res.status == 503
    assert not send.delivered


async def test_total_wait_budget_bounds_retry_after():
    t = VirtualTime()
    send = ScriptedSend(t, {"a:conv-1": [429] * 5}, retry_after=200.0)
    res = await t.run(_sender(send, t, policy=RetryPolicy(max_total_wait=300, rng=random.Random(0))).deliver(_msg(1)))
    assert res.outcome is Outcome.RETRY_LATER and res.attempts == 2


def test_backoff_is_exponential_with_full_jitter_and_capped():
    policy = RetryPolicy(base=0.5, cap=8.0, rng=random.Random(3))
    for n in range(1, 12):
        ceiling = min(8.0, 0.5 * 2 ** (n - 1))
        samples = [policy.delay(n, None) for _ in range(200)]
        assert all(0 <= s <= ceiling for s in samples)
        assert max(samples) > ceiling * 0.8  # the whole range is used (full jitter) …
        assert min(samples) < ceiling * 0.2  # … not a fixed delay


async def test_window_closing_stops_sending():
    t = VirtualTime()
    send = ScriptedSend(t)
    open_ = {"v": True}
    sender = _sender(send, t, may_send=lambda: open_["v"])
    assert (await t.run(sender.deliver(_msg(1)))).outcome is Outcome.SENT
    open_["v"] = False
    res = await t.run(sender.deliver(_msg(2)))
    assert res.outcome is Outcome.RETRY_LATER and len(send.calls) == 1


async def test_fan_out_keeps_app_limit_and_sends_each_once():
    t = VirtualTime()
    rng = random.Random(5)
    script = {f"a:conv-{i}": [429] if rng.random() < 0.05 else [] for i in range(600)}
    send = ScriptedSend(t, script, retry_after=1.0)
    sender = _sender(send, t, concurrency=40, limiter=RateLimiter())
    results = await t.run(sender.deliver_all([_msg(i) for i in range(600)]))
    assert sorted(r.key for r in results) == list(range(600))
    assert all(r.outcome is Outcome.SENT for r in results)
    convs = [c for _, c in send.delivered]
    assert len(convs) == len(set(convs)) == 600
    times = sorted(ts for ts, _ in send.calls)
    j = 0
    for i, ts in enumerate(times):
        while times[j] <= ts - 1.0 + 1e-9:
            j += 1
        assert i - j + 1 <= 50
    assert times[-1] < 600 / 50 + 3


async def test_messenger_wrapper_throttles_and_remembers_retry_after():
    t = VirtualTime()
    calls = []

    class Inner:
        async def send_card(self, reference, card, *, text=None):
            calls.append(t.now)
            if len(calls) == 1:
                raise SendFailed(429, 5.0)
            return "id"

        async def update_card(self, reference, activity_id, card):
            calls.append(t.now)

    limiter = RateLimiter()
    m = ThrottledMessenger(Inner(), limiter, clock=t, sleep=t.sleep)
    ref = {"conversation": {"id": "a:x"}}
    with pytest.raises(SendFailed):
        await t.run(m.send_card(ref, {}))
    assert await t.run(m.send_card(ref, {})) == "id"
    assert calls[1] >= 5.0
    await t.run(m.update_card(ref, "id", {}))
    assert len(calls) == 3


async def _stalled_run(max_lateness: float) -> tuple[ThrottledSender, list[float]]:
    t = VirtualTime()
    send = ScriptedSend(t)
    sender = _sender(send, t, concurrency=20, max_lateness=max_lateness)
    real_sleep = t.sleep
    stalled = {"done": False}

    async def sleepy(seconds):
        await real_sleep(seconds)
        if not stalled["done"] and t.now > 0.5:  # the event loop is held up for 300 ms, once
            stalled["done"] = True
            t.now += 0.3

    sender.sleep = sleepy
    await t.run(sender.deliver_all([_msg(i) for i in range(150)]))
    return sender, sorted(ts for ts, _ in send.calls)


def _most_within(times: list[float], seconds: float) -> int:
    best = j = 0
    for i, ts in enumerate(times):
        while times[j] < ts - seconds:
            j += 1
        best = max(best, i - j + 1)
    return best


async def test_a_sender_that_oversleeps_takes_a_new_place_instead_of_bursting():
    sender, times = await _stalled_run(0.05)
    assert sender.late >= 1
    assert _most_within(times, 0.01) <= 3  # at most max_lateness / spacing + 1 go together
    _, careless = await _stalled_run(float("inf"))
    assert _most_within(careless, 0.01) >= 10  # without it, everyone who overslept goes at once


# ---- stop (shutdown) ---------------------------------------------------------------------------------------------
async def test_stop_cuts_every_wait_short_and_starts_no_new_send():
    """Messages waiting for a place within the limits, or for a retry, come back RETRY_LATER at once on stop();
    the one already sent is not touched."""
    import asyncio

    from bot.delivery import Window

    calls: list[str] = []

    async def send(reference, card, text=None):
        calls.append(reference["conversation"]["id"])
        if reference["conversation"]["id"] == "a:conv-flaky":
            raise SendFailed(503)
        return "act"

    async def forever(seconds):  # a wait nothing but stop() ends
        await asyncio.Event().wait()

    limiter = RateLimiter(per_app=(Window(2, 3600.0),), smooth=False)  # two places this hour, then a long wait
    sender = ThrottledSender(
        send, limiter=limiter, sleep=forever, policy=RetryPolicy(rng=random.Random(1)), concurrency=4
    )
    msgs = [_msg("flaky", "a:conv-flaky"), _msg(1), _msg(2), _msg(3)]
    task = asyncio.ensure_future(sender.deliver_all(msgs))
    for _ in range(200):
        if len(calls) == 2:
            break
        await asyncio.sleep(0)
    await asyncio.sleep(0.01)
    assert task.done() is False and len(calls) == 2  # one sent, one failed and waiting to retry, two waiting
    sender.stop()
    results = {r.key: (r.outcome, r.attempts) for r in await asyncio.wait_for(task, 5)}
    assert results == {
        "flaky": (Outcome.RETRY_LATER, 1),
        1: (Outcome.SENT, 1),
        2: (Outcome.RETRY_LATER, 0),
        3: (Outcome.RETRY_LATER, 0),
    }
    assert len(calls) == 2  # nothing new went on the wire
    assert (await sender.deliver(_msg(4))).outcome is Outcome.RETRY_LATER


async def test_on_attempt_is_told_before_each_send_goes_out():
    t = VirtualTime()
    send = ScriptedSend(t, {"a:conv-1": [503, None]})
    seen: list = []
    res = await t.run(_sender(send, t).deliver(_msg(1), on_attempt=seen.append))
    assert res.outcome is Outcome.SENT and seen == [1, 1] and len(send.calls) == 2
