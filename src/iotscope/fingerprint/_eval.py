"""Vendor accuracy of a rule set on labelled real banners, with a fixed tuning/held-out split.

The labelled banners are the ``<example>`` texts of a Recog file written by others (Recog's
real ``telnet_banners.xml``). Each example's true vendor is what Recog's own fingerprint for
that example asserts: ``hw.vendor``, else ``os.vendor`` (the device's vendor; a service's
software vendor is not the device's). Examples whose fingerprint names no such vendor are not
scored.

The split is fixed and blind to content: an example is ``held-out`` when the first byte of the
SHA-256 of its UTF-8 text is odd, ``tuning`` otherwise. Rules are written looking at the tuning
half only; the held-out half is what accuracy is reported on.

Vendors compare after ``normalize_vendor``: case, punctuation and corporate suffixes are
ignored, and a few spellings of one company (``VENDOR_ALIASES``) are one vendor.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from iotscope.fingerprint._engine import RuleSet, identify
from iotscope.fingerprint._recog import load_recog

SPLITS = ("tuning", "held-out")
VENDOR_ALIASES = {
    "hewlettpackard": "hp",
    "hpe": "hp",
    "hewlettpackardenterprise": "hp",
    "hangzhouhikvision": "hikvision",
    "zhejiangdahua": "dahua",
    "hangzhouxiongmai": "xiongmai",
    "xmeye": "xiongmai",
    "ciscosystems": "cisco",
    "ubiquitinetworks": "ubiquiti",
    "iodatadevice": "iodata",
    "canonical": "ubuntu",
    "alcatellucent": "alcatel",
    "alliedtelesyn": "alliedtelesis",
    "sunmicrosystems": "sun",
    "thomson": "technicolor",
    "microsoftcorporation": "microsoft",
    "yoctoproject": "yocto",
}
_SUFFIXES = re.compile(r"(?:inc|corp|corporation|co|ltd|limited|gmbh|ag|sa|llc|technologies)$")


def normalize_vendor(name: str) -> str:
    """``"D-Link Corp."`` -> ``"dlink"``; the key two spellings of one vendor share."""
    key = re.sub(r"[^a-z0-9]", "", name.lower())
    stripped = _SUFFIXES.sub("", key)
    key = stripped or key
    return VENDOR_ALIASES.get(key, key)


def split_of(text: str) -> str:
    """``"held-out"`` when the first byte of SHA-256(text) is odd, else ``"tuning"``."""
    return SPLITS[hashlib.sha256(text.encode("utf-8")).digest()[0] & 1]


@dataclass(frozen=True)
class Labelled:
    """One real banner and the vendor its author's fingerprint names."""

    text: str
    vendor: str
    fingerprint: str
    split: str


def labelled_examples(path: Path) -> list[Labelled]:
    """The examples of a Recog file whose own fingerprint names a device or OS vendor."""
    out = []
    for fp in load_recog(path).fingerprints:
        for example in fp.examples:
            if example.text is None:
                continue
            result = fp.match(example.text) or {}
            vendor = result.get("hw.vendor") or result.get("os.vendor")
            if vendor:
                out.append(Labelled(example.text, vendor, fp.label, split_of(example.text)))
    return out


Namer = Callable[[str], str | None]
"""A banner -> the vendor a tool names (None: it names none)."""


def rules_namer(service: str, rules: RuleSet) -> Namer:
    """The vendor ``identify`` names with ``rules`` (its Identity's vendor)."""

    def name(text: str) -> str | None:
        match = identify(service, text, rules)
        identity = match.identity if match is not None else None
        return identity.vendor if identity is not None else None

    return name


@dataclass
class Score:
    """Counts of one tool on one split: right, wrong, none named; the misses kept."""

    right: int = 0
    wrong: int = 0
    unnamed: int = 0
    misses: list[tuple[str, str, str | None]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.right + self.wrong + self.unnamed

    @property
    def accuracy(self) -> float:
        return self.right / self.total if self.total else 0.0

    def summary(self) -> dict[str, float | int]:
        return {
            "examples": self.total,
            "right_vendor": self.right,
            "wrong_vendor": self.wrong,
            "no_vendor": self.unnamed,
            "accuracy": round(self.accuracy, 4),
        }


def score(examples: Iterable[Labelled], namer: Namer) -> Score:
    """Right vendor / wrong vendor / no vendor over ``examples``."""
    result = Score()
    for ex in examples:
        named = namer(ex.text)
        if named is None:
            result.unnamed += 1
        elif normalize_vendor(named) == normalize_vendor(ex.vendor):
            result.right += 1
            continue
        else:
            result.wrong += 1
        result.misses.append((ex.text, ex.vendor, named))
    return result


def by_split(examples: Sequence[Labelled], split: str) -> list[Labelled]:
    return [ex for ex in examples if ex.split == split]


def vendor_counts(examples: Iterable[Labelled]) -> Counter[str]:
    return Counter(normalize_vendor(ex.vendor) for ex in examples)
