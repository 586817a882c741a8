"""`iotscope notice` commands: subscriber notices and network-side protections of one ISP.

Thin: parse options, call ``iotscope.notify``, print. Run by the ISP's own operator, so each
command acts as that ISP (``Principal("isp", NAME)``): it sees its own subscribers only.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import typer

from iotscope._output import console, jsonl_sink, table
from iotscope.config import settings
from iotscope.errors import ConfigError
from iotscope.followup.cli import follow_up
from iotscope.notify import _db
from iotscope.notify._contacts import read_contacts
from iotscope.notify._create import create_notices
from iotscope.notify._email import parse_smtp
from iotscope.notify._findings import isp_findings
from iotscope.notify._model import IspFindings, NoticeProfile, SubscriberOf
from iotscope.notify._protect import move, propose_protections
from iotscope.notify._send import send_notices
from iotscope.notify._subscribers import from_attribution, read_lease_csv
from iotscope.store import Store, open_store
from iotscope.tenancy import Principal

app = typer.Typer(
    help="Subscriber notices and network-side protections (per ISP).", no_args_is_help=True
)
protect_app = typer.Typer(help="Move a protection: apply or lift.", no_args_is_help=True)
contacts_app = typer.Typer(help="Subscriber contact data (the ISP's own).", no_args_is_help=True)
app.add_typer(protect_app, name="protect")
app.add_typer(contacts_app, name="contacts")
app.command("follow-up")(follow_up)  # helper C2: iotscope.followup


def _isp_prefixes(isp: str, manifest: Path | None, prefix: list[str]) -> list[str] | None:
    """The ISP's prefixes as given (``--prefix``, a lab manifest), else None: the registry."""
    if prefix:
        return prefix
    if manifest is not None:
        from iotscope.lab._manifest import read_manifest

        for entry in read_manifest(manifest).isps:
            if entry.name == isp:
                return list(entry.prefixes)
        raise ConfigError("ISP not in the lab manifest", isp=isp, file=str(manifest))
    return None


def _subscribers(store: Store, p: Principal, isp: str, leases: Path | None) -> SubscriberOf:
    return read_lease_csv(leases) if leases is not None else from_attribution(store, p, isp)


@app.command("send")
def send(
    isp: str = typer.Option(..., "--isp", help="the ISP (its notice profile must be set)"),
    smtp: str | None = typer.Option(None, "--smtp", help="HOST:PORT of the ISP's MTA"),
    out: Path | None = typer.Option(None, "--out", help="letters, SMS, walled-garden lists"),
    leases: Path | None = typer.Option(None, "--leases", help="lease log CSV (else the store's)"),
    manifest: Path | None = typer.Option(None, "--manifest", help="lab manifest's prefixes"),
    prefix: list[str] = typer.Option([], "--prefix", help="prefixes (else: the registry)"),
    seed: int | None = typer.Option(None, "--seed", help="seed of the A/B variant draw"),
) -> None:
    """Create notices for the ISP's new findings, send them, propose protections."""
    store = open_store()
    p = Principal("isp", isp)
    since = _last_finding(store, p, isp)
    found = isp_findings(store, _isp_prefixes(isp, manifest, prefix), since, isp=isp)
    job = IspFindings(isp, tuple(found), _subscribers(store, p, isp, leases))
    rng = random.Random(seed if seed is not None else random.SystemRandom().getrandbits(64))
    made = create_notices(store, p, job, rng)
    where = out or settings().home / "notices" / _slug(isp) / datetime.now(UTC).strftime("%Y%m%d")
    report = send_notices(store, p, isp, where, smtp=parse_smtp(smtp) if smtp else None)
    proposed = propose_protections(store, p, isp, _db.list_notices(store, p, isp))
    console.print(
        f"{len(found)} findings -> {len(made)} new notices; "
        f"{len(proposed)} protections proposed; files in {where}"
    )
    rows = [
        (ch, report.sent[ch], report.failed[ch]) for ch in ("email", "letter", "sms", "landing")
    ]
    console.print(table(f"notices sent for {isp}", ["channel", "sent", "failed"], rows))


def _last_finding(store: Store, p: Principal, isp: str) -> datetime | None:
    times = [n.finding_time for n in _db.list_notices(store, p, isp)]
    return max(times) if times else None


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in name.lower()).strip("-")


@app.command("profile")
def profile(
    isp: str = typer.Option(..., "--isp"),
    domain: str = typer.Option(..., "--domain", help="the ISP's own domain (links, sender)"),
    name_ja: str | None = typer.Option(None, "--name-ja"),
    name_en: str | None = typer.Option(None, "--name-en"),
    phone: str = typer.Option("0120-000-000", "--support-phone"),
    channels: str = typer.Option("email,sms,letter,landing", "--channels", help="in order"),
    language: str = typer.Option("ja", "--language"),
    manages_cpe: bool = typer.Option(False, "--manages-cpe", help="the ISP runs its routers"),
) -> None:
    """Set how the ISP sends notices (its domain, names, channel order)."""
    try:
        prof = NoticeProfile(
            isp=isp,
            domain=domain,
            name_ja=name_ja,
            name_en=name_en,
            support_phone=phone,
            channels=tuple(channels.split(",")),
            language=language,
            manages_cpe=manages_cpe,
        )
    except ValueError as exc:
        raise ConfigError("bad notice profile", reason=str(exc)[:300]) from exc
    _db.save_profile(open_store(), Principal("isp", isp), prof)
    console.print(f"notice profile of {isp} saved (links on {domain})")


@contacts_app.command("import")
def contacts_import(
    isp: str = typer.Option(..., "--isp"), path: Path = typer.Argument(...)
) -> None:
    """Import subscriber contacts (CSV; see ``_contacts.HEADER``)."""
    rows = read_contacts(path, isp)
    n = _db.save_contacts(open_store(), Principal("isp", isp), rows)
    console.print(f"{n} contacts of {isp} imported")


@app.command("list")
def list_(
    isp: str = typer.Option(..., "--isp"), out: Path | None = typer.Option(None, "--out")
) -> None:
    """The ISP's notices (JSON Lines with --out or to a pipe, else a table)."""
    notices = _db.list_notices(open_store(), Principal("isp", isp), isp)
    with jsonl_sink(out) as sink:
        if sink is not None:
            for n in notices:
                sink.write(n.to_json() + "\n")
            return
    rows = [
        (
            n.id[:12],
            n.subscriber_id,
            str(n.ip),
            n.kind,
            n.channel,
            n.variant,
            _t(n.sent),
            _t(n.viewed),
            _t(n.fixed_reported),
        )
        for n in notices
    ]
    console.print(
        table(
            f"notices of {isp}",
            ["id", "subscriber", "ip", "kind", "channel", "variant", "sent", "viewed", "fixed"],
            rows,
        )
    )


def _t(when: datetime | None) -> str:
    return when.strftime("%Y-%m-%d %H:%M") if when else "-"


@app.command("delivered")
def delivered(
    notice_id: str = typer.Argument(..., help="the notice's id"),
    isp: str = typer.Option(..., "--isp"),
    source: str = typer.Option("operator", "--source", help="what confirmed it (MTA DSN, post)"),
) -> None:
    """Record that a notice reached its subscriber."""
    n = _db.mark_delivered(
        open_store(), Principal("isp", isp), notice_id, datetime.now(UTC), source
    )
    console.print(f"notice {n.id[:12]} delivered {_t(n.delivered)}")


@app.command("bounces")
def bounces(
    paths: list[Path] = typer.Argument(..., help="an mbox file, a Maildir or a folder of .eml"),
    isp: str = typer.Option(..., "--isp"),
) -> None:
    """Read the ISP MTA's delivery status notifications (RFC 3464) and record each bounced
    or delayed notice; a bounced subscriber gets a letter instead."""
    from iotscope.notify._bounce import messages_in, read_bounces

    raws = (raw for path in paths for raw in messages_in(path))
    report = read_bounces(open_store(), Principal("isp", isp), isp, raws, datetime.now(UTC))
    rows = [("bounced", report.bounced), ("delayed", report.delayed)]
    rows += [(f"skipped: {why}", n) for why, n in sorted(report.skipped.items())]
    console.print(table(f"bounces for {isp}", ["outcome", "messages"], rows))


@app.command("protections")
def protections(
    isp: str = typer.Option(..., "--isp"),
    state: str | None = typer.Option(None, "--state"),
    out: Path | None = typer.Option(None, "--out"),
) -> None:
    """The network-side measures proposed for the ISP's findings, and their state."""
    items = _db.list_protections(open_store(), Principal("isp", isp), isp, state)
    with jsonl_sink(out) as sink:
        if sink is not None:
            for x in items:
                sink.write(x.to_json() + "\n")
            return
    rows = [
        (x.id[:12], x.measure, str(x.ip), x.state, _t(x.applied), x.applied_by or "-", _t(x.lifted))
        for x in items
    ]
    console.print(
        table(
            f"protections of {isp}",
            ["id", "measure", "ip", "state", "applied", "by", "lifted"],
            rows,
        )
    )


def _move(action: str, protection_id: str, isp: str, by: str, reason: str | None) -> None:
    store = open_store()
    p = Principal("isp", isp)
    full = _resolve_id(store, p, isp, protection_id)
    moved = move(store, p, full, action, by, reason)
    console.print(f"protection {moved.id[:12]} ({moved.measure}, {moved.ip}) is {moved.state}")


def _resolve_id(store: Store, p: Principal, isp: str, prefix: str) -> str:
    """A protection id, or an unambiguous prefix of one (as the table shows them)."""
    hits = [x.id for x in _db.list_protections(store, p, isp) if x.id.startswith(prefix)]
    if len(hits) != 1:
        raise ConfigError("no single protection has this id", id=prefix, matches=len(hits))
    return hits[0]


@protect_app.command("apply")
def protect_apply(
    protection_id: str = typer.Argument(...),
    isp: str = typer.Option(..., "--isp"),
    by: str = typer.Option(..., "--by", help="who applies it"),
    reason: str | None = typer.Option(None, "--reason"),
) -> None:
    """Mark a protection applied (proposed or lifted -> applied)."""
    _move("apply", protection_id, isp, by, reason)


@protect_app.command("lift")
def protect_lift(
    protection_id: str = typer.Argument(...),
    isp: str = typer.Option(..., "--isp"),
    by: str = typer.Option(..., "--by", help="who lifts it"),
    reason: str | None = typer.Option(None, "--reason"),
) -> None:
    """Mark a protection lifted (applied -> lifted)."""
    _move("lift", protection_id, isp, by, reason)
