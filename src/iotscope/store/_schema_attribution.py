"""Tables for routing prefixes, ISP registry, lease logs, ISP reports (issue 8, who must act).

Created by migration 0006; ``_schema.py`` imports this module so that ``metadata`` holds them.
"""

from __future__ import annotations

from iotscope.store._schema import metadata  # noqa: F401
