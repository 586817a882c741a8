"""Webhooks: a tenant subscribes a URL to a collection; new objects are POSTed to it as a
TAXII envelope, signed, retried with exponential backoff and dead-lettered after
:data:`MAX_ATTEMPTS` failures.

Signature (the receiver checks it with :func:`verify`): header
``X-Iotscope-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>``; the
timestamp inside the MAC stops replays. ``X-Iotscope-Delivery`` is the cursor of the batch's
last object: delivery is at-least-once (a kill between the POST and the cursor's update sends
the batch again), so receivers drop a delivery id they have already seen.

The worker keeps no state of its own: each subscription's cursor, failure count and next
attempt are rows, so a killed worker resumes where the store says. On PostgreSQL only the
worker holding an advisory lock delivers, so several servers do not send twice.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import Engine, delete, desc, insert, select, text, update

from iotscope.share import _hubstore as hs
from iotscope.share._model import TAXII_MEDIA, access, encode_cursor, now_us
from iotscope.share._notify import notifier_for, poll_interval
from iotscope.store._schema_hub import hub_dead_letters, hub_objects, hub_webhooks
from iotscope.tenancy import Principal

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 6
BACKOFF_BASE = 1.0  # seconds; attempt n waits BACKOFF_BASE * 2**(n-1), at most BACKOFF_CAP
BACKOFF_CAP = 300.0
BATCH = 200
TIMEOUT = 5.0
SIGNATURE_HEADER = "X-Iotscope-Signature"
_LOCK_KEY = 0x10757C09  # pg advisory lock: "one webhook worker per database"
w = hub_webhooks


# -- signing (pure) ---------------------------------------------------------------------------
def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The signature header value for ``body`` sent at ``timestamp`` (unix seconds)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, now: float, tolerance: float = 300.0) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` and is at most ``tolerance`` s old."""
    try:
        fields = dict(p.split("=", 1) for p in header.split(","))
        ts = int(fields["t"])
    except (ValueError, KeyError):
        return False
    if abs(now - ts) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, body, ts), header)


def backoff(failures: int) -> float:
    """Seconds before the next attempt after ``failures`` consecutive failures."""
    return float(min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, failures - 1)))


# -- subscriptions -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Subscription:
    id: str
    role: str
    tenant: str | None
    collection_id: str
    url: str
    failures: int
    delivered: int
    last_error: str | None

    @property
    def principal(self) -> Principal:
        return Principal(self.role, self.tenant)  # type: ignore[arg-type]


def _sub(row: Any) -> Subscription:
    return Subscription(
        row.id, row.role, row.tenant, row.collection_id, row.url, row.failures, row.delivered,
        row.last_error,
    )  # fmt: skip


def create(
    engine: Engine,
    principal: Principal,
    collection_id: str,
    url: str,
    secret: str | None,
    from_start: bool,
) -> tuple[Subscription, str]:
    """Subscribe ``url`` (the caller must be able to read the collection: checked by the
    caller); returns the subscription and its secret (generated when not given)."""
    secret = secret or secrets.token_urlsafe(32)
    cursor = (0, 0) if from_start else _collection_end(engine, collection_id)
    row = {
        "id": str(uuid.uuid4()),
        "role": principal.role,
        "tenant": principal.tenant,
        "collection_id": collection_id,
        "url": url,
        "secret": secret,
        "created": datetime.now(UTC),
        "cursor_added_us": cursor[0],
        "cursor_rid": cursor[1],
        "failures": 0,
        "next_attempt_us": 0,
        "last_error": None,
        "delivered": 0,
    }
    with engine.begin() as conn:
        conn.execute(insert(w).values(**row))
    return _sub(_Row(row)), secret


class _Row:
    def __init__(self, d: dict[str, Any]) -> None:
        self.__dict__.update(d)


def _collection_end(engine: Engine, collection_id: str) -> tuple[int, int]:
    o = hub_objects
    stmt = (
        select(o.c.added_us, o.c.rid)
        .where(o.c.collection_id == collection_id)
        .order_by(desc(o.c.added_us), desc(o.c.rid))
        .limit(1)
    )
    with engine.connect() as conn:
        row = conn.execute(stmt).first()
    return (0, 0) if row is None else (int(row.added_us), int(row.rid))


def _mine(principal: Principal) -> Any:
    if principal.is_centre:
        return True
    tenant = w.c.tenant.is_(None) if principal.tenant is None else w.c.tenant == principal.tenant
    return (w.c.role == principal.role) & tenant


def list_for(engine: Engine, principal: Principal) -> list[Subscription]:
    with engine.connect() as conn:
        return [
            _sub(r) for r in conn.execute(select(w).where(_mine(principal)).order_by(w.c.created))
        ]


def get_for(engine: Engine, principal: Principal, webhook_id: str) -> Subscription | None:
    with engine.connect() as conn:
        row = conn.execute(select(w).where(w.c.id == webhook_id, _mine(principal))).first()
    return None if row is None else _sub(row)


def remove(engine: Engine, principal: Principal, webhook_id: str) -> bool:
    with engine.begin() as conn:
        done = conn.execute(delete(w).where(w.c.id == webhook_id, _mine(principal)))
    return bool(done.rowcount)


def dead_letters(engine: Engine, webhook_id: str) -> list[dict[str, Any]]:
    d = hub_dead_letters
    stmt = select(d.c.rid, d.c.created, d.c.attempts, d.c.last_error, d.c.body).where(
        d.c.webhook_id == webhook_id
    )
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt.order_by(d.c.rid))]


# -- delivery --------------------------------------------------------------------------------------
def deliver_due(engine: Engine, client: httpx.Client, now: int | None = None) -> int:
    """One pass: every due subscription with new objects gets one batch. Returns the number
    of objects delivered (or dead-lettered)."""
    now = now_us() if now is None else now
    with engine.connect() as conn:
        due = conn.execute(select(w).where(w.c.next_attempt_us <= now)).all()
    return sum(_deliver_one(engine, client, row, now) for row in due)


def _deliver_one(engine: Engine, client: httpx.Client, row: Any, now: int) -> int:
    coll = hs.get_collection(engine, row.collection_id)
    sub = _sub(row)
    if coll is None or not access(sub.principal, coll)[0]:
        return 0  # the collection went away or the tenant lost read access: send nothing
    q = hs.Query(versions=("all",), after=(row.cursor_added_us, row.cursor_rid), limit=BATCH)
    rows, more = hs.page(engine, row.collection_id, q, ("body",))
    if not rows:
        return 0
    more_text = "true" if more else "false"
    objects = ",".join(r.body for r in rows)
    body = ('{"more":' + more_text + ',"objects":[' + objects + "]}").encode()
    end = (rows[-1].added_us, rows[-1].rid)
    headers = {
        "Content-Type": TAXII_MEDIA,
        SIGNATURE_HEADER: sign(row.secret, body, int(time.time())),
        "X-Iotscope-Webhook": row.id,
        "X-Iotscope-Collection": row.collection_id,
        "X-Iotscope-Delivery": encode_cursor(*end),
    }
    try:
        resp = client.post(row.url, content=body, headers=headers, timeout=TIMEOUT)
        error = None if 200 <= resp.status_code < 300 else f"HTTP {resp.status_code}"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:300]
    if error is None:
        _advance(engine, row.id, end, len(rows), None)
        return len(rows)
    failures = row.failures + 1
    if failures >= MAX_ATTEMPTS:
        _dead_letter(engine, row.id, end, len(rows), failures, error, body)
        return len(rows)
    with engine.begin() as conn:
        conn.execute(
            update(w)
            .where(w.c.id == row.id)
            .values(
                failures=failures,
                next_attempt_us=now + int(backoff(failures) * 1e6),
                last_error=error,
            )
        )
    return 0


def _advance(
    engine: Engine, webhook_id: str, end: tuple[int, int], n: int, error: str | None
) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(w)
            .where(w.c.id == webhook_id)
            .values(
                cursor_added_us=end[0],
                cursor_rid=end[1],
                failures=0,
                next_attempt_us=0,
                last_error=error,
                delivered=w.c.delivered + n,
            )
        )


def _dead_letter(
    engine: Engine,
    webhook_id: str,
    end: tuple[int, int],
    n: int,
    attempts: int,
    error: str,
    body: bytes,
) -> None:
    """Park the batch (kept for inspection and manual replay) and move on past it."""
    with engine.begin() as conn:
        conn.execute(
            insert(hub_dead_letters).values(
                webhook_id=webhook_id,
                created=datetime.now(UTC),
                attempts=attempts,
                last_error=error,
                body=body.decode(),
            )
        )
    _advance(engine, webhook_id, end, 0, error)
    log.warning(
        "webhook %s: batch of %d dead-lettered after %d attempts (%s)",
        webhook_id,
        n,
        attempts,
        error,
    )


# -- the worker ----------------------------------------------------------------------------------
def _next_due_in(engine: Engine) -> float | None:
    with engine.connect() as conn:
        nxt = conn.execute(
            select(w.c.next_attempt_us)
            .where(w.c.next_attempt_us > 0)
            .order_by(w.c.next_attempt_us)
            .limit(1)
        ).scalar()
    return None if nxt is None else max(0.0, (nxt - now_us()) / 1e6)


def run_worker(engine: Engine, stop: threading.Event, client: httpx.Client | None = None) -> None:
    """Deliver until ``stop`` is set: at once when a collection gains objects in this process
    (the notifier), else every poll interval (other processes' writes, due retries)."""
    own = client is None
    client = client or httpx.Client()
    woken, unsubscribe = notifier_for(engine).subscribe_thread()
    lock_conn = None
    try:
        while not stop.is_set():
            if engine.dialect.name == "postgresql" and lock_conn is None:
                lock_conn = _try_lock(engine)
                if lock_conn is None:
                    stop.wait(5.0)
                    continue
            woken.clear()
            try:
                while deliver_due(engine, client):
                    if stop.is_set():
                        return
            except Exception as exc:  # a database hiccup must not kill delivery for good
                log.warning("webhook pass failed: %s", exc)
            due = _next_due_in(engine)
            wait = poll_interval(engine) if due is None else min(due, poll_interval(engine))
            woken.wait(wait)
    finally:
        unsubscribe()
        if lock_conn is not None:
            lock_conn.close()
        if own:
            client.close()


def _try_lock(engine: Engine) -> Any:
    conn = engine.connect()
    got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _LOCK_KEY}).scalar()
    conn.commit()
    if got:
        return conn
    conn.close()
    return None


def start_worker(engine: Engine, stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(
        target=run_worker, args=(engine, stop), name="hub-webhooks", daemon=True
    )
    thread.start()
    return thread
