"""The JC-STAR label registry as imported (issue 10, manufacturers and labels).

Created by migration 0014; ``_schema.py`` imports this module so that ``metadata`` holds it.

- ``jcstar_labels``: one row per registration (IPA's registration number is the natural key,
  so re-importing a registry file updates rows and never duplicates one). ``vendor_key`` and
  ``model_key`` are the normalised names (``iotscope.makers.vendor_key``/``model_key``) that
  survey identities are matched on.
"""

from __future__ import annotations

from sqlalchemy import Column, Date, DateTime, Index, Integer, String, Table

from iotscope.store._schema import metadata

jcstar_labels = Table(
    "jcstar_labels",
    metadata,
    Column("registration", String(64), primary_key=True),
    Column("vendor", String(200), nullable=False),
    Column("model", String(200), nullable=False),
    Column("vendor_key", String(200), nullable=False),
    Column("model_key", String(200), nullable=False),
    Column("level", Integer, nullable=False),  # 1..4 (★1..★4)
    Column("registered", Date, nullable=False),
    Column("expires", Date),
    Column("brand", String(200)),  # the name on the devices' banners, where it differs
    Column("source", String(500), nullable=False),  # the file it was last imported from
    Column("imported", DateTime(timezone=True), nullable=False),
    Index("ix_jcstar_labels_product", "vendor_key", "model_key"),
)
