"""The ISP-supplied files (lease log, contacts) under fuzzing: a clear ConfigError naming the
file and line, or a clean result; never another exception."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from iotscope.errors import ConfigError
from iotscope.notify._contacts import HEADER, parse_contacts
from iotscope.notify._subscribers import LEASE_HEADER, parse_leases

PATH = Path("fuzz.csv")
cell = st.text(max_size=30) | st.sampled_from(
    ["127.0.0.1", "::1", "2026-11-01T00:00:00Z", "2026-10-01T00:00:00+09:00", "", "sub-1",
     "a@mail.example", "09012345678", "ja", "true", "no"])  # fmt: skip
rows = st.lists(st.lists(cell, min_size=0, max_size=9), max_size=8)


def _roundtrip(header: tuple[str, ...], body: list[list[str]]) -> list[list[str]]:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(body)
    return list(csv.reader(io.StringIO(buf.getvalue())))


@settings(max_examples=80, deadline=None)
@given(rows)
def test_lease_log_fuzz(body: list[list[str]]) -> None:
    try:
        leases = parse_leases(_roundtrip(LEASE_HEADER, body), PATH)
    except ConfigError as exc:
        assert exc.data["file"] == "fuzz.csv" and isinstance(exc.data["line"], int)
    else:
        assert sum(len(v) for v in leases.values()) == sum(1 for r in body if r)  # blank: skipped


@settings(max_examples=80, deadline=None)
@given(rows)
def test_contacts_fuzz(body: list[list[str]]) -> None:
    try:
        contacts = parse_contacts(_roundtrip(HEADER, body), PATH, "Sakura Hikari Net")
    except ConfigError as exc:
        assert exc.data["file"] == "fuzz.csv" and isinstance(exc.data["line"], int)
    else:
        assert all(c.isp == "Sakura Hikari Net" and c.subscriber_id for c in contacts)
