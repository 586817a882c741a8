"""``iotscope case``: connection-refusal cases (thin: parse, call ``iotscope.cases``, print).

Run by an ISP's staff on its own tenancy: ``--isp`` names it, ``--actor`` the person acting
(recorded in the audit log with ``--reason``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import typer

from iotscope._output import console, table

app = typer.Typer(
    help="Connection-refusal cases: criteria, four eyes, audit.", no_args_is_help=True
)

_ISP = typer.Option(..., "--isp", help="the ISP (your tenancy)")
_ACTOR = typer.Option(..., "--actor", help="who takes this step (a person of the ISP)")
_REASON = typer.Option(..., "--reason", help="why (kept in the audit log)")
_CRITERIA = typer.Option(None, "--criteria-file", help="criteria TOML (default: shipped)")
_NAME = typer.Option("default-password-after-notices", "--criteria", help="criterion name")


def _ctx(isp: str, criteria_file: Path | None, name: str):  # type: ignore[no-untyped-def]
    from iotscope.cases import load_criteria
    from iotscope.errors import ConfigError
    from iotscope.store import open_store
    from iotscope.tenancy import Principal

    criteria = load_criteria(criteria_file)
    if name not in criteria:
        raise ConfigError("no such criterion", criterion=name, known=sorted(criteria))
    return open_store(), Principal("isp", isp), criteria[name]


@app.command("candidates")
def candidates_cmd(
    isp: str = _ISP, criteria_file: Path | None = _CRITERIA, criterion: str = _NAME
) -> None:
    """Subscribers for whom the criterion holds now (a case may be proposed)."""
    from iotscope.cases import candidates

    store, who, crit = _ctx(isp, criteria_file, criterion)
    rows = [(s, "; ".join(d.reasons)) for s, d in candidates(store, who, isp, crit, _now())]
    console.print(table(f"{crit.name}: {crit.rule}", ["subscriber", "why"], rows))


@app.command("propose")
def propose_cmd(
    subscriber: str = typer.Option(..., "--subscriber"),
    isp: str = _ISP,
    actor: str = _ACTOR,
    reason: str = _REASON,
    criteria_file: Path | None = _CRITERIA,
    criterion: str = _NAME,
) -> None:
    """Open a case (refused unless the criterion holds on the store's evidence)."""
    from iotscope.cases import propose

    store, who, crit = _ctx(isp, criteria_file, criterion)
    typer.echo(propose(store, who, isp, subscriber, crit, actor, reason, _now()))


def _step(
    step: str,
    case: str,
    isp: str,
    actor: str,
    reason: str,
    criteria_file: Path | None,
    criterion: str,
    deadline_days: int | None = None,
) -> None:
    from iotscope.cases import advance

    store, who, crit = _ctx(isp, criteria_file, criterion)
    now = _now()
    deadline = None if deadline_days is None else now + timedelta(days=deadline_days)
    state = advance(store, who, case, step, actor, reason, now, crit, deadline)
    console.print(
        f"case {case}: {state.status}"
        + (f" (deadline {state.deadline:%Y-%m-%d})" if state.deadline else "")
    )


def _simple_step(step: str, doc: str) -> None:
    """Register ``iotscope case STEP``: a step that takes no option of its own."""

    def command(
        case: str,
        isp: str = _ISP,
        actor: str = _ACTOR,
        reason: str = _REASON,
        criteria_file: Path | None = _CRITERIA,
        criterion: str = _NAME,
    ) -> None:
        _step(step, case, isp, actor, reason, criteria_file, criterion)

    command.__doc__ = doc
    app.command(step)(command)


_simple_step("approve", "Approve (two different people, neither the proposer).")
_simple_step(
    "refuse", "Refuse the connection (after the deadline, while the criterion still holds)."
)
_simple_step("lift", "Lift the case (the latest re-check shows the device fixed or replaced).")
_simple_step("withdraw", "Withdraw the case (any time while open).")


@app.command("notify")
def notify_cmd(
    case: str,
    isp: str = _ISP,
    actor: str = _ACTOR,
    reason: str = _REASON,
    days: int = typer.Option(14, "--deadline-days", help="the subscriber's deadline"),
    criteria_file: Path | None = _CRITERIA,
    criterion: str = _NAME,
) -> None:
    """Record the advance notice to the subscriber, with its deadline."""
    _step("notify", case, isp, actor, reason, criteria_file, criterion, days)


@app.command("list")
def list_cmd(isp: str = _ISP, out: Path | None = typer.Option(None, "--out")) -> None:
    """The report of the ISP's open cases."""
    from iotscope.cases import open_cases
    from iotscope.store import open_store
    from iotscope.tenancy import Principal

    cases = open_cases(open_store(), Principal("isp", isp), isp)
    keys = ("id", "subscriber", "criteria", "opened", "status", "approvers", "deadline")
    rows = [
        (
            c.id,
            c.subscriber_id,
            c.criteria,
            f"{c.opened:%Y-%m-%d}",
            c.state.status,
            ", ".join(c.state.approvers),
            f"{c.state.deadline:%Y-%m-%d}" if c.state.deadline else "",
        )
        for c in cases
    ]
    headings = ["case", "subscriber", "criteria", "opened", "status", "approved by", "deadline"]
    console.print(table(f"open refusal cases: {isp}", headings, rows))
    if out is not None:
        listed = [dict(zip(keys, r, strict=True)) for r in rows]
        out.write_text(json.dumps(listed, indent=1), encoding="utf-8")


@app.command("audit")
def audit_cmd(case: str, isp: str = _ISP) -> None:
    """Every step of a case, as the append-only log holds it (JSON Lines)."""
    from iotscope.cases import audit_log
    from iotscope.store import open_store
    from iotscope.tenancy import Principal

    for e in audit_log(open_store(), Principal("isp", isp), case):
        typer.echo(
            json.dumps(
                {
                    "seq": e.seq,
                    "step": e.step,
                    "actor": e.actor,
                    "at": e.at.isoformat(),
                    "reason": e.reason,
                    "deadline": e.deadline.isoformat() if e.deadline else None,
                    "evidence": e.evidence,
                },
                ensure_ascii=False,
            )
        )


def _now() -> datetime:
    return datetime.now(UTC)
