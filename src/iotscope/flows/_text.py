"""Shared machinery of the text flow readers (Zeek, nfdump CSV): columns of strings in,
validated typed columns out, whole columns at a time (pyarrow compute, no object per row).

A row that does not split into the right number of fields, or whose field fails validation,
is a bad line: counted, a few kept as samples, skipped.
"""

from __future__ import annotations

import io
import ipaddress
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

__all__ = ["BadLines", "canonical_addresses", "is_address", "read_strings", "to_float", "to_int"]

MAX_SAMPLES = 20
_INT = r"^[0-9]{1,18}$"
_FLOAT = r"^[0-9]{1,12}(\.[0-9]*)?$"
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = rf"^{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}$"
_IPV6_CHARS = r"^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*$"


@dataclass
class BadLines:
    """Count of bad lines and the first few of them, for the operator to look at."""

    count: int = 0
    samples: list[str] = field(default_factory=list)

    def add(self, line: str, n: int = 1) -> None:
        self.count += n
        if len(self.samples) < MAX_SAMPLES:
            self.samples.append(line[:300])

    def extend(self, lines: list[str], total: int) -> None:
        """Count ``total`` bad lines, of which ``lines`` are samples."""
        self.count += total
        room = MAX_SAMPLES - len(self.samples)
        self.samples.extend(line[:300] for line in lines[: max(room, 0)])


def read_strings(text: str, names: list[str], delimiter: str, bad: BadLines) -> pa.Table:
    """Split ``text`` into string columns ``names``; rows with the wrong field count are bad."""
    if not text.strip():
        return pa.table({n: pa.array([], pa.string()) for n in names})

    def invalid(row: pacsv.InvalidRow) -> str:
        bad.add(row.text or "")
        return "skip"

    return pacsv.read_csv(
        io.BytesIO(text.encode()),
        read_options=pacsv.ReadOptions(column_names=names),
        parse_options=pacsv.ParseOptions(
            delimiter=delimiter, quote_char=False, invalid_row_handler=invalid
        ),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False
        ),
    )


def _valid(col: pa.ChunkedArray | pa.Array, pattern: str) -> npt.NDArray[np.bool_]:
    return np.asarray(pc.match_substring_regex(col, pattern).to_numpy(zero_copy_only=False))


def to_int(
    col: pa.ChunkedArray | pa.Array, *, unset: tuple[str, ...] = (), hi: int = 2**62
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Decimal integers in [0, hi]; values in ``unset`` read as 0. Returns (values, ok)."""
    is_unset = np.asarray(pc.is_in(col, value_set=pa.array(list(unset), pa.string())))
    ok = _valid(col, _INT)
    digits = pc.if_else(pa.array(ok), col, "0")
    values = pc.cast(digits, pa.int64()).to_numpy(zero_copy_only=False)
    values = np.where(is_unset, 0, values)
    ok = (ok & (values <= hi)) | is_unset
    return values, ok


def to_float(
    col: pa.ChunkedArray | pa.Array, *, unset: tuple[str, ...] = ()
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Non-negative decimals; values in ``unset`` read as 0. Returns (values, ok)."""
    is_unset = np.asarray(pc.is_in(col, value_set=pa.array(list(unset), pa.string())))
    ok = _valid(col, _FLOAT)
    digits = pc.if_else(pa.array(ok), col, "0")
    values = pc.cast(digits, pa.float64()).to_numpy(zero_copy_only=False)
    return np.where(is_unset, 0.0, values), ok | is_unset


def is_address(col: pa.ChunkedArray | pa.Array) -> npt.NDArray[np.bool_]:
    """Dotted-quad IPv4, or text that may be IPv6 (checked exactly by canonical_addresses)."""
    return _valid(col, _IPV4) | _valid(col, _IPV6_CHARS)


def canonical_addresses(col: pa.Array) -> tuple[pa.Array, npt.NDArray[np.bool_]]:
    """IPv4 as is; IPv6-looking rows checked and written in RFC 5952 form (rare: per row)."""
    v6 = np.flatnonzero(~_valid(col, _IPV4))
    if v6.size == 0:
        return col, np.ones(len(col), dtype=bool)
    ok = np.ones(len(col), dtype=bool)
    values = col.to_pylist()
    for i in v6.tolist():
        try:
            values[i] = str(ipaddress.IPv6Address(values[i]))
        except ValueError:
            ok[i] = False
    return pa.array(values, pa.string()), ok
