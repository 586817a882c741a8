"""Socket ownership: a socket handed to a transport is closed by that transport only.

The survey once died with ``RuntimeError: File descriptor N is used by transport`` from
``loop.sock_connect``: the SSH check closed the socket it had handed to asyncssh while
asyncssh's transport was still registered (asyncssh aborts its transport with
``call_soon``), the number was then given by the OS to the next socket (POSIX hands out the
lowest free descriptor), and asyncio refused to connect it. These tests replay that sequence
with a real asyncssh server and check the invariant on the live event loop.
"""

from __future__ import annotations

import asyncio
import ipaddress
import random

import asyncssh
import pytest

from iotscope.survey import Limits, RealBackend, Scope, Timeouts
from iotscope.survey._scope import parse_networks
from iotscope.survey._ssh import ssh_login, ssh_server_info
from tests.survey.test_ssh_real import Server as PasswordServer

pytestmark = pytest.mark.network
HOST = "127.0.0.1"


class NoAuthServer(asyncssh.SSHServer):
    """A device that lets anyone in without authentication (the ``no_auth`` outcome)."""

    def begin_auth(self, username: str) -> bool:
        return False


async def _serve(factory: type[asyncssh.SSHServer]) -> asyncssh.SSHAcceptor:
    key = asyncssh.generate_private_key("ssh-ed25519")
    return await asyncssh.create_server(factory, HOST, 0, server_host_keys=[key])


def _backend() -> RealBackend:
    scope = Scope.from_networks(parse_networks([f"{HOST}/32"]))
    return RealBackend(scope, Limits(50, 50, None), Timeouts(connect=1.0, read=1.0))


def _live_transports_on_closed_sockets() -> list[object]:
    """Transports the loop still has registered (not closing) whose socket is closed."""
    loop = asyncio.get_running_loop()
    found = []
    for transport in list(loop._transports.values()):  # type: ignore[attr-defined]
        sock = transport.get_extra_info("socket")
        if not transport.is_closing() and sock is not None and sock.fileno() == -1:
            found.append(transport)
    return found


async def test_next_socket_after_an_ssh_check_can_connect() -> None:
    """The crash, replayed: the socket opened right after an SSH check gets the descriptor
    number asyncssh's transport had; connecting it must work."""
    server = await _serve(NoAuthServer)
    port = server.sockets[0].getsockname()[1]
    backend, ip = _backend(), ipaddress.ip_address(HOST)
    try:
        for _ in range(5):
            info = await ssh_server_info(backend, ip, port, 3.0)
            assert "none" in info.auth_methods
            assert _live_transports_on_closed_sockets() == []
            assert await backend.is_open(ip, port)  # same event-loop step: no await between
            outcome, _ = await ssh_login(backend, ip, port, "root", ["x"], 3.0)
            assert outcome == "no_auth"
            assert await backend.is_open(ip, port)
    finally:
        server.close()
        await server.wait_closed()


async def test_no_transport_outlives_its_socket_under_cancellation() -> None:
    """SSH logins and HTTP-style streams cancelled at random points (the login and probe
    time limits) never leave a live transport on a closed descriptor."""
    server = await _serve(PasswordServer)
    port = server.sockets[0].getsockname()[1]
    backend, ip = _backend(), ipaddress.ip_address(HOST)
    rng = random.Random(7)

    async def login() -> None:
        await ssh_login(backend, ip, port, "root", ["a", "b", "vizxv"], 3.0)

    async def stream() -> None:
        async with backend.connect(ip, port) as s:
            await s.read(64)

    try:
        for _ in range(60):
            jobs = [asyncio.create_task(rng.choice([login, stream])()) for _ in range(6)]
            await asyncio.sleep(rng.uniform(0.0, 0.05))
            for job in jobs:
                if rng.random() < 0.7:
                    job.cancel()
            await asyncio.gather(*jobs, return_exceptions=True)
            assert _live_transports_on_closed_sockets() == []
            assert await backend.is_open(ip, port)
    finally:
        server.close()
        await server.wait_closed()
