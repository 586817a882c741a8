"""``load``: write a month world into the store the way the real pipeline would fill it.

- weekly survey rounds into ``surveys``/``findings`` (one finding per device that answers: its
  login service, identity with vendor, model, firmware version and CPE, login outcome, CVEs);
- each ISP's reported C2 contacts into ``c2_contacts`` (bots named by the ISP's own key);
- the interventions (without their effect) into ``interventions``;
- daily ``region_counts`` per ISP and prefecture: weak and vulnerable devices (true state, as
  the survey reports them to the ISP) and infected ones (bots the ISP's detector reported);
- the ISP registry, lease logs, subscriber counts and telescope sightings (``_sources``);
- each ISP's daily detection runs and candidates (``_detections``);
- the notice campaign's notices, their follow-up subjects and re-checks (``_followup``);
- the world's JC-STAR registry (``_labels``), as ``iotscope makers jcstar import`` stores it.
Every write is a bulk upsert by natural key: loading the same world twice changes nothing.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np

from iotscope.lab._catalog import Profile
from iotscope.lab.month._detections import load_detections, publish_detections
from iotscope.lab.month._followup import load_followup
from iotscope.lab.month._labels import labels
from iotscope.lab.month._sources import load_sources
from iotscope.lab.month._truth import intervention_row, survey_days
from iotscope.lab.month._world import MonthWorld
from iotscope.makers import save_labels
from iotscope.prefectures import PREFECTURES
from iotscope.store import Store
from iotscope.store import _schema as s
from iotscope.store.centre import (
    C2Contact,
    Intervention,
    RegionCount,
    pseudonym,
    save_c2_contacts,
    save_interventions,
    save_region_counts,
    upsert_rows,
)
from iotscope.tenancy import CENTRE


@dataclass(frozen=True)
class Loaded:
    """Rows written per table."""

    surveys: int
    findings: int
    c2_contacts: int
    interventions: int
    region_counts: int
    isps: int
    leases: int
    isp_subscribers: int
    sightings: int
    c2_candidates: int
    published: int = 0  # C2s the ISPs published as new (0 on a reload: already published)
    notices: int = 0  # the notice campaign's notices (iotscope.lab.month._followup)
    followup_checks: int = 0  # their re-checks, every round
    jcstar_labels: int = 0  # registrations added (0 on a reload)


def load(store: Store, world: MonthWorld) -> Loaded:
    """Write ``world`` into ``store`` (idempotent)."""
    surveys, findings = survey_rows(world)
    upsert_rows(store, s.surveys, surveys)
    upsert_rows(store, s.findings, findings)
    n_contacts = save_c2_contacts(store, CENTRE, contact_rows(world))
    actions = [Intervention(**intervention_row(world, a)) for a in world.run.actions]
    n_actions = save_interventions(store, CENTRE, actions)
    n_counts = save_region_counts(store, CENTRE, region_rows(world))
    more = load_sources(store, world)
    n_cands = load_detections(store, world)
    published = publish_detections(store, world)
    followed = load_followup(store, world)
    added, _ = save_labels(store, labels(world), f"lab month seed {world.seed}", world.start)
    return Loaded(len(surveys), len(findings), n_contacts, n_actions, n_counts, **more,
                  c2_candidates=n_cands, published=published, **followed,
                  jcstar_labels=added)  # fmt: skip


def survey_id(world: MonthWorld, day: int) -> str:
    return f"lab-month-{world.seed}-d{day:02d}"


def _login_service(p: Profile) -> tuple[str, int, str]:
    """(service, port, login protocol) the survey logs into for this profile."""
    proto = p.defaults[0].protocol if p.defaults else p.services[0].service
    names = {"http": ("http", "https")}.get(proto, (proto,))
    svc = next((x for x in p.services if x.service in names), p.services[0])
    login = "http" if svc.service in ("http", "https") else svc.service
    return svc.service, svc.port, login


def _identity(p: Profile, model: int, version: int) -> dict[str, Any]:
    v = p.versions[version].version
    return {"vendor": p.vendor, "product": p.product, "model": p.all_models()[model],
            "version": v, "device_type": p.device_type,
            "cpe": p.cpe.replace("{version}", v) if p.cpe else None}  # fmt: skip


def _login(p: Profile, proto: str, weak: bool) -> dict[str, Any]:
    cred = p.defaults[0] if p.defaults else None
    if weak and cred is not None:
        outcome = "accepted" if cred.username is not None else "no_auth"
        return {"protocol": proto, "outcome": outcome, "username": cred.username,
                "credential": f"lab-defaults:{p.id}#0", "attempts": 1, "detail": None}  # fmt: skip
    return {"protocol": proto, "outcome": "rejected", "username": None, "credential": None,
            "attempts": 3, "detail": None}  # fmt: skip


def survey_rows(world: MonthWorld) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One survey per round (scope: every ISP's prefix) and its findings."""
    rng = np.random.default_rng([world.seed, 7])
    dev, st, prof = world.devices, world.run.states, world.products.profiles
    services = [_login_service(p) for p in prof]
    idents: dict[tuple[int, int, int], dict[str, Any]] = {}
    logins: dict[tuple[int, bool], dict[str, Any]] = {}
    surveys, findings = [], []
    for day in survey_days(world.days):
        sid, t0 = survey_id(world, day), world.day_start(day)
        online = np.nonzero(rng.random(len(dev)) >= world.hidden.offline)[0]
        secs = rng.integers(0, 86_400, len(dev))
        for i in online.tolist():
            j, ver, weak = int(dev.profile[i]), int(st.version[day, i]), bool(st.weak[day, i])
            p, (service, port, proto) = prof[j], services[j]
            ident = (j, int(dev.model[i]), ver)
            if ident not in idents:
                idents[ident] = _identity(p, ident[1], ver)
            if (j, weak) not in logins:
                logins[(j, weak)] = _login(p, proto, weak)
            findings.append({
                "survey_id": sid,
                "ip": str(ipaddress.IPv4Address(int(world.addresses[day, i]))),
                "port": port, "transport": "tcp", "service": service,
                "time": t0 + timedelta(seconds=int(secs[i])), "banner": None,
                "identity": idents[ident], "login": logins[(j, weak)], "details": {},
                "cves": list(p.versions[ver].cves),
            })  # fmt: skip
        surveys.append({"id": sid, "started": t0, "finished": t0 + timedelta(days=1),
                        "scope": [x.prefix for x in world.isps], "exclude": [], "ports": [],
                        "shard": None, "counts": {"hosts": len(online)}})  # fmt: skip
    return surveys, findings


def bot_names(world: MonthWorld) -> list[str]:
    """Each device's bot pseudonym, under its own ISP's key."""
    keys = [bytes.fromhex(x.key) for x in world.isps]
    pairs = zip(world.devices.isp.tolist(), world.devices.subscriber, strict=True)
    return [pseudonym(keys[k], sub) for k, sub in pairs]


def contact_rows(world: MonthWorld) -> list[C2Contact]:
    """The contacts each ISP reports (its own subscribers' bots, detected C2s only)."""
    from iotscope.lab.month._contacts import family_named

    c = world.run.contacts
    m = c.reported
    day, dev, c2 = c.day[m], c.device[m], c.c2[m]
    isp = world.devices.isp[dev]
    named = family_named(world.coins, world.hidden, isp, world.run.c2s, c2)
    names = bot_names(world)
    fams = [world.lineages[x.lineage].family for x in world.run.c2s]
    out = []
    cols = (day, dev, c2, c.flows[m], c.first_s[m], c.last_s[m], isp, named)
    for d, i, j, fl, a, b, k, nm in zip(*(x.tolist() for x in cols), strict=True):
        t0, ep = world.day_start(d), world.run.c2s[j]
        out.append(C2Contact(world.isps[k].name, ep.ip, ep.port, fams[j] if nm else None,
                             names[i], t0.date(), t0 + timedelta(seconds=a),
                             t0 + timedelta(seconds=b), fl))  # fmt: skip
    return out


def region_rows(world: MonthWorld) -> list[RegionCount]:
    """Daily weak, vulnerable and infected (reported) devices per ISP and prefecture."""
    dev, st = world.devices, world.run.states
    vuln = world.products.vulnerable[dev.profile[None, :], st.version]
    c = world.run.contacts
    infected = np.zeros_like(st.weak)
    infected[c.day[c.reported], c.device[c.reported]] = True
    npref, out = len(PREFECTURES), []
    cell = dev.isp * npref + dev.pref
    for kind, grid in (("weak", st.weak), ("vulnerable", vuln), ("infected", infected)):
        for d in range(world.days):
            counts = np.bincount(cell[grid[d]], minlength=len(world.isps) * npref)
            for x in np.nonzero(counts)[0].tolist():
                k, p = divmod(x, npref)
                out.append(RegionCount(world.isps[k].name, world.day_start(d).date(),
                                       PREFECTURES[p].code, PREFECTURES[p].name, kind,
                                       int(counts[x])))  # fmt: skip
    return out
