"""Tables for CVEs, CPE applicability, KEV, vendor releases (issue 8, vulnerability knowledge).

Created by migration 0005; ``_schema.py`` imports this module so that ``metadata`` holds them.
"""

from __future__ import annotations

from iotscope.store._schema import metadata  # noqa: F401
