"""The SSH check uses nothing of the operator's own SSH set-up.

A temporary HOME holds a ``~/.ssh/config`` with ProxyJump, Hostname, IdentityFile,
IdentityAgent and CanonicalizeHostname, an identity key, and ``SSH_AUTH_SOCK`` points at a
listening agent socket. The survey's SSH check runs against a lab device and a recording
server: the jump host and the agent never see a connection, no key is offered, and the
device is reached at its own address. A control shows asyncssh's defaults *do* read that
configuration (it dials the jump host even when handed a connected socket).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from pathlib import Path
from typing import ClassVar

import asyncssh
import pytest

from iotscope.lab import build_world, start_lab
from iotscope.survey import Limits, RealBackend, Scope, Timeouts
from iotscope.survey._scope import parse_networks
from iotscope.survey._ssh import ssh_login, ssh_server_info

pytestmark = pytest.mark.network


class Recorder(asyncssh.SSHServer):
    """Accepts root/vizxv; notes every public key a client offers."""

    offered: ClassVar[list[str]] = []
    peers: ClassVar[list[str]] = []

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        Recorder.peers.append(conn.get_extra_info("peername")[0])

    def begin_auth(self, username: str) -> bool:
        return True

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        Recorder.offered.append(key.get_fingerprint())
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return (username, password) == ("root", "vizxv")


class Listener:
    """Counts connections to a TCP or UNIX listening socket."""

    def __init__(self) -> None:
        self.count = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.count += 1
        writer.close()


def _operator_home(tmp_path: Path, jump: tuple[str, int], agent: Path) -> Path:
    home = tmp_path / "operator"
    ssh = home / ".ssh"
    ssh.mkdir(parents=True)
    key = asyncssh.generate_private_key("ssh-ed25519")
    key.write_private_key(ssh / "id_operator")
    (ssh / "config").write_text(
        "Host 127.0.0.1 127.1* 127.2* iotscope\n"
        f"  ProxyJump operator@{jump[0]}:{jump[1]}\n"
        "  Hostname 127.0.0.66\n"
        "  IdentityFile ~/.ssh/id_operator\n"
        f"  IdentityAgent {agent}\n"
        "  CanonicalizeHostname yes\n"
        "  CanonicalDomains example.net\n"
    )
    return home


@pytest.fixture
async def operator_setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> object:
    jump, agent = Listener(), Listener()
    jump_srv = await asyncio.start_server(jump.handle, "127.0.0.3", 0)
    agent_path = tmp_path / "agent.sock"
    agent_srv = await asyncio.start_unix_server(agent.handle, str(agent_path))
    jump_addr = jump_srv.sockets[0].getsockname()[:2]
    home = _operator_home(tmp_path, jump_addr, agent_path)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("SSH_AUTH_SOCK", str(agent_path))
    Recorder.offered, Recorder.peers = [], []
    yield jump, agent
    jump_srv.close()
    agent_srv.close()


def _backend(network: str) -> RealBackend:
    scope = Scope.from_networks(parse_networks([network]))
    return RealBackend(scope, Limits(20, 20, None), Timeouts(connect=1.0, read=1.0))


async def test_asyncssh_defaults_would_use_the_operator_config(
    operator_setup: tuple[Listener, Listener],
) -> None:
    """Control: without our options asyncssh dials the operator's jump host."""
    jump, _ = operator_setup
    key = asyncssh.generate_private_key("ssh-ed25519")
    server = await asyncssh.create_server(Recorder, "127.0.0.1", 0, server_host_keys=[key])
    port = server.sockets[0].getsockname()[1]
    sock = socket.create_connection(("127.0.0.1", port))
    with pytest.raises((asyncssh.Error, OSError, TimeoutError)):
        async with asyncio.timeout(5):
            await asyncssh.connect("127.0.0.1", sock=sock, username="root", password="vizxv")
    sock.close()
    server.close()
    assert jump.count >= 1


async def test_ssh_check_ignores_operator_config_agent_and_keys(
    operator_setup: tuple[Listener, Listener], lab_network: str
) -> None:
    jump, agent = operator_setup
    key = asyncssh.generate_private_key("ssh-ed25519")
    server = await asyncssh.create_server(Recorder, "127.0.0.1", 0, server_host_keys=[key])
    port = server.sockets[0].getsockname()[1]
    local = ipaddress.ip_address("127.0.0.1")
    backend = _backend("127.0.0.1/32")
    outcome, tried = await ssh_login(backend, local, port, "root", ["x", "vizxv"], 5.0)
    assert (outcome, tried) == ("accepted", 2)  # by password: no key was offered first
    assert Recorder.offered == []
    assert Recorder.peers == ["127.0.0.1"]  # reached directly, not via the jump host
    server.close()

    world = build_world(20, 3, lab_network)
    ssh_devices = [
        (d.ip, s.spec.port)
        for d in world.devices
        if not d.hostile
        for s in d.services
        if s.spec.service == "ssh"
    ]
    assert ssh_devices, "the lab world has an SSH device"
    ip, lab_port = ssh_devices[0]
    lab_backend = _backend(lab_network)
    async with await start_lab(world):
        info = await ssh_server_info(lab_backend, ipaddress.ip_address(ip), lab_port, 5.0)
        await ssh_login(lab_backend, ipaddress.ip_address(ip), lab_port, "root", ["x"], 5.0)
    assert info.host_key is not None and info.auth_methods  # the lab device answered
    assert jump.count == 0
    assert agent.count == 0


async def test_ssh_check_resolves_no_name(monkeypatch: pytest.MonkeyPatch) -> None:
    key = asyncssh.generate_private_key("ssh-ed25519")
    server = await asyncssh.create_server(  # the server itself must not look names up either
        Recorder, "127.0.0.1", 0, server_host_keys=[key], gss_host=None
    )
    port = server.sockets[0].getsockname()[1]
    lookups: list[object] = []

    def spy(*args: object, **kwargs: object) -> object:
        lookups.append(args[0])
        raise OSError("no name resolution in a survey")

    monkeypatch.setattr(socket, "getaddrinfo", spy)
    monkeypatch.setattr(socket, "gethostbyname", spy)
    monkeypatch.setattr(socket, "getfqdn", spy)
    backend, ip = _backend("127.0.0.1/32"), ipaddress.ip_address("127.0.0.1")
    info = await ssh_server_info(backend, ip, port, 5.0)
    outcome, _ = await ssh_login(backend, ip, port, "root", ["vizxv"], 5.0)
    server.close()
    assert info.host_key == "ssh-ed25519" and outcome == "accepted"
    assert lookups == []
