"""Tables for continuous detection at an ISP: publish state per site (issue 9).

Created by migration 0011; ``_schema.py`` imports this module so that ``metadata`` holds them.
"""

from __future__ import annotations

from iotscope.store._schema import metadata  # noqa: F401
