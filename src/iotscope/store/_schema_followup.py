"""Tables for follow-up rounds, device states, refusal cases and their audit log (issue 8).

Created by migration 0008; ``_schema.py`` imports this module so that ``metadata`` holds them.
"""

from __future__ import annotations

from iotscope.store._schema import metadata  # noqa: F401
