"""Lockout state shared by the connections of one service."""

from __future__ import annotations

from iotscope.lab._session import Lockout


def test_never_locks_when_disabled() -> None:
    lock = Lockout(0)
    for _ in range(100):
        lock.fail()
    assert not lock.locked


def test_locks_after_k_and_unlocks_after_the_period() -> None:
    now = [0.0]
    lock = Lockout(3, seconds=10, clock=lambda: now[0])
    lock.fail()
    lock.fail()
    assert not lock.locked
    lock.fail()
    assert lock.locked
    now[0] = 9.9
    assert lock.locked
    now[0] = 10.0
    assert not lock.locked and lock.failures == 0


def test_success_resets_the_count() -> None:
    lock = Lockout(2)
    lock.fail()
    lock.succeed()
    lock.fail()
    assert not lock.locked
