"""SMS-length text: how many segments a message takes (3GPP TS 23.038 / 23.040).

A message in the GSM 7-bit default alphabet fits 160 septets (153 per segment when
concatenated; characters of the extension table count twice); anything else, such as
Japanese, is sent in UCS-2: 70 UTF-16 code units (67 per segment when concatenated).
"""

from __future__ import annotations

from dataclasses import dataclass

_GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXT = "^{}\\[~]|€\f"


@dataclass(frozen=True, slots=True)
class SmsSize:
    encoding: str  # gsm7 | ucs2
    units: int  # septets (gsm7) or UTF-16 code units (ucs2)
    segments: int


def sms_size(text: str) -> SmsSize:
    """The encoding, length and segment count of ``text`` as one SMS or a concatenated one."""
    if all(ch in _GSM_BASIC or ch in _GSM_EXT for ch in text):
        units = sum(2 if ch in _GSM_EXT else 1 for ch in text)
        return SmsSize("gsm7", units, 1 if units <= 160 else -(-units // 153))
    units = len(text.encode("utf-16-le")) // 2
    return SmsSize("ucs2", units, 1 if units <= 70 else -(-units // 67))
