"""Sharing C2 indicators between ISPs: STIX 2.1 content, the TAXII 2.1 hub, MISP feeds.

The hub (``SHARED_COLLECTION_ID``, ``add_objects``) is helper D's; this file is kept minimal
so that its version replaces it on merge.
"""

# Placeholder until the hub lands (the hub's own definition replaces this file).
SHARED_COLLECTION_ID = "00000000-0000-4000-8000-000000000000"
