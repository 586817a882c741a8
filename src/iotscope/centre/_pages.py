"""The centre's pages under ``/centre/``: sign-in, the index of views, one page per view.

Server-rendered with Jinja2 (autoescaped: a banner string with ``<script>`` is only text), one
layout, English and Japanese (``?lang=en|ja``). The browser keeps the API token in an HttpOnly,
SameSite=Strict cookie; every page checks the caller's role against the view's, as the API
does (same :func:`iotscope.centre._api.compute`). Responses carry a Content-Security-Policy that
admits only the app's own scripts (no inline script runs).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from iotscope.centre._api import compute
from iotscope.centre._assets import MEDIA_TYPES, static_files
from iotscope.centre._i18n import Lang, pick_lang, strings
from iotscope.centre._ja import heading, title
from iotscope.centre._render import page_data, table_out
from iotscope.centre._views import View, registry, views_for
from iotscope.errors import IotscopeError
from iotscope.service.auth import COOKIE, current_principal
from iotscope.store import Store
from iotscope.store._tokens import resolve_token
from iotscope.tenancy import Principal

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
COOKIE_MAX_AGE = 12 * 3600

_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.globals["heading"] = heading
_env.globals["tr_title"] = title


def _lang(request: Request) -> Lang:
    return pick_lang(request.query_params.get("lang"), request.headers.get("accept-language"))


def _other(lang: Lang) -> Lang:
    return "en" if lang == "ja" else "ja"


def _switch_url(request: Request, lang: Lang) -> str:
    """This page in the other language (its view parameters kept)."""
    query = view_params(request)
    query["lang"] = _other(lang)
    return f"{request.url.path}?{urlencode(query)}"


def _page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    lang = _lang(request)
    # an error page switches language on the index: it never echoes the path that failed
    switch = _switch_url(request, lang) if status < 400 else f"/centre/?lang={_other(lang)}"
    html = _env.get_template(template).render(lang=lang, t=strings(lang), switch=switch, **context)
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def _principal(request: Request) -> Principal | None:
    try:
        return current_principal(request)
    except HTTPException:
        return None


def _to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    login = f"/centre/login?next={quote(target, safe='')}&lang={_lang(request)}"
    return RedirectResponse(login, status_code=303)


def safe_next(value: str | None) -> str:
    """Where to go after signing in: only a path of the centre (no open redirect)."""
    if not value or not value.startswith("/centre/") or value.startswith("//"):
        return "/centre/"
    parts = urlsplit(value)
    return "/centre/" if parts.scheme or parts.netloc or "\\" in value else value


def _same_origin(request: Request) -> bool:
    """A form post from our own pages (a browser sends Origin on POST); no Origin: a script."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return origin == f"{request.url.scheme}://{request.url.netloc}"


#: A view parameter's name (``vendor``, ``round``, ``id``...); anything else in a query is not
#: a view's and is neither passed on nor echoed into a page.
_PARAM = re.compile(r"[a-z][a-z0-9_]{0,31}")


def view_params(request: Request) -> dict[str, str]:
    """The query parameters a view receives (the page's own ``lang`` removed)."""
    return {k: v for k, v in request.query_params.items() if k != "lang" and _PARAM.fullmatch(k)}


def _error(request: Request, who: Principal | None, status: int, detail: str) -> HTMLResponse:
    return _page(request, "error.html", status, who=who, code=status, detail=detail)


def pages_router(store: Store) -> APIRouter:
    """Every page of the centre: static files, sign-in and out, the index, the views."""
    pages = APIRouter(prefix="/centre", include_in_schema=False)
    files = static_files()
    _static_routes(pages, files)
    _sign_in_routes(pages, store)
    _view_routes(pages, store, charts_ok="echarts.min.js" in files)
    return pages


def _static_routes(pages: APIRouter, files: Mapping[str, Path]) -> None:
    @pages.get("/static/{name}")
    def static(name: str) -> Response:
        path = files.get(name)
        if path is None:
            raise HTTPException(404, "no such file")
        return FileResponse(
            path,
            media_type=MEDIA_TYPES[path.suffix],
            headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
        )


def _sign_in_routes(pages: APIRouter, store: Store) -> None:
    @pages.get("/login")
    def login_form(request: Request, next: str | None = None) -> Response:
        return _page(request, "login.html", who=None, next=safe_next(next), failed=False)

    @pages.post("/login")
    def login(request: Request, token: str = Form(""), next: str = Form("/centre/")) -> Response:
        if not _same_origin(request):
            return _error(request, None, 403, "cross-site sign-in refused")
        principal = resolve_token(store.engine, token.strip()) if token.strip() else None
        if principal is None:
            return _page(request, "login.html", 401, who=None, next=safe_next(next), failed=True)
        response = RedirectResponse(safe_next(next), status_code=303)
        response.set_cookie(
            COOKIE,
            token.strip(),
            max_age=COOKIE_MAX_AGE,
            path="/",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    @pages.post("/logout")
    def logout(request: Request) -> Response:
        response = RedirectResponse("/centre/login", status_code=303)
        if _same_origin(request):
            response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
        return response


def _view_routes(pages: APIRouter, store: Store, *, charts_ok: bool) -> None:
    @pages.get("/")
    def index(request: Request) -> Response:
        who = _principal(request)
        if who is None:
            return _to_login(request)
        return _page(request, "index.html", who=who, views=views_for(who))

    @pages.get("/views/{name}")
    def view_page(name: str, request: Request) -> Response:
        who = _principal(request)
        if who is None:
            return _to_login(request)
        params = view_params(request)
        try:
            v = compute(store, who, name, params)
        except HTTPException as e:
            return _error(request, who, e.status_code, str(e.detail))
        except IotscopeError as e:  # a view refused its input or its store failed: say so
            return _error(request, who, 500, str(e))
        return _view_page(request, who, name, v, params, charts_ok=charts_ok)


def _view_page(
    request: Request,
    who: Principal,
    name: str,
    v: View,
    params: Mapping[str, str],
    *,
    charts_ok: bool,
) -> HTMLResponse:
    lang = _lang(request)
    spec = registry()[name]
    data = page_data(name, v, params, lang, strings(lang))
    tables = [table_out(name, t, params, lang) for t in v.tables]
    return _page(
        request,
        "view.html",
        who=who,
        spec=spec,
        title=spec.title_ja if lang == "ja" else spec.title_en,
        view=v,
        tables=tables,
        charts=data["charts"],
        data=data,
        charts_ok=charts_ok,
    )
