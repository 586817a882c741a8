"""Routing data: which AS originates which prefix, from an MRT RIB dump or a ``prefix,asn`` CSV.

Held as numpy columns (IPv4: network, length, origin AS; IPv6 likewise, the network split into
two 64-bit halves) so a million prefixes load, store and compile in seconds; serialised as one
``.npz`` blob, so the store keeps a whole table as one row (a table is never half-stored).
"""

from __future__ import annotations

import csv
import io
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from iotscope.attribution._mrt import parse_mrt, read_bytes
from iotscope.attribution._rows import BadRow, check_rows
from iotscope.errors import ConfigError, ParseError

_MASK64 = (1 << 64) - 1


@dataclass(frozen=True)
class Routes:
    """Prefixes and their origin AS. ``source`` says where they came from."""

    v4_net: npt.NDArray[np.uint32]
    v4_len: npt.NDArray[np.uint8]
    v4_asn: npt.NDArray[np.int64]
    v6_hi: npt.NDArray[np.uint64]
    v6_lo: npt.NDArray[np.uint64]
    v6_len: npt.NDArray[np.uint8]
    v6_asn: npt.NDArray[np.int64]
    source: str = ""

    def __len__(self) -> int:
        return len(self.v4_net) + len(self.v6_len)

    def v6_prefixes(self) -> list[tuple[int, int]]:
        return [
            ((int(h) << 64) | int(lo), int(n))
            for h, lo, n in zip(self.v6_hi, self.v6_lo, self.v6_len, strict=True)
        ]

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        np.savez(
            buf,
            v4_net=self.v4_net,
            v4_len=self.v4_len,
            v4_asn=self.v4_asn,
            v6_hi=self.v6_hi,
            v6_lo=self.v6_lo,
            v6_len=self.v6_len,
            v6_asn=self.v6_asn,
        )
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes, source: str = "") -> Routes:
        with np.load(io.BytesIO(data)) as z:
            return cls(**{k: z[k] for k in z.files}, source=source)


def routes_from_lists(
    v4: list[tuple[int, int, int]], v6: list[tuple[int, int, int]], source: str = ""
) -> Routes:
    """Routes from ``(network int, length, origin AS)`` tuples."""
    a4 = np.array(v4, dtype=np.int64).reshape(-1, 3)
    return Routes(
        v4_net=a4[:, 0].astype(np.uint32),
        v4_len=a4[:, 1].astype(np.uint8),
        v4_asn=a4[:, 2].copy(),
        v6_hi=np.array([n >> 64 for n, _, _ in v6], dtype=np.uint64),
        v6_lo=np.array([n & _MASK64 for n, _, _ in v6], dtype=np.uint64),
        v6_len=np.array([ln for _, ln, _ in v6], dtype=np.uint8),
        v6_asn=np.array([a for _, _, a in v6], dtype=np.int64),
        source=source,
    )


def read_mrt(path: Path) -> Routes:
    """Routes from an MRT RIB dump (plain, gzip or bzip2); a bad record is a ConfigError
    naming the file, the record number and its byte offset (nothing is imported)."""
    try:
        result = parse_mrt(read_bytes(path), str(path))
    except ParseError as exc:
        raise ConfigError(f"bad MRT file {path}, nothing imported", **exc.data) from exc
    if not len(result.v4_net) and not result.v6:
        raise ConfigError(
            "no RIB entries in MRT file (is it TABLE_DUMP_V2?)",
            path=str(path),
            records=result.records,
        )
    v6 = routes_from_lists([], result.v6)
    return Routes(
        v4_net=result.v4_net.astype(np.uint32),
        v4_len=result.v4_len.astype(np.uint8),
        v4_asn=result.v4_asn,
        v6_hi=v6.v6_hi,
        v6_lo=v6.v6_lo,
        v6_len=v6.v6_len,
        v6_asn=v6.v6_asn,
        source=str(path),
    )


def read_routes_csv(path: Path, skip_bad: bool = False) -> tuple[Routes, list[BadRow]]:
    """Routes from ``prefix,asn`` lines (a header line and ``#`` comments are allowed).

    A clean all-IPv4 file is parsed and validated column-wise (pyarrow + numpy); anything else
    (IPv6, comments, ``AS`` prefixes, a bad row) takes the line-by-line reader, which names
    each bad line."""
    fast = _read_v4_columns(path)
    if fast is not None:
        return fast, []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("cannot read routes CSV", path=str(path), reason=str(exc)) from exc
    bad: list[BadRow] = []
    v4: list[tuple[int, int, int]] = []
    v6: list[tuple[int, int, int]] = []
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or row[0].startswith("#") or (number == 1 and row[0].strip() == "prefix"):
            continue
        try:
            version, net, length, asn = _route_row(row)
        except ValueError as exc:
            bad.append(BadRow(str(path), number, str(exc)))
            continue
        (v4 if version == 4 else v6).append((net, length, asn))
    check_rows(str(path), bad, skip_bad)
    return routes_from_lists(v4, v6, source=str(path)), bad


def _read_v4_columns(path: Path) -> Routes | None:
    """The column-wise reader: None whenever the file is not plain valid IPv4 ``prefix,asn``."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv

    try:
        with path.open("rb") as fh:
            has_header = fh.readline().strip() == b"prefix,asn"
        table = pcsv.read_csv(
            path,
            read_options=pcsv.ReadOptions(
                column_names=["prefix", "asn"], skip_rows=1 if has_header else 0
            ),
            convert_options=pcsv.ConvertOptions(
                column_types={"prefix": pa.string(), "asn": pa.string()}
            ),
        )
    except (pa.ArrowInvalid, OSError, ValueError):
        return None
    prefix = table.column("prefix").combine_chunks()
    asn_text = table.column("asn").combine_chunks()
    if len(prefix) == 0 or prefix.null_count or asn_text.null_count:
        return None
    halves = pc.split_pattern(prefix, "/")
    if not pc.all(pc.equal(pc.list_value_length(halves), 2)).as_py():
        return None
    octets = pc.split_pattern(pc.list_element(halves, 0), ".")
    if not pc.all(pc.equal(pc.list_value_length(octets), 4)).as_py():
        return None
    parts = pc.list_flatten(octets)
    fields = pa.chunked_array([parts, pc.list_element(halves, 1), asn_text])
    ok = (
        pc.all(pc.utf8_is_digit(fields)).as_py()
        and pc.all(pc.less_equal(pc.utf8_length(parts), 3)).as_py()
        and not pc.any(_leading_zero(parts)).as_py()
        and pc.all(pc.less_equal(pc.utf8_length(asn_text), 10)).as_py()
    )
    if not ok:
        return None
    quad = pc.cast(parts, pa.int64()).to_numpy().reshape(-1, 4)
    lengths = pc.cast(pc.list_element(halves, 1), pa.int64()).to_numpy()
    asns = pc.cast(asn_text, pa.int64()).to_numpy()
    if (quad > 255).any() or (lengths > 32).any() or (asns > 0xFFFFFFFF).any():
        return None
    nets = (quad[:, 0] << 24) | (quad[:, 1] << 16) | (quad[:, 2] << 8) | quad[:, 3]
    if (nets & ((1 << (32 - lengths)) - 1)).any():  # host bits set
        return None
    return Routes(
        v4_net=nets.astype(np.uint32),
        v4_len=lengths.astype(np.uint8),
        v4_asn=asns.astype(np.int64),
        v6_hi=np.zeros(0, np.uint64),
        v6_lo=np.zeros(0, np.uint64),
        v6_len=np.zeros(0, np.uint8),
        v6_asn=np.zeros(0, np.int64),
        source=str(path),
    )


def _leading_zero(parts: Any) -> Any:
    import pyarrow.compute as pc

    return pc.and_(pc.greater(pc.utf8_length(parts), 1), pc.starts_with(parts, "0"))


def _route_row(row: list[str]) -> tuple[int, int, int, int]:
    if len(row) != 2:
        raise ValueError(f"expected 2 fields (prefix,asn), got {len(row)}")
    prefix, asn_text = row[0].strip(), row[1].strip().removeprefix("AS")
    addr, slash, len_text = prefix.partition("/")
    if not slash or not len_text.isdigit():
        raise ValueError(f"bad prefix {prefix!r}")
    length = int(len_text)
    family, width = (socket.AF_INET6, 128) if ":" in addr else (socket.AF_INET, 32)
    try:
        net = int.from_bytes(socket.inet_pton(family, addr), "big")
    except OSError:
        raise ValueError(f"bad prefix {prefix!r}") from None
    if length > width or net & ((1 << (width - length)) - 1):
        raise ValueError(f"bad prefix {prefix!r} (length or host bits)")
    if not asn_text.isdigit() or int(asn_text) > 0xFFFFFFFF:
        raise ValueError(f"bad ASN {row[1]!r}")
    return (4 if width == 32 else 6), net, length, int(asn_text)


def read_routes(path: Path, fmt: str | None = None, skip_bad: bool = False) -> tuple[Routes, str]:
    """An MRT dump or a CSV, by ``fmt`` or, when None, by the file's first bytes; returns the
    routes and the format read."""
    if fmt is None:
        fmt = "csv" if _looks_like_text(path) else "mrt"
    if fmt == "mrt":
        return read_mrt(path), fmt
    if fmt == "csv":
        return read_routes_csv(path, skip_bad)[0], fmt
    raise ConfigError("unknown routes format (mrt or csv)", format=fmt)


def _looks_like_text(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            head = fh.read(64)
    except OSError as exc:
        raise ConfigError("cannot read routes file", path=str(path), reason=str(exc)) from exc
    if head[:2] == b"\x1f\x8b" or head[:3] == b"BZh":
        return False
    return all(32 <= b < 127 or b in (9, 10, 13) for b in head)
