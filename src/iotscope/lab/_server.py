"""Binding the world to sockets: one asyncio loop hosts every device of the lab.

Each (address, port) gets its own listening socket, made here and handed to
``loop.create_server`` (``sock=``), so binding needs no name resolution and is fast. TCP
services run their sans-IO session through ``SessionProtocol``; HTTPS is the same session
over TLS; SSH is asyncssh; SSDP is a UDP endpoint per device; hostile hosts get
``HostileProtocol``. ``start_lab`` returns once everything listens.
"""

from __future__ import annotations

import asyncio
import resource
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, cast

from iotscope.config import settings
from iotscope.errors import ConfigError
from iotscope.lab._hostile import HostileProtocol
from iotscope.lab._http import HttpSession, Site
from iotscope.lab._mqtt import MqttSession
from iotscope.lab._rtsp import RtspSession
from iotscope.lab._session import Lockout, Session
from iotscope.lab._ssdp import answer
from iotscope.lab._ssh import POOL, SshDevice, SshFarm
from iotscope.lab._telnet import TelnetSession
from iotscope.lab._tls import CertStore
from iotscope.lab._world import DeviceRuntime, ServiceRuntime, World
from iotscope.records import LabManifest

IDLE_SECONDS = 60.0
BACKLOG = 64
FD_HEADROOM = 8192  # descriptors left for connections beyond the listeners


@dataclass
class LabStats:
    """Counts a running lab keeps: connections served and sessions that failed on bad input
    (the connection is closed, the lab goes on; ``errors`` keeps the last few reasons)."""

    connections: int = 0
    session_errors: int = 0
    errors: list[str] = field(default_factory=list)

    def error(self, where: str, exc: Exception) -> None:
        self.session_errors += 1
        self.errors = [*self.errors[-19:], f"{where}: {type(exc).__name__}: {exc}"]


class SessionProtocol(asyncio.Protocol):
    """Runs one sans-IO session on one connection; hangs up when idle for ``IDLE_SECONDS``.

    A session that raises (a bug meeting input it did not expect) is counted in ``stats``
    and its connection closed; every other connection carries on."""

    def __init__(
        self, session: Session, tracker: set[asyncio.BaseTransport], stats: LabStats
    ) -> None:
        self.session, self.tracker, self.stats = session, tracker, stats
        self.transport: asyncio.Transport | None = None
        self.last = 0.0
        self.timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.tracker.add(transport)
        loop = asyncio.get_running_loop()
        self.last = loop.time()
        self.timer = loop.call_later(IDLE_SECONDS, self._idle)
        self.stats.connections += 1
        self._step(self.session.start)

    def data_received(self, data: bytes) -> None:
        self.last = asyncio.get_running_loop().time()
        self._step(lambda: self.session.feed(data))

    def _step(self, action: Callable[[], bytes]) -> None:
        try:
            reply = action()
        except Exception as exc:  # contain one bad session (STYLE.md 7)
            self.stats.error(type(self.session).__name__, exc)
            if self.transport is not None:
                self.transport.abort()
            return
        self._send(reply)

    def eof_received(self) -> bool | None:
        return None  # close our side too

    def _send(self, data: bytes) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if data:
            transport.write(data)
        if self.session.closed:
            transport.close()

    def _idle(self) -> None:
        loop = asyncio.get_running_loop()
        left = self.last + IDLE_SECONDS - loop.time()
        if left > 0:
            self.timer = loop.call_later(left, self._idle)
        elif self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()
        if self.transport is not None:
            self.tracker.discard(self.transport)
        self.transport = None


class SsdpProtocol(asyncio.DatagramProtocol):
    """Answers M-SEARCH datagrams for one device (UDP 1900 on its address)."""

    def __init__(self, service: ServiceRuntime, facts: dict[str, str], location: str) -> None:
        self.service, self.facts, self.location = service, facts, location
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        reply = answer(data, self.service.spec, self.facts, self.location)
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)


@dataclass
class RunningLab:
    """A started lab: its manifest (ground truth), listeners, and open connections."""

    manifest: LabManifest
    world: World
    servers: list[asyncio.AbstractServer | Any] = field(default_factory=list)
    datagrams: list[asyncio.BaseTransport] = field(default_factory=list)
    connections: set[asyncio.BaseTransport] = field(default_factory=set)
    stats: LabStats = field(default_factory=LabStats)
    started_seconds: float = 0.0

    @property
    def listening(self) -> int:
        """Listening sockets: TCP servers plus UDP endpoints."""
        return len(self.servers) + len(self.datagrams)

    async def close(self) -> None:
        for server in self.servers:
            server.close()
        for dgram in self.datagrams:
            dgram.close()
        for transport in list(self.connections):
            if isinstance(transport, asyncio.Transport):
                transport.abort()
            else:
                transport.close()
        await asyncio.gather(*(s.wait_closed() for s in self.servers), return_exceptions=True)
        self.servers.clear()
        self.datagrams.clear()

    async def __aenter__(self) -> RunningLab:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


def raise_open_files(needed: int) -> int:
    """Raise RLIMIT_NOFILE to at least ``needed`` where allowed; return the soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        return soft
    if hard != resource.RLIM_INFINITY and hard < needed:
        try:
            cap = int(Path("/proc/sys/fs/nr_open").read_text())
        except (OSError, ValueError):
            cap = needed
        new_hard = min(cap, max(needed, 1 << 20))
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (new_hard, new_hard))
            return new_hard
        except (ValueError, OSError):
            needed = hard  # not root: go as far as the hard limit allows
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    return needed


def listen_socket(ip: str, port: int, udp: bool = False) -> socket.socket:
    kind = socket.SOCK_DGRAM if udp else socket.SOCK_STREAM
    sock = socket.socket(socket.AF_INET, kind)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setblocking(False)
        sock.bind((ip, port))
        if not udp:
            sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        raise ConfigError(
            "cannot bind lab address", address=f"{ip}:{port}", reason=str(exc)
        ) from exc
    return sock


class _Binder:
    """Makes the listeners of one lab (keeps the shared SSH and TLS machinery)."""

    def __init__(self, lab: RunningLab, home: Path) -> None:
        self.lab = lab
        self.loop = asyncio.get_running_loop()
        self.ssh = SshFarm(home / "keys")
        self.certs = CertStore(home / "tls")

    async def device(self, dev: DeviceRuntime) -> None:
        for svc in dev.services:
            if dev.hostile:
                factory = self._hostile(dev.hostile, f"{dev.ip}:{svc.spec.port}")
                await self._tcp(dev.ip, svc.spec.port, factory)
            elif svc.spec.service == "ssdp":
                await self._ssdp(dev, svc)
            elif svc.spec.service == "ssh":
                await self._ssh(dev, svc)
            else:
                await self._tcp(
                    dev.ip, svc.spec.port, self._sessions(dev, svc), self._tls(dev, svc)
                )

    def _hostile(self, kind: str, seed: str) -> Callable[[], asyncio.Protocol]:
        tracker = self.lab.connections
        return lambda: HostileProtocol(kind, seed, tracker)

    def _sessions(self, dev: DeviceRuntime, svc: ServiceRuntime) -> Callable[[], asyncio.Protocol]:
        tracker, stats = self.lab.connections, self.lab.stats
        make = session_factory(dev, svc)
        return lambda: SessionProtocol(make(), tracker, stats)

    def _tls(self, dev: DeviceRuntime, svc: ServiceRuntime) -> Any:
        if svc.spec.service != "https":
            return None
        return self.certs.context(cert_subject(dev, svc))

    async def _tcp(
        self, ip: str, port: int, factory: Callable[[], asyncio.Protocol], tls: Any = None
    ) -> None:
        sock = listen_socket(ip, port)
        server = await self.loop.create_server(factory, sock=sock, ssl=tls, backlog=BACKLOG)
        self.lab.servers.append(server)

    async def _ssdp(self, dev: DeviceRuntime, svc: ServiceRuntime) -> None:
        location = f"http://{dev.ip}:{http_port(dev)}{svc.spec.location_path}"
        sock = listen_socket(dev.ip, svc.spec.port, udp=True)
        transport, _ = await self.loop.create_datagram_endpoint(
            lambda: SsdpProtocol(svc, dev.facts, location), sock=sock
        )
        self.lab.datagrams.append(transport)

    async def _ssh(self, dev: DeviceRuntime, svc: ServiceRuntime) -> None:
        import asyncssh

        spec = svc.spec
        self.ssh.devices[dev.ip] = SshDevice(svc.pair, spec.shell_prompt)
        version = spec.version_string or "SSH-2.0-dropbear_2017.75"
        options = self.ssh.options(version, spec.host_key, dev.host_key)
        sock = listen_socket(dev.ip, spec.port)
        self.lab.servers.append(await asyncssh.listen(sock=sock, options=options))


def lab_home() -> Path:
    return settings().home / "lab"


def prepare(world: World, home: Path) -> None:
    """Create (or load) every host key and certificate ``world`` needs, before binding."""
    farm, certs = SshFarm(home / "keys"), CertStore(home / "tls")
    keys, subjects = set(), set()
    for dev in world.devices:
        for svc in dev.services:
            if dev.hostile is None and svc.spec.service == "ssh":
                keys.add((svc.spec.host_key, dev.host_key % POOL))
            elif dev.hostile is None and svc.spec.service == "https":
                subjects.add(cert_subject(dev, svc))
    for algorithm, index in sorted(keys):
        farm.key(algorithm, index)
    for subject in sorted(subjects):
        certs.ensure(subject)


def cert_subject(dev: DeviceRuntime, svc: ServiceRuntime) -> str:
    return svc.spec.cert_subject or f"CN={dev.device.vendor},O={dev.device.vendor}"


def http_port(dev: DeviceRuntime) -> int:
    """The port serving the UPnP description (the device's plain HTTP service, else 80)."""
    return next((s.spec.port for s in dev.services if s.spec.service == "http"), 80)


def session_factory(dev: DeviceRuntime, svc: ServiceRuntime) -> Callable[[], Session]:
    """A maker of fresh sessions for one service of one device (shared lockout state)."""
    spec, pair = svc.spec, svc.pair
    if spec.service == "telnet":
        lockout = Lockout(spec.lockout_after)
        return lambda: TelnetSession(spec, pair, lockout)
    if spec.service == "mqtt":
        return lambda: MqttSession(pair)
    upnp = next((s.spec.location_path for s in dev.services if s.spec.service == "ssdp"), None)
    site = Site(dev.ip, dev.facts, upnp if spec.service == "http" else None, time.time)
    if spec.service == "rtsp":
        return lambda: RtspSession(spec, pair, site)
    return lambda: HttpSession(spec, pair, site)


def socket_count(devices: Sequence[DeviceRuntime]) -> int:
    return sum(len(d.services) for d in devices)


async def start_lab(
    world: World, home: Path | None = None, devices: Sequence[DeviceRuntime] | None = None
) -> RunningLab:
    """Bind every device of ``world`` (or only ``devices``, one shard of it); return once all
    listen, with the manifest stamped ``created``. Keys and certificates are cached under
    ``home`` (default ``IOTSCOPE_HOME/lab``)."""
    chosen = world.devices if devices is None else devices
    raise_open_files(socket_count(chosen) + FD_HEADROOM)
    t0 = time.perf_counter()
    manifest = world.manifest.model_copy(update={"created": datetime.now(UTC)})
    lab = RunningLab(manifest=manifest, world=world)
    binder = _Binder(lab, home or lab_home())
    try:
        for dev in chosen:
            await binder.device(dev)
    except BaseException:
        await lab.close()
        raise
    lab.started_seconds = time.perf_counter() - t0
    return lab
