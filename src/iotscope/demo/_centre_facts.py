"""Facts the live demo found, looked up in the centre's JSON API (``/centre/api/views/<name>``).

:func:`expect` reads what the earlier steps produced from their own records, not from the
centre's tables (the survey's findings with the lab manifest's ISPs and prefectures, the
stored C2 candidates of each site's newest detection run, the interventions the demo took);
:func:`check_facts` asks the served centre, as the centre role, whether its views show them:

- a C2 the ISPs' detection found is a member of a lineage, and the correlation view names
  exactly the ISPs whose detection found it;
- the survey's weak devices, per prefecture, are the regions view's weak counts on the
  survey's day; the makers view counts all of them, and the commonest weak vendor in the lab;
- the blocklist and notice campaign the demo carried out are among the effect view's
  interventions;
- the weak-login KPI's national value is the weak devices per 10,000 lab subscribers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from iotscope.isp._regions import prefecture
from iotscope.makers import vendor_key
from iotscope.records import LabManifest
from iotscope.store import Store
from iotscope.store._hosts import WEAK_OUTCOMES
from iotscope.tenancy import site_name

__all__ = ["Expected", "Fact", "check_facts", "expect"]

PER = 10_000  # the KPI's denominator unit: per 10,000 subscribers


@dataclass(frozen=True, slots=True)
class Fact:
    """One fact checked: what, where (an API path) and whether the view showed it."""

    what: str
    path: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Expected:
    """What the live steps found (module docstring), from their own records."""

    c2: str | None  # "ip:port"
    c2_isps: frozenset[str]
    survey_day: str  # ISO date of the survey's first finding
    traffic_day: str  # ISO date of the lab traffic's first C2 contact (its own clock)
    weak: int  # distinct weak addresses the survey found
    weak_by_pref: dict[str, int]  # JIS code -> weak addresses of ISPs there
    vendor: str | None  # the lab's commonest vendor among weak devices
    subscribers: int
    acted: frozenset[tuple[str, str]] = field(default_factory=frozenset)  # (kind, ISP)


def _c2(store: Store, isp_of: dict[str, str]) -> tuple[str | None, frozenset[str]]:
    """The C2 most ISPs found (then most clients) and who found it."""
    found: dict[str, set[str]] = {}
    clients: Counter[str] = Counter()
    for c in store.c2_candidates():
        key = f"{c.ip}:{c.port}"
        found.setdefault(key, set()).add(isp_of.get(c.site, c.site))
        clients[key] += c.clients
    if not found:
        return None, frozenset()
    best = max(found, key=lambda k: (len(found[k]), clients[k], k))
    return best, frozenset(found[best])


def expect(store: Store, manifest: LabManifest, acted: Iterable[tuple[str, str]]) -> Expected:
    """The facts of the live run in ``store`` (``acted``: (intervention kind, ISP) taken)."""
    isp_of = {site_name(i.name): i.name for i in manifest.isps}
    c2, c2_isps = _c2(store, isp_of)
    findings = store.findings()
    weak = {str(f.ip) for f in findings if f.login.outcome in WEAK_OUTCOMES}
    devices = manifest.by_ip()
    pref = {i.name: prefecture(i.prefecture).code for i in manifest.isps if i.prefecture}
    by_pref = Counter(pref[d.isp] for ip in weak if (d := devices.get(ip)) and d.isp in pref)
    vendors = Counter(devices[ip].vendor for ip in weak if ip in devices)
    day = min((f.time for f in findings), default=manifest.created).date().isoformat()
    seen = min((c.first_seen for c in store.c2_candidates()), default=manifest.created)
    return Expected(
        c2, c2_isps, day, seen.date().isoformat(), len(weak), dict(by_pref),
        vendors.most_common(1)[0][0] if vendors else None,
        sum(1 for d in manifest.devices if d.isp), frozenset(acted),
    )  # fmt: skip


def _rows(view: dict[str, Any], table: str) -> list[dict[str, Any]]:
    t = next(t for t in view["tables"] if t["name"] == table)
    return [dict(zip(t["columns"], r, strict=True)) for r in t["rows"]]


def check_facts(url: str, token: str, exp: Expected) -> list[Fact]:
    """Ask the centre at ``url`` (signed in as ``token``, the centre role) for each fact."""
    with httpx.Client(base_url=url, cookies={"iotscope_token": token}, timeout=60) as client:

        def get(path: str) -> dict[str, Any]:
            resp = client.get("/centre/api/views/" + path)
            resp.raise_for_status()
            body: dict[str, Any] = resp.json()
            return body

        return [*_c2_facts(get, exp), *_survey_facts(get, exp), *_action_facts(get, exp)]


Get = Callable[[str], dict[str, Any]]


def _c2_facts(get: Get, exp: Expected) -> list[Fact]:
    if exp.c2 is None:
        return [Fact("a C2 the ISPs found", "lineages", False, "no C2 candidate stored")]
    members = {r["c2"]: r["lineage"] for r in _rows(get("lineages"), "members")}
    seen = {r["isp"] for r in _rows(get("correlation"), "c2_isp") if r["c2"] == exp.c2}
    who = ", ".join(sorted(exp.c2_isps))
    return [
        Fact(f"C2 {exp.c2} (found by {who}) is in a lineage", "lineages",
             exp.c2 in members, f"lineage {members.get(exp.c2, '-')}"),
        Fact(f"C2 {exp.c2} is seen by the ISPs that found it", "correlation",
             seen == exp.c2_isps, f"seen by {', '.join(sorted(seen)) or 'none'}"),
    ]  # fmt: skip


def _survey_facts(get: Get, exp: Expected) -> list[Fact]:
    path = f"regions?day={exp.survey_day}&kind=weak"
    shown = {r["pref_code"]: r["weak"] for r in _rows(get(path), "by_prefecture") if r["weak"]}
    vendors = _rows(get("makers"), "vendors")
    total = sum(int(r["weak"]) for r in vendors)
    top = next((r for r in vendors if exp.vendor and vendor_key(r["vendor"]) ==
                vendor_key(exp.vendor)), None)  # fmt: skip
    return [
        Fact(f"the survey's weak devices per prefecture on {exp.survey_day}", path,
             shown == exp.weak_by_pref, f"regions {shown}, survey {exp.weak_by_pref}"),
        Fact(f"the survey's {exp.weak} weak devices in the makers view", "makers",
             total == exp.weak, f"makers count {total}"),
        Fact(f"the commonest weak vendor ({exp.vendor}) in the makers view", "makers",
             top is not None and int(top["weak"]) > 0,
             f"weak {top['weak'] if top else '-'}"),
    ]  # fmt: skip


def _action_facts(get: Get, exp: Expected) -> list[Fact]:
    taken = {(r["kind"], r["isp"]) for r in _rows(get("effect"), "interventions")}
    facts = [Fact(f"{kind} of {isp} is an intervention", "effect", (kind, isp) in taken,
                  "listed" if (kind, isp) in taken else "missing")
             for kind, isp in sorted(exp.acted)]  # fmt: skip
    values = _rows(get("kpis"), "values")
    weak = [r for r in values if r["kpi"] == "weak_login_per_10k" and r["scope"] == "national"]
    got = max(weak, key=lambda r: r["period"])["value"] if weak else None
    if not exp.subscribers:  # no lab ISP has a device: the KPI has no data, never a zero
        want, ok = None, got is None
    else:
        want = round(sum(exp.weak_by_pref.values()) * PER / exp.subscribers, 2)
        ok = got is not None and round(got, 2) == want
    facts.append(Fact(f"weak logins per 10,000 subscribers, national = {want}", "kpis", ok,
                      f"KPI value {got}"))  # fmt: skip
    return facts
