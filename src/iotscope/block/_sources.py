"""Where indicators come from: a STIX bundle file (offline), the hub over TAXII 2.1 (a site
that is not the hub), or the local store's hub tables (the hub itself).

Each returns plain STIX objects (dicts); third-party errors become :class:`BlockError`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from iotscope.errors import IotscopeError

PAGE = 1000
WANTED = ("indicator", "marking-definition")


class BlockError(IotscopeError):
    """A source of indicators could not be read (file, hub)."""


def bundle_objects(path: Path) -> list[dict[str, Any]]:
    """The objects of a STIX 2.1 bundle (or a TAXII envelope, or a JSON list of objects)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BlockError("cannot read bundle", file=str(path), reason=exc.strerror) from exc
    except json.JSONDecodeError as exc:
        raise BlockError(
            "bundle is not JSON", file=str(path), line=exc.lineno, column=exc.colno, reason=exc.msg
        ) from exc
    objects = doc.get("objects", []) if isinstance(doc, dict) else doc
    if not isinstance(objects, list):
        raise BlockError("bundle has no objects list", file=str(path))
    return [o for o in objects if isinstance(o, dict)]


def taxii_objects(
    hub: str, token: str | None, collection_id: str | None = None, added_after: str | None = None
) -> list[dict[str, Any]]:
    """Indicators and marking definitions of the hub's shared collection, paged with
    taxii2-client (TAXII 2.1 section 5.3: ``limit`` and ``next``)."""
    import requests
    from taxii2client.exceptions import TAXIIServiceException
    from taxii2client.v21 import Server, as_pages

    class Bearer(requests.auth.AuthBase):
        def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
            r.headers["Authorization"] = f"Bearer {token}"
            return r

    auth = Bearer() if token else None
    url = hub if "/taxii2" in hub else hub.rstrip("/") + "/taxii2/"
    try:
        server = Server(url, auth=auth)
        roots = server.api_roots or []
        root = server.default or (roots[0] if roots else None)
        if root is None:
            raise BlockError("hub lists no API root", hub=url)
        wanted = collection_id or _shared_collection_id()
        found = [c for c in root.collections if c.id == wanted]
        if not found:
            raise BlockError("hub has no such collection", hub=url, collection=wanted)
        filters: dict[str, Any] = {"type": list(WANTED)}
        if added_after:
            filters["added_after"] = added_after
        out: list[dict[str, Any]] = []
        for page in as_pages(found[0].get_objects, per_request=PAGE, **filters):
            out += [o for o in page.get("objects", []) if isinstance(o, dict)]
        return out
    except (requests.RequestException, TAXIIServiceException, ValueError) as exc:
        raise BlockError("hub request failed", hub=url, reason=str(exc)[:300]) from exc


def _shared_collection_id() -> str:
    """The hub's shared C2 collection."""
    from iotscope.share import SHARED_COLLECTION_ID

    return SHARED_COLLECTION_ID
