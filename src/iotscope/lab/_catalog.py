"""The device catalog: profiles of real IoT products, as data (``catalog/*.toml``).

A profile says how one product line presents itself on the network, per firmware version:
banners, telnet dialogues, SSH version strings, HTTP headers, titles, realms, certificate
subjects, RTSP/SSDP/MQTT details, factory credentials and the CVEs each version carries.
Strings may use ``{vendor} {product} {model} {version} {mac} {serial} {hostname}`` placeholders,
filled per device by the world generator.

File layout (one or more ``[[profile]]`` tables per file)::

    [[profile]]
    id = "hikvision-ds2cd"          # unique, kebab-case
    vendor = "Hikvision"
    product = "DS-2CD IP camera"
    model = "DS-2CD2032-I"           # or models = [...] to pick one per device
    device_type = "IP Camera"        # Recog hw.device words: IP Camera, DVR, Router, NAS...
    cpe = "cpe:2.3:o:hikvision:ds-2cd2032-i_firmware:{version}:*:*:*:*:*:*:*"
    weight = 5                       # relative share of this profile in a world
    weak_share = 0.5                 # chance a device still has its factory default

    [[profile.versions]]
    version = "V5.4.5"
    cves = ["CVE-2017-7921"]
    # any service field may be overridden per version: [profile.versions.overrides.<service>]

    [[profile.defaults]]             # factory credentials (public default lists)
    protocol = "telnet"              # telnet, ssh, http, mqtt, rtsp
    username = "root"
    password = "12345"              # omit both for "no login needed" (weak by definition)

    [[profile.services]]
    service = "telnet"               # telnet, ssh, http, https, rtsp, ssdp, mqtt
    port = 23
    banner = "..."                   # telnet: text before the login prompt
    ...                              # the per-service fields below
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from iotscope.errors import ConfigError

ServiceName = Literal["telnet", "ssh", "http", "https", "rtsp", "ssdp", "mqtt"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ServiceProfile(_Model):
    """How one service of a product behaves. Fields unused by a service stay None."""

    service: ServiceName
    port: int
    transport: Literal["tcp", "udp"] = "tcp"
    # telnet
    banner: str | None = None
    login_prompt: str = "login: "
    password_prompt: str = "Password: "
    shell_prompt: str = "# "
    fail_message: str = "Login incorrect"
    no_auth: bool = False  # telnet/http/mqtt/rtsp reachable with no login at all
    lockout_after: int = 0  # failed logins before the device stops answering (0 = never)
    # BusyBox telnetd's opening offers (most IoT telnet); nmap reads a bare WILL ECHO, WILL SGA
    # followed by text as an HP LaserJet
    negotiate: list[str] = Field(
        default_factory=lambda: ["DO ECHO", "DO NAWS", "WILL ECHO", "WILL SGA"]
    )
    # ssh
    version_string: str | None = None  # e.g. "SSH-2.0-dropbear_2019.78"
    host_key: Literal["ssh-rsa", "ecdsa-sha2-nistp256", "ssh-ed25519"] = "ssh-rsa"
    # http / https / rtsp
    server: str | None = None  # Server header (also RTSP, SSDP SERVER)
    title: str | None = None
    auth: Literal["none", "basic", "digest", "form"] = "none"
    realm: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = None  # extra HTML body (login form markup etc.)
    cert_subject: str | None = None  # https: "CN=...,O=..." (RFC 4514 order)
    # read-only resources served without a login, path -> body (e.g. D-Link's /HNAP1/
    # GetDeviceSettings answer): what iotscope.vulns' safe checks read
    pages: dict[str, str] = Field(default_factory=dict)
    # ssdp
    usn: str | None = None
    st: str | None = None
    location_path: str = "/rootDesc.xml"
    # mqtt
    anonymous: bool = False


class Version(_Model):
    version: str
    cves: list[str] = Field(default_factory=list)
    overrides: dict[str, dict[str, object]] = Field(default_factory=dict)


class DefaultCredential(_Model):
    protocol: Literal["telnet", "ssh", "http", "mqtt", "rtsp"]
    username: str | None = None
    password: str | None = None
    source: str | None = None  # where the default is documented publicly


class Profile(_Model):
    id: str
    vendor: str
    product: str
    model: str | None = None
    models: list[str] = Field(default_factory=list)
    device_type: str
    cpe: str | None = None
    weight: float = 1.0
    weak_share: float = Field(default=0.4, ge=0.0, le=1.0)
    versions: list[Version]
    defaults: list[DefaultCredential] = Field(default_factory=list)
    services: list[ServiceProfile]

    @model_validator(mode="after")
    def _check(self) -> Profile:
        if not self.versions:
            raise ValueError(f"profile {self.id}: needs at least one version")
        if not self.services:
            raise ValueError(f"profile {self.id}: needs at least one service")
        if self.model is None and not self.models:
            raise ValueError(f"profile {self.id}: needs model or models")
        return self

    def all_models(self) -> list[str]:
        return self.models or [self.model or ""]


class Catalog(_Model):
    profiles: tuple[Profile, ...]

    def by_id(self) -> dict[str, Profile]:
        return {p.id: p for p in self.profiles}


def _parse(files: Iterable[tuple[str, bytes]]) -> Catalog:
    profiles: list[Profile] = []
    for name, data in files:
        try:
            doc = tomllib.loads(data.decode("utf-8"))
            profiles.extend(Profile.model_validate(p) for p in doc.get("profile", []))
        except (tomllib.TOMLDecodeError, ValueError) as exc:
            raise ConfigError("bad catalog file", file=name, reason=str(exc)[:500]) from exc
    ids = [p.id for p in profiles]
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:
        raise ConfigError("duplicate profile ids in catalog", ids=sorted(dupes))
    return Catalog(profiles=tuple(sorted(profiles, key=lambda p: p.id)))


@lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    """The shipped catalog (every ``catalog/*.toml`` in the package)."""
    folder = resources.files("iotscope.lab") / "catalog"
    files = sorted((f.name, f.read_bytes()) for f in folder.iterdir() if f.name.endswith(".toml"))
    return _parse(files)


def load_catalog_files(paths: Iterable[Path]) -> Catalog:
    """A catalog from explicit files (tests, user extensions)."""
    return _parse((str(p), p.read_bytes()) for p in paths)
