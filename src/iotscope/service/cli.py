"""`iotscope serve` and `iotscope token ...` (thin: parse options, call the part, print)."""

from __future__ import annotations

import json

import typer

from iotscope._output import console, stdout_is_terminal, table
from iotscope.errors import ConfigError

token_app = typer.Typer(help="API tokens (stored hashed; printed once).", no_args_is_help=True)


def parse_listen(listen: str) -> tuple[str, int]:
    """``HOST:PORT`` -> (host, port), with a clear error."""
    host, sep, port = listen.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError("--listen must be HOST:PORT", value=listen)
    return host.strip("[]"), int(port)


def serve(
    listen: str = typer.Option("127.0.0.1:8000", "--listen", help="HOST:PORT to listen on"),
) -> None:
    """The API, the TAXII 2.1 hub, landing pages and the centre, over the configured store."""
    import uvicorn

    from iotscope.service import create_app
    from iotscope.store import open_store

    host, port = parse_listen(listen)
    app = create_app(open_store())
    console.print(f"iotscope serving on http://{host}:{port}/ (Ctrl-C stops)", style="dim")
    uvicorn.run(app, host=host, port=port, log_level="warning")


@token_app.command("create")
def token_create(
    role: str = typer.Option(..., "--role", help="centre, isp, manufacturer or partner"),
    tenant: str | None = typer.Option(
        None, "--tenant", help="the ISP or vendor (isp/manufacturer)"
    ),
    label: str | None = typer.Option(None, "--label", help="a note on whom it is for"),
) -> None:
    """Mint a token and print it (the only time it is shown)."""
    from iotscope.store import open_store
    from iotscope.store._tokens import mint_token

    typer.echo(mint_token(open_store().engine, role, tenant, label))  # type: ignore[arg-type]


@token_app.command("revoke")
def token_revoke(token_id: str = typer.Argument(..., help="the token's id (token list)")) -> None:
    """Revoke a token by its id."""
    from iotscope.store import open_store
    from iotscope.store._tokens import revoke_token

    if not revoke_token(open_store().engine, token_id):
        raise ConfigError("no live token with this id", id=token_id)
    console.print(f"revoked {token_id}")


@token_app.command("list")
def token_list() -> None:
    """Every token's id, role, tenant and dates (never the secret)."""
    from iotscope.store import open_store
    from iotscope.store._tokens import list_tokens

    rows = list_tokens(open_store().engine)
    columns = ["id", "role", "tenant", "label", "created", "revoked"]
    if stdout_is_terminal():
        console.print(table("tokens", columns, ([r[c] for c in columns] for r in rows)))
        return
    for r in rows:
        typer.echo(json.dumps({c: r[c] for c in columns}, default=str))
