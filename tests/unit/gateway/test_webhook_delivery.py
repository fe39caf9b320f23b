"""Webhook delivery with its clock, randomness and sleep injected: backoff, pacing and
the retry loop are checked without waiting."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from luong.clock import ManualClock
from luong.gateway.streams import StreamRecord
from luong.gateway.webhook_delivery import WebhookManager, WebhookState, backoff_s
from luong.gateway.webhook_store import WebhookSettings


def settings(**overrides: Any) -> WebhookSettings:
    return WebhookSettings(id="w1", topic="t", url="http://receiver/", **overrides)


def test_backoff_doubles_up_to_its_ceiling_with_jitter_in_the_upper_half() -> None:
    given = settings(backoff_ms=100, max_backoff_ms=1000)
    rng = random.Random(7)
    for attempt, ceiling in [(1, 0.1), (2, 0.2), (3, 0.4), (4, 0.8), (5, 1.0), (9, 1.0)]:
        waits = [backoff_s(given, attempt, rng) for _ in range(200)]
        assert ceiling / 2 <= min(waits) and max(waits) <= ceiling
    assert backoff_s(given, 3, random.Random(1)) == backoff_s(given, 3, random.Random(1))


class Recording(WebhookManager):
    """A manager whose receiver answers from a script and whose sleeps are recorded."""

    def __init__(self, answers: list[str], clock: ManualClock) -> None:
        self.slept: list[float] = []

        async def sleep(seconds: float) -> None:
            self.slept.append(seconds)
            clock.advance(int(seconds * 1000))

        super().__init__(None, clock, random.Random(3), sleep)  # type: ignore[arg-type]
        self.answers = answers
        self.posted: list[bytes] = []
        self.dead: list[tuple[int, str]] = []

    async def _post(self, url: str, body: bytes, headers: dict[str, str]) -> str:
        self.posted.append(body)
        return self.answers.pop(0)

    async def _dead_letter(self, state: WebhookState, record: StreamRecord, reason: str) -> None:
        self.dead.append((record.offset, reason))


def record(offset: int) -> StreamRecord:
    return StreamRecord("t", 0, offset, 0, None, b'{"n": 1}', ())


def test_a_failing_receiver_is_retried_with_backoff_then_dead_lettered() -> None:
    manager = Recording(["HTTP 503", "HTTP 503", "HTTP 500"], ManualClock())
    state = WebhookState(settings(max_attempts=3, backoff_ms=100, max_backoff_ms=1000))
    asyncio.run(manager.deliver(state, [record(4)]))
    assert len(manager.posted) == 3
    assert len(manager.slept) == 2  # none after the last attempt
    assert 0.05 <= manager.slept[0] <= 0.1 and 0.1 <= manager.slept[1] <= 0.2
    assert manager.dead == [(4, "HTTP 500")]
    assert (state.delivered, state.failed_attempts, state.dead_lettered) == (0, 3, 0)


def test_rate_per_s_spaces_requests_on_the_injected_clock() -> None:
    clock = ManualClock()
    manager = Recording(["", "", ""], clock)
    state = WebhookState(settings(rate_per_s=4))
    for offset in range(3):
        asyncio.run(manager.deliver(state, [record(offset)]))
    assert manager.slept == [0.25, 0.25]  # 1/rate apart; the first goes at once
    assert state.delivered == 3


def test_a_dead_letter_topic_that_refuses_pauses_the_subscription() -> None:
    """Retrying would post the same batch again and again: the subscription stops,
    saying why, instead."""
    from luong.errors import TopicAuthorizationFailedError
    from luong.gateway.webhook_delivery import DeadLetterRefused

    class Refusing:
        def topic(self, name: str) -> object:
            return object()

        async def produce(self, topic: str, records: Any) -> Any:
            raise TopicAuthorizationFailedError(f"{topic!r} is an internal topic")

    saved: list[bool] = []

    class Store:
        async def save(self, settings: WebhookSettings) -> None:
            saved.append(settings.paused)

    manager = WebhookManager(Refusing(), ManualClock(), random.Random(1))  # type: ignore[arg-type]
    manager.store = Store()  # type: ignore[assignment]
    state = WebhookState(settings(dead_letter_topic="dlq"))

    async def scenario() -> None:
        try:
            await manager._dead_letter(state, record(7), "HTTP 500")
        except DeadLetterRefused as error:
            await manager._halt(state, str(error))

    asyncio.run(scenario())
    assert state.settings.paused and saved == [True]
    assert state.last_error is not None and "dead-letter topic dlq refused" in state.last_error
