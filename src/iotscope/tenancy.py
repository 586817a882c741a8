"""Who is asking: the caller's role and tenant, which every query over tenant-owned rows takes.

Roles (ARCHITECTURE.md, "The service"):
- ``centre``: the analysis centre; sees everything.
- ``isp``: one ISP (``tenant`` is its name); its own network, its subscribers, the shared feed.
- ``manufacturer``: one vendor (``tenant`` is the vendor); its own products.
- ``partner``: read-only access to the shared feed.

A query function takes a :class:`Principal` as a required argument, so a forgotten tenant
filter is a type error rather than a leak.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, get_args

Role = Literal["centre", "isp", "manufacturer", "partner"]
ROLES: tuple[Role, ...] = get_args(Role)
NEEDS_TENANT: frozenset[Role] = frozenset({"isp", "manufacturer"})


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller. ``tenant`` is the ISP or vendor name (None for centre/partner)."""

    role: Role
    tenant: str | None = None
    token_id: str | None = None

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}")
        if self.role in NEEDS_TENANT and not self.tenant:
            raise ValueError(f"role {self.role!r} needs a tenant")

    @property
    def is_centre(self) -> bool:
        return self.role == "centre"

    def owns(self, tenant: str | None) -> bool:
        """May this caller see rows that belong to ``tenant`` (None: the shared space)?"""
        if self.is_centre:
            return True
        if tenant is None:
            return True
        return self.role in NEEDS_TENANT and self.tenant == tenant

    def isp(self, name: str) -> bool:
        """Is this caller the ISP ``name`` (or the centre)?"""
        return self.is_centre or (self.role == "isp" and self.tenant == name)


CENTRE = Principal("centre")


def site_name(isp: str) -> str:
    """The flow site an ISP runs (``Fuji Access`` -> ``fuji-access``): lowercase ``[a-z0-9-]``,
    usable as a path and a Parquet key, the same name in the lab, the month world and the KPIs."""
    return re.sub(r"[^a-z0-9]+", "-", isp.lower()).strip("-") or "site"
