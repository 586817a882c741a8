"""Sharing C2 indicators between ISPs: STIX 2.1 content, the TAXII 2.1 hub, MISP feeds.

The hub (``SHARED_COLLECTION_ID``, ``add_objects``) is helper D's; this file is kept minimal
so that its version replaces it on merge.
"""
