"""Hub events: the speaker reloads its blocklist when the hub's server-sent-event stream of the
shared collection (``<api root>collections/<id>/stream/``) announces a new object, instead of
waiting for the next poll. The stream is found from TAXII discovery (TAXII 2.1 section 4.1)."""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urljoin

import httpx

log = logging.getLogger(__name__)


def _headers(token: str | None, accept: str) -> dict[str, str]:
    h = {"Accept": accept}
    if token:
        h["Authorization"] = f"Bearer {token}"
    return h


async def stream_url(client: httpx.AsyncClient, hub: str, token: str | None, cid: str) -> str:
    """The SSE URL of collection ``cid`` under the hub's default API root."""
    base = hub if "/taxii2" in hub else hub.rstrip("/") + "/taxii2/"
    r = await client.get(base, headers=_headers(token, "application/taxii+json;version=2.1"))
    r.raise_for_status()
    doc = r.json()
    root = doc.get("default") or (doc.get("api_roots") or [None])[0]
    if not isinstance(root, str):
        raise httpx.HTTPError("discovery lists no API root")
    return urljoin(urljoin(base, root).rstrip("/") + "/", f"collections/{cid}/stream/")


async def watch_hub(
    hub: str, token: str | None, collection_id: str, reload: asyncio.Event, retry: float = 5.0
) -> None:
    """Set ``reload`` on every ``stix`` event; reconnect after ``retry`` s. Runs until cancelled."""
    async with httpx.AsyncClient(timeout=httpx.Timeout(10.0, read=None)) as client:
        while True:
            try:
                url = await stream_url(client, hub, token, collection_id)
                headers = _headers(token, "text/event-stream")
                async with client.stream("GET", url, headers=headers) as resp:
                    resp.raise_for_status()
                    async for line in resp.aiter_lines():
                        if line.startswith("event:") and line.split(":", 1)[1].strip() == "stix":
                            reload.set()
            except (httpx.HTTPError, ValueError) as exc:
                log.info("hub event stream: %s; retrying in %.0f s", exc, retry)
            await asyncio.sleep(retry)
