"""A TAXII 2.1 publisher: finds the hub's writable collection and POSTs envelopes to it.

TAXII 2.1 (OASIS CS01): discovery at the server's ``/taxii2/`` (4.1), the API root's
collections (5.1), "Add Objects" = POST an envelope to ``<collection>/objects/`` answered with
a status resource (5.5, 4.3), both with the media type ``application/taxii+json;version=2.1``.
A hub that already holds an object version may list it among the status's failures (OASIS
medallion does); :meth:`Hub.post` checks such failures against the object's versions (5.7)
and counts a version the hub holds as delivered, so resending an envelope after a kill is
harmless. httpx errors become :class:`HubError` (``retry`` tells whether trying later helps).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from iotscope.errors import IotscopeError

__all__ = ["MEDIA", "Delivery", "Hub", "HubError", "bearer"]

MEDIA = "application/taxii+json;version=2.1"
_PERMANENT = {400, 413, 415, 422}  # the envelope itself is wrong: retrying will not help


class HubError(IotscopeError):
    """The hub could not be reached or refused a request."""

    def __init__(self, message: str, *, retry: bool, **data: object) -> None:
        super().__init__(message, **data)
        self.retry = retry


@dataclass(frozen=True)
class Delivery:
    """The hub's answer to one envelope: its status id, and the objects it refused (besides
    versions it already held)."""

    status_id: str | None
    accepted: int
    rejected: list[dict[str, Any]] = field(default_factory=list)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _check(resp: httpx.Response, what: str) -> Any:
    if resp.status_code >= 400:
        retry = resp.status_code not in _PERMANENT
        raise HubError(
            f"hub refused {what}", retry=retry, status=resp.status_code, body=resp.text[:300]
        )
    try:
        return resp.json()
    except ValueError as exc:
        raise HubError(f"hub sent no JSON for {what}", retry=True) from exc


class Hub:
    """One hub collection to publish to. ``url`` is the server (``http://h:p``, discovery at
    ``/taxii2/``), a discovery or API root URL, or a collection URL (``.../collections/<id>/``).
    ``collection`` picks a collection id (default: the hub's shared collection where it has
    one, else the first writable)."""

    def __init__(
        self,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        auth: httpx.Auth | None = None,
        collection: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.url = url if url.endswith("/") else url + "/"
        self.wanted = collection
        self.client = httpx.Client(
            headers={"Accept": MEDIA, **(headers or {})}, auth=auth, timeout=timeout
        )
        self._collection: str | None = None

    def close(self) -> None:
        self.client.close()

    def _get(self, url: str, what: str) -> Any:
        try:
            return _check(self.client.get(url), what)
        except httpx.HTTPError as exc:
            raise HubError(
                f"hub unreachable ({what})", retry=True, url=url, reason=str(exc)[:200]
            ) from exc

    def collection_url(self) -> str:
        """The collection's URL (resolved once through discovery, then kept)."""
        if self._collection is None:
            self._collection = self._resolve()
        return self._collection

    def _resolve(self) -> str:
        if "/collections/" in self.url:
            return self.url
        root = self.url
        if httpx.URL(root).path in ("", "/"):  # the server itself: discovery is at /taxii2/
            root += "taxii2/"
        doc = self._get(root, "discovery")
        if "api_roots" in doc or "default" in doc:  # a discovery document: pick the API root
            api = doc.get("default") or (doc.get("api_roots") or [None])[0]
            if not api:
                raise HubError("the hub lists no API root", retry=True, url=root)
            root = str(httpx.URL(root).join(api))
            root = root if root.endswith("/") else root + "/"
        listing = self._get(root + "collections/", "collections")
        cols = listing.get("collections") or []
        return root + f"collections/{quote(self._pick(cols), safe='')}/"

    def _pick(self, cols: Sequence[dict[str, Any]]) -> str:
        wanted = self.wanted or _shared_collection_id()
        ids = [c.get("id") for c in cols]
        if wanted is not None and wanted in ids:
            return wanted
        if self.wanted is not None:
            raise HubError("no such collection on the hub", retry=False, collection=self.wanted)
        for c in cols:
            if c.get("can_write"):
                return str(c["id"])
        raise HubError("the hub has no collection this token can write", retry=True)

    def post(self, objects: Sequence[dict[str, Any]]) -> Delivery:
        """Add ``objects`` (one envelope) to the collection; raise HubError when not done."""
        url = self.collection_url() + "objects/"
        try:
            resp = self.client.post(
                url, json={"objects": list(objects)}, headers={"Content-Type": MEDIA}
            )
        except httpx.HTTPError as exc:
            raise HubError(
                "hub unreachable (add objects)", retry=True, url=url, reason=str(exc)[:200]
            ) from exc
        status = _check(resp, "add objects")
        failures = status.get("failures") or []
        versioned = {o["id"] for o in objects if "modified" in o}
        rejected = [
            f
            for f in failures
            if not self._holds(f.get("id"), f.get("version") if f.get("id") in versioned else None)
        ]
        return Delivery(
            status_id=status.get("id"),
            accepted=int(status.get("success_count") or 0) + len(failures) - len(rejected),
            rejected=rejected,
        )

    def _holds(self, object_id: str | None, version: str | None) -> bool:
        """Does the hub already hold this version of the object (TAXII 5.7 versions)? With
        ``version`` None (an object without versions: an SCO, a marking definition), any."""
        if not object_id:
            return False
        url = self.collection_url() + f"objects/{quote(object_id, safe='')}/versions/"
        try:
            resp = self.client.get(url)
        except httpx.HTTPError:
            return False
        if resp.status_code != 200:
            return False
        versions = resp.json().get("versions") or []
        return bool(versions) and (version is None or version in versions)


def _shared_collection_id() -> str | None:
    """The hub's shared C2 collection id, where the share part defines it."""
    try:
        from iotscope import share  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return None
    value = getattr(share, "SHARED_COLLECTION_ID", None)
    return str(value) if value else None
