"""Indicators from the local store's hub tables (the site that runs the hub), read through the
hub's own tenancy check as the ISP would read them over TAXII."""

from __future__ import annotations

import json
from typing import Any

from iotscope.block._sources import PAGE, WANTED, BlockError
from iotscope.share import SHARED_COLLECTION_ID, TaxiiError
from iotscope.share._api import get_page
from iotscope.share._hubstore import Query
from iotscope.store import Store
from iotscope.tenancy import Principal


def store_objects(
    store: Store, principal: Principal, collection_id: str | None = None
) -> list[dict[str, Any]]:
    """The newest version of every indicator and marking in the collection (default: the
    shared C2 feed) that ``principal`` may read, paged in date-added order."""
    cid = collection_id or SHARED_COLLECTION_ID
    out: list[dict[str, Any]] = []
    after: tuple[int, int] | None = None
    while True:
        try:
            rows, more = get_page(
                store, principal, cid, Query(types=WANTED, after=after, limit=PAGE)
            )
        except TaxiiError as exc:
            raise BlockError("cannot read the hub collection", collection=cid,
                             reason=exc.title) from exc  # fmt: skip
        for r in rows:
            body = json.loads(r.body) if isinstance(r.body, str | bytes) else r.body
            if isinstance(body, dict):
                out.append(body)
        if not more or not rows:
            return out
        after = (rows[-1].added_us, rows[-1].rid)
