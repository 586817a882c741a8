"""Indicators from the local store's hub tables (the site that runs the hub)."""

from __future__ import annotations

from typing import Any

from iotscope.block._sources import BlockError
from iotscope.store import Store
from iotscope.tenancy import Principal


def store_objects(
    store: Store, principal: Principal, collection_id: str | None = None
) -> list[dict[str, Any]]:
    """The shared collection's current objects as ``principal`` may read them."""
    try:
        from iotscope import share
    except ImportError as exc:
        raise BlockError(
            "this installation has no hub (iotscope.share); use --bundle or --hub"
        ) from exc
    raise BlockError("hub store access not wired yet", module=share.__name__)
