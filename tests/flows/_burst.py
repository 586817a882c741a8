"""A burst sender in a process of its own: ``python _burst.py FILE PORT [RATE]`` sends every
datagram of FILE (4-byte big-endian length, payload; see ``save``) to 127.0.0.1:PORT, RATE
datagrams a second (0 or absent: as fast as it can), then prints ``{"sent": N, "seconds": S}``.
Standard library only, so it starts quickly."""

from __future__ import annotations

import json
import socket
import struct
import sys
import time
from pathlib import Path


def save(path: Path, payloads: list[bytes]) -> None:
    path.write_bytes(b"".join(struct.pack(">I", len(p)) + p for p in payloads))


def load(path: Path) -> list[bytes]:
    data, out, off = path.read_bytes(), [], 0
    while off < len(data):
        (length,) = struct.unpack_from(">I", data, off)
        out.append(data[off + 4 : off + 4 + length])
        off += 4 + length
    return out


def main(path: str, port: str, rate: str = "0") -> None:
    payloads = load(Path(path))
    gap = 1 / float(rate) if float(rate) else 0.0
    started = time.perf_counter()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        for i, p in enumerate(payloads):
            while gap and time.perf_counter() < started + i * gap:
                pass  # a busy wait: sleep() is too coarse at tens of thousands a second
            s.sendto(p, ("127.0.0.1", int(port)))
    print(json.dumps({"sent": len(payloads), "seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    main(*sys.argv[1:])
