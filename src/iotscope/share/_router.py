"""The hub's router factory (``iotscope.share:router`` in ``service._app.ROUTERS``)."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter

from iotscope.share._notify import start_pg_listener
from iotscope.share._stream import stream_router
from iotscope.share._taxii import taxii_router
from iotscope.share._webhook_routes import webhook_router
from iotscope.share._webhooks import start_worker
from iotscope.store import Store


def router(store: Store) -> APIRouter:
    """TAXII 2.1 routes, the SSE stream and webhook subscriptions; while the app runs, a
    PostgreSQL LISTEN relay (so streams wake on other servers' commits) and the webhook
    delivery worker."""

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        stop = threading.Event()
        start_pg_listener(store.engine, stop)
        start_worker(store.engine, stop)
        try:
            yield
        finally:
            stop.set()

    r = APIRouter(lifespan=lifespan)
    r.include_router(taxii_router(store))
    r.include_router(stream_router(store))
    r.include_router(webhook_router(store))
    return r
