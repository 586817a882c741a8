"""The demo's steps, each a small function over the parts' public APIs."""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from iotscope._output import console, table
from iotscope.config import settings
from iotscope.demo._botnet import botnet_picture
from iotscope.demo._vulns import vulns_step
from iotscope.lab import LabProcess, SurveyScore, score_survey
from iotscope.records import Finding, LabManifest, Survey
from iotscope.store import Store, open_store
from iotscope.survey import SurveyConfig, prepare, run_survey
from iotscope.tenancy import site_name

# Not the default of `lab up`, so both can run at once; a /22 keeps the full sweep of every
# address and port (as NOTICE sweeps whole ISP blocks) to seconds.
DEMO_NETWORK = "127.78.0.0/22"


@dataclass(frozen=True)
class DemoOptions:
    once: bool = False
    devices: int = 300
    seed: int = 7
    network: str = DEMO_NETWORK


def run_demo(opts: DemoOptions) -> None:
    """Run every step; with ``once`` exit at the end, else serve the lab and the centre until
    Ctrl-C."""
    work = settings().home / "demo"
    work.mkdir(parents=True, exist_ok=True)
    store = open_store()
    try:
        with LabProcess(opts.devices, opts.seed, opts.network, work / "manifest.json") as lab:
            show_lab(lab.manifest, lab.ready_seconds or 0.0)
            survey, findings = survey_lab(lab.manifest, work, store)
            show_survey(survey, score_survey(lab.manifest, findings))
            vulns_step(store, lab.manifest, survey.id)
            botnet_picture(opts.seed, opts.devices, opts.network, work, store)
            acted = isp_view(store, lab.manifest, work, opts.seed, survey)
            acted += sharing(store, lab.manifest, work)
            manifest, path = lab.manifest, work / "manifest.json"
            centre(store, manifest, work, acted, opts,
                   wait=lambda: wait_for_interrupt(manifest, path))  # fmt: skip
    finally:
        store.engine.dispose()


Acted = list[tuple[str, str]]  # (intervention kind, ISP) the demo carried out


def isp_view(store: Store, manifest: LabManifest, work: Path, seed: int, survey: Survey) -> Acted:
    """Steps 5-7 (issue 8): each ISP's reports, one ISP's notices, a follow-up month."""
    from iotscope.demo._followup import follow_up_step
    from iotscope.demo._notify import notify_step
    from iotscope.demo._report import report_step

    report_step(store, manifest, work)
    notified = notify_step(store, manifest, work, seed)
    follow_up_step(store, manifest, seed, survey.finished or survey.started, work)
    sent = notified is not None and sum(notified.report.sent.values()) > 0
    return [("notice_campaign", notified.isp)] if notified is not None and sent else []


def sharing(store: Store, manifest: LabManifest, work: Path) -> Acted:
    """Steps 8-10 (issue 9): every ISP's detection shared through the hub and pushed to the
    others; the shared content (STIX, agreement, MISP feed); one ISP blocks what arrived (as
    the ISP it is, not its flow site, so the centre counts the block as that ISP's)."""
    from iotscope.demo._block import block_step
    from iotscope.demo._share import share_lab
    from iotscope.demo._share_content import share_content_picture

    shared = share_lab(store, work / "traffic")
    share_content_picture(store, work)
    isp_of = {site_name(i.name): i.name for i in manifest.isps}
    receivers = sorted({isp for sites in shared.found_by.values() for isp in sites})
    if not receivers:
        return []
    isp = isp_of.get(receivers[0], receivers[0])
    sel = block_step(store, work, isp, now=shared.now)
    return [("blocklist", isp)] if sel.entries else []


def centre(store: Store, manifest: LabManifest, work: Path, acted: Acted, opts: DemoOptions,
           wait: Callable[[], None]) -> None:  # fmt: skip
    """Steps 11-12 (issue 10): the ISPs send the centre their contacts and counts; the centre
    serves the live store and a month world, checked page by page and fact by fact."""
    from iotscope.demo._centre import LIVE, Source, centre_step, tokens_for
    from iotscope.demo._centre_facts import expect
    from iotscope.demo._centre_feed import feed_centre

    feeds = feed_centre(store, manifest)
    blocked = [isp for kind, isp in acted if kind == "blocklist"]
    isp = blocked[0] if blocked else max(feeds, key=lambda f: (f.bots, f.isp)).isp
    expected = expect(store, manifest, acted)
    hints = (f"views/regions?kind=weak&day={expected.survey_day} (the survey's day)",
             f"views/regions?kind=infected&day={expected.traffic_day} (the lab traffic's day)",
             "views/lineages", "views/kpis")  # fmt: skip
    live = Source(LIVE, store, tokens_for(store, isp, _commonest_vendor(manifest)), hints=hints)
    centre_step(work, live, expected, seed=opts.seed, once=opts.once, wait=wait)


def _commonest_vendor(manifest: LabManifest) -> str:
    vendors = Counter(d.vendor for d in manifest.devices if not d.hostile)
    return min(vendors, key=lambda v: (-vendors[v], v))


def show_lab(manifest: LabManifest, seconds: float) -> None:
    """Step 1: what is in the lab, by ISP, device type and vendor."""
    console.rule("[bold]1. the lab: an emulated IoT landscape on loopback")
    console.print(f"{len(manifest.devices)} devices on {manifest.network}, up in {seconds:.1f} s")
    isps = {i.name: i for i in manifest.isps}
    per_isp = Counter(d.isp or "-" for d in manifest.devices)
    rows = [(n, isps[n].asn if n in isps else "", isps[n].prefecture if n in isps else "",
             ", ".join(isps[n].prefixes) if n in isps else "", c)
            for n, c in sorted(per_isp.items())]  # fmt: skip
    console.print(table("ISPs", ["ISP", "ASN", "prefecture", "prefixes", "devices"], rows))
    kinds = Counter((d.device_type, d.vendor) for d in manifest.devices if not d.hostile)
    top = sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))[:15]
    console.print(table("device types and vendors (top 15)", ["type", "vendor", "devices"],
                        [(t, v, n) for (t, v), n in top]))  # fmt: skip
    hostile = Counter(d.hostile for d in manifest.devices if d.hostile)
    console.print("hostile hosts: " + (", ".join(f"{k} {n}" for k, n in hostile.items()) or "none"))


def survey_lab(manifest: LabManifest, work: Path, store: Store) -> tuple[Survey, list[Finding]]:
    """Step 2: survey the lab's whole network with logins, as NOTICE does."""
    console.rule("[bold]2. the survey (NOTICE): discovery, identification, login checks")
    scope = work / "scope.txt"
    scope.write_text(f"# the demo lab\n{manifest.network}\n")
    # the lab is on loopback: no shared-network rate limit
    prepared = prepare(SurveyConfig(scope=scope, concurrency=1000, rate=None, per_subnet=256))
    found: list[Finding] = []
    store.save_survey(prepared.survey)
    t0 = time.monotonic()
    survey = asyncio.run(run_survey(prepared, found.extend))
    store.save_findings(found)
    store.save_survey(survey)
    console.print(f"surveyed {manifest.network} in {time.monotonic() - t0:.1f} s; "
                  f"{len(found)} open services stored as survey {survey.id}")  # fmt: skip
    return survey, found


def show_survey(survey: Survey, score: SurveyScore) -> None:
    """Findings against the ground truth."""
    rows = [
        ("devices identified (vendor, product, version)",
         f"{score.identified}/{score.devices}", f"{score.identified_share:.1%}"),
        ("weak devices found (login accepted or no login needed)",
         f"{score.weak_found}/{score.weak_truth}", f"recall {score.recall:.1%}"),
        ("weak reports that are true", f"{score.weak_true}/{score.weak_reported}",
         f"precision {score.precision:.1%}"),
        ("devices with known CVEs (firmware)", str(score.vulnerable), ""),
    ]  # fmt: skip
    console.print(table("survey vs. ground truth", ["measure", "count", "share"], rows))
    if score.per_isp:
        console.print(table("alerts per ISP (weak devices to notify)", ["ISP", "to notify"],
                            sorted(score.per_isp.items())))  # fmt: skip


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def wait_for_interrupt(manifest: LabManifest, path: Path) -> None:
    """Keep the lab up until Ctrl-C or SIGTERM."""
    console.rule("[bold]the lab and both centres keep running")
    console.print(f"{len(manifest.devices)} devices on {manifest.network}; manifest {path}")
    console.print("try: nmap -sV -Pn -n -p 22,23,80 " + str(manifest.devices[0].ip))
    console.print("press Ctrl-C to stop")
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        console.print("stopping the lab")
