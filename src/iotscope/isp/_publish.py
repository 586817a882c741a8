"""One detection round and one publication of a site, and the outbox's delivery to the hub.

:func:`detect_round` runs the C2 detection over the site's sliding window, stores the run (the
moment a C2 is "committed") and decides the publication (:func:`publish_candidates`): the plan
against the site's publish state, written with its envelopes in one transaction.
:func:`send_pending` delivers waiting envelopes in order; a hub that is down leaves them
queued, retried with exponential backoff, across restarts.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from iotscope.c2 import Params, Window, detect
from iotscope.c2._history import new_run_id, params_json, record_run
from iotscope.c2._known import INFECTED, counted, known_hosts, tally
from iotscope.errors import ConfigError
from iotscope.flows._parquet import dataset_glob, has_flows
from iotscope.isp._plan import DEFAULT_REFRESH, Plan, plan
from iotscope.isp._state import (
    StaleState,
    StateCache,
    commit_plan,
    fetch_object,
    last_outbox_id,
    load_published,
    mark_failed,
    mark_sent,
    pending,
)
from iotscope.isp._taxii import Hub, HubError
from iotscope.records import C2Candidate, C2Run
from iotscope.store import Store

__all__ = [
    "Round",
    "SendReport",
    "backoff",
    "detect_round",
    "publish_candidates",
    "publish_latest",
    "send_pending",
    "window_flows",
]


@dataclass(frozen=True)
class Round:
    """What one detection round did: its run (None when the window held no flow), the
    candidates, the plan and the outbox ids it queued."""

    run_id: str | None
    flows: int
    candidates: list[C2Candidate]
    plan: Plan
    outbox: list[int]
    committed: datetime | None


@dataclass
class SendReport:
    sent: int = 0
    objects: int = 0
    dead: int = 0
    failed: int = 0
    error: str | None = None


def window_flows(root: Path, site: str, since: datetime | None) -> int:
    """How many of the site's flows start at or after ``since`` (all of them when None)."""
    if not has_flows(root, site):
        return 0
    where = "" if since is None else f" WHERE epoch_ms(start) >= {int(since.timestamp() * 1000)}"
    con = duckdb.connect()
    try:
        sql = f"SELECT count(*) FROM read_parquet('{dataset_glob(root, site)}'){where}"
        row = con.execute(sql).fetchone()
    finally:
        con.close()
    return int(row[0]) if row else 0


#: How often a publication is planned again when another publisher of the site got there first.
PUBLISH_ATTEMPTS = 5


def publish_candidates(
    store: Store,
    site: str,
    candidates: list[C2Candidate],
    run_id: str | None,
    now: datetime,
    *,
    refresh: timedelta = DEFAULT_REFRESH,
    cache: StateCache | None = None,
) -> tuple[Plan, list[int]]:
    """Plan ``site``'s publication for ``candidates`` and commit it (state + outbox).
    ``cache`` keeps the state between calls of a long-running publisher."""
    for _ in range(PUBLISH_ATTEMPTS - 1):
        try:
            return _publish_once(store, site, candidates, run_id, now, refresh, cache)
        except StaleState:  # another publisher of the site committed first: plan again
            if cache is not None:
                cache.state = None
    return _publish_once(store, site, candidates, run_id, now, refresh, cache)


def _publish_once(
    store: Store,
    site: str,
    candidates: list[C2Candidate],
    run_id: str | None,
    now: datetime,
    refresh: timedelta,
    cache: StateCache | None,
) -> tuple[Plan, list[int]]:
    if cache is not None:
        state = cache.load(store, site)
        marker = cache.marker
    else:
        marker = last_outbox_id(store, site)
        state = load_published(store, site, lazy=True)
    decided = plan(candidates, site, state, now, refresh=refresh,
                   fetch=lambda oid: fetch_object(store, site, oid))  # fmt: skip
    ids = commit_plan(store, site, decided, run_id, now, expect_marker=marker)
    if cache is not None:
        cache.committed(decided, ids)
    return decided, ids


def detect_round(
    store: Store,
    site: str,
    root: Path,
    *,
    window: timedelta | None,
    params: Params | None = None,
    refresh: timedelta = DEFAULT_REFRESH,
    now: datetime | None = None,
    cache: StateCache | None = None,
) -> Round:
    """Detect over the last ``window`` of flow time (all flows when None), store the run,
    publish what changed. ``now`` (default: the wall clock) is the time the window ends at
    and the publication is dated. A window without flows (collector down, exporter silent) is not
    evidence that the C2s went away: the round stops there and expires nothing."""
    started = now or datetime.now(UTC)
    since = started - window if window is not None else None
    flows = window_flows(root, site, since)
    if flows == 0:
        return Round(None, 0, [], Plan(), [], None)
    params = params or Params()
    known = known_hosts(store)
    found = detect(
        root, infected=counted(known, INFECTED), window=Window(site, since, None), params=params
    )
    run = C2Run(
        id=new_run_id(started),
        site=site,
        since=since,
        until=None,
        engine="duckdb",
        params=params_json(params),
        started=started,
        finished=datetime.now(UTC),
        counts={**tally(known), "flows": flows},
    )
    record_run(store, found, run, [site])
    committed = datetime.now(UTC)
    clock = now or committed  # a replay (the demo's lab) publishes at its own clock
    decided, ids = publish_candidates(
        store, site, found, run.id, clock, refresh=refresh, cache=cache
    )
    return Round(run.id, flows, found, decided, ids, committed)


def publish_latest(
    store: Store, site: str, *, refresh: timedelta = DEFAULT_REFRESH, now: datetime | None = None
) -> tuple[str, Plan, list[int]]:
    """Publish the site's newest stored detection run (``share publish``)."""
    runs = store.c2_runs(site, limit=1)
    if not runs:
        raise ConfigError(
            "no detection run stored for this site; run `iotscope c2 detect`", site=site
        )
    run = runs[0]
    found = store.c2_run_candidates(run.id, site)
    decided, ids = publish_candidates(
        store, site, found, run.id, now or datetime.now(UTC), refresh=refresh
    )
    return run.id, decided, ids


def backoff(attempts: int, *, base: float = 0.5, cap: float = 60.0) -> float:
    """Seconds before the next attempt after ``attempts`` failures: doubling, capped, with
    up to 20% jitter (so many ISPs do not retry in step after a hub outage)."""
    delay = min(cap, base * 2 ** max(0, attempts))
    return delay * (1 + 0.2 * random.random())


def send_pending(store: Store, site: str, hub: Hub, now: datetime | None = None) -> SendReport:
    """Deliver the site's due envelopes, oldest first; stop at the first retryable failure
    (the hub is down: later envelopes would fail too) and reschedule it."""
    report = SendReport()
    for entry in pending(store, site, now or datetime.now(UTC)):
        try:
            delivery = hub.post(entry.objects)
        except HubError as exc:
            at = datetime.now(UTC)
            if not exc.retry:
                mark_sent(store, entry.id, None, at, error=f"rejected: {exc}")
                report.dead += 1
                continue
            retry = at + timedelta(seconds=backoff(entry.attempts))
            mark_failed(store, entry.id, str(exc), retry)
            report.failed += 1
            report.error = str(exc)
            break
        error = None
        if delivery.rejected:
            error = f"hub refused {len(delivery.rejected)} object(s): {delivery.rejected[:3]}"
        mark_sent(store, entry.id, delivery.status_id, datetime.now(UTC), error=error)
        report.sent += 1
        report.objects += len(entry.objects)
        report.dead += 1 if error else 0
    return report


def with_threshold(threshold: float) -> Params:
    return dataclasses.replace(Params(), threshold=threshold)
