"""Where the sharing commands read STIX objects from: a bundle file, a hub over TAXII 2.1,
or the local store's C2 candidates (each site's newest run, as that site would publish them).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from iotscope.errors import ConfigError
from iotscope.share import stix
from iotscope.share.stix import Endpoint, StixObject

TAXII = "application/taxii+json;version=2.1"
PAGE = 1000


def bundle_objects(path: Path) -> list[StixObject]:
    """The objects of a STIX bundle, a TAXII envelope or a JSON list (errors name the file
    and line)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError("cannot read bundle", path=str(path), reason=exc.strerror) from exc
    except json.JSONDecodeError as exc:
        raise ConfigError("bundle is not JSON", path=str(path), line=exc.lineno) from exc
    objs = doc.get("objects", []) if isinstance(doc, dict) else doc
    if not isinstance(objs, list):
        raise ConfigError("bundle has no objects list", path=str(path))
    return [o for o in objs if isinstance(o, dict) and "id" in o and "type" in o]


def taxii_objects(hub: str, token: str, collection: str) -> list[StixObject]:
    """Every object of a hub's collection over TAXII 2.1 (5.4 Get Objects, paged with
    ``limit``/``next``; ``hub`` is the API root URL)."""
    import httpx

    url = f"{hub.rstrip('/')}/collections/{collection}/objects/"
    headers = {"Accept": TAXII, "Authorization": f"Bearer {token}"}
    out: list[StixObject] = []
    params: dict[str, Any] = {"limit": PAGE}
    try:
        with httpx.Client(timeout=30) as client:
            while True:
                resp = client.get(url, params=params, headers=headers)
                if resp.status_code != 200:
                    raise ConfigError("hub refused", url=url, status=resp.status_code)
                env = resp.json()
                out += env.get("objects", [])
                if not env.get("more") or not env.get("next"):
                    return out
                params = {"limit": PAGE, "next": env["next"]}
    except httpx.HTTPError as exc:
        raise ConfigError("hub unreachable", url=url, reason=str(exc)[:200]) from exc


def families_from(path: Path | None) -> dict[Endpoint, str]:
    """Endpoint families from a lab ``truth.json`` (``c2[{ip, port, proto, family, lineage}]``)
    or any JSON with such a ``c2`` list."""
    if path is None:
        return {}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        rows = doc["c2"] if isinstance(doc, dict) else doc
        return {
            (str(r["ip"]), int(r["port"]), str(r.get("proto", "tcp"))): str(
                r.get("family") or r.get("lineage")
            )
            for r in rows
            if r.get("family") or r.get("lineage")
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError("not a families file (truth.json c2[])", path=str(path)) from exc


def store_objects(
    store: Any,
    now: datetime,
    *,
    families: Mapping[Endpoint, str] | None = None,
    tlp: str = "amber",
) -> list[StixObject]:
    """What every site in the store would publish for its newest detection (the centre's or
    a lab's view: each site is an ISP of the same name), with run counts as sighting counts."""
    cands = store.c2_candidates()
    out: list[StixObject] = []
    for site in sorted({c.site for c in cands}):
        mine = [c for c in cands if c.site == site]
        runs = {stix.endpoint_of(c): _runs(store, site, c) for c in mine}
        out += stix.c2_bundle_objects(mine, site, now, tlp=tlp, families=families, counts=runs)
    return out


def _runs(store: Any, site: str, c: Any) -> int:
    """How many of the site's detection runs reported the endpoint (the sighting's count)."""
    return len(store.c2_history(str(c.ip), site=site, port=c.port, proto=c.proto)) or 1


def hub_objects(store: Any, *, shared: bool = True, partners: bool = True) -> list[StixObject]:
    """The newest versions in the local hub's shared collection and its read-only partner
    sources (each as asked), read in-process as the centre (keyset pages of 1,000)."""
    from iotscope.share import SHARED_COLLECTION_ID, collections_for
    from iotscope.share._api import get_page
    from iotscope.share._hubstore import Query
    from iotscope.tenancy import CENTRE

    ids = [SHARED_COLLECTION_ID] if shared else []
    if partners:
        ids += [c.id for c in collections_for(store, CENTRE) if c.kind == "source"]
    out: list[StixObject] = []
    for coll in ids:
        after: tuple[int, int] | None = None
        while True:
            rows, more = get_page(store, CENTRE, coll, Query(after=after, limit=PAGE))
            out += [json.loads(r.body) if isinstance(r.body, str) else r.body for r in rows]
            if not more or not rows:
                break
            after = (rows[-1].added_us, rows[-1].rid)
    return out


def publish(store: Any, collection_id: str, objects: list[StixObject]) -> dict[str, Any]:
    """Add ``objects`` to a collection of the local hub as the centre (TAXII status back)."""
    from iotscope.share import add_objects
    from iotscope.tenancy import CENTRE

    return add_objects(store, CENTRE, collection_id, objects)


def to_partner_collection(store: Any, source: str, objects: list[StixObject]) -> dict[str, Any]:
    """A partner's imported objects into its read-only source collection on the local hub."""
    from iotscope.share import ensure_source, source_collection_id

    coll = ensure_source(
        store, source_collection_id(source), f"partner: {source}", "Imported read-only."
    )
    return publish(store, coll.id, objects)
