"""An ISP's blocking policy: which shared indicators it acts on, and what it never blocks.

Kept as data (TOML, one table per ISP with a ``default`` fallback), validated before use:

    [default]
    min_confidence = 50          # STIX confidence 0-100 (section 3.2)
    max_tlp = "amber"            # the most restrictive TLP 2.0 label still acted on
    allowlist = ["192.0.2.53/32"]  # never blocked: own resolvers, CDNs, ...
    ttl = 86400                  # seconds an entry lives when the indicator has no valid_until
    max_ttl = 604800             # cap on any entry's lifetime
    blackhole_next_hop = "192.0.2.1"   # BGP next hop routers map to a discard route

    [isp.example-net]
    min_confidence = 70
"""

from __future__ import annotations

import ipaddress
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from iotscope.errors import ConfigError

TLP_LEVELS = ("clear", "green", "amber", "amber+strict", "red")
"""TLP 2.0 labels, least to most restrictive (TLP:WHITE of TLP 1.0 is clear)."""

TLP_MARKINGS = {
    # TLP 2.0 (the OASIS STIX TLP 2.0 extension's fixed ids)
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": "clear",
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": "green",
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": "amber",
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": "amber+strict",
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": "red",
    # TLP 1.0 (STIX 2.1 section 7.2.1.4), still sent by older partners
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "clear",
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "green",
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "amber",
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "red",
}
"""Well-known TLP marking-definition ids. An unknown marking counts as red (never guess down)."""


@dataclass(frozen=True, slots=True)
class Policy:
    """What one ISP acts on. Build with :func:`load_policy` or directly in tests."""

    isp: str
    min_confidence: int = 50
    max_tlp: str = "amber"
    allowlist: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    ttl: int = 86400
    max_ttl: int = 7 * 86400
    blackhole_next_hop: str = "192.0.2.1"
    domain_allowlist: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not 0 <= self.min_confidence <= 100:
            raise ConfigError("min_confidence must be 0-100", isp=self.isp)
        if self.max_tlp not in TLP_LEVELS:
            raise ConfigError("max_tlp must be one of " + ", ".join(TLP_LEVELS), isp=self.isp)
        if not 60 <= self.ttl <= self.max_ttl:
            raise ConfigError("need 60 <= ttl <= max_ttl (seconds)", isp=self.isp)
        try:
            ipaddress.IPv4Address(self.blackhole_next_hop)
        except ValueError as exc:
            raise ConfigError("blackhole_next_hop must be an IPv4 address", isp=self.isp) from exc

    def allowed(self, net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
        """True when ``net`` overlaps an allowlisted prefix (so it must not be blocked)."""
        return any(net.version == a.version and net.overlaps(a) for a in self.allowlist)

    def domain_allowed(self, name: str) -> bool:
        return any(name == d or name.endswith("." + d) for d in self.domain_allowlist)


def _coerce(isp: str, raw: dict[str, Any], where: str) -> dict[str, Any]:
    known = {f.name for f in fields(Policy)} - {"isp"}
    unknown = set(raw) - known
    if unknown:
        raise ConfigError("unknown policy keys", file=where, keys=",".join(sorted(unknown)))
    out = dict(raw)
    try:
        if "allowlist" in out:
            out["allowlist"] = tuple(
                ipaddress.ip_network(p, strict=False) for p in out["allowlist"]
            )
        if "domain_allowlist" in out:
            out["domain_allowlist"] = tuple(d.lower().rstrip(".") for d in out["domain_allowlist"])
    except (TypeError, ValueError, AttributeError) as exc:
        raise ConfigError("bad allowlist entry", file=where, isp=isp, reason=str(exc)) from exc
    return out


def policy_from_toml(text: str, isp: str, where: str = "<policy>") -> Policy:
    """``isp``'s policy: the ``[default]`` table overlaid by ``[isp.<isp>]``."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("policy is not valid TOML", file=where, reason=str(exc)) from exc
    policy = Policy(isp=isp)
    for table in (doc.get("default", {}), doc.get("isp", {}).get(isp, {})):
        if not isinstance(table, dict):
            raise ConfigError("policy tables must be TOML tables", file=where)
        try:
            policy = replace(policy, **_coerce(isp, table, where))
        except TypeError as exc:
            raise ConfigError("bad policy value", file=where, reason=str(exc)) from exc
    return policy


def load_policy(path: Path | None, isp: str) -> Policy:
    """The policy file's entry for ``isp``; the defaults when there is no file."""
    if path is None or not path.exists():
        if path is not None:
            raise ConfigError("policy file not found", file=str(path))
        return Policy(isp=isp)
    return policy_from_toml(path.read_text(encoding="utf-8"), isp, str(path))
