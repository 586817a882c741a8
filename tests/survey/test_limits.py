"""Rate (token bucket) and concurrency (global, per /24) limits."""

from __future__ import annotations

import asyncio
import ipaddress

import pytest

from iotscope.survey import Limits, TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def test_bucket_spaces_takes_at_the_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=100, burst=5, clock=clock, sleep=clock.sleep)
    for _ in range(105):
        await bucket.take()
    # 5 from the burst, then 100 more at 100/s: one second of (virtual) waiting
    assert clock.now == pytest.approx(1.0, rel=0.02)


async def test_unlimited_bucket_never_sleeps() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=None, clock=clock, sleep=clock.sleep)
    for _ in range(1000):
        await bucket.take()
    assert clock.slept == []


def test_bad_rate() -> None:
    with pytest.raises(ValueError):
        TokenBucket(rate=0)
    with pytest.raises(ValueError):
        Limits(concurrency=0)


async def test_per_subnet_and_global_concurrency() -> None:
    limits = Limits(concurrency=6, per_subnet=2)

    async def hold(ip: str) -> None:
        async with limits.slot(ipaddress.ip_address(ip)):
            await asyncio.sleep(0.01)

    ips = [f"127.40.{n % 5}.{n}" for n in range(40)]
    await asyncio.gather(*(hold(ip) for ip in ips))
    assert limits.peak_per_subnet == 2
    assert limits.peak_in_flight <= 6
    assert limits.in_flight == 0
    assert limits._gates == {}
