"""nfdump CSV reader: the output of ``nfdump -r FILE -o csv`` (nfdump 1.6 and 1.7).

The header line names the columns (``ts,te,td,sa,da,sp,dp,pr,flg,...,ipkt,ibyt,opkt,obyt,...,
ra,...``); the ``Summary`` block nfdump appends is not flow data. Times are nfdump's
``YYYY-MM-DD HH:MM:SS[.mmm]`` in the time zone nfdump ran in: run it with ``TZ=UTC`` (they are
read as UTC). packets = ipkt + opkt and bytes = ibyt + obyt (opkt/obyt are 0 except for
bidirectional NSEL records); ``flg`` letters C E U A P R S F set the TCP flag bits; an ICMP
``dp`` of ``type.code`` becomes type * 256 + code (the NetFlow convention); ``ra`` (the router
that exported the flow) is the exporter. A bad line is counted and skipped.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from iotscope.flows._schema import empty_flows, flows_table
from iotscope.flows._text import (
    MAX_SAMPLES,
    BadLines,
    canonical_addresses,
    is_address,
    read_strings,
    to_int,
)

__all__ = ["TCP_FLAG_LETTERS", "read_nfdump_csv"]

NEEDED = ("ts", "te", "sa", "da", "sp", "dp", "pr", "flg", "ipkt", "ibyt")
TCP_FLAG_LETTERS = {
    "C": 0x80,
    "E": 0x40,
    "U": 0x20,
    "A": 0x10,
    "P": 0x08,
    "R": 0x04,
    "S": 0x02,
    "F": 0x01,
}
_TIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?$"
_PROTOS = {
    "tcp": "tcp",
    "udp": "udp",
    "icmp": "icmp",
    "icmp6": "icmp",
    "6": "tcp",
    "17": "udp",
    "1": "icmp",
    "58": "icmp",
}


def read_nfdump_csv(data: bytes, *, site: str) -> tuple[pa.Table, BadLines]:
    """Flows of one ``nfdump -o csv`` output and the bad lines it held."""
    text = data.decode("utf-8", errors="replace")
    bad = BadLines()
    lines = text.split("\n")
    header = next((i for i, line in enumerate(lines) if line.startswith("ts,")), None)
    if header is None:
        rows = [line for line in lines if line.strip()]
        if rows:
            bad.extend(rows[:MAX_SAMPLES], len(rows))
        return empty_flows(), bad
    body = _body(lines, header, bad)
    names = lines[header].strip().split(",")
    missing = [n for n in NEEDED if n not in names]
    table = read_strings("\n".join(body), names, ",", bad)
    if missing:
        bad.extend([f"nfdump CSV lacks columns {missing}"], table.num_rows)
        return empty_flows(), bad
    return _flows(table, site, bad), bad


def _body(lines: list[str], header: int, bad: BadLines) -> list[str]:
    """Data lines after the header, up to nfdump's Summary block; stray lines before it count."""
    stray = [line for line in lines[:header] if line.strip()]
    if stray:
        bad.extend(stray, len(stray))
    body = []
    for line in lines[header + 1 :]:
        if line.startswith("Summary"):
            break
        if line.strip():
            body.append(line.rstrip("\r"))
    return body


def _times(col: pa.ChunkedArray) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    ok = pc.match_substring_regex(col, _TIME).to_numpy(zero_copy_only=False)
    text = pc.if_else(pa.array(ok), col, "1970-01-01 00:00:00")
    whole = pc.utf8_slice_codeunits(text, 0, 19)
    secs = pc.cast(pc.strptime(whole, format="%Y-%m-%d %H:%M:%S", unit="s"), pa.int64())
    frac = pc.utf8_rpad(pc.utf8_slice_codeunits(text, 20, 23), 3, "0")
    ms = pc.cast(pc.if_else(pc.equal(frac, "000"), "0", frac), pa.int64())
    return secs.to_numpy() * 1000 + ms.to_numpy(), np.asarray(ok)


def _flags(col: pa.ChunkedArray) -> npt.NDArray[np.int32]:
    flags = np.zeros(len(col), dtype=np.int32)
    for letter, bits in TCP_FLAG_LETTERS.items():
        hit = pc.match_substring(col, letter).to_numpy(zero_copy_only=False)
        flags |= np.where(hit, bits, 0).astype(np.int32)
    is_hex = pc.starts_with(col, "0x").to_numpy(zero_copy_only=False)
    if is_hex.any():
        hexes = [
            int(v, 16) & 0xFFFF if _is_hex(v) else 0 for v in np.asarray(col.to_pylist())[is_hex]
        ]
        flags[is_hex] = hexes
    return flags


def _is_hex(value: str) -> bool:
    try:
        int(value, 16)
    except ValueError:
        return False
    return True


def _icmp_port(col: pa.ChunkedArray) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """A port, or an ICMP ``type.code`` as type * 256 + code."""
    dotted = pc.match_substring_regex(col, r"^[0-9]{1,3}\.[0-9]{1,3}$").to_numpy(
        zero_copy_only=False
    )
    plain = pc.if_else(pa.array(dotted), "0", col)
    port, ok = to_int(plain, hi=65535)
    if dotted.any():
        parts = pc.split_pattern(pc.if_else(pa.array(dotted), col, "0.0"), ".")
        kind = pc.cast(pc.list_element(parts, 0), pa.int64()).to_numpy()
        code = pc.cast(pc.list_element(parts, 1), pa.int64()).to_numpy()
        port = np.where(dotted, (kind & 0xFF) * 256 + (code & 0xFF), port)
    return port, ok


def _count(t: pa.Table, name: str) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    if name in t.column_names:
        return to_int(t[name])
    return np.zeros(t.num_rows, dtype=np.int64), np.ones(t.num_rows, dtype=bool)


def _protos(col: pa.ChunkedArray) -> pa.Array:
    key = pc.utf8_lower(pc.utf8_trim_whitespace(col))
    idx = pc.fill_null(pc.index_in(key, value_set=pa.array(list(_PROTOS))), len(_PROTOS))
    return pa.array(np.array([*_PROTOS.values(), "other"])[idx.to_numpy()], pa.string())


def _flows(t: pa.Table, site: str, bad: BadLines) -> pa.Table:
    start, ok = _times(t["ts"])
    end, ok_e = _times(t["te"])
    sport, ok_sp = _icmp_port(t["sp"])
    dport, ok_dp = _icmp_port(t["dp"])
    (ipkt, ok_1), (opkt, ok_2), (ibyt, ok_3), (obyt, ok_4) = (
        _count(t, c) for c in ("ipkt", "opkt", "ibyt", "obyt")
    )
    src, ok_s = canonical_addresses(t["sa"].combine_chunks())
    dst, ok_d = canonical_addresses(t["da"].combine_chunks())
    ok &= ok_e & ok_sp & ok_dp & ok_s & ok_d & ok_1 & ok_2 & ok_3 & ok_4
    ok &= is_address(t["sa"]) & is_address(t["da"])
    rows = np.flatnonzero(~ok)
    samples = t.take(pa.array(rows[:MAX_SAMPLES])).to_pylist()
    bad.extend([",".join(r.values()) for r in samples], rows.size)
    table = flows_table(
        start_ms=start,
        end_ms=end,
        src=src,
        dst=dst,
        sport=sport,
        dport=dport,
        proto=_protos(t["pr"]),
        packets=ipkt + opkt,
        octets=ibyt + obyt,
        tcp_flags=_flags(t["flg"]),
        exporter=t["ra"].combine_chunks() if "ra" in t.column_names else "nfdump",
        site=site,
    )
    return table.filter(pa.array(ok))
