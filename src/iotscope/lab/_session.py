"""What every sans-IO emulator looks like, and the per-service lockout state they share.

A session is fed the bytes a client sent and returns the bytes to send back (STYLE.md 3); it
never touches a socket. ``closed`` turns true when the device hangs up after its last reply.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

LOCKOUT_SECONDS = 300.0


class Session(Protocol):
    @property
    def closed(self) -> bool: ...

    def start(self) -> bytes:
        """What the device says as soon as a client connects (may be empty)."""
        ...

    def feed(self, data: bytes) -> bytes:
        """Take client bytes, return the reply bytes (may be empty)."""
        ...


@dataclass
class Lockout:
    """Failed logins on one service of one device, shared by all its connections.

    After ``after`` failures (0 = never) the service stops answering for ``seconds``.
    """

    after: int
    seconds: float = LOCKOUT_SECONDS
    clock: Callable[[], float] = time.monotonic
    failures: int = 0
    locked_at: float | None = field(default=None)

    @property
    def locked(self) -> bool:
        if self.locked_at is None:
            return False
        if self.clock() - self.locked_at >= self.seconds:
            self.locked_at, self.failures = None, 0
            return False
        return True

    def fail(self) -> None:
        self.failures += 1
        if self.after > 0 and self.failures >= self.after:
            self.locked_at = self.clock()

    def succeed(self) -> None:
        self.failures = 0
