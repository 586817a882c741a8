"""SSH through asyncssh on a socket the scope checked: host key, auth methods, one login."""

from __future__ import annotations

import ipaddress

import asyncssh
import pytest

from iotscope.errors import ScopeError
from iotscope.knowledge import CredentialEntry
from iotscope.survey import Limits, LoginPolicy, RealBackend, Scope, Timeouts, check_login
from iotscope.survey._login import next_batch
from iotscope.survey._probe import ServiceResult
from iotscope.survey._scope import parse_networks
from iotscope.survey._ssh import ssh_login, ssh_server_info

pytestmark = pytest.mark.network
HOST = "127.0.0.1"


class Server(asyncssh.SSHServer):
    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return (username, password) == ("root", "vizxv")


@pytest.fixture
async def server() -> object:
    key = asyncssh.generate_private_key("ssh-ed25519")
    srv = await asyncssh.create_server(Server, HOST, 0, server_host_keys=[key])
    yield srv
    srv.close()
    await srv.wait_closed()


def _backend(allowed: str) -> RealBackend:
    return RealBackend(Scope.from_networks(parse_networks([allowed])), Limits(10, 10))


async def test_host_key_auth_methods_and_login(server: asyncssh.SSHAcceptor) -> None:
    port = server.sockets[0].getsockname()[1]
    backend = _backend(f"{HOST}/32")
    ip = ipaddress.ip_address(HOST)
    info = await ssh_server_info(backend, ip, port, 5.0)
    assert info.host_key == "ssh-ed25519"
    assert "password" in info.auth_methods
    outcome, tried = await ssh_login(backend, ip, port, "root", ["a", "b", "vizxv", "c"], 5.0)
    assert (outcome, tried) == ("accepted", 3)  # one connection, stopped at the success
    outcome, tried = await ssh_login(backend, ip, port, "root", ["wrong"] * 9, 5.0)
    assert (outcome, tried) == ("rejected", 6)  # at most six per connection
    assert backend.sockets_opened == 3


async def test_asyncssh_never_gets_an_out_of_scope_socket(server: asyncssh.SSHAcceptor) -> None:
    port = server.sockets[0].getsockname()[1]
    backend = _backend("127.0.0.2/32")
    with pytest.raises(ScopeError):
        async with backend.raw_socket(ipaddress.ip_address(HOST), port):
            pass
    info = await ssh_server_info(backend, ipaddress.ip_address("127.0.0.2"), port, 1.0)
    assert info.host_key is None  # refused by the OS, not by a bypass of the scope
    assert backend.sockets_opened == 1


async def test_check_login_batches_one_username_per_connection(
    server: asyncssh.SSHAcceptor,
) -> None:
    port = server.sockets[0].getsockname()[1]
    backend = _backend(f"{HOST}/32")
    entries = [CredentialEntry(id=f"e#{n}", protocols=("ssh",), username=u, password=p,
                               source="test")
               for n, (u, p) in enumerate([("admin", "admin"), ("root", "x"), ("root", "y"),
                                           ("root", "vizxv"), ("root", "z")])]  # fmt: skip
    assert [len(next_batch("ssh", entries, i)) for i in (0, 1)] == [1, 4]
    result = ServiceResult(ip=ipaddress.ip_address(HOST), port=port, service="ssh",
                           banner="SSH-2.0-x")  # fmt: skip
    login = await check_login(backend, result, entries, None, LoginPolicy(delay=0.0), Timeouts())
    assert (login.outcome, login.credential, login.attempts) == ("accepted", "e#3", 4)
    assert backend.sockets_opened == 2
