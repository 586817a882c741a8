"""Tables for STIX content state, confirmations between ISPs, partner sources (issue 9).

Created by migration 0010; ``_schema.py`` imports this module so that ``metadata`` holds them.
"""

from __future__ import annotations

from iotscope.store._schema import metadata  # noqa: F401
