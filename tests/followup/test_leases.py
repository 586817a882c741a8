"""The lease log: the agreed CSV, bad rows named by file and line, lookups by time."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iotscope.errors import ConfigError
from iotscope.followup import LeaseBook, read_lease_csv

GOOD = (
    "address,start,end,subscriber_id\n"
    "127.81.0.10,2026-09-01T00:00:00Z,2026-10-05T00:00:00Z,sub-1\n"
    "127.81.0.99,2026-10-05T00:00:00Z,,sub-1\n"
    "127.81.0.10,2026-10-06T00:00:00Z,,sub-2\n"
)


def test_address_at_follows_the_subscriber(tmp_path: Path) -> None:
    path = tmp_path / "leases.csv"
    path.write_text(GOOD)
    book = LeaseBook.from_csv(path)
    assert book.address_at("sub-1", datetime(2026, 10, 1, tzinfo=UTC)) == "127.81.0.10"
    assert book.address_at("sub-1", datetime(2026, 10, 5, tzinfo=UTC)) == "127.81.0.99"
    assert book.address_at("sub-1", datetime(2026, 8, 1, tzinfo=UTC)) is None
    assert book.address_at("nobody", datetime(2026, 10, 1, tzinfo=UTC)) is None
    spans = book.addresses("sub-1", datetime(2026, 10, 4, tzinfo=UTC),
                           datetime(2026, 10, 6, tzinfo=UTC))  # fmt: skip
    assert [a for a, _, _ in spans] == ["127.81.0.10", "127.81.0.99"]


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("not-an-ip,2026-09-01T00:00:00Z,,s", "address"),
        ("127.0.0.1,yesterday,,s", "time"),
        ("127.0.0.1,2026-09-01T00:00:00,,s", "zone"),
        ("127.0.0.1,2026-09-02T00:00:00Z,2026-09-01T00:00:00Z,s", "end before"),
        ("127.0.0.1,2026-09-01T00:00:00Z,,", "subscriber"),
        ("127.0.0.1,2026-09-01T00:00:00Z", "columns"),
    ],
)
def test_a_bad_row_names_file_and_line(tmp_path: Path, line: str, why: str) -> None:
    path = tmp_path / "leases.csv"
    path.write_text(GOOD + line + "\n")
    with pytest.raises(ConfigError) as err:
        read_lease_csv(path)
    assert err.value.data["file"] == str(path) and err.value.data["line"] == 5, why


def test_a_bad_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "leases.csv"
    path.write_text("ip,from,to,who\n")
    with pytest.raises(ConfigError, match="header"):
        read_lease_csv(path)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300))
def test_fuzz_garbage_is_an_error_or_leases(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.csv"
    path.write_bytes(b"address,start,end,subscriber_id\n" + data)
    try:
        rows = read_lease_csv(path)
    except ConfigError:
        return
    except UnicodeDecodeError:
        pytest.fail("undecodable bytes must be a ConfigError")
    assert all(r.subscriber_id for r in rows)
