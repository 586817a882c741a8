"""Wiring for a real run: options -> scope, targets, backend, rules, credentials -> engine.

:func:`prepare` validates everything before a single packet is sent (scope files, ports,
shard, credential files, rule files, ZMap CSV); :func:`run_survey` then runs the engine with
the scope-enforcing :class:`~._net.RealBackend`; :func:`run_recorded` adds the store:
batches written off the event loop, the progress that ``--resume`` continues from, and the
last batch flushed on SIGINT/SIGTERM.

Defaults are for a shared network, not a lab: at most :data:`DEFAULT_RATE` new connections
per second, :data:`DEFAULT_CONCURRENCY` sockets in flight and :data:`DEFAULT_PER_SUBNET`
per /24. ZMap sends SYNs as fast as the NIC allows unless told otherwise (``--rate``), and
its authors advise staying under 10 Mbit/s when the target is a single network; ZGrab2
defaults to 1000 sender goroutines, for dedicated research scanners. A survey connection is
a full TCP handshake plus an application exchange (about 10 packets, a few KB), so 300
connections/s is a few Mbit/s, and 256 sockets is a quarter of ZGrab2's pool because login
checks hold theirs for seconds. Operators raise them deliberately (``--rate``,
``--concurrency``; ``--rate 0`` is unlimited, for a lab on loopback).
"""

from __future__ import annotations

import asyncio
import resource
import signal
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from iotscope.errors import ConfigError
from iotscope.fingerprint import default_rules, identify, load_default_rules, merge_identities
from iotscope.knowledge import cves_for, load_credentials_file, load_default_credentials
from iotscope.records import Finding, Identity, Survey
from iotscope.store import Store, SurveyProgress, save_survey_batch
from iotscope.survey._limits import Limits
from iotscope.survey._login import CredentialLike, LoginPolicy
from iotscope.survey._net import RealBackend, Timeouts
from iotscope.survey._order import new_seed
from iotscope.survey._record import BatchWriter, RunRecorder
from iotscope.survey._run import (
    SOURCE_ORDER,
    FindingsSink,
    SurveyEngine,
    SurveyOptions,
    Target,
    new_survey_id,
    ordered_targets,
)
from iotscope.survey._scope import Scope, parse_networks
from iotscope.survey._targets import (
    DEFAULT_PORTS,
    Ports,
    Shard,
    parse_ports,
    parse_shard,
    read_zmap_csv,
)

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_PER_SUBNET",
    "DEFAULT_RATE",
    "Prepared",
    "Recorded",
    "SurveyConfig",
    "prepare",
    "raise_nofile",
    "run_recorded",
    "run_survey",
]

DEFAULT_RATE = 300.0  # new connections per second
DEFAULT_CONCURRENCY = 256  # sockets in flight
DEFAULT_PER_SUBNET = 16  # sockets in flight per /24 (IPv4) or /64 (IPv6)
MAX_SCOPE = 1 << 48  # addresses: beyond this an enumerating survey makes no sense


@dataclass(frozen=True)
class SurveyConfig:
    """Everything ``iotscope survey run`` accepts. The scope comes from ``scope`` (and
    ``exclude``) files, or, when ``scope`` is None, from ``networks`` and ``excluded``
    (a resumed run uses the networks it recorded). ``rate`` None: unlimited."""

    scope: Path | None = None
    exclude: Path | None = None
    ports: str = DEFAULT_PORTS
    credentials: Path | None = None
    login: bool = True
    concurrency: int = DEFAULT_CONCURRENCY
    per_subnet: int = DEFAULT_PER_SUBNET
    rate: float | None = DEFAULT_RATE
    shard: str | None = None
    zmap_csv: Path | None = None
    timeouts: Timeouts = field(default_factory=Timeouts)
    policy: LoginPolicy = field(default_factory=LoginPolicy)
    survey_id: str | None = None
    rules: tuple[Path, ...] = ()
    seed: int | None = None
    networks: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()

    def to_json(self, scope: Scope, seed: int, survey_id: str) -> dict[str, Any]:
        """What a resumed run needs (the scope as networks: files may change meanwhile)."""
        data = asdict(self)
        paths = {"credentials", "zmap_csv"}
        data.update({k: str(v) if v is not None else None for k, v in data.items() if k in paths})
        data.update(scope=None, exclude=None, rules=[str(r) for r in self.rules], seed=seed,
                    survey_id=survey_id, networks=list(scope.networks),
                    excluded=list(scope.exclude))  # fmt: skip
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SurveyConfig:
        data = dict(data)
        for key in ("credentials", "zmap_csv"):
            data[key] = Path(data[key]) if data.get(key) else None
        data["rules"] = tuple(Path(r) for r in data.get("rules", ()))
        data["networks"], data["excluded"] = tuple(data["networks"]), tuple(data["excluded"])
        data["timeouts"] = Timeouts(**data["timeouts"])
        data["policy"] = LoginPolicy(**data["policy"])
        return cls(**data)


@dataclass
class Prepared:
    config: SurveyConfig
    scope: Scope
    ports: Ports
    shard: Shard
    targets: Callable[..., Iterator[Target]]  # (skip=...) -> targets in the seed's order
    total: int  # targets before sharding
    credentials: Sequence[CredentialLike]
    counts: dict[str, int]
    survey: Survey
    seed: int = 0

    def start_message(self) -> list[str]:
        """The lines printed before the first packet: scope, limits, order."""
        c = self.config
        rate = "unlimited" if c.rate is None else f"{c.rate:g} new connections/s"
        lines = [
            f"survey {self.survey.id}: scope {self.scope.size()} addresses after exclusions "
            f"and the special-purpose blocklist; {self.total} targets"
            + (f", shard {self.shard}" if self.shard.count > 1 else ""),
            f"limits: {rate}, {c.concurrency} sockets in flight, {c.per_subnet} per /24; "
            f"visiting order: seed {self.seed}",
        ]
        lines += [f"deliberate scope inside a special-purpose range: {d}"
                  for d in self.scope.deliberate]  # fmt: skip
        lines += [f"never contacted (special-purpose): {b}" for b in self.scope.blocked]
        return lines


def _credentials(path: Path | None) -> tuple[CredentialLike, ...]:
    entries: tuple[CredentialLike, ...] = tuple(load_default_credentials())
    if path is not None:
        extra = load_credentials_file(path)
        known = {e.id for e in entries}
        entries += tuple(e for e in extra if e.id not in known)
    return entries


def _scope(config: SurveyConfig) -> Scope:
    if config.scope is not None:
        scope = Scope.from_files(config.scope, config.exclude)
    elif config.networks:
        scope = Scope.from_networks(
            parse_networks(config.networks, "<recorded scope>"),
            parse_networks(config.excluded, "<recorded exclusions>"),
        )
    else:
        raise ConfigError("no scope given")
    if scope.size() > MAX_SCOPE:
        raise ConfigError("scope too large to enumerate (use ZMap for discovery)",
                          size=scope.size())  # fmt: skip
    return scope


def _target_space(config: SurveyConfig, scope: Scope, counts: dict[str, int]) -> tuple[
    int, Callable[[int], Target]]:  # fmt: skip
    """(how many targets, index -> target): the scope's addresses or ZMap's hosts."""
    if config.zmap_csv is None:
        return scope.size(), lambda i: Target(scope.address_at(i))
    zmap = read_zmap_csv(config.zmap_csv, scope)
    counts.update(zmap_rows=zmap.rows, zmap_out_of_scope=zmap.out_of_scope,
                  zmap_bad_rows=zmap.bad_rows, zmap_not_success=zmap.not_success)  # fmt: skip
    hosts = sorted(zmap.hosts.items(), key=lambda kv: int(kv[0]))
    return len(hosts), lambda i: Target(hosts[i][0], tuple(sorted(hosts[i][1])) or None)


def prepare(config: SurveyConfig, now: datetime | None = None) -> Prepared:
    """Validate the configuration and set up the target order; sends nothing."""
    scope = _scope(config)
    ports, shard = parse_ports(config.ports), parse_shard(config.shard)
    counts: dict[str, int] = {}
    total, at = _target_space(config, scope, counts)
    seed = config.seed if config.seed is not None else new_seed()

    def targets(skip: Callable[[int], bool] | None = None) -> Iterator[Target]:
        if total == 0:
            return iter(())
        return ordered_targets(total, seed, at, skip or (lambda _: False))

    counts.update(scope_size=scope.size(), targets=total, seed=seed)
    started = now or datetime.now(UTC)
    survey = Survey(
        id=config.survey_id or new_survey_id(started), started=started, scope=scope.networks,
        exclude=scope.exclude, ports=ports.labels(),
        shard=str(shard) if shard.count > 1 else None, counts=counts,
    )  # fmt: skip
    creds = _credentials(config.credentials) if config.login else ()
    return Prepared(config, scope, ports, shard, targets, total, creds, counts, survey, seed)


def raise_nofile(want: int) -> int:
    """Raise the open-file limit towards ``want`` (bounded by the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft


def _identifier(rules: tuple[Path, ...]) -> Callable[[str, str], Identity | None]:
    # shipped rules, --db files, then nmap-service-probes (setting nmap_probes: auto|off|path)
    ruleset = load_default_rules(rules) if rules else default_rules()
    ruleset.warm(SOURCE_ORDER)  # compile nmap's lazy lines before any socket opens

    def run(service: str, text: str) -> Identity | None:
        match = identify(service, text, ruleset)
        return None if match is None else match.identity

    return run


def _cves(identity: Identity) -> tuple[str, ...]:
    if not identity.vendor or not identity.product:
        return ()
    return tuple(cves_for(identity.vendor, identity.product, identity.version))


async def run_survey(
    prepared: Prepared,
    on_findings: FindingsSink,
    on_done: Callable[[Target, list[Finding]], Any] | None = None,
    skip: Callable[[int], bool] | None = None,
) -> Survey:
    """Run a prepared survey with real, scope-checked sockets; the finished record.
    ``skip(position)``: targets already done (a resumed run)."""
    config = prepared.config
    raise_nofile(config.concurrency * 2 + 256)
    limits = Limits(config.concurrency, config.per_subnet, config.rate)
    backend = RealBackend(prepared.scope, limits, config.timeouts)
    options = SurveyOptions(
        ports=prepared.ports, login=config.login, concurrency=config.concurrency,
        shard=prepared.shard, timeouts=config.timeouts, policy=config.policy,
        survey_id=prepared.survey.id,
    )  # fmt: skip
    engine = SurveyEngine(backend, options, _identifier(config.rules), prepared.credentials,
                          merge_identities, _cves)  # fmt: skip
    survey = await engine.run(prepared.targets(skip), on_findings, prepared.survey, on_done)
    counts = dict(survey.counts)
    counts.update(sockets_opened=backend.sockets_opened,
                  peak_in_flight=limits.peak_in_flight)  # fmt: skip
    return survey.model_copy(update={"counts": counts})


@dataclass
class Recorded:
    """A recorded run's end: the survey record and the signal that stopped it, if any."""

    survey: Survey
    progress: SurveyProgress
    stopped_by: int | None = None


def new_progress(prepared: Prepared) -> SurveyProgress:
    """The progress of a run that has not visited any target yet."""
    sid = prepared.survey.id
    config = prepared.config.to_json(prepared.scope, prepared.seed, sid)
    return SurveyProgress(survey_id=sid, seed=prepared.seed, size=prepared.total, config=config)


async def run_recorded(
    prepared: Prepared,
    store: Store,
    on_findings: FindingsSink,
    progress: SurveyProgress | None = None,
    flush_every: float = 2.0,
) -> Recorded:
    """:func:`run_survey` with the store: findings and progress written in batches by a
    writer thread; SIGINT/SIGTERM stop the run after the last batch is written.
    ``progress``: where a resumed run stands (None: a new run)."""
    writer = BatchWriter(lambda b: save_survey_batch(store, b.findings, b.progress))
    recorder = RunRecorder(writer, progress or new_progress(prepared), flush_every)
    loop, task = asyncio.get_running_loop(), asyncio.current_task()
    stopped: list[int] = []

    def stop(signum: int) -> None:
        stopped.append(signum)
        if task is not None:
            task.cancel()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop, signum)
    survey = prepared.survey
    try:
        survey = await run_survey(prepared, on_findings, recorder.on_done,
                                  recorder.tracker.is_done)  # fmt: skip
    except asyncio.CancelledError:
        if not stopped or task is None:
            raise
        task.uncancel()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        final = recorder.close()
    counts = {**survey.counts, **recorder.counts}  # host counts: the whole run's
    update: dict[str, Any] = {"counts": counts}
    if stopped:
        update["finished"] = None
    return Recorded(survey.model_copy(update=update), final, stopped[0] if stopped else None)


def resume_config(progress: SurveyProgress) -> SurveyConfig:
    """The configuration a recorded run resumes with (its seed and id included)."""
    return replace(SurveyConfig.from_json(progress.config), seed=progress.seed,
                   survey_id=progress.survey_id)  # fmt: skip
