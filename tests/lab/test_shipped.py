"""Every profile of the shipped catalog, live: each service answers its manifest credential.

One lab holds a few devices of every profile (equal weights); for each device and service a
standard client logs in with the credential the manifest lists (or checks that none is
needed). This is the contract the survey's login checks rely on.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import asyncssh
import pytest

from iotscope.lab import Catalog, DeviceRuntime, RunningLab, ServiceRuntime, build_world, start_lab
from iotscope.lab import load_catalog as shipped_catalog
from tests.lab.test_mqtt import connect

pytestmark = pytest.mark.network
TIMEOUT = 8
PER_PROFILE = 3


@pytest.fixture
async def lab(lab_network: str, iotscope_home: Path) -> AsyncIterator[RunningLab]:
    shipped = shipped_catalog()
    even = Catalog(profiles=tuple(p.model_copy(update={"weight": 1.0}) for p in shipped.profiles))
    count = min(240, PER_PROFILE * len(even.profiles))
    async with await start_lab(build_world(count, 21, lab_network, even)) as running:
        yield running


def _samples(lab: RunningLab) -> list[DeviceRuntime]:
    seen: dict[str, int] = {}
    out = []
    for dev in lab.world.devices:
        if dev.hostile is None and seen.get(dev.device.profile, 0) < 2:
            seen[dev.device.profile] = seen.get(dev.device.profile, 0) + 1
            out.append(dev)
    return out


async def test_every_profile_service_accepts_its_manifest_credential(lab: RunningLab) -> None:
    samples = _samples(lab)
    assert len({d.device.profile for d in samples}) >= len(shipped_catalog().profiles) * 0.9
    checks = [(dev, svc) for dev in samples for svc in dev.services]
    sem = asyncio.Semaphore(20)

    async def one(dev: DeviceRuntime, svc: ServiceRuntime) -> str | None:
        async with sem:
            try:
                await asyncio.wait_for(CHECKS[svc.spec.service](dev, svc), TIMEOUT * 2)
            except Exception as exc:
                return f"{dev.device.profile} {dev.ip}:{svc.spec.port}/{svc.spec.service}: {exc!r}"
            return None

    failures = [f for f in await asyncio.gather(*(one(d, s) for d, s in checks)) if f]
    assert not failures, "\n".join(failures)


async def _telnet(dev: DeviceRuntime, svc: ServiceRuntime) -> None:
    spec, pair = svc.spec, svc.pair
    reader, writer = await asyncio.open_connection(dev.ip, spec.port)
    try:
        if pair is not None and pair.open:
            await reader.readuntil(spec.shell_prompt.encode("latin-1"))
            return
        assert pair is not None
        await reader.readuntil(spec.login_prompt.encode("latin-1"))
        writer.write(f"{pair.username}\r\n".encode("latin-1"))
        await reader.readuntil(spec.password_prompt.encode("latin-1"))
        writer.write(f"{pair.password}\r\n".encode("latin-1"))
        await reader.readuntil(spec.shell_prompt.encode("latin-1"))
        writer.write(b"exit\r\n")
    finally:
        writer.close()


async def _ssh(dev: DeviceRuntime, svc: ServiceRuntime) -> None:
    pair = svc.pair
    assert pair is not None
    async with asyncssh.connect(dev.ip, svc.spec.port, username=pair.username or "",
                                password=pair.password, known_hosts=None) as conn:  # fmt: skip
        assert conn.get_extra_info("server_version") == svc.spec.version_string


def _http_open(dev: DeviceRuntime, svc: ServiceRuntime) -> int:
    scheme = "https" if svc.spec.service == "https" else "http"
    url = f"{scheme}://{dev.ip}:{svc.spec.port}/"
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    handlers: list[urllib.request.BaseHandler] = [urllib.request.HTTPSHandler(context=ctx)]
    pair = svc.pair
    if pair is not None and not pair.open and svc.spec.auth in ("basic", "digest"):
        mgr = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        mgr.add_password(None, url, pair.username or "", pair.password or "")
        cls = (
            urllib.request.HTTPDigestAuthHandler
            if svc.spec.auth == "digest"
            else (urllib.request.HTTPBasicAuthHandler)
        )
        handlers.append(cls(mgr))
    opener = urllib.request.build_opener(*handlers)
    if svc.spec.auth == "form" and pair is not None and not pair.open:
        data = urllib.parse.urlencode({"username": pair.username, "password": pair.password})
        no_redirect = urllib.request.build_opener(*handlers, _NoRedirect())
        try:
            no_redirect.open(url + "login", data=data.encode(), timeout=TIMEOUT)
        except urllib.error.HTTPError as err:
            return err.code
        return 200
    with opener.open(url, timeout=TIMEOUT) as resp:
        return int(resp.status)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


async def _http(dev: DeviceRuntime, svc: ServiceRuntime) -> None:
    status = await asyncio.to_thread(_http_open, dev, svc)
    want = 302 if svc.spec.auth == "form" and svc.pair is not None and not svc.pair.open else 200
    assert status == want, status


async def _rtsp(dev: DeviceRuntime, svc: ServiceRuntime) -> None:
    pair = svc.pair
    auth = ""
    if pair is not None and not pair.open and svc.spec.auth == "basic":
        token = base64.b64encode(f"{pair.username}:{pair.password}".encode()).decode()
        auth = f"Authorization: Basic {token}\r\n"
    elif pair is not None and not pair.open and svc.spec.auth == "digest":
        from iotscope.lab._http import Site
        from tests.lab.test_auth import client_digest

        realm = svc.spec.realm or dev.facts.get("model") or "RTSP"
        nonce = Site(dev.ip, dev.facts).nonce
        uri = f"rtsp://{dev.ip}/"
        auth = f"Authorization: {client_digest(pair, realm, nonce, 'DESCRIBE', uri)}\r\n"
    reader, writer = await asyncio.open_connection(dev.ip, svc.spec.port)
    writer.write(f"DESCRIBE rtsp://{dev.ip}/ RTSP/1.0\r\nCSeq: 2\r\n{auth}\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    writer.close()
    assert head.startswith(b"RTSP/1.0 200"), head[:40]


async def _mqtt(dev: DeviceRuntime, svc: ServiceRuntime) -> None:
    pair = svc.pair
    creds = (pair.username, pair.password) if pair is not None and not pair.open else (None, None)
    reader, writer = await asyncio.open_connection(dev.ip, svc.spec.port)
    writer.write(connect(*creds))
    assert await reader.readexactly(4) == b"\x20\x02\x00\x00"
    writer.close()


async def _ssdp(dev: DeviceRuntime, svc: ServiceRuntime) -> None:
    from tests.lab.test_server import _ssdp_ask

    assert (await asyncio.to_thread(_ssdp_ask, dev.ip)).startswith(b"HTTP/1.1 200 OK")


CHECKS = {"telnet": _telnet, "ssh": _ssh, "http": _http, "https": _http, "rtsp": _rtsp,
          "mqtt": _mqtt, "ssdp": _ssdp}  # fmt: skip
