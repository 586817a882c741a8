"""Tables for blocklists and BGP actions, recorded with their time (issue 9).

Created by migration 0012; ``_schema.py`` imports this module so that ``metadata`` holds them.
"""

from __future__ import annotations

from iotscope.store._schema import metadata  # noqa: F401
