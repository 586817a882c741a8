"""`iotscope share ...`: the hub's commands (thin: parse options, call the part, print)."""

from __future__ import annotations

import typer

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
