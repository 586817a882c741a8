"""Indicators from the local store's hub tables (the site that runs the hub)."""

from __future__ import annotations

import importlib
from typing import Any

from iotscope.block._sources import BlockError
from iotscope.store import Store
from iotscope.tenancy import Principal


def store_objects(
    store: Store, principal: Principal, collection_id: str | None = None
) -> list[dict[str, Any]]:
    """The shared collection's current objects as ``principal`` may read them."""
    share = importlib.import_module("iotscope.share")
    if not hasattr(share, "SHARED_COLLECTION_ID"):
        raise BlockError("this installation has no hub tables; use --bundle or --hub")
    raise BlockError("reading the hub tables needs iotscope.share's hub", store=str(store))
