"""The columnar view of a capture and the link-layer types iotscope reads.

Link-layer type numbers are those of the tcpdump.org registry (``LINKTYPE_*``, also
draft-ietf-opsawg-pcaplinktype).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

LINKTYPE_NULL = 0  # BSD loopback: 4-byte address family in the writer's byte order
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101  # bare IPv4 or IPv6, the version nibble says which
LINKTYPE_LOOP = 108  # OpenBSD loopback: like NULL, family always big-endian
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276

SUPPORTED_LINKTYPES = frozenset(
    {
        LINKTYPE_NULL,
        LINKTYPE_ETHERNET,
        LINKTYPE_RAW,
        LINKTYPE_LOOP,
        LINKTYPE_LINUX_SLL,
        LINKTYPE_IPV4,
        LINKTYPE_IPV6,
        LINKTYPE_LINUX_SLL2,
    }
)


@dataclass(frozen=True)
class Frames:
    """Every packet of a capture as parallel arrays over the file's bytes.

    ``data`` is the whole file (a view over ``bytes`` or a read-only ``mmap``, never a copy);
    packet ``i`` is ``data[offsets[i] : offsets[i] + caplen[i]]``. ``ts_ns`` is nanoseconds
    since the epoch (UTC). ``errors`` counts malformed or truncated records that were skipped.
    """

    data: np.ndarray
    offsets: np.ndarray
    caplen: np.ndarray
    wirelen: np.ndarray
    ts_ns: np.ndarray
    linktype: np.ndarray
    errors: int = 0

    def __len__(self) -> int:
        return int(self.offsets.shape[0])

    def packet(self, i: int) -> bytes:
        """The captured bytes of packet ``i`` (for tests and debugging, not hot paths)."""
        start = int(self.offsets[i])
        return self.data[start : start + int(self.caplen[i])].tobytes()

    def select(self, mask: np.ndarray) -> Frames:
        """The packets where ``mask`` is true (or at the given indices), same ``data``."""
        return Frames(
            data=self.data,
            offsets=self.offsets[mask],
            caplen=self.caplen[mask],
            wirelen=self.wirelen[mask],
            ts_ns=self.ts_ns[mask],
            linktype=self.linktype[mask],
            errors=self.errors,
        )


def empty_frames(data: np.ndarray, errors: int = 0) -> Frames:
    """A capture with no packets (a header and nothing else)."""
    return Frames(
        data=data,
        offsets=np.zeros(0, np.int64),
        caplen=np.zeros(0, np.uint32),
        wirelen=np.zeros(0, np.uint32),
        ts_ns=np.zeros(0, np.int64),
        linktype=np.zeros(0, np.uint16),
        errors=errors,
    )


def concat_frames(data: np.ndarray, parts: list[Frames], errors: int = 0) -> Frames:
    """One :class:`Frames` of ``parts`` (all over ``data``), in order; their errors add up."""
    if not parts:
        return empty_frames(data, errors)
    total = errors + sum(p.errors for p in parts)
    if len(parts) == 1:
        return replace(parts[0], errors=total)
    return Frames(
        data=data,
        offsets=np.concatenate([p.offsets for p in parts]),
        caplen=np.concatenate([p.caplen for p in parts]),
        wirelen=np.concatenate([p.wirelen for p in parts]),
        ts_ns=np.concatenate([p.ts_ns for p in parts]),
        linktype=np.concatenate([p.linktype for p in parts]),
        errors=total,
    )
