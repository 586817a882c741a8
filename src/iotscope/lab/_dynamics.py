"""Lab dynamics: what becomes of the lab's weak devices over simulated days after notices.

Each weak device is a subscriber's. Day by day a device moves between four states, a Markov
chain with daily hazards (``ResponseModel``):

- ``weak`` (still accepts the default credential) -> ``remediated`` (password changed or
  firmware updated), ``replaced`` (the subscriber put a different device in its place) or
  ``infected`` (still weak, and now scanning: a telescope sees it);
- ``infected`` -> ``remediated`` (the same hazard: a reboot plus a new password cleans it) or
  ``replaced``;
- ``remediated`` -> ``weak`` (a factory reset brings the default back; rare);
- ``replaced`` stays.

The remediation hazard is the only one a notice changes: it is the not-notified baseline until
the device's notice is sent, then the channel x variant rate. The rates are HIDDEN: drawn from
the seed within ranges anchored on published notification studies (DOMAIN.md: e-mail alone
barely moves, a walled-garden landing page moves most), written only to the truth file, which
no estimator reads. Subscribers also get new addresses now and then (a daily hazard), written
by the lab's lease generator (``lab._leases``; lease-log CSV ``address,start,end,subscriber_id``).

Everything here is pure and seeded (numpy's PCG64), vectorised over devices: a month of
100,000 devices is a few dozen array operations a day.
"""

from __future__ import annotations

import csv
import ipaddress
import json
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from iotscope.errors import ConfigError
from iotscope.lab._creds import Pair, strong_password
from iotscope.lab._leases import lease_log
from iotscope.lab._leases import subscriber_id as lab_subscriber
from iotscope.lab._world import DeviceRuntime, ServiceRuntime, World
from iotscope.records import LabManifest

CHANNELS = ("email", "letter", "sms", "landing")
VARIANTS = ("A", "B")
STATES = ("weak", "infected", "remediated", "replaced")
WEAK, INFECTED, REMEDIATED, REPLACED = range(4)
HOLDOUT = "holdout"

# Ranges of the daily remediation hazard after a notice, per channel (the hidden rate of a
# world is drawn uniformly inside). Over 30 days: e-mail ~15-30 %, landing ~70-90 %.
_CHANNEL_RANGE = {
    "email": (0.004, 0.010),
    "sms": (0.008, 0.020),
    "letter": (0.012, 0.030),
    "landing": (0.040, 0.080),
}
_BASELINE_RANGE = (0.002, 0.006)  # natural remediation without a notice
_VARIANT_FACTOR = (0.75, 1.35)  # variant B's rate = A's x a factor drawn here


@dataclass(frozen=True)
class ResponseModel:
    """The hidden daily hazards of one world (probabilities per day)."""

    baseline: float
    remediate: Mapping[str, float]  # "channel/variant" -> daily hazard after the notice
    replace: float = 0.002
    infect: float = 0.004
    revert: float = 0.003
    offline: float = 0.03  # a device does not answer a given re-check
    infected_share: float = 0.1  # weak devices already infected on day 0
    address_change: float = 0.01  # a subscriber gets a new address (per day)

    def hazard(self, channel: str | None, variant: str | None) -> float:
        """Remediation hazard after a notice on ``channel``/``variant`` (None: no notice)."""
        if channel is None:
            return self.baseline
        return self.remediate[f"{channel}/{variant}"]


def hidden_model(seed: int) -> ResponseModel:
    """The world's hidden response rates, drawn from ``seed`` (same seed, same rates)."""
    rng = random.Random(f"iotscope-dynamics-model:{seed}")
    rates: dict[str, float] = {}
    for channel in CHANNELS:
        lo, hi = _CHANNEL_RANGE[channel]
        base = rng.uniform(lo, hi)
        rates[f"{channel}/A"] = round(base, 5)
        rates[f"{channel}/B"] = round(min(0.5, base * rng.uniform(*_VARIANT_FACTOR)), 5)
    return ResponseModel(baseline=round(rng.uniform(*_BASELINE_RANGE), 5), remediate=rates)


def transition(model: ResponseModel, hazard: float) -> npt.NDArray[np.float64]:
    """The one-day transition matrix (rows: from ``STATES``) for a remediation ``hazard``."""
    r, q, i, f = hazard, model.replace, model.infect, model.revert
    return np.array(
        [
            [1 - r - q - i, i, r, q],
            [0.0, 1 - r - q, r, q],
            [f, 0.0, 1 - f, 0.0],
            [0.0, 0.0, 0.0, 1.0],
        ]
    )


def state_distribution(
    model: ResponseModel, channel: str | None, variant: str | None, days: int, notified_day: int = 0
) -> npt.NDArray[np.float64]:
    """Exact probability of each state on day ``days`` for a device weak (or infected, at the
    model's share) on day 0 and notified on ``notified_day`` (``channel`` None: never)."""
    p = np.array([1 - model.infected_share, model.infected_share, 0.0, 0.0])
    before = transition(model, model.baseline)
    after = transition(model, model.hazard(channel, variant))
    for day in range(days):
        p = p @ (after if channel is not None and day >= notified_day else before)
    return p


def first_remediation_survival(hazard: float, days: int) -> list[float]:
    """P(no remediation yet by day t), t = 0..days, for the net (cause-specific) hazard:
    what Kaplan-Meier estimates when replacement censors (geometric: (1 - h)^t)."""
    return [(1 - hazard) ** t for t in range(days + 1)]


# -- subscribers and leases -----------------------------------------------------------------
@dataclass(frozen=True)
class Lease:
    address: str
    start: datetime
    end: datetime | None
    subscriber_id: str


def subscriber_ids(manifest: LabManifest) -> list[str]:
    """Each lab device's subscriber: the lab's lease logs name it (``lab._leases``)."""
    return [
        lab_subscriber(d.isp, str(d.ip), manifest.seed) if d.isp else f"none-{d.ip}"
        for d in manifest.devices
    ]


def write_leases(leases: Iterable[Lease], path: Path) -> int:
    """Write a lease log (header ``address,start,end,subscriber_id``; ISO 8601 UTC)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["address", "start", "end", "subscriber_id"])
        for lease in leases:
            end = lease.end.isoformat().replace("+00:00", "Z") if lease.end else ""
            out.writerow(
                [lease.address, lease.start.isoformat().replace("+00:00", "Z"), end,
                 lease.subscriber_id]
            )  # fmt: skip
            n += 1
    return n


# -- the simulation -------------------------------------------------------------------------
@dataclass(frozen=True)
class Treatment:
    """Who is notified: per device index, the notice's day, channel and variant."""

    day: int
    channel: str
    variant: str


@dataclass
class Simulation:
    """The lab over ``days`` days: states[day, i] and address[day, i] (an IPv4 integer) of
    device i (``devices[i]`` is the manifest index), online[day, i] for the re-checks."""

    start: datetime
    days: int
    devices: list[int]
    subscribers: list[str]
    states: npt.NDArray[np.int8]
    address: npt.NDArray[np.uint32]
    online: npt.NDArray[np.bool_]
    leases: list[Lease]
    model: ResponseModel
    treatments: dict[int, Treatment] = field(default_factory=dict)
    everyone: npt.NDArray[np.uint32] | None = None  # address[day, n] of every manifest device

    def day_of(self, when: datetime) -> int:
        return max(0, min(self.days, (when - self.start) // timedelta(days=1)))

    def index_at(self, day: int) -> dict[int, int]:
        """address -> device index (position in ``devices``) on ``day``."""
        return {int(a): i for i, a in enumerate(self.address[day])}


def _draw_states(
    model: ResponseModel,
    hazards: npt.NDArray[np.float64],
    notified: npt.NDArray[np.int64],
    days: int,
    rng: np.random.Generator,
) -> npt.NDArray[np.int8]:
    n = len(hazards)
    states = np.empty((days + 1, n), dtype=np.int8)
    states[0] = np.where(rng.random(n) < model.infected_share, INFECTED, WEAK)
    for day in range(days):
        now = states[day]
        r = np.where(notified <= day, hazards, model.baseline)
        u = rng.random(n)
        nxt = now.copy()
        live = (now == WEAK) | (now == INFECTED)
        fix = live & (u < r)
        gone = live & ~fix & (u < r + model.replace)
        catch = (now == WEAK) & ~fix & ~gone & (u < r + model.replace + model.infect)
        back = (now == REMEDIATED) & (u < model.revert)
        nxt[fix], nxt[gone], nxt[catch], nxt[back] = REMEDIATED, REPLACED, INFECTED, WEAK
        states[day + 1] = nxt
    return states


def _move(
    manifest: LabManifest, start: datetime, days: int, rate: float
) -> tuple[npt.NDArray[np.uint32], list[Lease]]:
    """Every lab device's address per day and the lease log, from the lab's lease generator
    (``lab._leases``: each subscriber moves to a free address of its ISP with probability
    ``rate`` a day; an address left may go to another subscriber later). ``address[d, n]``
    is the address manifest device ``n`` answers at on ``start + d`` days, the instant of day
    ``d``'s re-check (a device outside every ISP stays where it is)."""
    rows = lease_log(manifest.isps, manifest.devices, manifest.seed, days, rate, start)
    by_sub: dict[str, list[Lease]] = {}
    for r in rows:
        by_sub.setdefault(r.subscriber_id, []).append(
            Lease(r.address, r.start, r.end, r.subscriber_id)
        )
    address = np.empty((days + 1, len(manifest.devices)), dtype=np.uint32)
    instants = [start + timedelta(days=d) for d in range(days + 1)]
    for n, sub in enumerate(subscriber_ids(manifest)):
        held = sorted(by_sub.get(sub, []), key=lambda x: x.start)
        if not held:
            address[:, n] = int(manifest.devices[n].ip)
            continue
        k = 0
        for day, when in enumerate(instants):
            while k + 1 < len(held) and held[k + 1].start <= when:
                k += 1
            address[day, n] = int(ipaddress.IPv4Address(held[k].address))
    leases = sorted((x for v in by_sub.values() for x in v), key=lambda x: (x.start, x.address))
    return address, leases


def _ip(value: int | np.integer[Any]) -> str:
    return str(ipaddress.IPv4Address(int(value)))


def weak_devices(manifest: LabManifest) -> list[int]:
    """Manifest indexes of the devices a survey would report weak (a weak or open login)."""
    return [
        i
        for i, d in enumerate(manifest.devices)
        if not d.hostile and any(c.weak for c in d.credentials)
    ]


def simulate(
    manifest: LabManifest,
    treatments: Mapping[int, Treatment],
    days: int,
    start: datetime,
    seed: int,
    model: ResponseModel | None = None,
    devices: Sequence[int] | None = None,
) -> Simulation:
    """Run the lab's weak devices (or ``devices``, manifest indexes) for ``days`` days from
    ``start``. ``treatments`` maps a manifest index to its notice; the others are not
    notified within the window (the holdout, and any device not found)."""
    model = model or hidden_model(seed)
    chosen = list(devices) if devices is not None else weak_devices(manifest)
    rng = np.random.default_rng([seed, 0x10CA1])
    hazards = np.array(
        [model.hazard(t.channel, t.variant) if (t := treatments.get(i)) else model.baseline
         for i in chosen], dtype=np.float64,
    )  # fmt: skip
    never = days + 1
    notified = np.array([t.day if (t := treatments.get(i)) else never for i in chosen])
    states = _draw_states(model, hazards, notified, days, rng)
    all_subs = subscriber_ids(manifest)
    subs = [all_subs[i] for i in chosen]
    everyone, leases = _move(manifest, start, days, model.address_change)
    address = everyone[:, chosen]
    online = rng.random((days + 1, len(chosen))) >= model.offline
    position = {dev: k for k, dev in enumerate(chosen)}
    kept = {position[i]: t for i, t in treatments.items() if i in position}
    return Simulation(start, days, chosen, subs, states, address, online, leases, model, kept,
                      everyone)  # fmt: skip


# -- the truth ------------------------------------------------------------------------------
def truth(sim: Simulation, follow_up_day: int) -> dict[str, Any]:
    """The true effects (never read by an estimator): per channel/variant and per channel
    (variants weighted as they were assigned), P(remediated on ``follow_up_day``), its
    difference from the never-notified holdout, the net survival of first remediation and its
    median; plus each device's event days."""
    model = sim.model
    arms: dict[str, list[Treatment]] = {}
    for t in sim.treatments.values():
        arms.setdefault(f"{t.channel}/{t.variant}", []).append(t)
    hold = float(state_distribution(model, None, None, follow_up_day)[REMEDIATED])
    per_arm: dict[str, dict[str, Any]] = {}
    for arm, ts in sorted(arms.items()):
        channel, variant = arm.split("/")
        day = min(t.day for t in ts)
        p = state_distribution(model, channel, variant, follow_up_day, day)[REMEDIATED]
        per_arm[arm] = {"hazard": model.hazard(channel, variant), "n": len(ts),
                        "remediated": float(p), "difference": float(p - hold),
                        "survival": first_remediation_survival(model.hazard(channel, variant),
                                                               sim.days)}  # fmt: skip
    per_channel: dict[str, dict[str, Any]] = {}
    for channel in sorted({a.split("/")[0] for a in per_arm}):
        mine = {a: v for a, v in per_arm.items() if a.startswith(channel + "/")}
        total = sum(v["n"] for v in mine.values())
        w = {a: v["n"] / total for a, v in mine.items()}
        surv = [sum(w[a] * v["survival"][t] for a, v in mine.items()) for t in range(sim.days + 1)]
        rem = sum(w[a] * v["remediated"] for a, v in mine.items())
        per_channel[channel] = {"n": total, "remediated": rem, "difference": rem - hold,
                                "survival": surv, "median_days": _median(surv)}  # fmt: skip
    return {
        "model": asdict(model) | {"remediate": dict(model.remediate)},
        "follow_up_day": follow_up_day,
        "holdout": {
            "remediated": float(hold),
            "hazard": model.baseline,
            "survival": first_remediation_survival(model.baseline, sim.days),
            "median_days": _median(first_remediation_survival(model.baseline, sim.days)),
        },
        "arms": per_arm,
        "channels": per_channel,
        "devices": device_events(sim),
    }


def _median(survival: Sequence[float]) -> int | None:
    return next((t for t, s in enumerate(survival) if s <= 0.5), None)


def device_events(sim: Simulation) -> list[dict[str, Any]]:
    """Per device: subscriber, first address, the days it changed state, and its moves."""
    out = []
    changed = np.diff(sim.states, axis=0) != 0
    moved = np.diff(sim.address.astype(np.int64), axis=0) != 0
    for i, dev in enumerate(sim.devices):
        t = sim.treatments.get(i)
        events = [{"day": int(d) + 1, "state": STATES[sim.states[d + 1, i]]}
                  for d in np.flatnonzero(changed[:, i])]  # fmt: skip
        moves = [{"day": int(d) + 1, "address": _ip(sim.address[d + 1, i])}
                 for d in np.flatnonzero(moved[:, i])]  # fmt: skip
        out.append({"manifest_index": dev, "subscriber_id": sim.subscribers[i],
                    "address": _ip(sim.address[0, i]), "start": STATES[sim.states[0, i]],
                    "notice": asdict(t) if t else None, "events": events,
                    "moves": moves})  # fmt: skip
    return out


def write_truth(data: Mapping[str, Any], path: Path) -> None:
    """The truth file (JSON). Estimators never read it; benchmarks and tests compare with it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, default=str), encoding="utf-8")


# -- what a re-check or a telescope would observe -------------------------------------------
@dataclass(frozen=True)
class LabObservation:
    """What answers at an address on a day: the device's identity and whether it still
    accepts its weak login (``exposed``)."""

    address: str
    identity: dict[str, str | None]
    exposed: bool
    state: str


class LabState:
    """The simulated lab seen from outside, day by day (what the simulated re-check backend
    and the simulated telescope read): never the hazards, only the states they produced."""

    def __init__(self, manifest: LabManifest, sim: Simulation) -> None:
        self.manifest = manifest
        self.sim = sim
        self._index: dict[int, dict[int, int]] = {}

    def observe(self, address: str, when: datetime) -> LabObservation | None:
        """The device at ``address`` at ``when``; None when none is there or it is offline."""
        day = self.sim.day_of(when)
        index = self._index.get(day)
        if index is None:
            index = self._index[day] = self.sim.index_at(day)
        i = index.get(int(ipaddress.IPv4Address(address)))
        if i is None or not self.sim.online[day, i]:
            return None
        state = int(self.sim.states[day, i])
        dev = self.sim.devices[i]
        shown = replacement_of(self.manifest, dev) if state == REPLACED else dev
        d = self.manifest.devices[dev if shown is None else shown]
        identity = {"vendor": d.vendor, "product": d.product, "model": d.model}
        if shown is None:  # a new unit of the same model: told apart by its new serial
            identity["model"] = f"{d.model or d.product} (new unit)"
        return LabObservation(address, identity, state in (WEAK, INFECTED), STATES[state])

    def scanning(self, day: int) -> list[tuple[str, int]]:
        """(address, manifest index) of every device infected (so scanning) on ``day``."""
        hot = np.flatnonzero(self.sim.states[day] == INFECTED)
        return [(_ip(self.sim.address[day, i]), self.sim.devices[i]) for i in hot]


def replacement_of(manifest: LabManifest, index: int, tries: int = 256) -> int | None:
    """The manifest device whose identity a replacement of device ``index`` shows: the first
    benign device of another vendor and product on a fixed stride (deterministic), or None
    when ``tries`` steps find none (a lab of one model: the replacement is a new unit)."""
    mine = manifest.devices[index]
    n = len(manifest.devices)
    for step in range(1, min(n, tries + 1)):
        k = (index + step * 7919) % n
        other = manifest.devices[k]
        if not other.hostile and (other.vendor, other.product) != (mine.vendor, mine.product):
            return k
    return None


# -- the lab as it stands on a simulated day (for a real re-survey) -------------------------
def world_at(world: World, sim: Simulation, day: int, seed: int = 0) -> World:
    """The world on ``day``: remediated devices accept only a new strong password (a service
    that needed no login is switched off), replaced devices show another device's services,
    moved subscribers' devices listen at their new address, offline devices are absent.
    Bind it with ``start_lab`` to re-survey the lab for real."""
    rng = random.Random(f"iotscope-dynamics-world:{seed}:{day}")
    where = {dev: i for i, dev in enumerate(sim.devices)}
    out: list[DeviceRuntime] = []
    for n, runtime in enumerate(world.devices):
        i = where.get(n)
        if i is None:
            out.append(
                runtime if sim.everyone is None else _moved(runtime, _ip(sim.everyone[day, n]))
            )
            continue
        if not sim.online[day, i]:
            continue
        state = int(sim.states[day, i])
        other = replacement_of(world.manifest, n) if state == REPLACED else None
        if state == REPLACED and other is not None:
            runtime = world.devices[other]
        elif state == REPLACED:
            runtime = _remediated(runtime, rng)  # a new unit of the same model
        elif state == REMEDIATED:
            runtime = _remediated(runtime, rng)
        out.append(_moved(runtime, _ip(sim.address[day, i])))
    manifest = world.manifest.model_copy(update={"devices": tuple(r.device for r in out)})
    return World(manifest=manifest, devices=tuple(out))


def _remediated(runtime: DeviceRuntime, rng: random.Random) -> DeviceRuntime:
    services = []
    for svc in runtime.services:
        if svc.pair is not None and svc.pair.open:
            continue  # no login to change: the owner switched the service off
        if svc.pair is not None and svc.pair.weak:
            svc = ServiceRuntime(svc.spec, Pair(svc.pair.username, strong_password(rng), False))
        services.append(svc)
    kept = {(s.spec.port, s.spec.transport) for s in services}
    creds = tuple(c.model_copy(update={"weak": False, "password": "(changed)"}) if c.weak else c
                  for c in runtime.device.credentials if c.username is not None)  # fmt: skip
    device = runtime.device.model_copy(update={
        "services": tuple(s for s in runtime.device.services if (s.port, s.transport) in kept),
        "credentials": creds,
    })  # fmt: skip
    return replace(runtime, device=device, services=tuple(services))


def _moved(runtime: DeviceRuntime, address: str) -> DeviceRuntime:
    if runtime.ip == address:
        return runtime
    device = runtime.device.model_copy(update={"ip": ipaddress.IPv4Address(address)})
    return replace(runtime, ip=address, device=device)


# -- a simulation on disk (``iotscope lab simulate``) ---------------------------------------
def save_simulation(sim: Simulation, directory: Path) -> None:
    """``state.npz`` (what can be observed: states, addresses, online, devices), ``leases.csv``
    (the ISPs' lease log) in ``directory``; the hidden rates go only to ``truth.json``."""
    directory.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        directory / "state.npz", states=sim.states, address=sim.address, online=sim.online,
        devices=np.array(sim.devices), subscribers=np.array(sim.subscribers),
        start=np.array([sim.start.isoformat()]),
        everyone=sim.everyone if sim.everyone is not None else np.zeros((0, 0), np.uint32),
    )  # fmt: skip
    write_leases(sim.leases, directory / "leases.csv")


def load_simulation(directory: Path) -> Simulation:
    """The observable side of a saved simulation (its hazards are not in the file)."""
    try:
        data = np.load(directory / "state.npz")
        start = datetime.fromisoformat(str(data["start"][0]))
        everyone = data["everyone"] if data["everyone"].size else None
        states, address, online = data["states"], data["address"], data["online"]
        devices = [int(x) for x in data["devices"]]
        subscribers = [str(x) for x in data["subscribers"]]
    except (OSError, KeyError, ValueError) as exc:
        raise ConfigError("not a lab simulation", path=str(directory), reason=str(exc)) from exc
    hidden = ResponseModel(baseline=0.0, remediate={})  # never read by an observer
    return Simulation(start, states.shape[0] - 1, devices, subscribers, states, address, online,
                      [], hidden, {}, everyone)  # fmt: skip


def load_state(manifest: LabManifest, directory: Path) -> LabState:
    """What the simulated re-check backend reads: the saved simulation over ``manifest``."""
    return LabState(manifest, load_simulation(directory))
