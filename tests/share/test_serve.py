"""The hub served from a thread of this process (the demo's way)."""

from __future__ import annotations

import httpx
import pytest

from iotscope.share import SHARED_COLLECTION_ID, TAXII_MEDIA, serve_in_thread
from iotscope.store import Store
from iotscope.store._tokens import mint_token

pytestmark = pytest.mark.network


def test_serve_in_thread_answers_taxii(sqlite_store: Store) -> None:
    token = mint_token(sqlite_store.engine, "partner")
    with serve_in_thread(sqlite_store) as base:
        r = httpx.get(
            f"{base}/taxii2/hub/collections/{SHARED_COLLECTION_ID}/",
            headers={"Authorization": f"Bearer {token}", "Accept": TAXII_MEDIA},
        )
        assert r.status_code == 200 and r.json()["can_write"] is False
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{base}/healthz", timeout=2)
