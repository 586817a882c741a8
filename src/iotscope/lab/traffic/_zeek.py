"""Connection blocks as Zeek ``conn.log`` (TSV, Zeek's ASCII writer format) and as flow tables.

The header is Zeek's own: ``#separator \\x09``, ``#set_separator``, ``#empty_field``,
``#unset_field``, ``#path conn``, ``#open``, ``#fields``, ``#types`` and a closing ``#close``
(Zeek ``base/protocols/conn/main.zeek``, ``Conn::Info``). Rows are written by Arrow's CSV
writer: no Python object per row.

A connection marked ``rev`` is logged with the roles reversed, as Zeek logs a long session it
picked up mid-stream when the first packet it saw came from the server: the C2 as originator,
``conn_state`` ``OTH`` (no SYN seen), a history without the handshake. NetFlow
(:func:`flow_table`) keeps the true direction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from iotscope.flows import flows_table, ipv4_strings, proto_strings
from iotscope.lab.traffic._blocks import S0, SF, TCP, Block, split_active

FIELDS = (
    ("ts", "time"),
    ("uid", "string"),
    ("id.orig_h", "addr"),
    ("id.orig_p", "port"),
    ("id.resp_h", "addr"),
    ("id.resp_p", "port"),
    ("proto", "enum"),
    ("service", "string"),
    ("duration", "interval"),
    ("orig_bytes", "count"),
    ("resp_bytes", "count"),
    ("conn_state", "string"),
    ("local_orig", "bool"),
    ("local_resp", "bool"),
    ("missed_bytes", "count"),
    ("history", "string"),
    ("orig_pkts", "count"),
    ("orig_ip_bytes", "count"),
    ("resp_pkts", "count"),
    ("resp_ip_bytes", "count"),
    ("tunnel_parents", "set[string]"),
)
_STATE_NAMES = np.array(["SF", "S0", "REJ"])
_ALPHABET = np.frombuffer(
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", np.uint8
)
_SERVICES = {53: "dns", 123: "ntp", 443: "ssl", 80: "http", 6667: "irc"}


def header_ip_bytes(block: Block) -> tuple[np.ndarray, np.ndarray]:
    """IP-level bytes per direction: payload plus 40 (TCP) or 28 (UDP) bytes per packet."""
    per = np.where(block["proto"] == TCP, 40, 28)
    return block["oby"] + per * block["opk"], block["rby"] + per * block["rpk"]


def tcp_flags(block: Block) -> np.ndarray:
    """The originator's cumulative TCP flags: FIN|SYN|PSH|ACK for a full session, SYN else."""
    full = np.where(block["state"] == SF, 0x1B, 0x02)
    return np.where(block["proto"] == TCP, full, 0).astype(np.int32)


def _history(block: Block) -> np.ndarray:
    tcp = block["proto"] == TCP
    sf, s0 = block["state"] == SF, block["state"] == S0
    replied_udp = block["rpk"] > 0
    return np.select(
        [tcp & sf, tcp & s0, tcp, replied_udp],
        ["ShADadFf", "S", "Sr", "Dd"],
        default="D",
    )


def _seconds(ms: np.ndarray) -> pa.Array:
    """Zeek's ``%.6f`` seconds for integer milliseconds, built with Arrow kernels."""
    whole = pc.cast(pa.array(ms // 1000), pa.string())
    frac = pc.utf8_lpad(pc.cast(pa.array(ms % 1000), pa.string()), 3, "0")
    return pc.binary_join_element_wise(whole, pc.binary_join_element_wise(frac, "000", ""), ".")


def _uids(rng: np.random.Generator, n: int) -> pa.Array:
    chars = np.empty((n, 18), np.uint8)
    chars[:, 0] = ord("C")
    chars[:, 1:] = _ALPHABET[rng.integers(0, 62, (n, 17))]
    return pa.array(chars.view("S18").ravel().astype(str))


def _bools(mask: np.ndarray) -> np.ndarray:
    return np.where(mask, "T", "F")


def reversed_roles(block: Block) -> Block:
    """``block`` as Zeek logs it: rows marked ``rev`` have originator and responder swapped."""
    rev = block["rev"].astype(bool)
    if not rev.any():
        return block
    out = dict(block)
    for a, b in (("src", "dst"), ("sport", "dport"), ("opk", "rpk"), ("oby", "rby")):
        out[a], out[b] = np.where(rev, block[b], block[a]), np.where(rev, block[a], block[b])
    return out


def zeek_table(block: Block, local: np.ndarray, rng: np.random.Generator) -> pa.Table:
    """The rows of ``conn.log`` for ``block``; ``local`` lists the site's own addresses."""
    rev = block["rev"].astype(bool)
    block = reversed_roles(block)
    oip, rip = header_ip_bytes(block)
    n = len(block["start"])
    s0 = block["state"] == S0
    ports = block["dport"]
    service = np.full(n, "-", dtype=object)
    for port, name in _SERVICES.items():
        service[(ports == port) & ~s0] = name
    cols = [
        _seconds(block["start"]),
        _uids(rng, n),
        ipv4_strings(block["src"]),
        block["sport"],
        ipv4_strings(block["dst"]),
        block["dport"],
        proto_strings(block["proto"]),
        pa.array(service.astype(str)),
        _seconds(block["dur"]),
        block["oby"],
        block["rby"],
        np.where(rev, "OTH", _STATE_NAMES[block["state"]]),
        _bools(np.isin(block["src"], local)),
        _bools(np.isin(block["dst"], local)),
        np.zeros(n, np.int64),
        np.where(rev, "DdAa", _history(block)),
        block["opk"],
        oip,
        block["rpk"],
        rip,
        np.full(n, "(empty)"),
    ]
    names = [f for f, _ in FIELDS]
    return pa.Table.from_arrays(
        [pa.array(c) if not isinstance(c, pa.Array) else c for c in cols], names=names
    )


def _stamp(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d-%H-%M-%S")


def write_conn_log(
    path: Path,
    block: Block,
    local: np.ndarray,
    rng: np.random.Generator,
    open_ms: int,
    close_ms: int,
) -> int:
    """Write ``block`` as a Zeek conn.log at ``path``; return the number of rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    table = zeek_table(block, local, rng)
    head = [
        "#separator \\x09",
        "#set_separator\t,",
        "#empty_field\t(empty)",
        "#unset_field\t-",
        "#path\tconn",
        f"#open\t{_stamp(open_ms)}",
        "#fields\t" + "\t".join(f for f, _ in FIELDS),
        "#types\t" + "\t".join(t for _, t in FIELDS),
    ]
    options = pcsv.WriteOptions(include_header=False, delimiter="\t", quoting_style="none")
    with path.open("wb") as fh:
        fh.write(("\n".join(head) + "\n").encode())
        pcsv.write_csv(table, fh, options)
        fh.write(f"#close\t{_stamp(close_ms)}\n".encode())
    return table.num_rows


#: The exporter's active timeout: a longer connection is reported every 30 minutes.
ACTIVE_TIMEOUT_MS = 1_800_000


def flow_table(block: Block, site: str, exporter: str) -> pa.Table:
    """The originator direction of each connection as a FLOW_SCHEMA table (what NetFlow sees),
    connections longer than :data:`ACTIVE_TIMEOUT_MS` cut into records of that length."""
    block = split_active(block, ACTIVE_TIMEOUT_MS)
    oip, _ = header_ip_bytes(block)
    return flows_table(
        start_ms=block["start"],
        end_ms=block["start"] + block["dur"],
        src=ipv4_strings(block["src"]),
        dst=ipv4_strings(block["dst"]),
        sport=block["sport"],
        dport=block["dport"],
        proto=proto_strings(block["proto"]),
        packets=block["opk"],
        octets=oip,
        tcp_flags=tcp_flags(block),
        exporter=exporter,
        site=site,
    )
