"""Tenancy proven: every route of the app, called by every role, with every path parameter
pointing at ISP A's private collection, object and status resource. Nobody but ISP A and the
centre may read anything of it (its id, objects, status) or change it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.routing import Route

from iotscope.service import create_app
from iotscope.share import add_objects, private_collection_id
from iotscope.store import Store
from iotscope.store._schema_hub import hub_objects
from iotscope.tenancy import Principal
from tests.share.conftest import indicator, mint_all

SECRET_IP = "203.0.113.77"
OUTSIDERS = ("isp-b", "vendor", "partner", None, "revoked")
OPEN_ROUTES = {"/healthz", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
LANDING = "/notice/"  # per-notice landing pages: the notice's own token is the credential


SIGN_IN = "/centre/login"
PUBLIC_PAGES = (SIGN_IN, "/centre/static/")  # the sign-in page and its script and styles


def _page(url: str) -> bool:
    """A centre page for a browser: no token sends it to sign in (303), not a bare 401."""
    return url.startswith("/centre/") and not url.startswith("/centre/api/")


def _private_state(store: Store, coll: str) -> list[tuple[str, str, str]]:
    o = hub_objects
    with store.engine.connect() as conn:
        rows = conn.execute(select(o.c.id, o.c.version, o.c.body).where(o.c.collection_id == coll))
        return sorted((r.id, r.version, r.body) for r in rows)


def _walk(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(method, path) of every route, descending into included routers."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            sub = getattr(getattr(route, "include_context", None), "prefix", "") or ""
            yield from _walk(inner.routes, prefix + sub)
        elif isinstance(route, Route):
            for method in route.methods or ():
                yield method, prefix + route.path


def _calls(app: FastAPI, values: dict[str, str]) -> list[tuple[str, str]]:
    """Every (method, concrete URL) of the app: its routes and its OpenAPI document."""
    pairs = set(_walk(app.routes))
    for path, ops in app.openapi()["paths"].items():
        pairs.update((m.upper(), path) for m in ops)
    calls = []
    for method, path in sorted(pairs):
        if method in ("HEAD", "OPTIONS"):
            continue
        url = path
        for p in re.findall(r"{(\w+)}", path):
            url = url.replace("{" + p + "}", values.get(p, values["collection_id"]))
        calls.append((method, url))
    return calls


def _template(url: str, values: dict[str, str]) -> str:
    """``url`` with our values put back as placeholders (did it name a private thing?)."""
    for v in values.values():
        url = url.replace(v, "{}")
    return url


@pytest.mark.timeout(240)
def test_no_route_leaks_or_changes_another_isps_private_collection(sqlite_store: Store) -> None:
    store = sqlite_store
    tokens = mint_all(store)
    coll = private_collection_id("isp-a")
    isp_a = Principal("isp", "isp-a")
    secret = indicator(77, pattern=f"[ipv4-addr:value = '{SECRET_IP}']")
    status = add_objects(store, isp_a, coll, [secret])
    before = _private_state(store, coll)
    app = create_app(store)
    values = {"collection_id": coll, "object_id": secret["id"], "status_id": status["id"]}
    calls = _calls(app, values)
    assert len(calls) >= 10  # the walk covers the hub's routes, not an empty app
    envelope = json.dumps({"objects": [indicator(1)]})
    query = {"match[id]": secret["id"], "match[version]": "all"}
    with TestClient(app) as client:
        # positive control: the owner does read it through the same routes
        own = client.get(
            f"/taxii2/hub/collections/{coll}/objects/",
            headers={"Authorization": f"Bearer {tokens['isp-a']}"},
        )
        assert SECRET_IP in own.text
        for who in OUTSIDERS:
            headers = {"Accept": "application/taxii+json;version=2.1"}
            if who:
                headers["Authorization"] = f"Bearer {tokens[who]}"
            for method, url in calls:
                if method == "POST":
                    headers = headers | {"Content-Type": "application/taxii+json;version=2.1"}
                r = client.request(method, url, headers=headers, params=query, content=envelope,
                                   follow_redirects=False)  # fmt: skip
                where = f"{who} {method} {url} -> {r.status_code}"
                if url in OPEN_ROUTES:
                    continue
                assert r.status_code < 500, where
                to_login = r.status_code == 303 and r.headers["location"].startswith(SIGN_IN)
                if who in (None, "revoked") and not url.startswith((LANDING, *PUBLIC_PAGES)):
                    assert r.status_code == 401 or (_page(url) and to_login), where
                if "{" in _template(url, values):
                    assert r.status_code in (401, 403, 404, 405, 406) or to_login, where
                assert SECRET_IP not in r.text and secret["id"] not in r.text, where
                assert coll not in r.text and status["id"] not in r.text, where
            listing = client.get("/taxii2/hub/collections/", headers=headers)
            assert coll not in listing.text, who
    assert _private_state(store, coll) == before
