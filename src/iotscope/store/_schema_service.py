"""Tables for API tokens and tenants (the service's auth layer).

Created by migration 0004; ``_schema.py`` imports this module so that ``metadata`` holds them.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, String, Table

from iotscope.store._schema import metadata

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(32), primary_key=True),  # public part of the token, shown in lists
    Column("hash", String(64), nullable=False),  # SHA-256 of the whole token, hex
    Column("role", String(16), nullable=False),
    Column("tenant", String(128)),
    Column("label", String(200)),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("revoked", DateTime(timezone=True)),
    Index("ux_api_tokens_hash", "hash", unique=True),
)
"""Bearer tokens: only a hash is kept. A token is 256 random bits, so a plain SHA-256 (not a
slow password hash) is enough: nothing can be guessed from it."""
