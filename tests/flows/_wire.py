"""Hand-built NetFlow v5/v9 and IPFIX datagrams for the decoder tests (RFC 3954, RFC 7011)."""

from __future__ import annotations

import struct
from collections.abc import Sequence

FieldSpec = tuple[int, int] | tuple[int, int, int]  # (ie, length[, enterprise])


def pad4(body: bytes) -> bytes:
    return body + b"\0" * (-len(body) % 4)


def set_(set_id: int, body: bytes, *, pad: bool = True) -> bytes:
    body = pad4(body) if pad else body
    return struct.pack(">HH", set_id, 4 + len(body)) + body


def ipfix_fields(fields: Sequence[FieldSpec]) -> bytes:
    out = b""
    for spec in fields:
        if len(spec) == 3:
            out += struct.pack(">HHI", spec[0] | 0x8000, spec[1], spec[2])
        else:
            out += struct.pack(">HH", spec[0], spec[1])
    return out


def ipfix_template(tid: int, fields: Sequence[FieldSpec]) -> bytes:
    return set_(2, struct.pack(">HH", tid, len(fields)) + ipfix_fields(fields))


def ipfix_options_template(
    tid: int, scope: Sequence[FieldSpec], fields: Sequence[FieldSpec]
) -> bytes:
    head = struct.pack(">HHH", tid, len(scope) + len(fields), len(scope))
    return set_(3, head + ipfix_fields([*scope, *fields]))


def ipfix(*sets: bytes, domain: int = 1, export_s: int = 1_700_000_000, seq: int = 0) -> bytes:
    body = b"".join(sets)
    return struct.pack(">HHIII", 10, 16 + len(body), export_s, seq, domain) + body


def v9_template(tid: int, fields: Sequence[tuple[int, int]]) -> bytes:
    spec = b"".join(struct.pack(">HH", *f) for f in fields)
    return set_(0, struct.pack(">HH", tid, len(fields)) + spec)


def v9_options_template(
    tid: int, scope: Sequence[tuple[int, int]], fields: Sequence[tuple[int, int]]
) -> bytes:
    spec = b"".join(struct.pack(">HH", *f) for f in [*scope, *fields])
    return set_(1, struct.pack(">HHH", tid, 4 * len(scope), 4 * len(fields)) + spec)


def v9(
    *sets: bytes, source_id: int = 1, uptime_ms: int = 100_000, secs: int = 1_700_000_000
) -> bytes:
    return struct.pack(">HHIIII", 9, len(sets), uptime_ms, secs, 0, source_id) + b"".join(sets)


V5_RECORD = struct.Struct(">IIIHHIIIIHHBBBBHHBBH")


def v5(
    records: Sequence[tuple[int, int, int, int, int, int, int, int, int, int]],
    *,
    uptime_ms: int = 100_000,
    secs: int = 1_700_000_000,
    sampling: int = 0,
) -> bytes:
    """records: (src, dst, pkts, octets, first, last, sport, dport, flags, proto)."""
    head = struct.pack(">HHIIIIBBH", 5, len(records), uptime_ms, secs, 0, 0, 0, 0, sampling)
    body = b"".join(
        V5_RECORD.pack(s, d, 0, 0, 0, p, o, f, la, sp, dp, 0, fl, pr, 0, 0, 0, 0, 0, 0)
        for s, d, p, o, f, la, sp, dp, fl, pr in records
    )
    return head + body
