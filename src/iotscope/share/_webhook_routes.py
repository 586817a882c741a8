"""Webhook subscriptions over HTTP (an iotscope extension beside the TAXII API root; plain
JSON). A subscription belongs to the caller's role and tenant; only they and the centre see it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, Field, field_validator

from iotscope.service.auth import app_store, current_principal
from iotscope.share import _api
from iotscope.share import _webhooks as wh
from iotscope.share._api import TaxiiError
from iotscope.share._taxii import API_ROOT
from iotscope.store import Store
from iotscope.tenancy import Principal

WEBHOOKS = API_ROOT + "webhooks/"


class NewWebhook(BaseModel):
    """A subscription request: which collection, where to POST, the shared secret."""

    collection_id: str = Field(max_length=64)
    url: str = Field(max_length=2000)
    secret: str | None = Field(default=None, min_length=16, max_length=200)
    from_start: bool = False

    @field_validator("url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("url must be an absolute http(s) URL")
        return v


def _public(sub: wh.Subscription) -> dict[str, Any]:
    return {
        "id": sub.id,
        "collection_id": sub.collection_id,
        "url": sub.url,
        "delivered": sub.delivered,
        "failures": sub.failures,
        "last_error": sub.last_error,
    }


def webhook_router(store: Store) -> APIRouter:
    r = APIRouter(tags=["webhooks"])
    del store

    @r.post(WEBHOOKS, status_code=201)
    def subscribe(
        request: Request, body: NewWebhook, principal: Principal = Depends(current_principal)
    ) -> dict[str, Any]:
        """Subscribe a URL to a collection the caller can read; the secret is shown once."""
        store = app_store(request)
        try:
            _api.readable(store, principal, body.collection_id)
        except TaxiiError as exc:
            raise HTTPException(exc.status, exc.title) from exc
        sub, secret = wh.create(
            store.engine, principal, body.collection_id, body.url, body.secret, body.from_start
        )
        return _public(sub) | {"secret": secret, "signature_header": wh.SIGNATURE_HEADER}

    @r.get(WEBHOOKS)
    def subscriptions(
        request: Request, principal: Principal = Depends(current_principal)
    ) -> dict[str, Any]:
        """The caller's subscriptions (every one for the centre); never the secrets."""
        subs = wh.list_for(app_store(request).engine, principal)
        return {"webhooks": [_public(s) for s in subs]}

    def _own(request: Request, principal: Principal, webhook_id: str) -> wh.Subscription:
        sub = wh.get_for(app_store(request).engine, principal, webhook_id)
        if sub is None:
            raise HTTPException(404, "no such webhook")
        return sub

    @r.get(WEBHOOKS + "{webhook_id}/")
    def subscription(
        request: Request, webhook_id: str, principal: Principal = Depends(current_principal)
    ) -> dict[str, Any]:
        """One subscription's state: delivered count, failures, last error."""
        return _public(_own(request, principal, webhook_id))

    @r.delete(WEBHOOKS + "{webhook_id}/", status_code=204)
    def unsubscribe(
        request: Request, webhook_id: str, principal: Principal = Depends(current_principal)
    ) -> Response:
        """Remove a subscription."""
        if not wh.remove(app_store(request).engine, principal, webhook_id):
            raise HTTPException(404, "no such webhook")
        return Response(status_code=204)

    @r.get(WEBHOOKS + "{webhook_id}/dead-letters/")
    def dead_letters(
        request: Request, webhook_id: str, principal: Principal = Depends(current_principal)
    ) -> dict[str, Any]:
        """Batches given up on after the last retry, with the error, for inspection."""
        sub = _own(request, principal, webhook_id)
        rows = wh.dead_letters(app_store(request).engine, sub.id)
        return {"dead_letters": [r | {"created": r["created"].isoformat()} for r in rows]}

    return r
