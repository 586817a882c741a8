"""BGP-4 messages (RFC 4271 section 4) with 4-octet AS numbers (RFC 6793) and capabilities
(RFC 5492): encoder and a strict decoder for a peer's bytes.

The decoder never trusts a length: every read is bounds-checked and a malformed message is a
:class:`BgpError` carrying the NOTIFICATION code and subcode RFC 4271 section 6 prescribes,
so the session can tell the peer what was wrong and close.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass, field

from iotscope.errors import ParseError

MARKER = b"\xff" * 16
HEADER = 19
MAX_MESSAGE = 4096
OPEN, UPDATE, NOTIFICATION, KEEPALIVE, ROUTE_REFRESH = 1, 2, 3, 4, 5
AS_TRANS = 23456  # RFC 6793: stands in a 2-octet field for an AS above 65535

# capability codes (IANA): multiprotocol (RFC 4760), route refresh (RFC 2918), 4-octet AS
CAP_MP, CAP_REFRESH, CAP_AS4 = 1, 2, 65
AFI_IPV4, SAFI_UNICAST = 1, 1

# path attribute type codes and flags (RFC 4271 section 4.3, RFC 1997)
ORIGIN, AS_PATH, NEXT_HOP, MED, LOCAL_PREF, COMMUNITIES = 1, 2, 3, 4, 5, 8
F_OPTIONAL, F_TRANSITIVE, F_PARTIAL, F_EXTENDED = 0x80, 0x40, 0x20, 0x10
AS_SET, AS_SEQUENCE = 1, 2
ORIGIN_IGP = 0

BLACKHOLE = 0xFFFF029A  # 65535:666, RFC 7999 section 5
NO_EXPORT = 0xFFFFFF01  # RFC 1997
NO_ADVERTISE = 0xFFFFFF02

# NOTIFICATION error codes (RFC 4271 section 4.5) and the subcodes used here
E_HEADER, E_OPEN, E_UPDATE, E_HOLD, E_FSM, E_CEASE = 1, 2, 3, 4, 5, 6


class BgpError(ParseError):
    """A protocol error: ``code``/``subcode`` are what the NOTIFICATION sent to the peer says."""

    def __init__(self, message: str, code: int, subcode: int = 0, **data: object) -> None:
        super().__init__(message, code=code, subcode=subcode, **data)
        self.code = code
        self.subcode = subcode


@dataclass(frozen=True, slots=True)
class Open:
    """An OPEN. ``asn`` is the real (4-octet) AS when the AS4 capability carries it."""

    asn: int
    hold_time: int
    router_id: str
    capabilities: tuple[tuple[int, bytes], ...] = ()
    version: int = 4

    def capability(self, code: int) -> list[bytes]:
        return [value for c, value in self.capabilities if c == code]

    @property
    def as4(self) -> bool:
        return bool(self.capability(CAP_AS4))

    @property
    def ipv4_unicast(self) -> bool:
        """IPv4 unicast is implied when no multiprotocol capability is sent (RFC 4760 s. 8)."""
        mp = self.capability(CAP_MP)
        return not mp or struct.pack("!HBB", AFI_IPV4, 0, SAFI_UNICAST) in mp


@dataclass(frozen=True, slots=True)
class PathAttrs:
    """The attributes of an announcement (decoded ones; anything else kept raw in ``other``)."""

    origin: int | None = None
    as_path: tuple[tuple[int, tuple[int, ...]], ...] = ()
    next_hop: str | None = None
    med: int | None = None
    local_pref: int | None = None
    communities: tuple[int, ...] = ()
    other: tuple[tuple[int, int, bytes], ...] = ()


@dataclass(frozen=True, slots=True)
class Update:
    withdrawn: tuple[ipaddress.IPv4Network, ...] = ()
    attrs: PathAttrs = field(default_factory=PathAttrs)
    nlri: tuple[ipaddress.IPv4Network, ...] = ()


@dataclass(frozen=True, slots=True)
class Notification:
    code: int
    subcode: int = 0
    data: bytes = b""


@dataclass(frozen=True, slots=True)
class Keepalive:
    pass


@dataclass(frozen=True, slots=True)
class RouteRefresh:
    afi: int
    safi: int


Message = Open | Update | Notification | Keepalive | RouteRefresh


# -- encoding --------------------------------------------------------------------------------
def _frame(kind: int, body: bytes) -> bytes:
    if HEADER + len(body) > MAX_MESSAGE:
        raise ValueError("BGP message longer than 4096 octets")
    return MARKER + struct.pack("!HB", HEADER + len(body), kind) + body


def encode_open(msg: Open) -> bytes:
    params = b"".join(struct.pack("!BB", code, len(v)) + v for code, v in msg.capabilities)
    opt = struct.pack("!BB", 2, len(params)) + params if params else b""
    my_as = msg.asn if msg.asn <= 0xFFFF else AS_TRANS
    body = struct.pack(
        "!BHH4sB",
        msg.version,
        my_as,
        msg.hold_time,
        ipaddress.IPv4Address(msg.router_id).packed,
        len(opt),
    )
    return _frame(OPEN, body + opt)


def speaker_open(asn: int, hold_time: int, router_id: str) -> Open:
    """Our OPEN: IPv4 unicast (RFC 4760), route refresh (RFC 2918), 4-octet AS (RFC 6793)."""
    caps = (
        (CAP_MP, struct.pack("!HBB", AFI_IPV4, 0, SAFI_UNICAST)),
        (CAP_REFRESH, b""),
        (CAP_AS4, struct.pack("!I", asn)),
    )
    return Open(asn, hold_time, router_id, caps)


def encode_keepalive() -> bytes:
    return _frame(KEEPALIVE, b"")


def encode_notification(code: int, subcode: int = 0, data: bytes = b"") -> bytes:
    return _frame(NOTIFICATION, struct.pack("!BB", code, subcode) + data[: MAX_MESSAGE - 21])


def encode_prefix(net: ipaddress.IPv4Network) -> bytes:
    n = (net.prefixlen + 7) // 8
    return bytes([net.prefixlen]) + net.network_address.packed[:n]


def _attr(flags: int, kind: int, value: bytes) -> bytes:
    if len(value) > 255:
        return struct.pack("!BBH", flags | F_EXTENDED, kind, len(value)) + value
    return struct.pack("!BBB", flags, kind, len(value)) + value


def encode_attrs(a: PathAttrs, as4: bool) -> bytes:
    out = b""
    if a.origin is not None:
        out += _attr(F_TRANSITIVE, ORIGIN, bytes([a.origin]))
    fmt = "!I" if as4 else "!H"
    path = b"".join(
        struct.pack("!BB", kind, len(asns)) + b"".join(struct.pack(fmt, x) for x in asns)
        for kind, asns in a.as_path
    )
    out += _attr(F_TRANSITIVE, AS_PATH, path)
    if a.next_hop is not None:
        out += _attr(F_TRANSITIVE, NEXT_HOP, ipaddress.IPv4Address(a.next_hop).packed)
    if a.med is not None:
        out += _attr(F_OPTIONAL, MED, struct.pack("!I", a.med))
    if a.local_pref is not None:
        out += _attr(F_TRANSITIVE, LOCAL_PREF, struct.pack("!I", a.local_pref))
    if a.communities:
        out += _attr(
            F_OPTIONAL | F_TRANSITIVE,
            COMMUNITIES,
            b"".join(struct.pack("!I", c) for c in a.communities),
        )
    for flags, kind, value in a.other:
        out += _attr(flags, kind, value)
    return out


def encode_update(
    withdrawn: list[ipaddress.IPv4Network] | tuple[ipaddress.IPv4Network, ...] = (),
    attrs: PathAttrs | None = None,
    nlri: list[ipaddress.IPv4Network] | tuple[ipaddress.IPv4Network, ...] = (),
    as4: bool = True,
) -> bytes:
    w = b"".join(encode_prefix(n) for n in withdrawn)
    a = encode_attrs(attrs, as4) if attrs is not None and nlri else b""
    body = struct.pack("!H", len(w)) + w + struct.pack("!H", len(a)) + a
    return _frame(UPDATE, body + b"".join(encode_prefix(n) for n in nlri))


def pack_updates(
    withdrawn: list[ipaddress.IPv4Network],
    attrs: PathAttrs,
    nlri: list[ipaddress.IPv4Network],
    as4: bool = True,
) -> list[bytes]:
    """As few UPDATEs as fit in 4096 octets each: withdrawals first, then announcements."""
    per = (MAX_MESSAGE - HEADER - 4 - len(encode_attrs(attrs, as4)) - 16) // 5
    out = [encode_update(withdrawn[i : i + per], as4=as4) for i in range(0, len(withdrawn), per)]
    out += [encode_update((), attrs, nlri[i : i + per], as4) for i in range(0, len(nlri), per)]
    return out


# -- decoding --------------------------------------------------------------------------------
def split_messages(buf: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """Whole messages (type, body) at the head of ``buf`` and the incomplete rest."""
    out: list[tuple[int, bytes]] = []
    pos = 0
    while len(buf) - pos >= HEADER:
        if buf[pos : pos + 16] != MARKER:
            raise BgpError("connection not synchronised (bad marker)", E_HEADER, 1)
        length, kind = struct.unpack_from("!HB", buf, pos + 16)
        if not HEADER <= length <= MAX_MESSAGE:
            raise BgpError("bad message length", E_HEADER, 2, length=length)
        if len(buf) - pos < length:
            break
        out.append((kind, bytes(buf[pos + HEADER : pos + length])))
        pos += length
    return out, bytes(buf[pos:])


def decode(kind: int, body: bytes, as4: bool = True) -> Message:
    """One message body (header already split off) or :class:`BgpError`."""
    if kind == OPEN:
        return decode_open(body)
    if kind == UPDATE:
        return decode_update(body, as4)
    if kind == NOTIFICATION:
        if len(body) < 2:
            raise BgpError("short NOTIFICATION", E_HEADER, 2)
        return Notification(body[0], body[1], body[2:])
    if kind == KEEPALIVE:
        if body:
            raise BgpError("KEEPALIVE with a body", E_HEADER, 2)
        return Keepalive()
    if kind == ROUTE_REFRESH:
        if len(body) != 4:
            raise BgpError("bad ROUTE-REFRESH length", E_HEADER, 2)
        afi, _res, safi = struct.unpack("!HBB", body)
        return RouteRefresh(afi, safi)
    raise BgpError("unknown message type", E_HEADER, 3, type=kind)


def decode_open(body: bytes) -> Open:
    if len(body) < 10:
        raise BgpError("short OPEN", E_HEADER, 2)
    version, my_as, hold, rid, opt_len = struct.unpack_from("!BHH4sB", body)
    if version != 4:
        raise BgpError("unsupported BGP version", E_OPEN, 1, data=b"\x00\x04")
    if 10 + opt_len != len(body):
        raise BgpError("OPEN optional parameters length mismatch", E_OPEN, 0)
    if hold in (1, 2):
        raise BgpError("unacceptable hold time", E_OPEN, 6, hold=hold)
    caps: list[tuple[int, bytes]] = []
    pos = 10
    while pos < len(body):
        if pos + 2 > len(body):
            raise BgpError("truncated optional parameter", E_OPEN, 0)
        ptype, plen = body[pos], body[pos + 1]
        value = body[pos + 2 : pos + 2 + plen]
        if len(value) != plen:
            raise BgpError("truncated optional parameter", E_OPEN, 0)
        if ptype != 2:
            raise BgpError("unsupported optional parameter", E_OPEN, 4, type=ptype)
        caps += _capabilities(value)
        pos += 2 + plen
    asn = my_as
    for c, v in caps:
        if c == CAP_AS4:
            if len(v) != 4:
                raise BgpError("bad 4-octet AS capability", E_OPEN, 2)
            asn = struct.unpack("!I", v)[0]
    return Open(asn, hold, str(ipaddress.IPv4Address(rid)), tuple(caps), version)


def _capabilities(value: bytes) -> list[tuple[int, bytes]]:
    out, pos = [], 0
    while pos < len(value):
        if pos + 2 > len(value):
            raise BgpError("truncated capability", E_OPEN, 0)
        code, clen = value[pos], value[pos + 1]
        cval = value[pos + 2 : pos + 2 + clen]
        if len(cval) != clen:
            raise BgpError("truncated capability", E_OPEN, 0)
        out.append((code, bytes(cval)))
        pos += 2 + clen
    return out


def decode_prefixes(data: bytes) -> tuple[ipaddress.IPv4Network, ...]:
    out, pos = [], 0
    while pos < len(data):
        plen = data[pos]
        n = (plen + 7) // 8
        if plen > 32 or pos + 1 + n > len(data):
            raise BgpError("invalid network field", E_UPDATE, 10)
        raw = data[pos + 1 : pos + 1 + n] + b"\x00" * (4 - n)
        out.append(ipaddress.IPv4Network((raw, plen), strict=False))
        pos += 1 + n
    return tuple(out)


def decode_update(body: bytes, as4: bool = True) -> Update:
    if len(body) < 4:
        raise BgpError("short UPDATE", E_UPDATE, 1)
    wlen = struct.unpack_from("!H", body)[0]
    if 2 + wlen + 2 > len(body):
        raise BgpError("withdrawn routes length too long", E_UPDATE, 1)
    withdrawn = decode_prefixes(body[2 : 2 + wlen])
    alen = struct.unpack_from("!H", body, 2 + wlen)[0]
    start = 4 + wlen
    if start + alen > len(body):
        raise BgpError("path attribute length too long", E_UPDATE, 1)
    attrs = decode_attrs(body[start : start + alen], as4)
    nlri = decode_prefixes(body[start + alen :])
    if nlri and (attrs.origin is None or attrs.next_hop is None):
        raise BgpError("missing well-known attribute", E_UPDATE, 3)
    return Update(withdrawn, attrs, nlri)


def decode_attrs(data: bytes, as4: bool) -> PathAttrs:
    fields_: dict[str, object] = {}
    other: list[tuple[int, int, bytes]] = []
    seen: set[int] = set()
    pos = 0
    while pos < len(data):
        if pos + 3 > len(data):
            raise BgpError("truncated path attribute", E_UPDATE, 1)
        flags, kind = data[pos], data[pos + 1]
        if flags & F_EXTENDED:
            if pos + 4 > len(data):
                raise BgpError("truncated path attribute", E_UPDATE, 1)
            alen, pos = struct.unpack_from("!H", data, pos + 2)[0], pos + 4
        else:
            alen, pos = data[pos + 2], pos + 3
        value = data[pos : pos + alen]
        if len(value) != alen:
            raise BgpError("attribute length error", E_UPDATE, 5, type=kind)
        pos += alen
        if kind in seen:
            raise BgpError("attribute repeated", E_UPDATE, 1, type=kind)
        seen.add(kind)
        _attribute(flags, kind, bytes(value), as4, fields_, other)
    return PathAttrs(other=tuple(other), **fields_)  # type: ignore[arg-type]


def _attribute(
    flags: int,
    kind: int,
    value: bytes,
    as4: bool,
    out: dict[str, object],
    other: list[tuple[int, int, bytes]],
) -> None:
    fixed = {ORIGIN: 1, NEXT_HOP: 4, MED: 4, LOCAL_PREF: 4}
    if kind in fixed and len(value) != fixed[kind]:
        raise BgpError("attribute length error", E_UPDATE, 5, type=kind)
    if kind == ORIGIN:
        if value[0] > 2:
            raise BgpError("invalid ORIGIN", E_UPDATE, 6)
        out["origin"] = value[0]
    elif kind == AS_PATH:
        out["as_path"] = _as_path(value, 4 if as4 else 2)
    elif kind == NEXT_HOP:
        out["next_hop"] = str(ipaddress.IPv4Address(value))
    elif kind == MED:
        out["med"] = struct.unpack("!I", value)[0]
    elif kind == LOCAL_PREF:
        out["local_pref"] = struct.unpack("!I", value)[0]
    elif kind == COMMUNITIES:
        if len(value) % 4:
            raise BgpError("attribute length error", E_UPDATE, 5, type=kind)
        out["communities"] = struct.unpack(f"!{len(value) // 4}I", value)
    else:
        other.append((flags, kind, value))


def _as_path(value: bytes, width: int) -> tuple[tuple[int, tuple[int, ...]], ...]:
    segs, pos = [], 0
    fmt = "!I" if width == 4 else "!H"
    while pos < len(value):
        if pos + 2 > len(value):
            raise BgpError("malformed AS_PATH", E_UPDATE, 11)
        kind, count = value[pos], value[pos + 1]
        end = pos + 2 + count * width
        if kind not in (AS_SET, AS_SEQUENCE, 3, 4) or end > len(value):
            raise BgpError("malformed AS_PATH", E_UPDATE, 11)
        asns = tuple(struct.unpack_from(fmt, value, pos + 2 + i * width)[0] for i in range(count))
        segs.append((kind, asns))
        pos = end
    return tuple(segs)
