"""`iotscope share ...`: the hub's commands (thin: parse options, call the part, print)."""

from __future__ import annotations

import typer

from iotscope.share import _commands as content

app = typer.Typer(
    help="Share C2 indicators: the TAXII 2.1 hub, publishing, feeds.", no_args_is_help=True
)


@app.command("collections")
def collections(
    role: str = typer.Option(
        "centre", "--role", help="whose view: centre, isp, manufacturer, partner"
    ),
    tenant: str | None = typer.Option(None, "--tenant", help="the ISP or vendor"),
) -> None:
    """List the hub's collections as ``role``/``tenant`` sees them (id, kind, title, rights)."""
    import json

    from iotscope.share import access, collections_for
    from iotscope.store import open_store
    from iotscope.tenancy import Principal

    who = Principal(role, tenant)  # type: ignore[arg-type]
    for c in collections_for(open_store(), who):
        can_read, can_write = access(who, c)
        row = {"id": c.id, "kind": c.kind, "owner": c.owner, "title": c.title}
        typer.echo(json.dumps(row | {"can_read": can_read, "can_write": can_write}))


@app.command("lineages")
def lineages() -> None:
    """Cut the shared feed by C2 lineage: one read-only collection per lineage (the centre)."""
    import json

    from iotscope.share.lineages import publish_lineages
    from iotscope.store import open_store

    for p in publish_lineages(open_store()):
        typer.echo(json.dumps({"lineage": p.lineage, "collection": p.collection,
                               "members": p.members, "indicators": p.indicators,
                               "added": p.added}))  # fmt: skip


# STIX content, agreement between ISPs, MISP and partner feeds (helper E)
app.command("agreement")(content.agreement_cmd)
app.command("confirm")(content.confirm_cmd)
app.command("calibrate")(content.calibrate_cmd)
app.command("compare")(content.compare_cmd)
app.command("misp-feed")(content.misp_feed_cmd)
app.command("import")(content.import_cmd)
app.command("revoke")(content.revoke_cmd)
app.command("stix")(content.stix_cmd)


@app.command("publish")
def publish(
    site: str = typer.Option(..., "--site", help="the ISP site whose latest detection to share"),
    hub: str = typer.Option(..., "--hub", help="the hub's URL (server, API root or collection)"),
    token: str = typer.Option(..., "--token", help="this ISP's bearer token for the hub"),
    collection: str | None = typer.Option(
        None, "--collection", help="collection id (default: the hub's shared collection)"
    ),
    refresh: str = typer.Option(
        "6h", "--refresh", help="re-version a C2 seen again once its validity moved this much"
    ),
) -> None:
    """Publish the site's latest detection run once: new, changed and expired C2s (what was
    already sent is known from the site's publish state; the outbox keeps what the hub did not
    take, for the next publish or ``isp run``)."""
    from iotscope._output import console
    from iotscope.isp._publish import publish_latest, send_pending
    from iotscope.isp._taxii import Hub, bearer
    from iotscope.isp.cli import parse_duration
    from iotscope.store import open_store

    store = open_store()
    run_id, decided, _ = publish_latest(store, site, refresh=parse_duration(refresh, "--refresh"))
    client = Hub(hub, headers=bearer(token), collection=collection)
    try:
        report = send_pending(store, site, client)
    finally:
        client.close()
    counts = ", ".join(f"{k} {v}" for k, v in decided.counts().items() if v) or "no C2"
    console.print(
        f"{site}: run {run_id}: {counts}; sent {report.sent} envelope(s), "
        f"{report.objects} objects" + (f"; hub: {report.error} (kept in the outbox)"
                                        if report.error else ""),
        markup=False, highlight=False,
    )  # fmt: skip
    if report.failed or report.dead:
        raise typer.Exit(1)
