"""Tables for TAXII 2.1 hub: collections, objects and their versions, status, webhooks (issue 9).

Created by migration 0009; ``_schema.py`` imports this module so that ``metadata`` holds them.
"""

from __future__ import annotations

from iotscope.store._schema import metadata  # noqa: F401
