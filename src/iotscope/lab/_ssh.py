"""The lab's SSH servers: real SSH (asyncssh) with each device's vendor version string.

``server_version`` sets the text after ``SSH-2.0-`` exactly (asyncssh allows any printable
ASCII up to 245 bytes), so ``SSH-2.0-dropbear_2019.78`` is sent verbatim (RFC 4253 s4.2).
Password authentication checks the device's credential; after login a tiny shell prints the
profile's prompt and closes on ``exit`` (a command request gets "not found" and status 127).
Host keys come from a small pool per key type, generated once and cached under
``IOTSCOPE_HOME/lab/keys``: generating 10,000 keys would take minutes.

One options object serves every device with the same (version string, host key); the server
looks its device up by the local address the client connected to.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

import asyncssh

from iotscope.lab._creds import Pair

POOL = 3
LOGIN_TIMEOUT = 30.0
EXIT_WORDS = frozenset({"exit", "logout", "quit"})


@dataclass(frozen=True, slots=True)
class SshDevice:
    pair: Pair | None
    prompt: str


def host_key(folder: Path, algorithm: str, index: int) -> asyncssh.SSHKey:
    """Key ``index % POOL`` of ``algorithm``'s pool, generated on first use."""
    path = folder / f"{algorithm}-{index % POOL}"
    if path.exists():
        return asyncssh.read_private_key(path)
    if "rsa" in algorithm:
        key = asyncssh.generate_private_key(algorithm, key_size=2048)
    else:
        key = asyncssh.generate_private_key(algorithm)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    key.write_private_key(tmp)
    tmp.replace(path)
    return key


class DeviceSshServer(asyncssh.SSHServer):
    """Per-connection: finds the device by local address, checks its password."""

    def __init__(self, devices: dict[str, SshDevice]) -> None:
        self.devices = devices
        self.device: SshDevice | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        sockname = conn.get_extra_info("sockname")
        self.device = self.devices.get(sockname[0]) if sockname else None

    def begin_auth(self, username: str) -> bool:
        pair = self.device.pair if self.device else None
        return not (pair is not None and pair.open)

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        pair = self.device.pair if self.device else None
        return pair is not None and (username, password) == (pair.username, pair.password)


async def _shell(process: asyncssh.SSHServerProcess[str], devices: dict[str, SshDevice]) -> None:
    sockname = process.get_extra_info("sockname")
    device = devices.get(sockname[0]) if sockname else None
    prompt = device.prompt if device else "# "
    if process.command:
        process.stderr.write(f"sh: {process.command.split(' ')[0]}: not found\n")
        process.exit(127)
        return
    process.stdout.write(prompt)
    try:
        async for line in process.stdin:
            word = line.strip().split(" ", 1)[0]
            if word in EXIT_WORDS:
                break
            if word:
                process.stdout.write(f"-sh: {word}: not found\n")
            process.stdout.write(prompt)
    except (asyncssh.Error, ConnectionError, asyncio.CancelledError):
        pass
    process.exit(0)


class SshFarm:
    """Builds listeners for SSH devices, sharing options per (version, host key)."""

    def __init__(self, key_folder: Path) -> None:
        self.key_folder = key_folder
        self.devices: dict[str, SshDevice] = {}
        self._keys: dict[tuple[str, int], asyncssh.SSHKey] = {}
        self._options: dict[tuple[str, str, int], asyncssh.SSHServerConnectionOptions] = {}
        logging.getLogger("asyncssh").setLevel(logging.WARNING)

    def key(self, algorithm: str, index: int) -> asyncssh.SSHKey:
        name = (algorithm, index % POOL)
        if name not in self._keys:
            self._keys[name] = host_key(self.key_folder, algorithm, index)
        return self._keys[name]

    def options(
        self, version: str, algorithm: str, index: int
    ) -> asyncssh.SSHServerConnectionOptions:
        key = (version, algorithm, index % POOL)
        if key not in self._options:
            self._options[key] = asyncssh.SSHServerConnectionOptions(
                server_factory=lambda: DeviceSshServer(self.devices),
                server_host_keys=[self.key(algorithm, index)],
                server_version=re.sub(r"^SSH-[\d.]+-", "", version),
                process_factory=lambda p: _shell(p, self.devices),
                login_timeout=LOGIN_TIMEOUT,
                allow_scp=False,
                agent_forwarding=False,
                x11_forwarding=False,
            )
        return self._options[key]
