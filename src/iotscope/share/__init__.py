"""Sharing C2 between ISPs: a TAXII 2.1 hub (``/taxii2/``) with tenancy, push (server-sent
events, webhooks) and the Python API the publishers and importers call in-process.

Collections: the shared C2 feed (:data:`SHARED_COLLECTION_ID`), each ISP's private view
(:func:`private_collection_id`) and read-only partner sources (:func:`source_collection_id`).
"""

from __future__ import annotations

from iotscope.share._api import (
    TaxiiError,
    add_objects,
    collections_for,
    ensure_private,
    ensure_shared,
    ensure_source,
    get_status,
)
from iotscope.share._model import (
    SHARED_COLLECTION_ID,
    STIX_MEDIA,
    TAXII_MEDIA,
    Collection,
    access,
    private_collection_id,
    source_collection_id,
)
from iotscope.share._notify import Notifier, notifier_for
from iotscope.share._router import router
from iotscope.share._serve import serve_in_thread
from iotscope.share._taxii import API_ROOT

__all__ = [
    "API_ROOT",
    "SHARED_COLLECTION_ID",
    "STIX_MEDIA",
    "TAXII_MEDIA",
    "Collection",
    "Notifier",
    "TaxiiError",
    "access",
    "add_objects",
    "collections_for",
    "ensure_private",
    "ensure_shared",
    "ensure_source",
    "get_status",
    "notifier_for",
    "private_collection_id",
    "router",
    "serve_in_thread",
    "source_collection_id",
]
