"""Which CVEs a firmware version carries: ``vulns.toml``, one ``[[vuln]]`` per product line.

Each entry: ``vendor``, ``product``, ``versions = [...]``, ``cves = [...]``, ``source``. Several
entries may name the same version; their CVEs are unioned. Matching is exact on the three
strings (case-insensitive): a version we cannot place yields no CVE rather than a guess, the
"inferred from a version string" false positives DOMAIN.md warns about.
"""

from __future__ import annotations

import re
import tomllib
from collections import defaultdict
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources

from iotscope.errors import ConfigError

CVE_ID = re.compile(r"CVE-(?:199\d|20\d\d)-\d{4,7}")
_Key = tuple[str, str, str]


def _key(vendor: str, product: str, version: str) -> _Key:
    return (vendor.casefold(), product.casefold(), version.casefold())


def _index(doc: Mapping[str, object]) -> dict[_Key, frozenset[str]]:
    table: dict[_Key, set[str]] = defaultdict(set)
    entries = doc.get("vuln", [])
    if not isinstance(entries, list):
        raise ConfigError("vulns.toml: [[vuln]] must be an array of tables")
    for n, entry in enumerate(entries):
        try:
            vendor, product = str(entry["vendor"]), str(entry["product"])
            versions, cves = list(entry["versions"]), list(entry["cves"])
        except (KeyError, TypeError) as exc:
            raise ConfigError("vulns.toml: bad entry", index=n, reason=str(exc)) from exc
        bad = [c for c in cves if not CVE_ID.fullmatch(str(c))]
        if bad:
            raise ConfigError("vulns.toml: malformed CVE id", index=n, cves=bad)
        for version in versions:
            table[_key(vendor, product, str(version))].update(str(c) for c in cves)
    return {k: frozenset(v) for k, v in table.items()}


@lru_cache(maxsize=1)
def _table() -> dict[_Key, frozenset[str]]:
    data = resources.files("iotscope.knowledge") / "vulns.toml"
    return _index(tomllib.loads(data.read_text(encoding="utf-8")))


def cves_for(vendor: str | None, product: str | None, version: str | None) -> tuple[str, ...]:
    """Sorted CVE ids known for exactly this vendor/product/firmware version, else ``()``."""
    if not (vendor and product and version):
        return ()
    return tuple(sorted(_table().get(_key(vendor, product, version), ())))
