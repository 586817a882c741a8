"""Normalised vendor and model names: how a survey identity, a manufacturer's tenant name and
a JC-STAR registry row are matched to one another.

Banners and registries spell one maker many ways ("TP-Link", "TP-LINK Technologies Co., Ltd.",
"ＴＰ－Ｌｉｎｋ"), so matching is on a key: NFKC (full-width forms folded), case-folded, legal
suffixes dropped (``Co., Ltd.``, ``Inc.``, ``Corporation``, ``株式会社``...), then every
character that is not a letter or a digit removed. ``vendor_key("TP-Link Co., Ltd.") ==
vendor_key("tp link") == "tplink"``. A model key is the same without the suffix rule.
"""

from __future__ import annotations

import re
import unicodedata

_LEGAL = re.compile(
    r"(株式会社|有限会社|合同会社|\b(co|corp|corporation|inc|incorporated|ltd|limited|llc|gmbh|"
    r"kk|k\.k|sa|ag|plc|company)\b\.?)",
    re.IGNORECASE,
)
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)

UNKNOWN = ""
"""The key of a device whose vendor the survey could not name."""


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def vendor_key(name: str | None) -> str:
    """The matching key of a vendor name ("" for none)."""
    if not name:
        return UNKNOWN
    folded = _fold(name)
    stripped = _NOT_WORD.sub("", _LEGAL.sub(" ", folded))
    # a name that is nothing but a legal form ("Corporation") keeps its letters
    return stripped or _NOT_WORD.sub("", folded)


def model_key(name: str | None) -> str:
    """The matching key of a model name ("" for none)."""
    return _NOT_WORD.sub("", _fold(name)) if name else ""
