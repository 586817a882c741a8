"""Safe, data-driven checks that turn an ``inferred`` CVE into a ``verified`` one.

A check (``checks.toml``, one ``[[check]]`` each) is one HTTP GET of a read-only resource that
the vulnerable component itself serves without a login; what it must find in the answer is
data, not code::

    [[check]]
    id = "dlink-hnap-device-settings"
    cves = ["CVE-2015-2051"]         # what it can prove
    services = ["http", "https"]     # run on findings of these services
    vendor = "dlink"                 # CPE vendor of the devices it concerns
    path = "/HNAP1/"
    status = 200
    expect = "<GetDeviceSettingsResponse"            # the interface answered with no login
    version = "<FirmwareVersion>([^<]+)</FirmwareVersion>"   # the device's own firmware
    cpe = "cpe:2.3:o:dlink:{model}_firmware:{version}:*:*:*:*:*:*:*"
    model = "<ModelName>([^<]+)</ModelName>"

It proves a CVE when the status and ``expect`` hold and, if ``version`` is given, the CVE's
NVD configuration applies to the CPE built from what the device said (plus its hardware CPE,
:func:`iotscope.vulns.device_cpes`). A check only reads: the method is GET (nothing else is
accepted when the table loads), no body is sent, at most ``MAX_BYTES`` are read, and
connections go only to addresses the caller's scope allows.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from iotscope.errors import ConfigError, ScopeError

MAX_BYTES = 65536
_FIELDS = {
    "id",
    "cves",
    "services",
    "vendor",
    "path",
    "status",
    "expect",
    "version",
    "cpe",
    "model",
    "hardware",
    "method",
    "source",
}


@dataclass(frozen=True, slots=True)
class Check:
    id: str
    cves: tuple[str, ...]
    services: tuple[str, ...]
    vendor: str
    path: str
    status: int
    expect: re.Pattern[str]
    version: re.Pattern[str] | None
    cpe: str | None
    model: re.Pattern[str] | None
    hardware: re.Pattern[str] | None = None  # the hardware revision the device reports


@dataclass(frozen=True, slots=True)
class Reading:
    """What one check read from one device."""

    check: str
    proved: bool  # status and expect held
    version: str | None
    model: str | None
    detail: str
    hardware: str | None = None  # hardware revision ("A1"), when the answer gives it


def _check(raw: dict[str, object], where: str) -> Check:
    unknown = set(raw) - _FIELDS
    if unknown:
        raise ConfigError("unknown check fields", check=where, fields=sorted(unknown))
    if str(raw.get("method", "GET")).upper() != "GET":
        raise ConfigError("a check only reads: method must be GET", check=where)
    try:
        path = str(raw["path"])
        if not path.startswith("/") or any(c in path for c in "\r\n "):
            raise ConfigError("check path must be an origin-form path", check=where)

        def rx(name: str) -> re.Pattern[str] | None:
            return re.compile(str(raw[name]), re.S) if name in raw else None

        expect = rx("expect")
        if expect is None:
            raise ConfigError("check needs expect", check=where)
        return Check(
            str(raw["id"]),
            tuple(str(c) for c in raw["cves"]),  # type: ignore[attr-defined]
            tuple(str(s) for s in raw.get("services", ("http", "https"))),  # type: ignore[attr-defined]
            str(raw["vendor"]).lower(),
            path,
            int(raw.get("status", 200)),  # type: ignore[call-overload]
            expect,
            rx("version"),
            str(raw["cpe"]) if "cpe" in raw else None,
            rx("model"),
            rx("hardware"),
        )
    except (KeyError, TypeError, ValueError, re.error) as exc:
        raise ConfigError("bad check", check=where, reason=str(exc)) from exc


def parse_checks(text: str, source: str) -> tuple[Check, ...]:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("bad checks file", file=source, reason=str(exc)) from exc
    entries = doc.get("check", [])
    return tuple(_check(e, f"{source}#{i}") for i, e in enumerate(entries))


@lru_cache(maxsize=1)
def default_checks() -> tuple[Check, ...]:
    data = resources.files("iotscope.vulns") / "checks.toml"
    return parse_checks(data.read_text(encoding="utf-8"), "checks.toml")


def load_checks(path: Path) -> tuple[Check, ...]:
    return parse_checks(path.read_text(encoding="utf-8"), str(path))


# -- sans-IO halves --------------------------------------------------------------------------


def request(check: Check, host: str) -> bytes:
    """The one request a check sends (HTTP/1.1 GET, RFC 9112; the connection then closes)."""
    return (
        f"GET {check.path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: iotscope-check\r\n"
        "Accept: */*\r\nConnection: close\r\n\r\n"
    ).encode("ascii")


_STATUS = re.compile(rb"HTTP/1\.[01] (\d{3})")


def read_answer(check: Check, answer: bytes) -> Reading:
    """What ``answer`` (the raw response) says, by the check's table entry."""
    m = _STATUS.match(answer)
    if m is None:
        return Reading(check.id, False, None, None, "no HTTP answer")
    status = int(m.group(1))
    text = answer.decode("utf-8", "replace")
    if status != check.status:
        return Reading(check.id, False, None, None, f"status {status}")
    if not check.expect.search(text):
        return Reading(check.id, False, None, None, "expected content absent")
    version = _group(check.version, text)
    model = _group(check.model, text)
    hardware = _group(check.hardware, text)
    detail = f"status {status}, expected content found"
    return Reading(check.id, True, version, model, detail, hardware)


def _group(rx: re.Pattern[str] | None, text: str) -> str | None:
    if rx is None:
        return None
    m = rx.search(text)
    return m.group(1).strip()[:100] if m else None


# -- the network edge ------------------------------------------------------------------------


async def fetch(
    ip: str, port: int, data: bytes, tls: bool, allowed: Callable[[str], bool], timeout: float
) -> bytes:
    """Send ``data`` and read the answer (at most MAX_BYTES). Refuses out-of-scope addresses."""
    if not allowed(ip):
        raise ScopeError("check target outside the scope", ip=ip)
    ctx = None
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE  # devices: self-signed
    reader, writer = await asyncio.wait_for(asyncio.open_connection(ip, port, ssl=ctx), timeout)
    try:
        writer.write(data)
        await writer.drain()
        out = bytearray()
        while len(out) < MAX_BYTES:
            chunk = await asyncio.wait_for(reader.read(MAX_BYTES - len(out)), timeout)
            if not chunk:
                break
            out += chunk
        return bytes(out)
    finally:
        writer.close()


async def run_check(
    check: Check,
    ip: str,
    port: int,
    tls: bool,
    allowed: Callable[[str], bool],
    timeout: float = 5.0,
) -> Reading:
    """One check against one service; network failures are a reading, not an error."""
    try:
        answer = await fetch(ip, port, request(check, ip), tls, allowed, timeout)
    except (OSError, TimeoutError, ssl.SSLError) as exc:
        return Reading(check.id, False, None, None, f"no answer: {type(exc).__name__}")
    return read_answer(check, answer)
