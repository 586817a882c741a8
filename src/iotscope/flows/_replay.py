"""Export datagrams kept in a file and sent again over UDP, as a separate exporter would.

The file holds each datagram as a 4-byte big-endian length and its bytes (:func:`save`,
:func:`load`). Run by its path, ``python _replay.py FILE PORT [RATE]`` sends every datagram of
FILE to 127.0.0.1:PORT, RATE datagrams a second (0 or absent: as fast as it can), and prints
``{"sent": N, "seconds": S, "start_wall": T}``. Standard library only and not imported through
the package when run so, so the sender starts at once: the collector's tests and its benchmark
use it as the exporter process.
"""

from __future__ import annotations

import json
import socket
import struct
import sys
import time
from collections.abc import Iterable
from pathlib import Path


def save(path: Path, payloads: Iterable[bytes]) -> None:
    """Write ``payloads`` to ``path``, each as its length and its bytes."""
    with path.open("wb") as fh:
        for payload in payloads:
            fh.write(struct.pack(">I", len(payload)) + payload)


def load(path: Path) -> list[bytes]:
    """The datagrams :func:`save` wrote, in order."""
    data, out, off = path.read_bytes(), [], 0
    while off < len(data):
        (length,) = struct.unpack_from(">I", data, off)
        out.append(data[off + 4 : off + 4 + length])
        off += 4 + length
    return out


def send(payloads: list[bytes], port: int, rate: float = 0.0) -> dict[str, float]:
    """Every payload to 127.0.0.1:``port``, ``rate`` a second (0: unpaced); what was sent."""
    gap = 1 / rate if rate else 0.0
    started, wall = time.perf_counter(), time.time()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        for i, payload in enumerate(payloads):
            if gap:
                due = started + i * gap
                if due - time.perf_counter() > 0.002:
                    time.sleep(due - time.perf_counter() - 0.001)
                while time.perf_counter() < due:
                    pass  # sleep() alone is too coarse at tens of thousands a second
            s.sendto(payload, ("127.0.0.1", port))
    return {"sent": len(payloads), "seconds": time.perf_counter() - started, "start_wall": wall}


if __name__ == "__main__":
    file, port, *rate = sys.argv[1:]
    print(json.dumps(send(load(Path(file)), int(port), float(rate[0]) if rate else 0.0)))
