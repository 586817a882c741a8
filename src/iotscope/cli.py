"""The ``iotscope`` command: one typer app; each part contributes one sub-command group.

Commands are thin. Errors of iotscope's own family are rendered once, here, with their data.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import typer
from typer.core import TyperGroup

from iotscope import __version__
from iotscope._output import console
from iotscope.errors import IotscopeError

#: Each part's sub-command group (or single command): name -> "module:attribute" of its typer
#: app or command function. A part is imported only when its command runs (or for --help), so
#: ``iotscope block bgp`` does not pay for the survey, fastapi or fpdf.
PARTS: dict[str, str] = {
    "lab": "iotscope.lab.cli:app",
    "survey": "iotscope.survey.cli:app",
    "fingerprint": "iotscope.fingerprint.cli:app",
    "telescope": "iotscope.telescope.cli:app",
    "flows": "iotscope.flows.cli:app",
    "c2": "iotscope.c2.cli:app",
    "vulns": "iotscope.vulns.cli:app",
    "token": "iotscope.service.cli:token_app",
    "isp": "iotscope.isp.cli:app",
    "registry": "iotscope.attribution.cli:app",
    "report": "iotscope.report.cli:app",
    "notice": "iotscope.notify.cli:app",
    "block": "iotscope.block.cli:app",
    "case": "iotscope.cases.cli:app",
    "share": "iotscope.share.cli:app",
    "makers": "iotscope.makers.cli:app",
    "serve": "iotscope.service.cli:serve",
}


def _part_command(name: str) -> Any:
    """The click command of part ``name``, its module imported now."""
    module, _, attr = PARTS[name].partition(":")
    target = getattr(importlib.import_module(module), attr)
    if isinstance(target, typer.Typer):
        command: Any = typer.main.get_group(target)  # a group even when it holds one command
    else:  # a single command function, e.g. ``serve``
        single = typer.Typer()
        single.command(name)(target)
        command = typer.main.get_command(single)
    command.name = name
    return command


class _Parts(TyperGroup):
    """The top-level group: its own commands, then each part's, imported on first use."""

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *(n for n in PARTS if n not in self.commands)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in PARTS and cmd_name not in self.commands:
            return _part_command(cmd_name)
        return super().get_command(ctx, cmd_name)


app = typer.Typer(
    cls=_Parts,
    help="iotscope: national IoT botnet countermeasures (survey, darknet, flows, C2).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.command()
def version() -> None:
    """Print iotscope's version."""
    typer.echo(__version__)


@app.command()
def demo(
    once: bool = typer.Option(False, "--once", help="run headless and exit instead of waiting"),
    devices: int = typer.Option(300, "--devices", help="lab size"),
    seed: int = typer.Option(7, "--seed", help="world seed"),
) -> None:
    """The main job on the embedded default: bring up a lab and look at it."""
    from iotscope.demo import DemoOptions, run_demo

    run_demo(DemoOptions(once=once, devices=devices, seed=seed))


def main() -> None:
    """Entry point: run the app, render iotscope errors as one clear line."""
    try:
        app()
    except IotscopeError as exc:
        console.print(f"[bold red]error:[/] {exc}")
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
