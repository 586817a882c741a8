"""``iotscope notice follow-up`` (a command of the ``notice`` group) and ``effect``.

Thin: parse options, pick the re-check backend and the lease log, run a round, print.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import typer

from iotscope._output import console, table
from iotscope.errors import ConfigError
from iotscope.followup._model import Rechecker


def follow_up(
    isp: str = typer.Option(..., "--isp", help="the ISP whose notified devices to re-check"),
    after_days: int = typer.Option(14, "--after-days", help="re-check N days after the notice"),
    leases: Path | None = typer.Option(
        None, "--leases", help="the ISP's lease log CSV (default: the store's lease log)"
    ),
    backend: str = typer.Option(
        "survey",
        "--backend",
        help="survey (real re-survey) or simulated (a `lab simulate` directory)",
    ),
    lab: Path | None = typer.Option(None, "--lab", help="lab simulate's --out (simulated)"),
    manifest: Path | None = typer.Option(None, "--manifest", help="the lab manifest (simulated)"),
    trial: str = typer.Option("", "--trial", help="trial name (default: the ISP's name)"),
    out: Path | None = typer.Option(None, "--out", help="write the effect as JSON here"),
) -> None:
    """Re-check notified devices N days after their notice, at the subscriber's current
    address, and print the states and the effect per channel and variant."""
    from iotscope.followup import (
        TABLE_COLUMNS,
        LeaseBook,
        checks,
        estimate,
        run_round,
        subjects,
    )
    from iotscope.followup._enrol import enrol_notices
    from iotscope.followup._leases import StoreLeases
    from iotscope.notify import list_notices
    from iotscope.store import open_store
    from iotscope.tenancy import CENTRE

    store = open_store()
    name = trial or isp
    added = enrol_notices(store, CENTRE, isp, name, list_notices(store, CENTRE, isp))
    enrolled = subjects(store, CENTRE, isp, name)
    if not enrolled:
        raise ConfigError("no notices to follow up for this ISP", isp=isp)
    when = min(x.notified or x.assigned for x in enrolled) + timedelta(days=after_days)
    rechecker = _backend(backend, lab, manifest)
    if backend == "survey":
        when = max(when, datetime.now(UTC))
    book = LeaseBook.from_csv(leases) if leases else StoreLeases(store, CENTRE, isp)
    result = run_round(store, CENTRE, isp, name, when, rechecker, book)
    console.print(f"enrolled {added} new notices; round {result.round} at {when:%Y-%m-%d %H:%M} "
                  f"({result.backend} re-check, {result.moved} subscribers moved)")  # fmt: skip
    console.print(table("states", ["state", "devices"], sorted(result.states.items())))
    effect = estimate(subjects(store, CENTRE, isp, name), checks(store, CENTRE, isp, name))
    console.print(table(f"effect on day {effect.round}", TABLE_COLUMNS, effect.table_rows()))
    if out is not None:
        out.write_text(json.dumps(effect.to_json(), indent=1), encoding="utf-8")


def _backend(kind: str, lab: Path | None, manifest: Path | None) -> Rechecker:
    from iotscope.followup import SimulatedRechecker, SurveyRechecker

    if kind == "survey":
        return SurveyRechecker()
    if kind != "simulated":
        raise ConfigError("unknown backend (survey or simulated)", backend=kind)
    if lab is None or manifest is None:
        raise ConfigError("the simulated backend needs --lab DIR and --manifest FILE")
    from iotscope.lab._dynamics import load_state
    from iotscope.lab._manifest import read_manifest

    return SimulatedRechecker(load_state(read_manifest(manifest), lab))
