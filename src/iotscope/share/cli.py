"""`iotscope share ...` (thin: parse options, call the part, print)."""

from __future__ import annotations

import typer

from iotscope.share import _commands as content

app = typer.Typer(
    help="Share C2 indicators: the TAXII 2.1 hub, publishing, feeds.", no_args_is_help=True
)

# STIX content, agreement between ISPs, MISP and partner feeds (helper E)
app.command("agreement")(content.agreement_cmd)
app.command("confirm")(content.confirm_cmd)
app.command("calibrate")(content.calibrate_cmd)
app.command("compare")(content.compare_cmd)
app.command("misp-feed")(content.misp_feed_cmd)
app.command("import")(content.import_cmd)
app.command("revoke")(content.revoke_cmd)
app.command("stix")(content.stix_cmd)
