"""The one auth layer of the service: ``Authorization: Bearer TOKEN`` (or the same token in the
``iotscope_token`` cookie a browser holds after logging in) -> a :class:`Principal`.

Routers of every part depend on :func:`current_principal` (or :func:`require_role`); this module
imports no part, so any part's router may import it.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import HTTPException, Request

from iotscope.store import Store
from iotscope.store._tokens import resolve_token
from iotscope.tenancy import Principal, Role

COOKIE = "iotscope_token"


def app_store(request: Request) -> Store:
    """The store the app was built over (``create_app(store)``)."""
    store: Store = request.app.state.store
    return store


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.cookies.get(COOKIE)


def current_principal(request: Request) -> Principal:
    """FastAPI dependency: the caller, or 401 with a ``WWW-Authenticate`` challenge."""
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    token = _bearer(request)
    principal = resolve_token(app_store(request).engine, token) if token else None
    if principal is None:
        raise HTTPException(
            status_code=401,
            detail="a valid bearer token is required",
            headers={"WWW-Authenticate": 'Bearer realm="iotscope"'},
        )
    request.state.principal = principal
    return principal


def require_role(*roles: Role) -> Callable[[Request], Principal]:
    """A dependency that admits only ``roles`` (403 for any other authenticated caller)."""

    def dependency(request: Request) -> Principal:
        principal = current_principal(request)
        if principal.role not in roles:
            raise HTTPException(status_code=403, detail="this role may not use this route")
        return principal

    return dependency
