"""`iotscope block` commands (thin: parse options, call the part, print)."""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from iotscope._output import console, table
from iotscope._times import utc_option
from iotscope.errors import ConfigError

app = typer.Typer(
    help="Blocklists and BGP blackhole routes from the shared C2 feed.", no_args_is_help=True
)

POLICY_HELP = "policy TOML ([default] and [isp.NAME] tables; default: built-in policy)"
BUNDLE_HELP = "read indicators from this STIX 2.1 bundle (offline) instead of the store"
HUB_HELP = "read indicators from this hub over TAXII 2.1 (a site that is not the hub)"


def _source(
    bundle: Path | None, hub: str | None, token: str | None, collection: str | None, isp: str
) -> Any:
    """A function returning the current STIX objects from the chosen source."""
    from iotscope.block import bundle_objects, taxii_objects

    if bundle is not None and hub is not None:
        raise ConfigError("give --bundle or --hub, not both")
    if bundle is not None:
        return lambda: bundle_objects(bundle)
    if hub is not None:
        return lambda: taxii_objects(hub, token, collection)
    from iotscope.block._store_source import store_objects
    from iotscope.store import open_store
    from iotscope.tenancy import Principal

    store = open_store()
    return lambda: store_objects(store, Principal("isp", isp), collection)


@app.command("export")
def export_cmd(
    isp: str = typer.Option(..., "--isp", help="the ISP whose policy applies"),
    fmt: str = typer.Option(..., "--format", help="plain, nftables or rpz"),
    out: Path = typer.Option(..., "--out", help="write the list here (atomically)"),
    policy: Path | None = typer.Option(None, "--policy", help=POLICY_HELP),
    bundle: Path | None = typer.Option(None, "--bundle", help=BUNDLE_HELP),
    hub: str | None = typer.Option(None, "--hub", help=HUB_HELP),
    token: str | None = typer.Option(None, "--token", help="bearer token for --hub"),
    collection: str | None = typer.Option(None, "--collection", help="collection id"),
    now: str | None = typer.Option(None, "--now", help="evaluate validity at this time"),
    no_record: bool = typer.Option(False, "--no-record", help="do not log actions in the store"),
) -> None:
    """Write what the ISP should block now, and log what entered and left the list."""
    from iotscope.block import FORMATS, export, load_policy, select
    from iotscope.store import open_store

    if fmt not in FORMATS:
        raise ConfigError("--format must be one of " + ", ".join(FORMATS), format=fmt)
    pol = load_policy(policy, isp)
    objects = _source(bundle, hub, token, collection, isp)()
    selection = select(objects, pol, utc_option(now))
    result = export(selection, fmt, out, None if no_record else open_store())
    for ind, why in selection.errors[:20]:
        console.print(f"[yellow]skipped[/] {ind}: {why}")
    console.print(
        table(
            f"blocklist for {isp} ({fmt}) -> {out}",
            ["what", "count"],
            [
                ("addresses", len(selection.addresses())),
                ("names", len(selection.names())),
                ("added since last export", len(result.added)),
                ("removed since last export", len(result.removed)),
                *sorted(("skipped: " + k, v) for k, v in selection.skipped.items()),
            ],
        )
    )


def _hostport(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError("--peer must be HOST:PORT", peer=value)
    return host, int(port)


@app.command("bgp")
def bgp_cmd(
    isp: str = typer.Option(..., "--isp", help="the ISP whose policy applies"),
    peer: str = typer.Option(..., "--peer", help="the router's BGP address HOST:PORT"),
    local_as: int = typer.Option(..., "--local-as", help="our AS number (4-octet allowed)"),
    peer_as: int = typer.Option(..., "--peer-as", help="the router's AS number"),
    router_id: str = typer.Option("192.0.2.254", "--router-id", help="our BGP identifier"),
    local_address: str | None = typer.Option(None, "--local-address", help="connect from here"),
    next_hop: str | None = typer.Option(None, "--next-hop", help="discard next hop (policy)"),
    hold_time: int = typer.Option(90, "--hold-time", help="proposed hold time, seconds"),
    reload_every: float = typer.Option(60.0, "--reload-every", help="reload the list, seconds"),
    policy: Path | None = typer.Option(None, "--policy", help=POLICY_HELP),
    bundle: Path | None = typer.Option(None, "--bundle", help=BUNDLE_HELP),
    hub: str | None = typer.Option(None, "--hub", help=HUB_HELP),
    token: str | None = typer.Option(None, "--token", help="bearer token for --hub"),
    collection: str | None = typer.Option(None, "--collection", help="collection id"),
) -> None:
    """Announce the ISP's blocklist as RFC 7999 blackhole /32s to its router until stopped."""
    from iotscope.block import SessionConfig, SpeakerOptions, load_policy, run_speaker, select
    from iotscope.block._export import bgp_recorder
    from iotscope.store import open_store

    host, port = _hostport(peer)
    pol = load_policy(policy, isp)
    objects = _source(bundle, hub, token, collection, isp)
    try:
        cfg = SessionConfig(
            local_as, peer_as, router_id, next_hop or pol.blackhole_next_hop, hold_time
        )
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    opts = SpeakerOptions(host, port, cfg, local_address, reload_every)
    store = open_store()
    recorder = bgp_recorder(store, isp, f"bgp:{peer}")

    async def main() -> None:
        stop, reload = asyncio.Event(), asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        watcher = None
        if hub is not None:  # reload at once when the hub announces a new object
            from iotscope.block._events import watch_hub
            from iotscope.block._sources import _shared_collection_id

            cid = collection or _shared_collection_id()
            watcher = asyncio.create_task(watch_hub(hub, token, cid, reload))
        console.print(f"announcing {isp}'s blocklist to {peer} (AS{peer_as}); Ctrl-C stops")

        def blocklist() -> Any:
            return select(objects(), pol, datetime.now(UTC))

        try:
            await run_speaker(opts, blocklist, stop, recorder, reload)
        finally:
            if watcher is not None:
                watcher.cancel()

    asyncio.run(main())


@app.command("log")
def log_cmd(
    isp: str = typer.Option(..., "--isp", help="the ISP"),
    since: str | None = typer.Option(None, "--since", help="from this time (ISO 8601)"),
) -> None:
    """The ISP's recorded blocking actions (list entries, routes), oldest first."""
    import json
    import sys

    from iotscope.store import open_store
    from iotscope.store._block import block_log
    from iotscope.tenancy import CENTRE

    rows = block_log(open_store(), CENTRE, isp, utc_option(since, "--since") if since else None)
    for r in rows:
        r["at"] = r["at"].isoformat().replace("+00:00", "Z")
        sys.stdout.write(json.dumps(r) + "\n")
