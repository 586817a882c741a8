"""SSH: the identification line (sans-IO), and asyncssh for host key, auth methods, logins.

RFC 4253 §4.2: the server sends ``SSH-protoversion-softwareversion [SP comments] CR LF``
(at most 255 bytes), possibly after other lines. :class:`VersionReader` finds it in a bounded
number of bytes.

asyncssh never opens its own socket here: it gets one from the backend's ``raw_socket``,
which the scope has already checked, through :class:`_LeasedTunnel` (asyncssh's
``tunnel=`` hook: the lease learns the transport made from its socket and aborts that
transport when the check ends, see ``_net``). Nothing of the operator's own SSH set-up is
used (:data:`_OPTIONS`): no ``~/.ssh/config`` (ProxyJump, Hostname, IdentityFile,
CanonicalizeHostname), no agent (``SSH_AUTH_SOCK``), no keys or known_hosts files, no
X.509 or PKCS#11 stores, no GSSAPI, and the host is the IP literal of the leased socket: no
name is resolved. A login check
offers up to six passwords of one username per connection (OpenSSH's default MaxAuthTries)
and disconnects as soon as one is accepted: no session, no command.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncssh

from iotscope.errors import ParseError
from iotscope.survey._net import Backend, NetError, SocketLease
from iotscope.survey._scope import IPAddress

__all__ = ["SshInfo", "VersionReader", "ssh_login", "ssh_server_info"]

MAX_PRELUDE = 8192
MAX_PER_CONNECTION = 6  # OpenSSH's default MaxAuthTries
logging.getLogger("asyncssh").setLevel(logging.CRITICAL)


@dataclass
class VersionReader:
    """Feed bytes; :attr:`version` is set once the identification line arrived."""

    buffer: bytes = b""
    version: str | None = None

    def feed(self, data: bytes) -> str | None:
        if self.version is not None:
            return self.version
        self.buffer += data
        while b"\n" in self.buffer:
            line, _, self.buffer = self.buffer.partition(b"\n")
            line = line.rstrip(b"\r")
            if line.startswith(b"SSH-"):
                self.version = line[:255].decode("utf-8", "replace")
                return self.version
        if len(self.buffer) > MAX_PRELUDE or (
            self.buffer.startswith(b"SSH-") and len(self.buffer) > 255
        ):
            raise ParseError("no SSH identification line", size=len(self.buffer))
        return None


def software_of(version: str) -> str:
    """``SSH-2.0-dropbear_2019.78 x`` -> ``dropbear_2019.78``."""
    parts = version.split("-", 2)
    return parts[2].split(" ", 1)[0] if len(parts) == 3 else ""


@dataclass
class SshInfo:
    host_key: str | None = None
    auth_methods: list[str] = field(default_factory=list)


class _Observer(asyncssh.SSHClient):
    """Refuses every auth method while noting which the server offered."""

    def __init__(self, info: SshInfo, passwords: Sequence[str] = ()) -> None:
        self.info = info
        self.passwords = list(passwords)
        self.conn: asyncssh.SSHClientConnection | None = None
        self.sent = 0  # passwords offered so far; the last one is the one that worked

    def connection_made(self, conn: asyncssh.SSHClientConnection) -> None:
        self.conn = conn

    def _note(self, method: str) -> None:
        if self.conn is not None and self.info.host_key is None:
            key = self.conn.get_server_host_key()
            self.info.host_key = key.get_algorithm() if key is not None else None
        if method not in self.info.auth_methods:
            self.info.auth_methods.append(method)

    def public_key_auth_requested(self) -> None:
        self._note("publickey")
        return None

    def kbdint_auth_requested(self) -> None:
        self._note("keyboard-interactive")
        return None

    def password_auth_requested(self) -> str | None:
        self._note("password")
        if self.sent >= len(self.passwords):
            return None
        self.sent += 1
        return self.passwords[self.sent - 1]


_HOST_KEY_ORDER = [
    "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
    "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa", "ssh-dss",
]  # fmt: skip
# Every asyncssh default that reads the operator's files, environment or network, disabled.
_OPTIONS: dict[str, Any] = {
    "config": None,  # never ~/.ssh/config: no ProxyJump, Hostname, IdentityFile, Match exec
    "known_hosts": None,  # we record host keys, we do not trust them
    "agent_path": None,  # never SSH_AUTH_SOCK / IdentityAgent
    "agent_forwarding": False,
    "client_keys": None,  # never ~/.ssh/id_*
    "client_host_keysign": False,
    "host_based_auth": False,
    "x509_trusted_certs": None,  # never ~/.ssh/ca-bundle.crt
    "x509_trusted_cert_paths": [],  # never ~/.ssh/crt
    "pkcs11_provider": None,
    "gss_host": None,  # no Kerberos, no host name lookup for it
    "gss_kex": False,
    "gss_auth": False,
    "proxy_command": None,
    "canonicalize_hostname": False,
    "ignore_encrypted": True,
    "preferred_auth": "publickey,keyboard-interactive,password",
    # OpenSSH's order, not asyncssh's RSA first: Debian's dropbear with only an ECDSA or
    # Ed25519 key still offers RSA and aborts the connection when a client picks it
    "server_host_key_algs": _HOST_KEY_ORDER,
}


class _LeasedTunnel:
    """asyncssh's tunnel interface over one leased, scope-checked socket."""

    def __init__(self, lease: SocketLease) -> None:
        self.lease = lease

    async def create_connection(
        self, session_factory: Any, remote_host: str, remote_port: int
    ) -> tuple[Any, Any]:
        return await self.lease.create_connection(session_factory)

    def close(self) -> None:
        self.lease.close()

    async def wait_closed(self) -> None:
        return None


async def _connect(
    lease: SocketLease, ip: IPAddress, port: int, username: str, observer: _Observer, timeout: float
) -> asyncssh.SSHClientConnection:
    return await asyncssh.connect(
        str(ip), port, tunnel=_LeasedTunnel(lease), username=username,
        client_factory=lambda: observer, login_timeout=timeout, **_OPTIONS,
    )  # fmt: skip


async def ssh_server_info(backend: Backend, ip: IPAddress, port: int, timeout: float) -> SshInfo:
    """Host-key algorithm and offered auth methods, without authenticating."""
    info = SshInfo()
    try:
        async with backend.raw_socket(ip, port) as lease, asyncio.timeout(timeout):
            conn = await _connect(lease, ip, port, "iotscope", _Observer(info), timeout)
            conn.close()  # the server let us in with no auth at all
            info.auth_methods.append("none")
    except (asyncssh.Error, OSError, NetError, TimeoutError, ValueError):
        pass
    return info


async def ssh_login(
    backend: Backend,
    ip: IPAddress,
    port: int,
    username: str,
    passwords: Sequence[str],
    timeout: float,
) -> tuple[str, int]:
    """Offer ``passwords`` for ``username`` on one connection (at most ``MAX_PER_CONNECTION``).

    Returns ``(outcome, tried)``: outcome ``accepted`` (the ``tried``-th password worked),
    ``no_auth``, ``rejected`` or ``error``.
    """
    observer = _Observer(SshInfo(), passwords[:MAX_PER_CONNECTION])
    try:
        async with backend.raw_socket(ip, port) as lease, asyncio.timeout(timeout):
            conn = await _connect(lease, ip, port, username, observer, timeout)
            conn.close()  # authenticated: disconnect at once, open no session
            await conn.wait_closed()
            return ("accepted" if observer.sent else "no_auth"), observer.sent
    except asyncssh.PermissionDenied:
        return "rejected", observer.sent
    except (asyncssh.Error, OSError, NetError, TimeoutError, ValueError):
        return "error", observer.sent
