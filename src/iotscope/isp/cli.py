"""`iotscope isp` commands (thin: parse options, call the part, print)."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from datetime import timedelta

import typer

from iotscope._output import console
from iotscope.errors import ConfigError

app = typer.Typer(
    help="Continuous detection at an ISP: collect flows, detect C2s, share them.",
    no_args_is_help=True,
)

_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str, name: str) -> timedelta:
    """``300``, ``300s``, ``5m``, ``6h``, ``1d`` -> a timedelta (ConfigError otherwise)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text)
    if m is None or float(m.group(1)) <= 0:
        raise ConfigError(f"{name} must be a positive duration like 300, 5m, 6h, 1d", value=text)
    return timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2)])


@app.command("run")
def run_command(
    site: str = typer.Option(..., "--site", help="this ISP's site name"),
    listen: str = typer.Option(..., "--listen", help="HOST:PORT for NetFlow v5/v9 and IPFIX"),
    hub: str = typer.Option(..., "--hub", help="the hub's URL (server, API root or collection)"),
    token: str = typer.Option(..., "--token", help="this ISP's bearer token for the hub"),
    every: str = typer.Option("5m", "--every", help="detect this often (300, 5m, 1h)"),
    window: str = typer.Option("6h", "--window", help="over this much recent flow time"),
    refresh: str = typer.Option(
        "6h", "--refresh", help="re-version a C2 seen again once its validity moved this much"
    ),
    threshold: float = typer.Option(0.5, "--threshold", help="C2 score threshold (0-1)"),
    collection: str | None = typer.Option(
        None, "--collection", help="collection id (default: the hub's shared collection)"
    ),
    batch_seconds: float = typer.Option(5.0, "--batch-seconds", help="write flows this often"),
    duration: float | None = typer.Option(None, "--duration", help="stop after S seconds"),
    follow_up_isp: str | None = typer.Option(
        None, "--follow-up-isp", help="also re-check this ISP's notified devices on schedule"
    ),
    follow_up_days: int = typer.Option(
        14, "--follow-up-days", help="a follow-up round every N days after the notices"
    ),
) -> None:
    """Collect the site's flows, detect C2s every few minutes over a sliding window and
    publish new, changed and expired ones to the hub, until stopped (Ctrl-C, SIGTERM).

    With --follow-up-isp, also re-surveys that ISP's notified devices every --follow-up-days
    days (as `notice follow-up`, at the subscriber's address from the lease log).

    Resumes after a kill: the flow spool is replayed, the outbox sent again, a follow-up
    round that fell due and was not stored is run."""
    from iotscope.c2 import Params
    from iotscope.flows import flows_root
    from iotscope.flows._parquet import check_site
    from iotscope.isp._followup import FollowUpOptions
    from iotscope.isp._run import RunOptions, run_isp
    from iotscope.isp._taxii import Hub, bearer
    from iotscope.store import open_store

    check_site(site)
    opts = RunOptions(
        every=parse_duration(every, "--every").total_seconds(),
        window=parse_duration(window, "--window"),
        refresh=parse_duration(refresh, "--refresh"),
        params=dataclasses.replace(Params(), threshold=threshold),
        batch_seconds=batch_seconds,
        duration=duration,
        follow_up=FollowUpOptions(follow_up_isp, follow_up_days) if follow_up_isp else None,
    )
    client = Hub(hub, headers=bearer(token), collection=collection)

    def say(line: str) -> None:
        console.print(f"[{site}] {line}", markup=False, highlight=False)

    try:
        stats = asyncio.run(
            run_isp(open_store(), flows_root(), site, listen, client, opts, say=say)
        )
    finally:
        client.close()
    counts = ", ".join(f"{k} {v}" for k, v in sorted(stats.published.items()) if v)
    say(
        f"stopped: {stats.flows} flows collected ({stats.recovered_flows} recovered), "
        f"{stats.rounds} detection rounds ({stats.failed_rounds} failed), "
        f"published: {counts or 'nothing'}; "
        f"{stats.envelopes} envelopes sent"
        + (f"; {stats.follow_up_rounds} follow-up rounds" if follow_up_isp else "")
    )


@app.command("contacts")
def contacts_command(
    isp: str = typer.Option(..., "--isp", help="the ISP (tenant) the site belongs to"),
    site: str = typer.Option(..., "--site", help="the flow site whose detection run to read"),
    run_id: str | None = typer.Option(None, "--run-id", help="a stored run (default: newest)"),
) -> None:
    """Record which of the ISP's clients contacted the run's C2s, per day, as keyed bot
    pseudonyms (subscriber from the lease log when known) for the centre."""
    from iotscope.isp._contacts import record_contacts
    from iotscope.store import open_store
    from iotscope.tenancy import Principal

    count = record_contacts(open_store(), Principal("isp", isp), isp, site, run_id=run_id)
    console.print(f"[{site}] recorded {count} C2 contact rows for {isp}", markup=False)


@app.command("regions")
def regions_command(
    isp: str = typer.Option(..., "--isp", help="the ISP (tenant) whose counts to share"),
    prefecture: str = typer.Option(
        ..., "--prefecture", help="where its subscribers are: JIS code or English name"
    ),
) -> None:
    """Record the ISP's weak, vulnerable (survey) and infected (its `isp contacts`) devices
    per day for the centre's regions view: counts only, in the prefecture given."""
    from iotscope.isp._regions import record_regions
    from iotscope.store import open_store
    from iotscope.tenancy import Principal

    count = record_regions(open_store(), Principal("isp", isp), isp, prefecture)
    console.print(f"recorded {count} region count rows for {isp}", markup=False)
