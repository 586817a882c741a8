"""TAXII 2.1 over HTTP (OASIS Standard, 10 June 2021, sections 4 and 5): discovery, the API
root, collections, objects, versions, manifest and status, as thin handlers over
:mod:`iotscope.share._api`.

Every answer, errors included, is ``application/taxii+json;version=2.1``; a request whose
``Accept`` admits no TAXII 2.1 type gets 406, a POST that is not TAXII 2.1 JSON gets 415
(section 1.6.8). Errors are TAXII error messages (section 3.4.1).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from iotscope.service.auth import app_store, current_principal
from iotscope.share import _api
from iotscope.share._api import TaxiiError
from iotscope.share._hubstore import Query as Filters
from iotscope.share._model import (
    DEFAULT_PAGE,
    MAX_CONTENT_LENGTH,
    MAX_PAGE,
    STIX_MEDIA,
    TAXII_MEDIA,
    Collection,
    access,
    decode_cursor,
    encode_cursor,
    format_us,
    parse_ts,
)
from iotscope.store import Store
from iotscope.tenancy import Principal

API_ROOT = "/taxii2/hub/"
_ERR_TITLES = {400: "bad request", 401: "unauthorized", 403: "forbidden", 404: "not found"}


def error_response(
    status: int,
    title: str,
    description: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A TAXII error message (section 3.4.1) with its HTTP status."""
    body: dict[str, Any] = {"title": title, "http_status": str(status)}
    if description:
        body["description"] = description
    return Response(json.dumps(body), status_code=status, media_type=TAXII_MEDIA, headers=headers)


class TaxiiRoute(APIRoute):
    """Renders every failure of a TAXII route (auth, validation, ours) as a TAXII error."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def wrapped(request: Request) -> Response:
            try:
                return await handler(request)
            except TaxiiError as exc:
                return error_response(exc.status, exc.title, exc.description)
            except HTTPException as exc:
                title = _ERR_TITLES.get(exc.status_code, "error")
                return error_response(exc.status_code, title, str(exc.detail), exc.headers)
            except RequestValidationError as exc:
                where = "; ".join(
                    f"{'.'.join(str(x) for x in e.get('loc', ()))}: {e.get('msg')}"
                    for e in exc.errors()
                )
                return error_response(400, "invalid request", where[:500])

        return wrapped


# -- negotiation and parsing (pure) ---------------------------------------------------------
def accepts(header: str | None, media: str = TAXII_MEDIA) -> bool:
    """Does an ``Accept`` header admit ``media`` (``type/subtype;version=2.1``)?

    A missing header, ``*/*`` and ``application/*`` do; so does the type without a version
    parameter (section 1.6.8.1: the latest version); another version does not.
    """
    if not header:
        return True
    want_type, _, want_params = media.partition(";")
    for item in header.split(","):
        parts = [p.strip() for p in item.split(";")]
        mtype = parts[0].lower()
        params = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
        version = params.get("version")
        if mtype in ("*/*", "application/*"):
            return True
        if mtype == want_type and version in (None, want_params.partition("=")[2]):
            return True
    return False


def taxii_accept(request: Request) -> None:
    """Dependency: 406 unless the client accepts TAXII 2.1 JSON."""
    if not accepts(request.headers.get("accept")):
        raise TaxiiError(406, "not acceptable", f"this server answers {TAXII_MEDIA}")


def caller(request: Request) -> Principal:
    return current_principal(request)


def _multi(request: Request, name: str) -> tuple[str, ...]:
    """Every value of a filter: repeated parameters and comma-separated lists (section 3.5)."""
    out: list[str] = []
    for raw in request.query_params.getlist(name):
        out.extend(v.strip() for v in raw.split(",") if v.strip())
    return tuple(out)


def filters(request: Request, default_versions: tuple[str, ...] = ("last",)) -> Filters:
    """The request's TAXII filters, or 400 naming the one that is malformed."""
    qp = request.query_params
    try:
        limit = int(qp.get("limit", DEFAULT_PAGE))
    except ValueError as exc:
        raise TaxiiError(400, "invalid limit", "limit must be a positive integer") from exc
    if limit < 1:
        raise TaxiiError(400, "invalid limit", "limit must be a positive integer")
    try:
        added_after = parse_ts(qp["added_after"]) if "added_after" in qp else None
        versions = _multi(request, "match[version]") or default_versions
        for v in versions:
            if v not in ("last", "first", "all"):
                parse_ts(v)
        after = decode_cursor(qp["next"]) if qp.get("next") else None
    except ValueError as exc:
        raise TaxiiError(400, "invalid filter", str(exc)) from exc
    return Filters(
        added_after=added_after,
        ids=_multi(request, "match[id]"),
        types=_multi(request, "match[type]"),
        versions=versions,
        spec_versions=_multi(request, "match[spec_version]"),
        after=after,
        limit=min(limit, MAX_PAGE),
    )


def _taxii(
    body: str | dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    text = body if isinstance(body, str) else json.dumps(body)
    return Response(text, status_code=status, media_type=TAXII_MEDIA, headers=headers)


def _date_headers(rows: list[Any]) -> dict[str, str]:
    if not rows:
        return {}
    return {
        "X-TAXII-Date-Added-First": format_us(rows[0].added_us),
        "X-TAXII-Date-Added-Last": format_us(rows[-1].added_us),
    }


def _paging(rows: list[Any], more: bool) -> str:
    """The ``"more":..,"next":..`` members of an envelope, as JSON text."""
    if more and rows:
        return f'"more":true,"next":"{encode_cursor(rows[-1].added_us, rows[-1].rid)}"'
    return '"more":false'


def envelope(rows: list[Any], more: bool) -> str:
    """An envelope (section 3.7) built from stored object texts, never re-serialised."""
    if not rows:
        return "{" + _paging(rows, more) + "}"
    return "{" + _paging(rows, more) + ',"objects":[' + ",".join(r.body for r in rows) + "]}"


def collection_resource(principal: Principal, coll: Collection) -> dict[str, Any]:
    can_read, can_write = access(principal, coll)
    out: dict[str, Any] = {"id": coll.id, "title": coll.title}
    if coll.description:
        out["description"] = coll.description
    out.update(can_read=can_read, can_write=can_write, media_types=[STIX_MEDIA])
    return out


_POST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            TAXII_MEDIA: {
                "schema": {
                    "type": "object",
                    "properties": {"objects": {"type": "array", "items": {"type": "object"}}},
                }
            }
        },
    }
}
_FILTER_DOC = "TAXII 2.1 filters (section 3.5): added_after, limit, next, match[...]"


def _param(name: str, kind: str = "string") -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": {"type": kind}}


_FILTERS = {
    "parameters": [
        _param("added_after"),
        _param("limit", "integer"),
        _param("next"),
        *(_param(f"match[{k}]") for k in ("id", "type", "version", "spec_version")),
    ]
}


def taxii_router(store: Store) -> APIRouter:
    """The TAXII 2.1 routes: discovery at ``/taxii2/``, one API root at :data:`API_ROOT`."""
    r = APIRouter(route_class=TaxiiRoute, tags=["taxii"], dependencies=[Depends(taxii_accept)])
    del store  # the handlers use the app's store (app_store), so a test may swap it

    @r.get("/taxii2/")
    def discovery(request: Request, principal: Principal = Depends(caller)) -> Response:
        """Server discovery (section 4.1)."""
        root = str(request.base_url).rstrip("/") + API_ROOT
        return _taxii(
            {
                "title": "iotscope TAXII 2.1 hub",
                "description": "C2 indicators shared between ISPs and the analysis centre.",
                "default": root,
                "api_roots": [root],
            }
        )

    @r.get(API_ROOT)
    def api_root(principal: Principal = Depends(caller)) -> Response:
        """API root information (section 4.2)."""
        return _taxii(
            {
                "title": "iotscope hub",
                "description": "The shared C2 feed, each ISP's private view, partner sources.",
                "versions": [TAXII_MEDIA],
                "max_content_length": MAX_CONTENT_LENGTH,
            }
        )

    @r.get(API_ROOT + "status/{status_id}/")
    def status(
        request: Request, status_id: str, principal: Principal = Depends(caller)
    ) -> Response:
        """A status resource (section 4.3), for the caller that posted."""
        return _taxii(_api.get_status(app_store(request), principal, status_id))

    @r.get(API_ROOT + "collections/")
    def collections(request: Request, principal: Principal = Depends(caller)) -> Response:
        """The collections the caller may see (section 5.1)."""
        colls = _api.collections_for(app_store(request), principal)
        return _taxii({"collections": [collection_resource(principal, c) for c in colls]})

    @r.get(API_ROOT + "collections/{collection_id}/")
    def collection(
        request: Request, collection_id: str, principal: Principal = Depends(caller)
    ) -> Response:
        """One collection (section 5.2)."""
        coll = _api.collection_for(app_store(request), principal, collection_id)
        return _taxii(collection_resource(principal, coll))

    @r.get(
        API_ROOT + "collections/{collection_id}/manifest/",
        description=_FILTER_DOC,
        openapi_extra=_FILTERS,
    )
    def manifest(
        request: Request, collection_id: str, principal: Principal = Depends(caller)
    ) -> Response:
        """Object manifests (section 5.3): id, date_added, version, media_type per version."""
        cols = ("id", "version")
        rows, more = _api.get_page(
            app_store(request), principal, collection_id, filters(request), cols
        )
        items = [
            {
                "id": x.id,
                "date_added": format_us(x.added_us),
                "version": x.version,
                "media_type": STIX_MEDIA,
            }
            for x in rows
        ]
        body = (
            "{" + _paging(rows, more) + (',"objects":' + json.dumps(items) if items else "") + "}"
        )
        return _taxii(body, headers=_date_headers(rows))

    @r.get(
        API_ROOT + "collections/{collection_id}/objects/",
        description=_FILTER_DOC,
        openapi_extra=_FILTERS,
    )
    def get_objects(
        request: Request, collection_id: str, principal: Principal = Depends(caller)
    ) -> Response:
        """Objects (section 5.4), a page in date_added order; ``next`` continues it."""
        rows, more = _api.get_page(app_store(request), principal, collection_id, filters(request))
        return _taxii(envelope(rows, more), headers=_date_headers(rows))

    @r.post(
        API_ROOT + "collections/{collection_id}/objects/", status_code=202, openapi_extra=_POST_BODY
    )
    async def add_objects(
        request: Request, collection_id: str, principal: Principal = Depends(caller)
    ) -> Response:
        """Add objects (section 5.5): an envelope in, a status resource out (202)."""
        ctype = request.headers.get("content-type", "")
        if not accepts(ctype, TAXII_MEDIA) or not ctype.strip() or "*" in ctype:
            raise TaxiiError(415, "unsupported media type", f"send {TAXII_MEDIA}")
        size = request.headers.get("content-length")
        if size and size.isdigit() and int(size) > MAX_CONTENT_LENGTH:
            raise TaxiiError(
                413, "request too large", f"max_content_length is {MAX_CONTENT_LENGTH}"
            )
        raw = await request.body()
        if len(raw) > MAX_CONTENT_LENGTH:
            raise TaxiiError(
                413, "request too large", f"max_content_length is {MAX_CONTENT_LENGTH}"
            )
        objects = _parse_envelope(raw)
        store = app_store(request)
        result = await run_in_threadpool(_api.add_objects, store, principal, collection_id, objects)
        return _taxii(result, status=202)

    @r.get(
        API_ROOT + "collections/{collection_id}/objects/{object_id}/",
        description=_FILTER_DOC,
        openapi_extra=_FILTERS,
    )
    def get_object(
        request: Request, collection_id: str, object_id: str, principal: Principal = Depends(caller)
    ) -> Response:
        """One object's versions (section 5.6); 404 when the collection has no such object."""
        store = app_store(request)
        rows, more = _api.get_page(
            store, principal, collection_id, filters(request), ("body",), object_id
        )
        if not rows and not _api.hs.object_exists(store.engine, collection_id, object_id):
            raise TaxiiError(404, "object not found")
        return _taxii(envelope(rows, more), headers=_date_headers(rows))

    @r.delete(API_ROOT + "collections/{collection_id}/objects/{object_id}/", openapi_extra=_FILTERS)
    def delete_object(
        request: Request, collection_id: str, object_id: str, principal: Principal = Depends(caller)
    ) -> Response:
        """Delete an object's versions (section 5.7; match[version] default: all)."""
        q = filters(request, default_versions=("all",))
        _api.delete_object(app_store(request), principal, collection_id, object_id, q)
        return Response(status_code=200, media_type=TAXII_MEDIA)

    @r.get(
        API_ROOT + "collections/{collection_id}/objects/{object_id}/versions/",
        openapi_extra=_FILTERS,
    )
    def versions(
        request: Request, collection_id: str, object_id: str, principal: Principal = Depends(caller)
    ) -> Response:
        """An object's versions (section 5.8), oldest date_added first."""
        store = app_store(request)
        q = filters(request, default_versions=("all",))
        rows, more = _api.get_page(store, principal, collection_id, q, ("version",), object_id)
        if not rows and not _api.hs.object_exists(store.engine, collection_id, object_id):
            raise TaxiiError(404, "object not found")
        body: dict[str, Any] = {"more": more}
        if more:
            body["next"] = encode_cursor(rows[-1].added_us, rows[-1].rid)
        if rows:
            body["versions"] = [x.version for x in rows]
        return _taxii(body, headers=_date_headers(rows))

    return r


def _parse_envelope(raw: bytes) -> list[Any]:
    """The ``objects`` of a posted envelope, or 400/422 saying what is wrong."""
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise TaxiiError(400, "body is not JSON", str(exc)[:200]) from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("objects"), list):
        raise TaxiiError(422, "not an envelope", "expected an object with an 'objects' list")
    objects: list[Any] = doc["objects"]
    return objects
