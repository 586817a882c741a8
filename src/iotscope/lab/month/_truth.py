"""The month world's ground truth as JSON-ready data (``truth.json``); no estimator reads it.

Keys: ``seed, start, days, devices, hidden, isps, lineages, c2, totals, interventions,
series, survey_rounds, followup`` (the notice campaign's notified devices and when each was
fixed: :func:`iotscope.lab.month._followup.followup_truth`). Lineages and C2s list everything
that existed in the month, seen or not; ``seen_by`` names the ISPs whose reports contain
them, so capture-recapture estimates can be checked against ``totals``. Each intervention
carries its hidden factor and, per metric, the daily series with and without it (same random
draws) and the effect over its post period.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from iotscope.lab.month._simulate import Action
from iotscope.lab.month._world import MonthWorld, Run
from iotscope.tenancy import site_name

Series = npt.NDArray[np.int64]
SURVEY_EVERY = 7


def survey_days(days: int) -> list[int]:
    """The days a weekly survey round runs (0, 7, 14, ...)."""
    return list(range(0, days, SURVEY_EVERY))


def endpoint(ip: str, port: int) -> str:
    return f"{ip}:{port}"


def _reported(run: Run) -> tuple[Series, Series, Series]:
    c = run.contacts
    m = c.reported
    return c.day[m], c.device[m], c.c2[m]


def distinct_bots(world: MonthWorld, run: Run, keep: Callable[[Series, Series], Any]) -> Series:
    """Per day, distinct devices among the reported contacts that ``keep(device, c2)``."""
    day, dev, c2 = _reported(run)
    sel = keep(dev, c2)
    key = np.unique(day[sel] * len(world.devices) + dev[sel])
    return np.bincount(key // len(world.devices), minlength=world.days).astype(np.int64)


def _c2_lineage(run: Run) -> Series:
    return np.array([c.lineage for c in run.c2s] or [0], dtype=np.int64)


def _metrics(world: MonthWorld, run: Run, a: Action) -> dict[str, Series]:
    lin_of = _c2_lineage(run)
    isp = world.devices.isp
    if a.kind == "c2_takedown":
        return {
            "observed_bots": distinct_bots(world, run, lambda d, c: lin_of[c] == a.lineage),
            "true_bots": (run.states.lineage == a.lineage).sum(axis=1).astype(np.int64),
        }
    if a.kind in ("blocklist", "bgp_blackhole"):
        day, dev, c2 = _reported(run)
        names = set(a.targets)
        hit = np.array([(c.ip, c.port) in names for c in run.c2s] or [False])
        mine = isp[dev] == a.isp
        return {
            "contacts": np.bincount(day[mine], minlength=world.days).astype(np.int64),
            "target_contacts": np.bincount(day[mine & hit[c2]], minlength=world.days).astype(
                np.int64
            ),
        }
    mine_dev = isp == a.isp
    return {
        "true_infected": ((run.states.lineage >= 0) & mine_dev).sum(axis=1).astype(np.int64),
        "observed_infected": distinct_bots(world, run, lambda d, c: isp[d] == a.isp),
        "weak": (run.states.weak & mine_dev).sum(axis=1).astype(np.int64),
    }


PRIMARY = {
    "c2_takedown": "observed_bots",
    "blocklist": "contacts",
    "bgp_blackhole": "target_contacts",
    "notice_campaign": "true_infected",
}


def _effect(fact: Series, cf: Series, day: int) -> dict[str, Any]:
    post_f, post_cf = fact[day:].astype(float), cf[day:].astype(float)
    return {
        "factual": fact.tolist(),
        "counterfactual": cf.tolist(),
        "post_mean_factual": float(post_f.mean()),
        "post_mean_counterfactual": float(post_cf.mean()),
        "effect_abs": float((post_f - post_cf).mean()),
        "effect_rel": float(post_f.sum() / post_cf.sum() - 1.0) if post_cf.sum() else None,
    }


def intervention_row(world: MonthWorld, a: Action) -> dict[str, Any]:
    """What the store's ``interventions`` table holds for ``a`` (no effect, no factor)."""
    if a.kind == "c2_takedown" or a.kind == "bgp_blackhole" or a.kind == "blocklist":
        kind, target = "c2", ",".join(endpoint(*t) for t in a.targets)
    else:
        kind, target = "devices", "weak"
    return {
        "id": f"lab-{world.seed}-{a.id}",
        "kind": a.kind,
        "isp": world.isps[a.isp].name if a.isp is not None else None,
        "target_kind": kind,
        "target": target,
        "start": world.day_start(a.day),
        "end": world.day_start(a.end) if a.end is not None else None,
        "source": "lab",
        "note": f"lab month world seed {world.seed}",
    }


def _intervention(world: MonthWorld, a: Action) -> dict[str, Any]:
    row = intervention_row(world, a)
    fact = _metrics(world, world.run, a)
    cf = _metrics(world, world.counterfactuals[a.id], a)
    return {
        **{k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in row.items()},
        "day": a.day,
        "lineage": world.lineages[a.lineage].id if a.lineage is not None else None,
        "hidden_factor": a.factor,
        "primary_metric": PRIMARY[a.kind],
        "metrics": {m: _effect(fact[m], cf[m], a.day) for m in fact},
    }


def _seen_by(world: MonthWorld) -> tuple[dict[int, set[str]], dict[int, set[str]]]:
    """C2 index -> ISPs reporting it; lineage index -> ISPs reporting any of its C2s."""
    _, dev, c2 = _reported(world.run)
    lin_of = _c2_lineage(world.run)
    c2_seen: dict[int, set[str]] = {}
    lin_seen: dict[int, set[str]] = {}
    if len(c2):
        for c, k in np.unique(np.stack([c2, world.devices.isp[dev]]), axis=1).T.tolist():
            c2_seen.setdefault(c, set()).add(world.isps[k].name)
            lin_seen.setdefault(int(lin_of[c]), set()).add(world.isps[k].name)
    return c2_seen, lin_seen


def truth(world: MonthWorld) -> dict[str, Any]:
    """The ground truth (JSON-ready)."""
    run = world.run
    c2_seen, lin_seen = _seen_by(world)
    contacted = set(run.contacts.c2.tolist())
    ever = run.states.lineage
    isp = world.devices.isp
    lineages: list[dict[str, Any]] = []
    for i, x in enumerate(world.lineages):
        if x.start >= world.days or x.end <= 0:
            continue  # not active in the month
        bots = (ever == i).any(axis=0)
        lineages.append({
            "id": x.id, "family": x.family, "start_day": x.start, "end_day": x.end,
            "c2": [endpoint(c.ip, c.port) for c in run.c2s if c.lineage == i],
            "bots": int(bots.sum()),
            "bots_by_isp": {w.name: int((bots & (isp == k)).sum())
                            for k, w in enumerate(world.isps)},
            "seen_by": sorted(lin_seen.get(i, ())),
            "strength": x.strength, "foreign": max(x.reach) < 0.5,
        })  # fmt: skip
    c2: list[dict[str, Any]] = [
        {"ip": c.ip, "port": c.port, "endpoint": endpoint(c.ip, c.port),
         "lineage": world.lineages[c.lineage].id, "family": world.lineages[c.lineage].family,
         "position": c.position, "start_day": c.start, "end_day": c.end,
         "active_from": world.day_start(max(c.start, 0)).isoformat(),
         "active_to": world.day_start(min(c.end, world.days)).isoformat(),
         "contacted": i in contacted, "seen_by": sorted(c2_seen.get(i, ()))}
        for i, c in enumerate(run.c2s)
    ]  # fmt: skip
    totals = {
        "c2": len(c2), "c2_contacted": sum(x["contacted"] for x in c2),
        "c2_seen": sum(bool(x["seen_by"]) for x in c2),
        "lineages": len(lineages),
        "lineages_with_bots": sum(x["bots"] > 0 for x in lineages),
        "lineages_seen": sum(bool(x["seen_by"]) for x in lineages),
        "bots": int((ever >= 0).any(axis=0).sum()),
        "bots_in_several_lineages": int((_distinct_lineages(ever) > 1).sum()),
    }  # fmt: skip
    from iotscope.lab.month._followup import followup_truth  # it reads this module
    from iotscope.lab.month._labels import labels

    return {
        "seed": world.seed, "start": world.start.isoformat(), "days": world.days,
        "devices": len(world.devices), "hidden": _hidden(world),
        "isps": [_isp(world, k) for k in range(len(world.isps))],
        "lineages": lineages, "c2": c2, "totals": totals,
        "interventions": [_intervention(world, a) for a in run.actions],
        "series": _series(world), "survey_rounds": survey_days(world.days),
        "followup": followup_truth(world),
        "jcstar": [{"vendor": x.vendor, "model": x.model, "level": x.level}
                   for x in labels(world)],
    }  # fmt: skip


def _distinct_lineages(lin: npt.NDArray[np.int16]) -> Series:
    """Per device, how many lineages held it during the month (re-infection by another)."""
    s = np.sort(lin, axis=0)
    new = np.vstack([s[:1] >= 0, (s[1:] != s[:-1]) & (s[1:] >= 0)])
    return new.sum(axis=0).astype(np.int64)


def _hidden(world: MonthWorld) -> dict[str, Any]:
    h = world.hidden
    out = {k: v for k, v in vars(h).items() if not isinstance(v, tuple)}
    out["detect"] = {w.name: p for w, p in zip(world.isps, h.detect, strict=True)}
    out["names_family"] = {w.name: p for w, p in zip(world.isps, h.names_family, strict=True)}
    return out


def _isp(world: MonthWorld, k: int) -> dict[str, Any]:
    x = world.isps[k]
    return {"name": x.name, "site": site_name(x.name), "asn": x.asn, "prefix": x.prefix,
            "prefectures": list(x.prefectures), "subscribers": x.subscribers,
            "devices": int((world.devices.isp == k).sum())}  # fmt: skip


def _series(world: MonthWorld) -> dict[str, Any]:
    """True daily counts per ISP: infected, weak, vulnerable devices."""
    st, isp = world.run.states, world.devices.isp
    vuln = world.products.vulnerable[world.devices.profile[None, :], st.version]
    out: dict[str, Any] = {}
    for k, x in enumerate(world.isps):
        mine = isp == k
        out[x.name] = {
            "infected": ((st.lineage >= 0) & mine).sum(axis=1).tolist(),
            "weak": (st.weak & mine).sum(axis=1).tolist(),
            "vulnerable": (vuln & mine).sum(axis=1).tolist(),
        }
    return out
