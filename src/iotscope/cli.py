"""The ``iotscope`` command: one typer app; each part contributes one sub-command group.

Commands are thin. Errors of iotscope's own family are rendered once, here, with their data.
"""

from __future__ import annotations

import sys

import typer

from iotscope import __version__
from iotscope._output import console
from iotscope.attribution.cli import app as registry_app
from iotscope.block.cli import app as block_app
from iotscope.c2.cli import app as c2_app
from iotscope.cases.cli import app as case_app
from iotscope.errors import IotscopeError
from iotscope.fingerprint.cli import app as fingerprint_app
from iotscope.flows.cli import app as flows_app
from iotscope.isp.cli import app as isp_app
from iotscope.lab.cli import app as lab_app
from iotscope.makers.cli import app as makers_app
from iotscope.notify.cli import app as notice_app
from iotscope.report.cli import app as report_app
from iotscope.service.cli import serve as serve_command
from iotscope.service.cli import token_app
from iotscope.share.cli import app as share_app
from iotscope.survey.cli import app as survey_app
from iotscope.telescope.cli import app as telescope_app
from iotscope.vulns.cli import app as vulns_app

app = typer.Typer(
    help="iotscope: national IoT botnet countermeasures (survey, darknet, flows, C2).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(lab_app, name="lab")
app.add_typer(survey_app, name="survey")
app.add_typer(fingerprint_app, name="fingerprint")
app.add_typer(telescope_app, name="telescope")
app.add_typer(flows_app, name="flows")
app.add_typer(c2_app, name="c2")
app.add_typer(vulns_app, name="vulns")
app.add_typer(token_app, name="token")
app.add_typer(isp_app, name="isp")
app.add_typer(registry_app, name="registry")
app.add_typer(report_app, name="report")
app.add_typer(notice_app, name="notice")
app.add_typer(block_app, name="block")
app.add_typer(case_app, name="case")
app.add_typer(share_app, name="share")
app.add_typer(makers_app, name="makers")
app.command("serve")(serve_command)


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
