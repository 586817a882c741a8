"""Firmware version order by numeric and text runs (ARCHITECTURE.md, ``vulns match``).

A version is read as its runs of digits and of letters, lower-cased; every other character
(``.`` ``-`` ``_`` space ``(`` ...) only separates runs. Runs compare pairwise: two numbers by
value (``10`` > ``9``, ``04`` == ``4``), two texts alphabetically, and a text run before a
number at the same place (``1.0b1`` < ``1.0.1``: a letter tag marks a build or pre-release
line, not a later release). When one version is a prefix of the other, the longer is later
(``1.1.4 build 20230219`` > ``1.1.4``), which is how NVD's ranges read vendor strings such as
``1.04b12``. A leading ``v``/``ver``/``version``/``rev`` word is a label, not part of the
version (``V5.4.0`` == ``5.4.0``, ``Ver.1.10`` == ``1.10``).
"""

from __future__ import annotations

import re
from functools import lru_cache

_RUN = re.compile(r"\d+|[^\W\d_]+")
_LABELS = frozenset({"v", "ver", "version", "rev"})

Key = tuple[tuple[int, int | str], ...]


@lru_cache(maxsize=65536)
def version_key(version: str) -> Key:
    """A sort key: ``version_key(a) < version_key(b)`` iff ``a`` is earlier than ``b``."""
    runs = _RUN.findall(version.lower())
    if len(runs) > 1 and runs[0] in _LABELS and runs[1].isdigit():
        runs = runs[1:]
    # (1, n) for numbers, (0, s) for text: text sorts before a number at the same place
    return tuple((1, int(r)) if r.isdigit() else (0, r) for r in runs)


def compare_versions(a: str, b: str) -> int:
    """-1, 0 or 1 as ``a`` is earlier than, the same as, or later than ``b``."""
    ka, kb = version_key(a), version_key(b)
    return (ka > kb) - (ka < kb)


def in_range(
    version: str,
    start_incl: str | None = None,
    start_excl: str | None = None,
    end_incl: str | None = None,
    end_excl: str | None = None,
) -> bool:
    """NVD's cpeMatch range: every bound that is given holds for ``version``."""
    k = version_key(version)
    if start_incl is not None and k < version_key(start_incl):
        return False
    if start_excl is not None and k <= version_key(start_excl):
        return False
    if end_incl is not None and k > version_key(end_incl):
        return False
    return not (end_excl is not None and k >= version_key(end_excl))
