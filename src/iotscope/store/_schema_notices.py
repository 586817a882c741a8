"""Tables for subscriber notices, variants, landing-page events, protections (issue 8).

Created by migration 0007; ``_schema.py`` imports this module so that ``metadata`` holds them.
"""

from __future__ import annotations

from iotscope.store._schema import metadata  # noqa: F401
