"""Pacing a login check inside a per-host time budget.

A device may make every failed login cost seconds (Debian's /bin/login: ``pam_faildelay``
3 s; BusyBox login: 3 s), so trying the list one pair after another can run out of time
before the pair that works. :func:`run_paced` tries the ordered list batch by batch (a batch
is what one connection carries: three telnet pairs, up to six SSH passwords of one user, one
HTTP or MQTT request), measures what each tried entry costs on this host (for telnet, the
fail delay itself: from sending the password to the failure prompt), and opens as many
connections at once as it takes (at most ``max_parallel``) for the remaining list to fit
in the remaining budget. Entries are always taken in list order, so the most likely pairs
are tried first whatever the parallelism.

Never is a host given up because one attempt was slow: an attempt whose answer did not come
in time (``slow``) is tried again with a doubled read timeout (bounded by the budget). A sign
of lockout stops the parallel connections, backs off once and goes on one connection at a
time; a second sign ends the check. When the budget runs out the outcome says how far the
list got.

:class:`HostBudget` shares one host's budget between its services: each gets the remaining
time divided by the services still to check, so time a quick service leaves over goes to
the next one.
"""

from __future__ import annotations

import asyncio
import bisect
import math
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from iotscope.records import Login
from iotscope.survey._net import Timeouts

__all__ = ["AttemptResult", "HostBudget", "Pace", "run_paced"]

SLOW_RETRIES = 2  # an entry whose answer is late is tried again at most this many times
AIM = 0.7  # plan to finish the list in this share of the budget (answers vary)


class Entry(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def username(self) -> str | None: ...


@dataclass(frozen=True)
class AttemptResult:
    """One batch's result: ``outcome`` for its ``tried``-th entry (the earlier ones were
    rejected); ``fail_delays`` the measured password-to-failure times, when known.

    outcome is accepted, no_auth, rejected, locked, error, slow (no answer to the password
    in time), refused (connection refused or reset) or no_answer (no parseable answer); the
    last two mean a lockout once a failure was seen, an error before.
    """

    outcome: str
    tried: int
    fail_delays: tuple[float, ...] = ()


Attempt = Callable[[list[Entry], Timeouts], Coroutine[Any, Any, AttemptResult]]
Batcher = Callable[[Sequence[Entry], int], list[Entry]]


class HostBudget:
    """One host's login budget, shared between its services (see the module docstring)."""

    def __init__(
        self, total: float, services: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.deadline = clock() + total
        self.left = max(1, services)
        self.clock = clock

    def share(self) -> float:
        """Seconds for the next service (the rest of the budget over the services left)."""
        remaining = max(0.0, self.deadline - self.clock())
        share = remaining / self.left
        self.left = max(1, self.left - 1)
        return share


@dataclass
class Pace:
    """What a login check has learned of one service's pace, and what it allows next."""

    budget: float
    max_parallel: int
    timeouts: Timeouts
    started: float
    tried: int = 0
    spent: float = 0.0  # seconds of finished batches, summed
    fail_delays: list[float] = field(default_factory=list)
    serial: bool = False  # a lockout was seen: one connection at a time from now on
    peak: int = 1

    @property
    def deadline(self) -> float:
        return self.started + self.budget

    def cost(self) -> float | None:
        """Seconds one tried entry costs on this host (None before the first batch ends)."""
        return self.spent / self.tried if self.tried else None

    def fail_delay(self) -> float | None:
        """The median measured fail delay, when the protocol lets us measure it."""
        if not self.fail_delays:
            return None
        ordered = sorted(self.fail_delays)
        return ordered[len(ordered) // 2]

    def parallel(self, remaining: int, now: float) -> int:
        """Connections to hold open so ``remaining`` entries fit in the time left."""
        cost = self.cost()
        if self.serial or cost is None:
            return 1
        if now >= self.deadline:
            return 0
        left = self.started + AIM * self.budget - now
        want = math.ceil(remaining * cost / left) if left > 0 else self.max_parallel
        allowed = max(1, min(self.max_parallel, want))
        self.peak = max(self.peak, allowed)
        return allowed

    def learn(self, result: AttemptResult, elapsed: float) -> None:
        if result.outcome == "slow":
            read = min(self.timeouts.read * 2, max(self.timeouts.read, self.budget / 4))
            self.timeouts = replace(self.timeouts, read=read)
            return
        if result.tried:
            self.tried += result.tried
            self.spent += elapsed
        self.fail_delays.extend(result.fail_delays)

    def remark(self) -> str | None:
        """The pace, when it was worth noting (a fail delay, parallel connections)."""
        parts = []
        delay = self.fail_delay()
        if delay is not None and delay >= 0.5:
            parts.append(f"fail delay {delay:.1f} s")
        if self.peak > 1:
            parts.append(f"{self.peak} connections at once")
        return "; ".join(parts) or None

    def note(self, tried: int, total: int) -> str:
        head = f"{tried} of {total} entries in a {self.budget:.0f} s budget"
        remark = self.remark()
        return f"{head}; {remark}" if remark else head


@dataclass
class _Run:
    """The mutable state of one paced check."""

    entries: Sequence[Entry]
    protocol: str
    todo: list[int]  # indices of entries not yet tried, ascending
    running: dict[asyncio.Task[AttemptResult], tuple[list[int], float]] = field(
        default_factory=dict
    )
    slow: dict[int, int] = field(default_factory=dict)
    tried: int = 0
    failures: int = 0
    errors: int = 0
    backed_off: bool = False

    def requeue(self, indices: Sequence[int]) -> None:
        for i in indices:
            bisect.insort(self.todo, i)

    def take(self, batcher: Batcher) -> list[int]:
        window = [self.entries[i] for i in self.todo[:8]]
        size = len(batcher(window, 0))
        taken, self.todo = self.todo[:size], self.todo[size:]
        return taken

    async def cancel_running(self) -> None:
        tasks = list(self.running)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for indices, _ in self.running.values():
            self.requeue(indices)
        self.running.clear()


def _login(run: _Run, outcome: str, entry: Entry | None = None, detail: str | None = None) -> Login:
    accepted = outcome == "accepted" and entry is not None
    return Login(
        protocol=run.protocol, outcome=outcome, attempts=run.tried, detail=detail,
        username=entry.username if accepted and entry else None,
        credential=entry.id if accepted and entry else None,
    )  # fmt: skip


async def run_paced(
    attempt: Attempt,
    batcher: Batcher,
    entries: Sequence[Entry],
    protocol: str,
    pace: Pace,
    delay: float,
    lockout_backoff: float,
) -> Login:
    """Try ``entries`` in order within ``pace.budget`` (see the module docstring)."""
    run = _Run(entries, protocol, list(range(len(entries))))
    try:
        return await _loop(run, attempt, batcher, pace, delay, lockout_backoff)
    finally:
        await run.cancel_running()


async def _start(run: _Run, attempt: Attempt, batcher: Batcher, pace: Pace, delay: float) -> None:
    """Open connections up to what the pace allows, ``delay`` seconds apart."""
    loop = asyncio.get_running_loop()
    while run.todo and len(run.running) < pace.parallel(len(run.todo), loop.time()):
        if run.running or run.tried or run.failures:
            await asyncio.sleep(delay)
        indices = run.take(batcher)
        task = asyncio.create_task(attempt([run.entries[i] for i in indices], pace.timeouts))
        run.running[task] = (indices, loop.time())


async def _loop(
    run: _Run, attempt: Attempt, batcher: Batcher, pace: Pace, delay: float, backoff: float
) -> Login:
    loop = asyncio.get_running_loop()
    while True:
        await _start(run, attempt, batcher, pace, delay)
        if not run.running:
            break
        left = pace.deadline - loop.time()
        done, _ = await asyncio.wait(
            run.running, timeout=max(0.0, left), return_when=asyncio.FIRST_COMPLETED
        )
        if not done:  # the budget is spent
            await run.cancel_running()
            outcome = "rejected" if run.failures else "error"
            note = pace.note(run.tried, len(run.entries))
            return _login(run, outcome, detail=f"budget spent: {note}")
        for task in sorted(done, key=lambda t: run.running[t][0][0]):
            indices, began = run.running.pop(task)
            final = await _settle(run, task.result(), indices, pace, loop.time() - began, backoff)
            if final is not None:
                return final
    return _finished(run, pace)


async def _settle(
    run: _Run, result: AttemptResult, indices: list[int], pace: Pace, elapsed: float,
    backoff: float,
) -> Login | None:  # fmt: skip
    """Account for one finished batch; a Login when the check is decided."""
    pace.learn(result, elapsed)
    if result.outcome in ("refused", "no_answer"):  # after failures, a sign of lockout
        result = replace(result, outcome="locked" if run.failures else "error")
    k = max(0, min(result.tried, len(indices)))
    if result.outcome in ("accepted", "no_auth") and k:
        run.tried += k
        return _login(run, result.outcome, run.entries[indices[k - 1]], pace.remark())
    if result.outcome == "slow":
        return _slow(run, indices, k, pace)
    if result.outcome == "locked":
        return await _locked(run, indices, k, pace, backoff)
    run.tried += k
    run.failures += k if result.outcome == "rejected" else max(0, k - 1)
    run.errors += result.outcome == "error"
    run.requeue(indices[k:])
    return None


def _slow(run: _Run, indices: list[int], k: int, pace: Pace) -> Login | None:
    """The ``k``-th entry's answer was late: the earlier ones failed, it is tried again. A
    host that never answered any password at all (a tarpit) is not waited on for long."""
    late = indices[max(0, k - 1)]
    run.tried += max(0, k - 1)
    run.failures += max(0, k - 1)
    run.slow[late] = run.slow.get(late, 0) + 1
    if not run.failures and sum(run.slow.values()) > SLOW_RETRIES:
        window = pace.timeouts.read * 2
        return _login(run, "error", detail=f"no answer to a password within {window:.0f} s")
    if run.slow[late] > SLOW_RETRIES:  # it never answers in time: counted, not retried
        run.tried += 1
        run.errors += 1
        run.requeue(indices[k:])
    else:
        run.requeue(indices[max(0, k - 1) :])
    return None


async def _locked(
    run: _Run, indices: list[int], k: int, pace: Pace, backoff: float
) -> Login | None:
    """A lockout sign: stop, go serial, wait once; the second sign ends the check."""
    tried = max(0, k - 1)
    run.tried += tried
    run.failures += tried
    run.requeue(indices[tried:])  # the entry that met the lock is tried again after the wait
    if run.backed_off:
        return _login(run, "error", detail="locked out; stopped")
    run.backed_off, pace.serial = True, True
    await run.cancel_running()
    await asyncio.sleep(backoff)
    return None


def _finished(run: _Run, pace: Pace) -> Login:
    note = pace.note(run.tried, len(run.entries))
    spent = "budget spent: " if run.todo else ""
    if run.failures:
        return _login(run, "rejected", detail=f"{spent}{note}")
    if not run.tried and run.todo:
        return _login(run, "not_tried", detail="the host's login budget was spent")
    return _login(run, "error", detail=f"{run.errors} attempts failed without an answer")
