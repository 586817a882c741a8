"""Scope: networks minus exclusions, refused at the socket factory before any syscall."""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

import pytest

from iotscope.errors import ConfigError, ScopeError
from iotscope.survey import Limits, RealBackend, Scope, open_checked_socket
from iotscope.survey._scope import parse_networks


def _scope(nets: list[str], exclude: list[str] = ()) -> Scope:  # type: ignore[assignment]
    return Scope.from_networks(parse_networks(nets), parse_networks(exclude))


SCOPE = _scope(["127.20.1.0/24", "2001:db8::/126"], ["127.20.1.64/28"])


@pytest.mark.parametrize(
    ("address", "inside"),
    [
        ("127.20.1.0", True),  # network address of the CIDR
        ("127.20.1.255", True),  # broadcast address of the CIDR
        ("127.20.0.255", False),  # one below
        ("127.20.2.0", False),  # one above
        ("127.20.1.63", True),  # just below the excluded /28
        ("127.20.1.64", False),  # first excluded
        ("127.20.1.79", False),  # last excluded
        ("127.20.1.80", True),  # just above the excluded /28
        ("2001:db8::3", True),
        ("2001:db8::4", False),
        ("::ffff:127.20.1.1", False),  # v4-mapped v6 is another address family
        ("localhost", False),
        ("example.org", False),
        ("127.20.1.1 ", False),
        ("", False),
    ],
)
def test_edges(address: str, inside: bool) -> None:
    assert SCOPE.contains(address) is inside
    if inside:
        assert SCOPE.check(address) == ipaddress.ip_address(address)
    else:
        with pytest.raises(ScopeError):
            SCOPE.check(address)


def test_non_string_targets_are_refused() -> None:
    with pytest.raises(ScopeError):
        SCOPE.check(("127.20.1.1", 23))
    with pytest.raises(ScopeError):
        SCOPE.check(2132017409)  # the integer of 127.20.1.1: not an address literal


def test_size_and_addresses_skip_exclusions() -> None:
    addrs = list(SCOPE.addresses())
    assert len(addrs) == SCOPE.size() == 256 - 16 + 4
    assert ipaddress.ip_address("127.20.1.70") not in addrs


def test_file_errors_name_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "scope.txt"
    path.write_text("# ISP A\n127.30.0.0/24\n\n127.30.1.0/33\n")
    with pytest.raises(ConfigError) as err:
        Scope.from_files(path)
    assert err.value.data["line"] == 4
    assert err.value.data["file"] == str(path)


def test_empty_scope_is_refused(tmp_path: Path) -> None:
    scope, exclude = tmp_path / "s", tmp_path / "x"
    scope.write_text("# nothing\n")
    with pytest.raises(ConfigError):
        Scope.from_files(scope)
    scope.write_text("127.31.0.0/24\n")
    exclude.write_text("127.31.0.0/16\n")
    with pytest.raises(ConfigError, match="empty"):
        Scope.from_files(scope, exclude)


def test_socket_factory_refuses_before_any_syscall(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[object] = []

    class Spy(socket.socket):
        def __init__(self, *args: object) -> None:
            made.append(args)
            super().__init__(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "socket", Spy)
    for bad in ("127.20.1.64", "127.20.2.0", "localhost", "10.0.0.1"):
        with pytest.raises(ScopeError):
            open_checked_socket(SCOPE, bad, socket.SOCK_STREAM)
    assert made == []
    open_checked_socket(SCOPE, "127.20.1.1", socket.SOCK_DGRAM).close()
    assert len(made) == 1


async def test_real_backend_raises_scope_error_on_every_path() -> None:
    backend = RealBackend(SCOPE, Limits(10, 10))
    target = ipaddress.ip_address("127.20.1.70")  # excluded
    with pytest.raises(ScopeError):
        await backend.is_open(target, 23)
    with pytest.raises(ScopeError):
        async with backend.connect(target, 80, tls=True):
            pass
    with pytest.raises(ScopeError):
        async with backend.raw_socket(target, 22):
            pass
    with pytest.raises(ScopeError):
        await backend.datagram(target, 1900, b"M-SEARCH", 100)
    assert backend.sockets_opened == 0
