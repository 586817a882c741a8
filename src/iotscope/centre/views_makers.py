"""The centre's manufacturer views (issue 10, item 6): ``makers`` (every vendor the caller may
see, the Pareto table of infections, the trend), ``maker`` (one vendor's models, firmware,
CVEs and trend: its own report, ``?vendor=NAME``) and ``labels`` (JC-STAR labelled against
unlabelled products). Every view takes ``?round=SURVEY_ID`` (default: the newest round).

Tenancy is applied once, in :func:`iotscope.makers.load_devices`: a manufacturer's tables
hold only its own vendor's devices, an ISP's only the devices on its network.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from fastapi import HTTPException

from iotscope.centre._i18n import say
from iotscope.centre._views import Cell, Chart, Table, View, view
from iotscope.errors import ConfigError
from iotscope.makers import (
    Devices,
    ParetoRow,
    Tally,
    VendorReport,
    load_devices,
    load_labels,
    outcomes,
    pareto,
    pick_round,
    subset,
    tally,
    vendor_key,
    vendor_report,
    vital_few,
)
from iotscope.store import Store
from iotscope.tenancy import Principal, Role

ROLES: tuple[Role, ...] = ("centre", "isp", "manufacturer")
COUNTS = ("devices", "weak", "vulnerable", "kev", "infected")


def _counts(t: Tally) -> tuple[Cell, ...]:
    return (
        t.devices,
        t.weak,
        t.rate("weak"),
        t.vulnerable,
        t.rate("vulnerable"),
        t.kev,
        t.infected,
        t.rate("infected"),
    )


COUNT_COLUMNS = (
    "devices",
    "weak",
    "weak_rate",
    "vulnerable",
    "vulnerable_rate",
    "kev",
    "infected",
    "infected_rate",
)


def _rounds_table(dev: Devices) -> Table:
    rows = tuple(
        (r.survey_id, r.start.date().isoformat(), int((dev.round == i).sum()))
        for i, r in enumerate(dev.rounds)
    )
    return Table("rounds", ("round", "start", "devices"), rows, "Survey rounds")


def _round_note(dev: Devices, r: int | None) -> str:
    if r is None:
        return "No survey round in the store yet."
    return say(
        "Round {round} (first finding {day}).",
        round=dev.rounds[r].survey_id,
        day=f"{dev.rounds[r].start:%Y-%m-%d}",
    )


def _trend(dev: Devices, by: Sequence[str], name: str) -> Table:
    rows: list[tuple[Cell, ...]] = []
    for t in tally(dev, ("round", *by)):
        i = next(k for k, r in enumerate(dev.rounds) if r.survey_id == t.key[0])
        rows.append(
            (
                t.key[0],
                dev.rounds[i].start.date().isoformat(),
                *t.key[1:],
                t.devices,
                t.weak,
                t.vulnerable,
                t.infected,
            )
        )
    rows.sort(key=lambda x: (str(x[1]), *(str(c) for c in x[2 : 2 + len(by)])))
    return Table(
        name,
        ("round", "start", *by, "devices", "weak", "vulnerable", "infected"),
        tuple(rows),
        "Trend over survey rounds",
    )


def _pareto_table(found: Sequence[ParetoRow], x: str) -> Table:
    rows = tuple((p.rank, p.name, p.infected, p.share, p.cum_share) for p in found)
    return Table(
        "pareto",
        ("rank", x, "infected", "share", "cum_share"),
        rows,
        "Share of all infections (Pareto)",
        links={"vendor": "maker?vendor={vendor}"} if x == "vendor" else {},
    )


@view("makers", title_en="Manufacturers", title_ja="メーカー別", roles=ROLES)
def makers_view(store: Store, who: Principal, params: Mapping[str, str]) -> View:
    dev = load_devices(store, who)
    r = _round(dev, params)
    rounds = [] if r is None else [r]
    vendors = [t for t in tally(dev, ("vendor",), rounds)]
    vendors.sort(key=lambda t: (-t.infected, -t.devices, t.key[0]))
    table = Table(
        "vendors",
        ("vendor", *COUNT_COLUMNS),
        tuple((t.key[0], *_counts(t)) for t in vendors),
        "Devices per vendor",
        links={"vendor": "maker?vendor={vendor}"},
    )
    rows = pareto([t.key[0] for t in vendors], [t.infected for t in vendors])
    par = _pareto_table(rows, "vendor")
    notes: tuple[str, ...] = (
        _round_note(dev, r),
        say(
            "{half} vendor(s) hold half of the infections, {most} hold 80 %.",
            half=vital_few(rows, 0.5),
            most=vital_few(rows, 0.8),
        ),
        "Infected: the darknet telescope saw the address scan as a bot (mirai/iot) during the "
        "round's window, which runs to the next round's first finding. C2 contacts name bots "
        "by ISP-keyed pseudonyms, not addresses, so they are not joined to devices.",
    )
    if not who.is_centre:
        notes += (
            "Shares are of the infections among the devices you may see; the maker view's "
            "share_of_all_infections compares a vendor with every vendor.",
        )
    charts = (
        Chart(
            "pareto",
            "pareto",
            "pareto",
            {"x": "vendor", "y": "infected", "cumulative": "cum_share"},
            "Infections by vendor (Pareto)",
        ),
        Chart(
            "trend",
            "line",
            "trend",
            {"x": "start", "y": "infected", "series": "vendor"},
            "Infected devices per round",
        ),
    )
    return View(
        "makers", (table, par, _trend(dev, ("vendor",), "trend"), _rounds_table(dev)), charts, notes
    )


def _round(dev: Devices, params: Mapping[str, str]) -> int | None:
    """The round asked for (``?round=``, default the newest); unknown: HTTP 404."""
    try:
        return pick_round(dev, params.get("round"))
    except ConfigError as exc:
        raise HTTPException(404, str(exc)) from None


def _default_vendor(dev: Devices, who: Principal, r: int | None) -> str:
    if who.role == "manufacturer":
        return who.tenant or ""
    found = tally(dev, ("vendor",), [] if r is None else [r])
    top = min(found, key=lambda t: (-t.infected, -t.devices, t.key[0]), default=None)
    return top.key[0] if top else ""


def _firmware_table(rep: VendorReport) -> Table:
    per: dict[tuple[str, str], set[str]] = {}
    kev: set[tuple[str, str]] = set()
    for c in rep.cves:
        per.setdefault((c.model, c.version), set()).add(c.cve)
        if c.kev:
            kev.add((c.model, c.version))
    rows = tuple(
        (
            f.tally.key[0],
            f.tally.key[1],
            *_counts(f.tally),
            f.outdated,
            len(per.get((f.tally.key[0], f.tally.key[1]), ())),
            (f.tally.key[0], f.tally.key[1]) in kev,
        )
        for f in sorted(rep.firmware, key=lambda f: (-f.tally.infected, f.tally.key))
    )
    return Table(
        "firmware",
        ("model", "version", *COUNT_COLUMNS, "outdated", "cves", "kev_cve"),
        rows,
        "Firmware versions",
    )


def report_tables(rep: VendorReport) -> tuple[Table, ...]:
    """The tables of one vendor's report (the web view and the PDF show the same)."""
    rnd = rep.round.survey_id if rep.round else ""
    summary = Table(
        "summary",
        ("vendor", "round", *COUNT_COLUMNS, "share_of_all_infections"),
        ((rep.vendor, rnd, *_counts(rep.totals), rep.share_of_all),),
        "Summary",
    )
    models = Table(
        "models",
        ("model", *COUNT_COLUMNS),
        tuple(
            (t.key[0], *_counts(t)) for t in sorted(rep.models, key=lambda t: (-t.infected, t.key))
        ),
        "Models",
    )
    par = _pareto_table(rep.pareto, "model")
    cves = Table(
        "cves",
        ("model", "version", "cve", "devices", "evidence", "kev", "cvss", "severity"),
        tuple(
            (c.model, c.version, c.cve, c.devices, c.evidence, c.kev, c.cvss, c.severity)
            for c in rep.cves
        ),
        "CVEs per firmware",
    )
    trend = Table(
        "trend",
        ("round", "start", *COUNTS),
        tuple(
            (
                r.survey_id,
                r.start.date().isoformat(),
                t.devices,
                t.weak,
                t.vulnerable,
                t.kev,
                t.infected,
            )
            for r, t in rep.trend
        ),
        "Trend over survey rounds",
    )
    labels = Table(
        "labels",
        ("registration", "model", "level", "registered", "expires"),
        tuple(
            (
                x.registration,
                x.model,
                f"★{x.level}",
                x.registered.isoformat(),
                x.expires.isoformat() if x.expires else None,
            )
            for x in rep.labels
        ),
        "JC-STAR registrations",
    )
    return (summary, models, par, _firmware_table(rep), cves, trend, labels)


@view("maker", title_en="One manufacturer", title_ja="メーカー別詳細", roles=ROLES)
def maker_view(store: Store, who: Principal, params: Mapping[str, str]) -> View:
    dev = load_devices(store, who)
    r = _round(dev, params)
    # a manufacturer's report is always its own (its rows are all it has anyway)
    vendor = _default_vendor(dev, who, r) if who.role == "manufacturer" else params.get("vendor")
    vendor = vendor or _default_vendor(dev, who, r)
    rep = vendor_report(dev, vendor, load_labels(store), params.get("round"))
    charts = (
        Chart(
            "pareto",
            "pareto",
            "pareto",
            {"x": "model", "y": "infected", "cumulative": "cum_share"},
            "Infections by model (Pareto)",
        ),
        Chart(
            "trend", "line", "trend", {"x": "start", "y": "infected"}, "Infected devices per round"
        ),
        Chart(
            "firmware",
            "bar",
            "firmware",
            {"x": "version", "y": "infected", "series": "model"},
            "Infected devices per firmware",
        ),
        Chart(
            "trend_models",
            "line",
            "trend_models",
            {"x": "start", "y": "infected", "series": "model"},
            "Infected devices per round and model",
        ),
    )
    mine = subset(dev, np.asarray(dev.vendor_key == vendor_key(vendor), dtype=bool))
    notes = (
        _round_note(dev, r),
        say(
            "Vendor {vendor!r}: {devices} devices in the round.",
            vendor=rep.vendor,
            devices=rep.totals.devices,
        ),
        "share_of_all_infections: this vendor's infected devices over every vendor's in the round.",
        "outdated: the firmware is older than the vendor's current release (empty: unknown).",
    )
    tables = (*report_tables(rep), _trend(mine, ("model",), "trend_models"))
    return View("maker", tables, charts, notes)


def _num(x: float) -> float | None:
    """Rounded for display; NaN (no devices in the group) as an empty cell."""
    return None if math.isnan(x) else round(x, 4)


def _outcome_rows(dev: Devices, store: Store, r: int | None) -> tuple[Table, Table, int]:
    found, gaps, unidentified = outcomes(dev, load_labels(store), [] if r is None else [r])
    cols: list[str] = ["group", "products", "devices"]
    for name in ("weak", "vulnerable", "infected"):
        cols += [name, f"{name}_rate", f"{name}_low", f"{name}_high"]
    rows = []
    for o in found:
        row: list[Cell] = [o.group, o.products, o.devices]
        for name in ("weak", "vulnerable", "infected"):
            p = o.rates[name]
            row += [
                p.k,
                None if o.devices == 0 else round(p.estimate, 4),
                round(p.low, 4),
                round(p.high, 4),
            ]
        rows.append(tuple(row))
    gap_rows = tuple(
        (g.outcome, _num(g.difference.estimate), _num(g.difference.low), _num(g.difference.high))
        for g in gaps
    )
    return (
        Table("outcomes", tuple(cols), tuple(rows), "Field outcomes by JC-STAR label"),
        Table(
            "gaps",
            ("outcome", "difference", "low", "high"),
            gap_rows,
            "Labelled minus unlabelled (Newcombe 95 % interval)",
        ),
        unidentified,
    )


@view(
    "labels", title_en="JC-STAR labels in the field", title_ja="JC-STAR ラベルと実態", roles=ROLES
)
def labels_view(store: Store, who: Principal, params: Mapping[str, str]) -> View:
    dev = load_devices(store, who)
    r = _round(dev, params)
    table, gaps, unidentified = _outcome_rows(dev, store, r)
    notes = (
        _round_note(dev, r),
        "Products are matched on normalised vendor and model; a product's highest level counts.",
        "Rates with Wilson 95 % intervals over devices; devices of one model are not independent, "
        "so read small label groups with care (see products).",
        say(
            "{n} device(s) without vendor or model could not be matched and are left out.",
            n=unidentified,
        ),
    )
    charts = (
        Chart(
            "infected",
            "bar",
            "outcomes",
            {"x": "group", "y": "infected_rate", "low": "infected_low", "high": "infected_high"},
            "Infection rate by label",
        ),
        Chart(
            "weak",
            "bar",
            "outcomes",
            {"x": "group", "y": "weak_rate", "low": "weak_low", "high": "weak_high"},
            "Weak-login rate by label",
        ),
    )
    return View("labels", (table, gaps), charts, notes)
