"""The demo's follow-up step, and the lab-month trial the benchmark runs.

A lab month: the lab's weak devices are the findings; each ISP's findings are split at
random into notified-now and a holdout (notified after the month); the notified get a
channel and variant at random; the lab's dynamics then play the month (remediation,
replacement, re-infection, address changes) by their hidden rates; the simulated telescope
stores a day's sightings; follow-up rounds re-check every subject at the subscriber's address
of the day (the lease log) through the simulated backend; the effect is estimated from the
checks alone and, separately, set beside the truth.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from iotscope._output import console, table
from iotscope.followup import (
    TABLE_COLUMNS,
    Effect,
    LeaseBook,
    LeaseRow,
    SimulatedRechecker,
    Subject,
    checks,
    estimate,
    make_subject,
    run_round,
    save_subjects,
    split_holdout,
    subjects,
    with_notice,
)
from iotscope.lab._dynamics import (
    LabState,
    Simulation,
    Treatment,
    simulate,
    subscriber_ids,
    truth,
    weak_devices,
    write_leases,
    write_truth,
)
from iotscope.notify import (
    Contact,
    Device,
    DeviceFinding,
    IspFindings,
    NoticeProfile,
    create_notices,
)
from iotscope.notify._db import save_contacts
from iotscope.records import LabManifest, Sighting
from iotscope.store import Store
from iotscope.tenancy import CENTRE

HOLDOUT_SHARE = 0.2


@dataclass(frozen=True)
class LabFinding:
    """A weak lab device as the survey would report it, attributed to its subscriber."""

    ip: str
    port: int
    finding_time: datetime
    subscriber_id: str
    kind: str
    isp: str
    identity: dict[str, str | None]
    index: int  # manifest index


@dataclass
class Trial:
    simulation: Simulation
    truth: dict[str, Any]
    effect: Effect
    rounds: list[dict[str, Any]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def lab_findings(manifest: LabManifest, start: datetime) -> list[LabFinding]:
    """One finding per weak device (its first weak service), as of ``start``."""
    subs = subscriber_ids(manifest)
    out = []
    for i in weak_devices(manifest):
        d = manifest.devices[i]
        weak = {c.protocol for c in d.credentials if c.weak}
        port = next((s.port for s in d.services if s.service in weak or s.auth is None), 0)
        port = port or (d.services[0].port if d.services else 0)
        ident = {"vendor": d.vendor, "product": d.product, "model": d.model}
        out.append(LabFinding(str(d.ip), port, start, subs[i], "weak_login", d.isp or "-",
                              ident, i))  # fmt: skip
    return out


def lab_contacts(isp: str, subs: list[str], rng: random.Random) -> list[Contact]:
    """Each lab subscriber's contact data: an e-mail address, a mobile number, a postal
    address or none (then only the walled-garden landing page reaches them), at random and
    independent of the device, so the channel the notice takes is a random assignment."""
    out = []
    for sub in subs:
        kind = rng.choice(("email", "sms", "letter", "landing"))
        out.append(Contact(
            isp=isp, subscriber_id=sub,
            email=f"{sub}@mail.example" if kind == "email" else None,
            phone="090-0000-0000" if kind == "sms" else None,
            postal="1-1 Chiyoda, Tokyo" if kind == "letter" else None,
        ))  # fmt: skip
    return out


def _profile(isp: str) -> NoticeProfile:
    slug = isp.lower().replace(" ", "-")
    return NoticeProfile(isp=isp, domain=f"{slug}.example.jp",
                         channels=("email", "sms", "letter", "landing"))  # fmt: skip


def enrol(
    store: Store, findings: list[LabFinding], start: datetime, trial: str, rng: random.Random,
    leases: LeaseBook,
) -> dict[int, Treatment]:  # fmt: skip
    """Randomise every ISP's findings into notified and holdout; notify the first group
    through ``iotscope.notify.create_notices`` (its channel from the subscriber's contact
    data, its variant drawn at random, both recorded with the notice); store the subjects;
    return the lab treatments (manifest index -> notice) for the dynamics."""
    treatments: dict[int, Treatment] = {}
    by_isp: dict[str, list[LabFinding]] = {}
    for f in findings:
        by_isp.setdefault(f.isp, []).append(f)
    later = start + timedelta(days=60)
    for isp, mine in sorted(by_isp.items()):
        now, held = split_holdout(mine, HOLDOUT_SHARE, rng)
        save_contacts(store, CENTRE, lab_contacts(isp, [f.subscriber_id for f in now], rng))
        found = IspFindings(isp, tuple(_device_finding(f) for f in now),
                            lambda ip, when: leases_owner(leases, ip, when))  # fmt: skip
        notices = create_notices(store, CENTRE, found, rng, profile=_profile(isp), now=start)
        sent = {(n.subscriber_id, str(n.ip)): n for n in notices}
        rows: list[Subject] = [make_subject(trial, isp, f, f.identity, start, later) for f in held]
        for f in now:
            n = sent.get((f.subscriber_id, f.ip))
            if n is None:
                continue  # no subscriber at the address (not in the lease log): not notified
            x = make_subject(trial, isp, f, f.identity, start)
            rows.append(with_notice(x, n.id, n.channel, n.variant, start))
            treatments[f.index] = Treatment(0, n.channel, n.variant)
        save_subjects(store, CENTRE, rows)
    return treatments


def leases_owner(leases: LeaseBook, ip: str, when: datetime) -> str | None:
    """The subscriber holding ``ip`` at ``when`` (the lease log read the other way)."""
    return leases.holder_at(ip, when)


def _device_finding(f: LabFinding) -> DeviceFinding:
    device = Device(vendor=f.identity.get("vendor"), product=f.identity.get("product"),
                    model=f.identity.get("model"))  # fmt: skip
    return DeviceFinding(ip=f.ip, port=f.port, time=f.finding_time, kind="weak_login",
                         service="telnet", device=device, protocol="telnet")  # fmt: skip


def store_sightings(store: Store, state: LabState, day: int) -> int:
    """The simulated telescope: a day's scanning devices as sightings (one capture a day,
    12 h ending a minute before the day's re-check, so days never merge)."""
    end = state.sim.start + timedelta(days=day) - timedelta(minutes=1)
    begin = end - timedelta(hours=12)
    rows = [
        Sighting(src=ip, first_seen=begin, last_seen=end, packets=40, targets=40,
                 ports={23: 36, 2323: 4}, mirai_fingerprint=1.0, classification="mirai",
                 sensor="lab-telescope")
        for ip, _ in state.scanning(day)
    ]  # fmt: skip
    capture = f"lab-dynamics-{state.sim.start.date()}-day{day}"
    return store.save_capture("lab-telescope", capture, (begin, end), rows)


def run_trial(
    store: Store,
    manifest: LabManifest,
    seed: int,
    start: datetime,
    days: int = 30,
    every: int = 1,
    out: Path | None = None,
) -> Trial:
    """A lab month (``days``): enrol, simulate, re-check every ``every`` days, estimate."""
    t0 = time.perf_counter()
    rng = random.Random(f"iotscope-trial:{seed}")
    trial = f"lab-{seed}-{start.date()}"
    findings = lab_findings(manifest, start)
    # the month's leases are drawn first (moves do not depend on notices), so the notices
    # resolve subscribers from the same lease log the follow-up reads
    moves = simulate(manifest, {}, days, start, seed)
    book = LeaseBook(LeaseRow(x.address, x.start, x.end, x.subscriber_id) for x in moves.leases)
    treatments = enrol(store, findings, start, trial, rng, book)
    sim = simulate(manifest, treatments, days, start, seed)
    state = LabState(manifest, sim)
    if out is not None:
        write_leases(sim.leases, out / "leases.csv")
    t1 = time.perf_counter()
    backend = SimulatedRechecker(state)
    isps = sorted({f.isp for f in findings})
    rounds = []
    for day in range(every, days + 1, every):
        store_sightings(store, state, day)
        when = start + timedelta(days=day)
        counts: Counter[str] = Counter()
        for isp in isps:
            counts.update(run_round(store, CENTRE, isp, trial, when, backend, book).states)
        rounds.append({"day": day, "states": dict(counts)})
    t2 = time.perf_counter()
    subs = [x for isp in isps for x in subjects(store, CENTRE, isp, trial)]
    done = [c for isp in isps for c in checks(store, CENTRE, isp, trial)]
    effect = estimate(subs, done, days)
    real = truth(sim, days)
    if out is not None:
        write_truth(real, out / "truth.json")
    t3 = time.perf_counter()
    seconds = {"enrol_simulate": t1 - t0, "rounds": t2 - t1, "estimate": t3 - t2}
    return Trial(sim, real, effect, rounds, seconds)


def coverage(effect: Effect, real: dict[str, Any]) -> list[dict[str, Any]]:
    """Per channel and channel/variant: the estimate, its 95 % intervals and the truth, and
    whether the interval holds the true value (proportion and difference from the holdout);
    the same for the simultaneous 95 % intervals over the group's family."""
    rows = []
    for name, true in [*real["channels"].items(), *real["arms"].items()]:
        g = effect.group(name)
        p, d = g.remediated, g.difference
        t, td = g.together or p, g.together_difference or d
        rows.append({
            "group": name, "n": p.n, "estimate": p.estimate, "ci95": [p.low, p.high],
            "true": true["remediated"], "covered": bool(p.low <= true["remediated"] <= p.high),
            "difference": d.estimate if d else None,
            "difference_ci95": [d.low, d.high] if d else None,
            "true_difference": true["difference"],
            "difference_covered": bool(d.low <= true["difference"] <= d.high) if d else None,
            "family": g.family, "ci95_simultaneous": [t.low, t.high],
            "covered_simultaneous": bool(t.low <= true["remediated"] <= t.high),
            "difference_covered_simultaneous":
                bool(td.low <= true["difference"] <= td.high) if td else None,
        })  # fmt: skip
    return rows


def follow_up_step(store: Store, manifest: LabManifest, seed: int, start: datetime,
                   work: Path, days: int = 30) -> Trial:  # fmt: skip
    """Demo step: a lab month of follow-up rounds (simulated re-check), the measured effect
    table, and the truth beside it."""
    console.rule("[bold]7. follow-up: a simulated lab month after the notices")
    trial = run_trial(store, manifest, seed, start, days, every=3, out=work / "followup")
    last = trial.rounds[-1]["states"] if trial.rounds else {}
    states = ", ".join(f"{k} {v}" for k, v in sorted(last.items()))
    console.print(f"{sum(last.values())} subjects re-checked every 3 days for {days} days "
                  f"(simulated re-check; lease log {work / 'followup' / 'leases.csv'}); "
                  f"day {days}: {states}")  # fmt: skip
    console.print(table(f"measured effect on day {days} (remediated among answering)",
                        TABLE_COLUMNS, trial.effect.table_rows()))  # fmt: skip
    rows = [(r["group"], f"{r['estimate']:.1%}", f"[{r['ci95'][0]:.1%}, {r['ci95'][1]:.1%}]",
             f"{r['true']:.1%}", "yes" if r["covered"] else "NO",
             "yes" if r["covered_simultaneous"] else "NO")
            for r in coverage(trial.effect, trial.truth) if "/" not in r["group"]]  # fmt: skip
    console.print(table("estimate vs. the lab's hidden truth (truth.json)",
                        ["channel", "estimate", "95% CI", "true", "inside",
                         "inside (all channels together)"], rows))  # fmt: skip
    return trial
