"""The service's follow-up task: re-check an ISP's notified devices every N days.

``isp run --follow-up-isp NAME --follow-up-days N`` adds it to the site's process. Each wake-up
enrols the ISP's new notices, runs the round if one is due (``followup.scheduled_round``) and
sleeps until the next one falls due (at most ``poll`` seconds, so new notices are enrolled).
Everything it knows is in the store: after a kill it starts by running any round that is due
and was not stored.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from iotscope.followup._model import Locator, Rechecker
from iotscope.followup._schedule import scheduled_round
from iotscope.store import Store
from iotscope.tenancy import Principal

Say = Callable[[str], None]


@dataclass(frozen=True)
class FollowUpOptions:
    """Which ISP's notices to follow up, how often, and with what."""

    isp: str
    every_days: int = 14
    trial: str = ""  # default: the ISP's name (as ``notice follow-up``)
    poll: float = 3600.0  # wake at least this often (seconds) to enrol new notices
    rechecker: Rechecker | None = None  # default: a real re-survey (SurveyRechecker)
    leases: Locator | None = None  # default: the ISP's lease log in the store


def _parts(store: Store, opts: FollowUpOptions) -> tuple[Principal, Rechecker, Locator]:
    from iotscope.followup import SurveyRechecker
    from iotscope.followup._leases import StoreLeases

    principal = Principal("isp", opts.isp)  # the ISP's own tenancy, nothing more
    leases = opts.leases or StoreLeases(store, principal, opts.isp)
    return principal, opts.rechecker or SurveyRechecker(), leases


async def follow_up_loop(
    store: Store,
    opts: FollowUpOptions,
    stop: asyncio.Event,
    say: Say,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> int:
    """Run scheduled rounds until ``stop``; how many rounds ran."""
    principal, rechecker, leases = _parts(store, opts)
    trial, ran = opts.trial or opts.isp, 0
    while not stop.is_set():
        delay = opts.poll
        try:
            result, due = await asyncio.to_thread(
                scheduled_round, store, principal, opts.isp, trial, opts.every_days, clock(),
                rechecker, leases,
            )  # fmt: skip
        except Exception as exc:  # a failed round (store down, network) must not end the
            # service: say it, try again at the next wake-up
            say(f"follow-up round failed: {type(exc).__name__}: {str(exc)[:300]}")
        else:
            if result is not None:
                ran += 1
                states = ", ".join(f"{k} {v}" for k, v in sorted(result.states.items()))
                say(f"follow-up round {result.round} for {opts.isp}: {states}")
            if due is not None:
                delay = min(delay, max(0.0, (due.at - clock()).total_seconds()))
        await _sleep(stop, delay)
    return ran


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=max(seconds, 0.01))
