"""The walled-garden landing page (``/notice/{token}``) and the ISP's notice API.

The landing page needs no bearer token: the notice's own 128-bit token in the path is the
credential (stored as a hash). It records ``viewed`` on every visit and ``fixed_reported`` when
the subscriber presses the button: a POST form carrying a value derived from the token
(an attacker's page cannot know it), refused when the browser says it came from another site.
The page never shows the subscriber's name or address (whoever holds the link sees it), sends
no referrer (the token is in the URL) and may not be framed.

The ISP's API (bearer token, its own tenancy only) lists its notices and protections and moves
protections proposed -> applied -> lifted.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from iotscope.errors import ConfigError, StoreError
from iotscope.notify import _db, _protect
from iotscope.notify._compose import compose
from iotscope.notify._model import Notice
from iotscope.notify._render import environment, html_body
from iotscope.notify._status import notice_status
from iotscope.service.auth import app_store, require_role
from iotscope.store import Store
from iotscope.tenancy import Principal

HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
_isp_or_centre = require_role("isp", "centre")


def csrf_value(token: str) -> str:
    """The form's hidden value: an HMAC keyed by the token's hash (known only to its holder)."""
    key = _db.token_hash(token).encode()
    return hmac.new(key, b"fixed-reported", hashlib.sha256).hexdigest()


def _cross_site(request: Request) -> bool:
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return True
    origin = request.headers.get("origin")
    return (
        origin is not None
        and origin not in ("null",)
        and (origin.split("://", 1)[-1] != request.headers.get("host", ""))
    )


def _page(html: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def _not_found() -> HTMLResponse:
    html = environment().get_template("landing_missing.html.j2").render()
    return _page(html, 404)


def _render_landing(store: Store, notice: Notice, token: str, done: bool) -> str:
    profile = _db.load_profile(store, _owner(notice), notice.isp)
    if profile is None:
        raise HTTPException(status_code=500, detail="no notice profile for this ISP")
    content = compose(notice, profile, None, token)
    status = notice_status(store, notice.id)
    tpl = environment().get_template("landing.html.j2")
    return tpl.render(
        content.context()
        | {
            "body": html_body(content, link=False),
            "status": status,
            "csrf": csrf_value(token),
            "action": f"{token}/fixed",
            "done": done,
            "fixed_on": notice.fixed_reported,
        }
    )


def _owner(notice: Notice) -> Principal:
    return Principal("isp", notice.isp)


def router(store: Store) -> APIRouter:
    """The landing pages and the ISP's notice API (``ROUTERS``: ``iotscope.notify:router``)."""
    del store  # each request reads the app's store
    r = APIRouter(tags=["notices"])

    @r.get("/notice/{token}", response_class=HTMLResponse, include_in_schema=False)
    def landing(token: str, request: Request) -> Response:
        st = app_store(request)
        notice = _db.notice_by_token(st, token)
        if notice is None:
            return _not_found()
        _db.record_event(st, notice.id, "viewed", datetime.now(UTC))
        return _page(_render_landing(st, notice, token, request.query_params.get("done") == "1"))

    @r.post("/notice/{token}/fixed", include_in_schema=False)
    def fixed(token: str, request: Request, csrf: str = Form("")) -> Response:
        st = app_store(request)
        notice = _db.notice_by_token(st, token)
        if notice is None:
            return _not_found()
        if _cross_site(request) or not hmac.compare_digest(csrf, csrf_value(token)):
            return _page("<!DOCTYPE html><title>403</title><p>Forbidden</p>", 403)
        _db.record_event(st, notice.id, "fixed_reported", datetime.now(UTC))
        return RedirectResponse(f"/notice/{token}?done=1", status_code=303, headers=HEADERS)

    @r.get("/notices/{isp}")
    def isp_notices(
        isp: str, request: Request, p: Principal = Depends(_isp_or_centre)
    ) -> list[dict[str, Any]]:
        return [
            n.model_dump(mode="json") for n in _call(_db.list_notices, app_store(request), p, isp)
        ]

    @r.post("/notices/delivered/{notice_id}")
    def delivered(
        notice_id: str, request: Request, source: str = Form("api"),
        p: Principal = Depends(_isp_or_centre),
    ) -> dict[str, Any]:  # fmt: skip
        n = _call(_db.mark_delivered, app_store(request), p, notice_id, datetime.now(UTC), source)
        return n.model_dump(mode="json")

    @r.get("/notices/{isp}/protections")
    def isp_protections(
        isp: str, request: Request, state: str | None = None, p: Principal = Depends(_isp_or_centre)
    ) -> list[dict[str, Any]]:
        rows = _call(_db.list_protections, app_store(request), p, isp, state)
        return [x.model_dump(mode="json") for x in rows]

    @r.post("/notices/protections/{protection_id}/{action}")
    def move_protection(
        protection_id: str,
        action: str,
        request: Request,
        by: str = Form(""),
        reason: str | None = Form(None),
        p: Principal = Depends(_isp_or_centre),
    ) -> dict[str, Any]:
        moved = _call(_protect.move, app_store(request), p, protection_id, action, by, reason)
        return moved.model_dump(mode="json")

    return r


def _call(fn: Any, *args: Any) -> Any:
    """Map our errors to HTTP: not this tenant's -> 404, bad request -> 409/400."""
    try:
        return fn(*args)
    except _db.NotOwned as exc:
        raise HTTPException(status_code=404, detail="not found") from exc
    except ConfigError as exc:
        raise HTTPException(status_code=409, detail=exc.message) from exc
    except StoreError as exc:
        raise HTTPException(status_code=409, detail=exc.message) from exc
