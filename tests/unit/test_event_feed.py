"""EventFeed's poll when nothing comes: nats-py ends an empty fetch with either of two timeouts."""

from __future__ import annotations

import asyncio

import nats.errors
import pytest
from nats.aio.msg import Msg

from desk.event_consumer import Delivery, EventFeed


class _Silent:
    """A subscription that never has a message, ending each fetch with the given timeout."""

    def __init__(self, timeout: type[Exception]) -> None:
        self._timeout = timeout

    async def fetch(self, batch: int = 1, timeout: float | None = 5) -> list[Msg]:  # noqa: ASYNC109
        raise self._timeout


async def _never_called(delivery: Delivery) -> None:
    raise AssertionError("no message was delivered")


@pytest.mark.parametrize("ending", [nats.errors.TimeoutError, asyncio.TimeoutError])
async def test_an_empty_fetch_is_no_message_whichever_timeout_ends_it(ending: type[Exception]) -> None:
    # nats-py 2.16's fetch raises asyncio's TimeoutError when its second, lingering wait has no time left.
    feed = EventFeed(_Silent(ending), _never_called)
    assert await feed.poll(linger=0.01) == 0
