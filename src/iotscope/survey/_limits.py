"""Rate and concurrency limits for the sockets the survey opens.

* :class:`TokenBucket`: at most ``rate`` new connections (or datagrams) per second overall,
  with a small burst; ``rate=None`` means unlimited.
* :class:`Limits`: the bucket plus a global concurrency semaphore (sockets in flight) and a
  per-subnet one (/24 for IPv4, /64 for IPv6), so one network is never hit by more than
  ``per_subnet`` sockets at a time however the targets are ordered.

The clock and sleep are injectable so the tests run without waiting.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from iotscope.survey._scope import IPAddress, subnet_key

__all__ = ["Limits", "TokenBucket"]


@dataclass
class TokenBucket:
    """A token bucket (``rate`` tokens/s, ``burst`` at most) that callers ``await take()`` from."""

    rate: float | None
    burst: float = 0.0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    _tokens: float = field(default=0.0, init=False)
    _stamp: float | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if self.rate is not None and self.rate <= 0:
            raise ValueError("rate must be positive (or None for unlimited)")
        if self.rate is not None and self.burst <= 0:
            self.burst = max(1.0, self.rate / 20)
        self._tokens = self.burst

    def _refill(self) -> None:
        now = self.clock()
        if self._stamp is not None and self.rate is not None:
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def wait_time(self) -> float:
        """Take one token now and return how long the caller must wait before using it."""
        if self.rate is None:
            return 0.0
        self._refill()
        self._tokens -= 1.0
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    async def take(self) -> None:
        delay = self.wait_time()
        if delay > 0:
            await self.sleep(delay)


@dataclass
class _Gate:
    sem: asyncio.Semaphore
    users: int = 0


class Limits:
    """Global rate + global concurrency + per-subnet concurrency, held per open socket."""

    def __init__(
        self,
        concurrency: int = 1000,
        per_subnet: int = 256,
        rate: float | None = None,
        bucket: TokenBucket | None = None,
    ) -> None:
        if concurrency < 1 or per_subnet < 1:
            raise ValueError("concurrency limits must be at least 1")
        self.concurrency = concurrency
        self.per_subnet = per_subnet
        self.bucket = bucket or TokenBucket(rate)
        self._global = asyncio.Semaphore(concurrency)
        self._gates: dict[int, _Gate] = {}
        self.in_flight = 0
        self.peak_in_flight = 0
        self.peak_per_subnet = 0

    def _gate(self, key: int) -> _Gate:
        gate = self._gates.get(key)
        if gate is None:
            gate = self._gates[key] = _Gate(asyncio.Semaphore(self.per_subnet))
        return gate

    @asynccontextmanager
    async def slot(self, ip: IPAddress) -> AsyncIterator[None]:
        """Hold one socket slot for ``ip`` (per-subnet, then global, then a rate token)."""
        key = subnet_key(ip)
        gate = self._gate(key)
        gate.users += 1
        try:
            async with gate.sem, self._global:
                await self.bucket.take()
                self.in_flight += 1
                self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
                busy = self.per_subnet - gate.sem._value
                self.peak_per_subnet = max(self.peak_per_subnet, busy)
                try:
                    yield
                finally:
                    self.in_flight -= 1
        finally:
            gate.users -= 1
            if gate.users == 0:
                del self._gates[key]
