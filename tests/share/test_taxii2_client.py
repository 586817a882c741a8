"""The OASIS taxii2-client, unchanged, against ``iotscope serve`` run as a real server."""

from __future__ import annotations

import json

import pytest
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

from iotscope.share import SHARED_COLLECTION_ID, private_collection_id
from tests.share.conftest import indicator

pytestmark = [pytest.mark.network, pytest.mark.slow]


class Bearer:
    """requests auth: the hub's bearer token."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, r):  # type: ignore[no-untyped-def]
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r


def test_taxii2_client_discovers_pages_posts_and_reads_status(
    live_hub: tuple[str, dict[str, str]],
) -> None:
    base, tokens = live_hub
    server = Server(f"{base}/taxii2/", auth=Bearer(tokens["isp-a"]))
    assert server.title and len(server.api_roots) == 1
    root: ApiRoot = server.default
    ids = {c.id for c in root.collections}
    assert ids == {SHARED_COLLECTION_ID, private_collection_id("isp-a")}
    shared = next(c for c in root.collections if c.id == SHARED_COLLECTION_ID)
    assert shared.can_read and shared.can_write

    status = shared.add_objects(json.dumps({"objects": [indicator(i) for i in range(25)]}))
    assert status.status == "complete" and status.success_count == 25
    again = root.get_status(status.id)
    assert again.success_count == 25 and again.id == status.id

    reader = Collection(
        f"{base}/taxii2/hub/collections/{SHARED_COLLECTION_ID}/", auth=Bearer(tokens["isp-b"])
    )
    got = [
        o["id"]
        for env in as_pages(reader.get_objects, per_request=7)
        for o in env.get("objects", [])
    ]
    assert got == [indicator(i)["id"] for i in range(25)]
    manifest = [
        m for env in as_pages(reader.get_manifest, per_request=10) for m in env.get("objects", [])
    ]
    assert len(manifest) == 25
    one = reader.get_object(indicator(3)["id"])
    assert one["objects"][0]["pattern"] == indicator(3)["pattern"]
    assert reader.object_versions(indicator(3)["id"])["versions"] == [indicator(3)["modified"]]


def test_taxii2_client_sees_no_other_isps_private_collection(
    live_hub: tuple[str, dict[str, str]],
) -> None:
    import requests

    base, tokens = live_hub
    url = f"{base}/taxii2/hub/collections/{private_collection_id('isp-a')}/"
    with pytest.raises(requests.HTTPError) as err:
        Collection(url, auth=Bearer(tokens["isp-b"])).refresh()
    assert err.value.response.status_code == 404
    partner_root = ApiRoot(f"{base}/taxii2/hub/", auth=Bearer(tokens["partner"]))
    assert [c.id for c in partner_root.collections] == [SHARED_COLLECTION_ID]
    assert partner_root.collections[0].can_write is False
