"""The lab's world: which device lives at which loopback address, as pure seeded data.

``build_world`` is deterministic (same arguments, same world) and does no I/O beyond reading
the catalog and the public credential list. It returns the ground truth (``World.manifest``,
fields per ARCHITECTURE.md) plus what the servers need per device (``DeviceRuntime``: rendered
service profiles and the credential each login accepts).
"""

from __future__ import annotations

import ipaddress
import random
import re
import string
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from itertools import cycle

from iotscope.errors import ConfigError
from iotscope.lab._catalog import Catalog, Profile, ServiceProfile, Version, load_catalog
from iotscope.lab._creds import OPEN, Pair, choose_pair, credential_protocol, is_open, needs_login
from iotscope.lab._isps import split_isps
from iotscope.records import Credential, Device, Isp, LabManifest, ServiceSpec

LOOPBACK = ipaddress.IPv4Network("127.0.0.0/8")
RESERVED = ipaddress.IPv4Network("127.0.0.0/16")  # 127.0.0.1 and friends belong to the host
HOSTILE_KINDS = ("tarpit", "endless-banner", "garbage", "iac-flood", "reset")
HOSTILE_SHARE = 0.015
HOSTILE_PORTS: dict[str, tuple[tuple[int, str], ...]] = {
    "tarpit": ((22, "ssh"), (23, "telnet"), (80, "http")),
    "endless-banner": ((23, "telnet"), (80, "http")),
    "garbage": ((23, "telnet"), (80, "http"), (8080, "http")),
    "iac-flood": ((23, "telnet"), (2323, "telnet")),
    "reset": ((22, "ssh"), (23, "telnet"), (80, "http")),
}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # start_lab stamps the real start time
_PLACEHOLDER = re.compile(r"\{(vendor|product|model|version|mac|serial|hostname)\}")


@dataclass(frozen=True, slots=True)
class ServiceRuntime:
    """One service as its server runs it. ``pair`` None: no login exists; OPEN: none needed."""

    spec: ServiceProfile
    pair: Pair | None


@dataclass(frozen=True, slots=True)
class DeviceRuntime:
    ip: str
    device: Device
    services: tuple[ServiceRuntime, ...]
    facts: dict[str, str]  # placeholder values: vendor, product, model, version, mac, ...
    host_key: int  # which key of the SSH host-key pool this device presents

    @property
    def hostile(self) -> str | None:
        return self.device.hostile


@dataclass(frozen=True, slots=True)
class World:
    manifest: LabManifest
    devices: tuple[DeviceRuntime, ...]


def lab_network(network: str) -> ipaddress.IPv4Network:
    """Parse ``network``; refuse anything outside 127.0.0.0/8 (the lab never binds elsewhere)."""
    try:
        net = ipaddress.ip_network(network, strict=True)
    except ValueError as exc:
        raise ConfigError("bad lab network", network=network, reason=str(exc)) from exc
    if not isinstance(net, ipaddress.IPv4Network) or not net.subnet_of(LOOPBACK):
        raise ConfigError("the lab network must lie inside 127.0.0.0/8", network=network)
    return net


def _usable(addr: int) -> bool:
    return addr & 0xFF not in (0, 255) and (addr >> 16) != (int(RESERVED.network_address) >> 16)


def pick_addresses(net: ipaddress.IPv4Network, count: int, rng: random.Random) -> list[str]:
    """``count`` distinct addresses spread over ``net`` (no .0/.255 hosts), sorted."""
    base, total = int(net.network_address), net.num_addresses
    want = min(total, int(count * 1.1) + 64)
    while True:
        picks = [base + i for i in rng.sample(range(total), want) if _usable(base + i)]
        if len(picks) >= count or want == total:
            break
        want = min(total, want * 2)
    if len(picks) < count:
        raise ConfigError("lab network too small", network=str(net), devices=count)
    return [str(ipaddress.IPv4Address(a)) for a in sorted(picks[:count])]


def hostile_count(devices: int) -> int:
    """About 1.5% of devices; at least one of each kind from 50 devices on."""
    if devices < 50:
        return round(devices * HOSTILE_SHARE)
    return max(len(HOSTILE_KINDS), round(devices * HOSTILE_SHARE))


def build_world(
    devices: int, seed: int, network: str = "127.77.0.0/16", catalog: Catalog | None = None
) -> World:
    """The world of ``devices`` emulated devices for ``seed`` inside ``network`` (pure)."""
    if devices < 0:
        raise ConfigError("device count must be >= 0", devices=devices)
    net = lab_network(network)
    catalog = catalog or load_catalog()
    if not catalog.profiles:
        raise ConfigError("the device catalog is empty")
    rng = random.Random(f"iotscope-lab:{seed}:{net}")
    isps = split_isps(net, rng)
    ips = pick_addresses(net, devices, rng)
    hostile = dict(zip(rng.sample(ips, hostile_count(devices)), cycle(HOSTILE_KINDS)))
    variants: dict[tuple[str, str], tuple[ServiceProfile, ...]] = {}
    runtimes = tuple(
        _device(ip, seed, catalog, hostile.get(ip), _isp_name(ip, isps), variants) for ip in ips
    )
    manifest = LabManifest(
        seed=seed,
        network=str(net),
        created=EPOCH,
        devices=tuple(r.device for r in runtimes),
        isps=tuple(isps),
    )
    return World(manifest=manifest, devices=runtimes)


def _isp_name(ip: str, isps: list[Isp]) -> str | None:
    addr = ipaddress.IPv4Address(ip)
    for isp in isps:
        if any(addr in _net(p) for p in isp.prefixes):
            return isp.name
    return None


@lru_cache(maxsize=4096)
def _net(prefix: str) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network(prefix)


def _device(
    ip: str,
    seed: int,
    catalog: Catalog,
    hostile: str | None,
    isp: str | None,
    variants: dict[tuple[str, str], tuple[ServiceProfile, ...]],
) -> DeviceRuntime:
    rng = random.Random(f"iotscope-device:{seed}:{ip}")
    if hostile is not None:
        return _hostile_device(ip, hostile, isp, rng)
    profile = rng.choices(catalog.profiles, weights=[p.weight for p in catalog.profiles])[0]
    version = rng.choice(profile.versions)
    facts = _facts(profile, version, rng)
    weak = rng.random() < profile.weak_share
    key = (profile.id, version.version)
    if key not in variants:
        variants[key] = _version_services(profile, version)
    services = _services(profile, variants[key], facts, weak, rng)
    device = Device(
        ip=ipaddress.IPv4Address(ip),
        profile=profile.id,
        vendor=profile.vendor,
        product=profile.product,
        model=facts["model"] or None,
        version=version.version,
        device_type=profile.device_type,
        cpe=fill(profile.cpe, facts) if profile.cpe else None,
        services=tuple(
            ServiceSpec(port=s.spec.port, transport=s.spec.transport, service=s.spec.service)
            for s in services
        ),
        credentials=_credentials(services),
        cves=tuple(version.cves),
        isp=isp,
    )
    return DeviceRuntime(ip, device, services, facts, rng.randrange(1 << 16))


def _facts(profile: Profile, version: Version, rng: random.Random) -> dict[str, str]:
    model = rng.choice(profile.all_models())
    mac = ":".join(f"{rng.randrange(256):02X}" for _ in range(6))
    serial = "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(12))
    slug = re.sub(r"[^a-z0-9]+", "-", (model or profile.id).lower()).strip("-")
    return {
        "vendor": profile.vendor,
        "product": profile.product,
        "model": model,
        "version": version.version,
        "mac": mac,
        "serial": serial,
        "hostname": f"{slug}-{mac.replace(':', '')[-6:].lower()}",
    }


def fill(text: str, facts: dict[str, str]) -> str:
    """Replace the catalog's ``{vendor}``-style placeholders; other braces stay as they are."""
    return _PLACEHOLDER.sub(lambda m: facts[m.group(1)], text)


def _services(
    profile: Profile,
    specs: tuple[ServiceProfile, ...],
    facts: dict[str, str],
    weak: bool,
    rng: random.Random,
) -> tuple[ServiceRuntime, ...]:
    pairs: dict[str, Pair] = {}
    out: list[ServiceRuntime] = []
    seen: set[tuple[int, str]] = set()
    for svc in specs:
        if (svc.port, svc.transport) in seen:
            continue  # a profile listing one port twice: the first wins
        seen.add((svc.port, svc.transport))
        spec = _render(svc, facts)
        pair: Pair | None = None
        if is_open(spec):
            pair = OPEN
        elif needs_login(spec):
            proto = credential_protocol(spec.service)
            if proto not in pairs:
                pairs[proto] = choose_pair(profile, proto, weak, rng)
            pair = pairs[proto]
        out.append(ServiceRuntime(spec, pair))
    return tuple(out)


def _version_services(profile: Profile, version: Version) -> tuple[ServiceProfile, ...]:
    """The profile's services with this version's overrides applied (validated once)."""
    out = []
    for svc in profile.services:
        override = version.overrides.get(svc.service)
        if override:
            try:
                svc = ServiceProfile.model_validate({**svc.model_dump(), **override})
            except ValueError as exc:
                raise ConfigError(
                    "bad version override", profile=profile.id, version=version.version
                ) from exc
        out.append(svc)
    return tuple(out)


def _render(svc: ServiceProfile, facts: dict[str, str]) -> ServiceProfile:
    update: dict[str, object] = {}
    for name, value in svc:
        if isinstance(value, str) and "{" in value:
            update[name] = fill(value, facts)
    if any("{" in v for v in svc.headers.values()):
        update["headers"] = {k: fill(v, facts) for k, v in svc.headers.items()}
    return svc.model_copy(update=update) if update else svc


def _credentials(services: tuple[ServiceRuntime, ...]) -> tuple[Credential, ...]:
    creds: dict[str, Credential] = {}
    for s in services:
        if s.pair is None:
            continue
        proto = credential_protocol(s.spec.service)
        pair = s.pair
        creds.setdefault(
            proto,
            Credential(
                protocol=proto, username=pair.username, password=pair.password, weak=pair.weak
            ),
        )
    return tuple(creds.values())


def _hostile_device(ip: str, kind: str, isp: str | None, rng: random.Random) -> DeviceRuntime:
    specs = tuple(ServiceProfile(service=name, port=port) for port, name in HOSTILE_PORTS[kind])
    device = Device(
        ip=ipaddress.IPv4Address(ip),
        profile=f"hostile-{kind}",
        vendor="unknown",
        product=f"hostile host ({kind})",
        device_type="Hostile",
        services=tuple(ServiceSpec(port=s.port, service=s.service) for s in specs),
        isp=isp,
        hostile=kind,
    )
    runtime = tuple(ServiceRuntime(s, None) for s in specs)
    return DeviceRuntime(ip, device, runtime, {}, rng.randrange(1 << 16))
