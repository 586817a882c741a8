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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import accumulate, cycle

from iotscope.errors import ConfigError
from iotscope.lab._catalog import Catalog, Profile, ServiceProfile, Version, load_catalog
from iotscope.lab._creds import (
    OPEN,
    Pair,
    auth_kind,
    choose_pair,
    credential_protocol,
    is_open,
    needs_login,
)
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
    cum = list(accumulate(p.weight for p in catalog.profiles))
    owner = _isp_ranges(isps)
    runtimes = tuple(
        _device(ip, seed, catalog, cum, hostile.get(ip), owner(ip), variants) for ip in ips
    )
    manifest = LabManifest(
        seed=seed,
        network=str(net),
        created=EPOCH,
        devices=tuple(r.device for r in runtimes),
        isps=tuple(isps),
    )
    return World(manifest=manifest, devices=runtimes)


def _isp_ranges(isps: list[Isp]) -> Callable[[str], str | None]:
    """A lookup address -> ISP name over the ISPs' prefixes (integer ranges)."""
    ranges = []
    for isp in isps:
        for prefix in isp.prefixes:
            net = ipaddress.IPv4Network(prefix)
            ranges.append((int(net.network_address), int(net.broadcast_address), isp.name))

    def owner(ip: str) -> str | None:
        value = int(ipaddress.IPv4Address(ip))
        return next((name for lo, hi, name in ranges if lo <= value <= hi), None)

    return owner


def _device(
    ip: str,
    seed: int,
    catalog: Catalog,
    cum_weights: list[float],
    hostile: str | None,
    isp: str | None,
    variants: dict[tuple[str, str], tuple[ServiceProfile, ...]],
) -> DeviceRuntime:
    rng = random.Random(f"iotscope-device:{seed}:{ip}")
    if hostile is not None:
        return _hostile_device(ip, hostile, isp, rng)
    profile = rng.choices(catalog.profiles, cum_weights=cum_weights)[0]
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
            ServiceSpec(
                port=s.spec.port,
                transport=s.spec.transport,
                service=s.spec.service,
                auth=auth_kind(s.spec),
            )
            for s in services
        ),
        credentials=_credentials(services),
        cves=tuple(version.cves),
        isp=isp,
    )
    return DeviceRuntime(ip, device, services, facts, rng.randrange(1 << 16))


def _facts(profile: Profile, version: Version, rng: random.Random) -> dict[str, str]:
    model = rng.choice(profile.all_models())
    raw = rng.getrandbits(48).to_bytes(6, "big")
    mac = ":".join(f"{b:02X}" for b in raw)
    serial = "".join(rng.choices(string.ascii_uppercase + string.digits, k=12))
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
                locks = any(credential_protocol(x.service) == proto and x.lockout_after
                            for x in specs)  # fmt: skip
                pairs[proto] = choose_pair(profile, proto, weak, rng, locks_out=locks)
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
    names = _templated(svc)
    if not names:
        return svc
    update: dict[str, object] = {}
    for name in names:
        value = getattr(svc, name)
        if name in ("headers", "pages"):
            update[name] = {k: fill(v, facts) for k, v in value.items()}
        else:
            update[name] = fill(value, facts)
    return svc.model_copy(update=update)


_TEMPLATED: dict[int, tuple[ServiceProfile, tuple[str, ...]]] = {}


def _templated(svc: ServiceProfile) -> tuple[str, ...]:
    """Names of ``svc``'s fields that hold placeholders (remembered per profile object)."""
    hit = _TEMPLATED.get(id(svc))
    if hit is not None and hit[0] is svc:
        return hit[1]
    names = [n for n, v in svc if isinstance(v, str) and _PLACEHOLDER.search(v)]
    if any(_PLACEHOLDER.search(v) for v in svc.headers.values()):
        names.append("headers")
    if any(_PLACEHOLDER.search(v) for v in svc.pages.values()):
        names.append("pages")
    _TEMPLATED[id(svc)] = (svc, tuple(names))
    return tuple(names)


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
