"""`iotscope share` commands of the content side: agreement, confirm, calibrate, compare,
misp-feed, import, revoke, stix (thin: parse options, call the part, print). ``share/cli.py``
registers them on the ``share`` group."""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from iotscope._output import console, stdout_is_terminal, table
from iotscope._times import utc_option
from iotscope.errors import ConfigError

BUNDLE_HELP = "read the feed from this STIX bundle (default: the local hub, else detections)"
DETECTIONS_HELP = "build the feed from the store's C2 detections, not the local hub"
FAMILIES_HELP = "C2 families from a lab truth.json (c2[{ip, port, proto, family}])"
HUB_HELP = "read the feed from this TAXII 2.1 API root URL (with --token, --collection)"

# the options every command that reads the feed takes (see _feed)
_BUNDLE = typer.Option(None, "--bundle", help=BUNDLE_HELP)
_HUB = typer.Option(None, "--hub", help=HUB_HELP)
_TOKEN = typer.Option(None, "--token", help="bearer token for --hub")
_COLLECTION = typer.Option(None, "--collection", help="collection id (--hub)")
_DETECTIONS = typer.Option(False, "--detections", help=DETECTIONS_HELP)
_FAMILIES = typer.Option(None, "--families", help=FAMILIES_HELP)


def _feed(
    bundle: Path | None,
    hub: str | None,
    token: str | None,
    collection: str | None,
    families: Path | None,
    now: datetime,
    detections: bool = False,
) -> list[dict[str, Any]]:
    """The feed: a bundle; a remote hub; else the local hub's shared collection, or (when it
    is empty, or with ``detections``) what the store's detections would publish; with the
    local hub's partner sources in both cases."""
    from iotscope.share import _sources as src

    if bundle is not None and hub is not None:
        raise ConfigError("give --bundle or --hub, not both")
    if bundle is not None:
        return src.bundle_objects(bundle)
    if hub is not None:
        if not token or not collection:
            raise ConfigError("--hub needs --token and --collection")
        return src.taxii_objects(hub, token, collection)
    from iotscope.store import open_store

    store = open_store()
    if not detections:
        shared = src.hub_objects(store, partners=False)
        if shared:
            return shared + src.hub_objects(store, shared=False)
    built = src.store_objects(store, now, families=src.families_from(families))
    return built + src.hub_objects(store, shared=False)


def _emit(out: Path | None, rows: list[dict[str, Any]], title: str, cols: list[str]) -> None:
    """JSON Lines to ``out`` or a pipe; a table on a terminal."""
    if out is None and stdout_is_terminal():
        console.print(table(title, cols, ([r.get(c) for c in cols] for r in rows)))
        return
    text = "".join(json.dumps(r, default=str) + "\n" for r in rows)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def _write_bundle(out: Path | None, objects: list[dict[str, Any]]) -> None:
    from iotscope.share.stix import bundle

    text = json.dumps(bundle(objects), indent=1)
    if out is None:
        sys.stdout.write(text + "\n")
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")


def agreement_cmd(
    isp: str = typer.Option(..., "--isp", help="the ISP whose detections to look at"),
    bundle: Path | None = _BUNDLE,
    hub: str | None = _HUB,
    token: str | None = _TOKEN,
    collection: str | None = _COLLECTION,
    detections: bool = _DETECTIONS,
    families: Path | None = _FAMILIES,
    out: Path | None = typer.Option(None, "--out", help="write JSON Lines here"),
) -> None:
    """Which of ISP's C2 detections others confirmed, which only it sees (and its families)."""
    from iotscope.share import agreement
    from iotscope.store import open_store

    now = datetime.now(UTC)
    objs = _feed(bundle, hub, token, collection, families, now, detections)
    v = agreement.views(objs)
    if bundle is None and hub is None:  # the store also has the darknet and the survey
        v = agreement.views(objs, agreement.store_methods(open_store(), v))
    rep = agreement.isp_agreement(v, isp)
    rows = [{"status": "confirmed", **dataclasses.asdict(d)} for d in rep.confirmed]
    rows += [{"status": "only-here", **dataclasses.asdict(d)} for d in rep.alone]
    cols = ["status", "ip", "port", "proto", "family", "isps", "methods", "confidence"]
    _emit(out, rows, f"{isp}: {len(rep.confirmed)} confirmed, {len(rep.alone)} only here", cols)
    console.print(
        f"families only {isp} sees: {', '.join(rep.families_alone) or '-'}; "
        f"shared with others: {', '.join(rep.families_shared) or '-'}"
    )
    if bundle is None and hub is None:
        _lineages_alone(isp)


def _lineages_alone(isp: str) -> None:
    """The C2 lineages (the centre's, from every ISP's C2 contacts) only ``isp`` sees."""
    from iotscope.centre._botnets import analysis, exclusive_lineages
    from iotscope.store import open_store
    from iotscope.tenancy import Principal, site_name

    store = open_store()
    slug = {site_name(name): name for name in analysis(store).isps}
    name = isp if isp in slug.values() else slug.get(isp.lower())
    if name is None:
        console.print(f"lineages: no C2 contacts from {isp} yet (`iotscope isp contacts`)")
        return
    alone = exclusive_lineages(store, Principal("isp", name), name)
    shown = [f"{x.id} ({len(x.members)} C2s, {x.bots} bots)" for x in alone]
    console.print(f"lineages only {name} sees: {', '.join(shown) or '-'}")


def confirm_cmd(
    bundle: Path | None = _BUNDLE,
    hub: str | None = _HUB,
    token: str | None = _TOKEN,
    collection: str | None = _COLLECTION,
    detections: bool = _DETECTIONS,
    families: Path | None = _FAMILIES,
    out: Path | None = typer.Option(None, "--out", help="write the new versions as a bundle"),
    now: str | None = typer.Option(None, "--now", help="the versions' time (default: now)"),
    publish: bool = typer.Option(False, "--publish", help="add them to the local hub's feed"),
) -> None:
    """New indicator versions for the C2s that 2+ ISPs or 2+ methods confirm (a bundle)."""
    from iotscope.share import agreement

    when = utc_option(now)
    objs = _feed(bundle, hub, token, collection, families, when, detections)
    extra = None
    if bundle is None and hub is None:  # the store also has the darknet and the survey
        from iotscope.store import open_store

        extra = agreement.store_methods(open_store(), agreement.views(objs))
    new = agreement.confirmation_objects(objs, when, extra)
    _write_bundle(out, new)
    console.print(f"{len(new)} confirmed indicator version(s)")
    if publish and new:
        from iotscope.share import SHARED_COLLECTION_ID
        from iotscope.share._sources import publish as add
        from iotscope.store import open_store

        st = add(open_store(), SHARED_COLLECTION_ID, new)
        console.print(f"published to the shared collection: {st['success_count']} added")


def calibrate_cmd(
    window: Path = typer.Option(..., "--window", help="the shared reference flow set (a dir)"),
    isp: str = typer.Option(..., "--isp", help="this site's ISP name"),
    out: Path | None = typer.Option(None, "--out", help="answer file (default: answer-ISP.json)"),
    threshold: float | None = typer.Option(None, "--threshold", help="detector threshold"),
    no_store: bool = typer.Option(False, "--no-store", help="do not keep it in the store"),
) -> None:
    """Run this site's C2 detector over a shared reference window and write its answer."""
    from iotscope.share import agreement

    answer = agreement.calibrate(window, isp, datetime.now(UTC), threshold=threshold)
    path = out or Path(f"answer-{isp}.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(answer, indent=1) + "\n", encoding="utf-8")
    if not no_store:
        from iotscope.store import _share, open_store

        _share.save_answer(open_store(), answer)
    n = len(answer["candidates"])
    console.print(f"{isp}: {n} C2 endpoint(s) over window {answer['window'][:12]} -> {path}")


def compare_cmd(
    answers: list[Path] = typer.Argument(None, help="answer files (share calibrate --out)"),
    window: str | None = typer.Option(None, "--window-id", help="compare the stored answers"),
    out: Path | None = typer.Option(None, "--out", help="write JSON here"),
) -> None:
    """Agreement between ISPs' answers over one window: per C2, Jaccard, precision/recall."""
    from iotscope.share import agreement

    loaded = [agreement.load_answer(p) for p in answers or []]
    if window is not None:
        from iotscope.store import _share, open_store

        loaded += _share.answers(open_store(), window)
    cmp = agreement.compare(loaded)
    c2 = [
        {"ip": e[0], "port": e[1], "proto": e[2], "found_by": list(who),
         "agreement": round(len(who) / len(cmp.isps), 3)}
        for e, who in cmp.endpoints.items()
    ]  # fmt: skip
    pairs = [{"a": a, "b": b, "jaccard": round(j, 3)} for (a, b), j in cmp.jaccard.items()]
    doc = {
        "window": cmp.window,
        "isps": list(cmp.isps),
        "c2": c2,
        "jaccard": pairs,
        "precision": cmp.precision,
        "recall": cmp.recall,
        "majority": len(cmp.majority),
    }
    if out is not None or not stdout_is_terminal():
        text = json.dumps(doc, indent=1) + "\n"
        if out is not None:
            out.write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
        return
    cols = ["ip", "port", "proto", "found_by", "agreement"]
    console.print(table(f"window {cmp.window[:12]}", cols, ([r[c] for c in cols] for r in c2)))
    console.print(
        table("Jaccard", ["a", "b", "jaccard"], ([p["a"], p["b"], p["jaccard"]] for p in pairs))
    )
    rows = [[i, cmp.precision[i], cmp.recall[i]] for i in cmp.isps]
    console.print(table("vs the majority", ["isp", "precision", "recall"], rows))


def misp_feed_cmd(
    out: Path = typer.Option(..., "--out", help="the feed directory"),
    bundle: Path | None = _BUNDLE,
    hub: str | None = _HUB,
    token: str | None = _TOKEN,
    collection: str | None = _COLLECTION,
    detections: bool = _DETECTIONS,
    families: Path | None = _FAMILIES,
    org: str = typer.Option("iotscope centre", "--org", help="the feed's organisation"),
) -> None:
    """The shared C2 feed as a MISP feed (manifest.json, hashes.csv, one event a day)."""
    from iotscope.share import agreement, misp

    now = datetime.now(UTC)
    objs = _feed(bundle, hub, token, collection, families, now, detections)
    objs += agreement.confirmation_objects(objs, now)
    s = misp.write_feed(out, misp.feed_events(objs, now, org=org))
    console.print(f"{s.events} event(s), {s.attributes} attribute(s) ({s.to_ids} to_ids) -> {out}")


def import_cmd(
    path: Path = typer.Argument(..., help="the partner's file (or MISP feed directory)"),
    source: str = typer.Option(..., "--source", help="the partner's name"),
    kind: str = typer.Option(..., "--kind", help="misp, stix, feodo-csv or feodo-json"),
    out: Path | None = typer.Option(None, "--out", help="also write the objects as a bundle"),
    no_hub: bool = typer.Option(False, "--no-hub", help="do not store them in the local hub"),
) -> None:
    """Read a partner's MISP events, STIX bundle or C2 blocklist as read-only STIX objects."""
    from iotscope.share import partners
    from iotscope.store import _share, open_store

    now = datetime.now(UTC)
    res = partners.read_path(path, source, kind, now)
    store = open_store()
    fresh = _share.record_import(store, res.row(now))
    for where, why in res.problems:
        console.print(f"[yellow]skipped[/] {path}: {where}: {why}")
    if out is not None:
        _write_bundle(out, res.objects)
    if res.objects and not no_hub:
        from iotscope.share._sources import to_partner_collection

        st = to_partner_collection(store, source, res.objects)
        console.print(f"hub: {st['success_count']} stored in the partner collection, "
                      f"{st['failure_count']} refused")  # fmt: skip
    note = "" if fresh else " (these bytes were imported before)"
    console.print(
        f"{source}: {res.items} item(s), {res.skipped} skipped, {len(res.objects)} object(s){note}"
    )


def revoke_cmd(
    isp: str = typer.Option(..., "--isp", help="the ISP that published it"),
    ip: str = typer.Option(..., "--ip"),
    port: int = typer.Option(..., "--port"),
    proto: str = typer.Option("tcp", "--proto"),
    reason: str = typer.Option(..., "--reason", help="why it is a false positive"),
    out: Path | None = typer.Option(None, "--out", help="write the revoked version here"),
) -> None:
    """Withdraw a false positive: a new version of its indicator with ``revoked: true``."""
    from iotscope.share import stix
    from iotscope.store import _share, open_store

    store = open_store()
    oid = stix.indicator_id(ip, port, proto)
    prev = _share.published(store, isp, kind="indicator").get(oid)
    if prev is None:
        raise ConfigError("this ISP never published that C2", isp=isp, indicator=oid)
    now = datetime.now(UTC)
    gone = stix.revoke(prev, now, reason)
    _share.save_published(store, isp, [gone], now)
    _write_bundle(out, [gone])


def stix_cmd(
    site: str = typer.Option(..., "--site", help="the site (ISP) whose newest detection"),
    families: Path | None = _FAMILIES,
    tlp: str = typer.Option("amber", "--tlp", help="clear, green, amber, amber+strict, red"),
    changed: bool = typer.Option(False, "--changed", help="only what changed since last time"),
    out: Path | None = typer.Option(None, "--out", help="write the bundle here"),
) -> None:
    """The site's newest C2 candidates as STIX 2.1 (remembered: the next run versions them)."""
    from iotscope.share import _sources as src
    from iotscope.share import stix
    from iotscope.store import _share, open_store

    store = open_store()
    now = datetime.now(UTC)
    prev = _share.published(store, site)
    cands = store.c2_candidates(site)
    counts = {stix.endpoint_of(c): src._runs(store, site, c) for c in cands}
    kw: dict[str, Any] = {"tlp": tlp, "families": src.families_from(families), "counts": counts}
    new = stix.c2_bundle_objects(cands, site, now, previous=prev, **kw)
    _share.save_published(store, site, new, now)
    if changed:
        objs = new
    else:  # the whole current state: new versions, else the versions published before
        by_id = {o["id"]: o for o in new}
        full = stix.c2_bundle_objects(cands, site, now, **kw)
        objs = [by_id.get(o["id"]) or prev.get(o["id"]) or o for o in full]
    _write_bundle(out, objs)
    console.print(f"{site}: {len(cands)} C2(s), {len(objs)} object(s), {len(new)} new or changed")
