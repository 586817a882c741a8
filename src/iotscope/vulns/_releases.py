""" "Firmware not latest": a vendor table of current releases (``releases.toml``).

Each ``[[release]]``: ``vendor`` and ``product`` (the firmware's CPE names), ``latest`` (the
current release, or one per release line), ``source``. See the file's header for the rule.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from iotscope.errors import ConfigError
from iotscope.vulns._version import version_key


@dataclass(frozen=True, slots=True)
class Releases:
    table: dict[tuple[str, str], tuple[str, ...]]

    def current(self, vendor: str, product: str, version: str) -> str | None:
        """The current release for this device's line, or None when the table cannot say."""
        latest = self.table.get((vendor.lower(), product.lower()))
        if not latest:
            return None
        if len(latest) == 1:
            return latest[0]
        line = version_key(version)[:1]
        return next((x for x in latest if version_key(x)[:1] == line), None)

    def outdated(self, vendor: str, product: str, version: str) -> bool | None:
        """True when ``version`` is earlier than the current release; None when unknown."""
        current = self.current(vendor, product, version)
        if current is None or not version_key(version):
            return None
        return version_key(version) < version_key(current)


def parse_releases(text: str, source: str) -> Releases:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("bad releases file", file=source, reason=str(exc)) from exc
    table: dict[tuple[str, str], tuple[str, ...]] = {}
    for i, e in enumerate(doc.get("release", [])):
        try:
            latest = e["latest"]
            latest = (latest,) if isinstance(latest, str) else tuple(str(x) for x in latest)
            table[(str(e["vendor"]).lower(), str(e["product"]).lower())] = latest
        except (KeyError, TypeError) as exc:
            raise ConfigError("bad release entry", file=source, index=i, reason=str(exc)) from exc
    return Releases(table)


@lru_cache(maxsize=1)
def default_releases() -> Releases:
    data = resources.files("iotscope.vulns") / "releases.toml"
    return parse_releases(data.read_text(encoding="utf-8"), "releases.toml")


def load_releases(path: Path) -> Releases:
    return parse_releases(path.read_text(encoding="utf-8"), str(path))
