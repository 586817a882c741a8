"""Server-sent events: each new object of a collection, as it is committed
(``<api root>collections/<id>/stream/``; WHATWG HTML, "Server-sent events").

Each event is ``event: stix`` with the object's JSON as ``data`` and the keyset cursor as
``id``; a client reconnecting with ``Last-Event-ID`` (or ``?after=``) resumes right after the
last object it received. Without either, the stream starts at the present. Wake-ups come from
:mod:`iotscope.share._notify` (immediate in-process; LISTEN/NOTIFY or a short poll across
processes); a comment line every ``KEEPALIVE`` seconds keeps proxies from closing it.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from sqlalchemy import desc, select

from iotscope.service.auth import app_store, current_principal
from iotscope.share import _api
from iotscope.share import _hubstore as hs
from iotscope.share._api import TaxiiError
from iotscope.share._model import decode_cursor, encode_cursor
from iotscope.share._notify import notifier_for, poll_interval
from iotscope.share._taxii import API_ROOT, TaxiiRoute, accepts
from iotscope.store import Store
from iotscope.tenancy import Principal

KEEPALIVE = 15.0
BATCH = 500
EVENT_STREAM = "text/event-stream"


def sse_event(rows: list[Any]) -> str:
    """Server-sent events for stored rows (``rid``, ``added_us``, ``body``)."""
    return "".join(
        f"id: {encode_cursor(r.added_us, r.rid)}\nevent: stix\ndata: {r.body}\n\n" for r in rows
    )


def _start(store: Store, collection_id: str, resume: str | None) -> tuple[int, int]:
    """Where the stream starts: after ``resume``, else after the newest stored object."""
    if resume:
        try:
            return decode_cursor(resume)
        except ValueError as exc:
            raise TaxiiError(400, "invalid Last-Event-ID", str(exc)) from exc
    o = hs.hub_objects
    stmt = (
        select(o.c.added_us, o.c.rid)
        .where(o.c.collection_id == collection_id)
        .order_by(desc(o.c.added_us), desc(o.c.rid))
        .limit(1)
    )
    with store.engine.connect() as conn:
        row = conn.execute(stmt).first()
    return (0, 0) if row is None else (int(row.added_us), int(row.rid))


async def _events(
    request: Request,
    store: Store,
    principal: Principal,
    collection_id: str,
    cursor: tuple[int, int],
) -> AsyncIterator[str]:
    notifier = notifier_for(store.engine)
    poll = poll_interval(store.engine)
    yield ": iotscope stream\n\n"
    last_sent = time.monotonic()
    while not await request.is_disconnected():
        q = hs.Query(versions=("all",), after=cursor, limit=BATCH)
        rows, more = await run_in_threadpool(_api.get_page, store, principal, collection_id, q)
        if rows:
            cursor = (rows[-1].added_us, rows[-1].rid)
            yield sse_event(rows)
            last_sent = time.monotonic()
            if more:
                continue
        elif time.monotonic() - last_sent > KEEPALIVE:
            yield ": keepalive\n\n"
            last_sent = time.monotonic()
        await notifier.wait(collection_id, poll)


def stream_router(store: Store) -> APIRouter:
    """The SSE route, with the same auth and tenancy as the TAXII routes."""
    r = APIRouter(route_class=TaxiiRoute, tags=["taxii"])
    del store

    @r.get(API_ROOT + "collections/{collection_id}/stream/")
    def stream(
        request: Request, collection_id: str, principal: Principal = Depends(current_principal)
    ) -> StreamingResponse:
        """New objects of a collection as server-sent events (resume with Last-Event-ID)."""
        if not accepts(request.headers.get("accept"), EVENT_STREAM):
            raise TaxiiError(406, "not acceptable", f"this route answers {EVENT_STREAM}")
        store = app_store(request)
        _api.readable(store, principal, collection_id)
        resume = request.headers.get("last-event-id") or request.query_params.get("after")
        cursor = _start(store, collection_id, resume)
        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        return StreamingResponse(
            _events(request, store, principal, collection_id, cursor),
            media_type=EVENT_STREAM,
            headers=headers,
        )

    return r
