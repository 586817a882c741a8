"""Wiring for a real run: options -> scope, targets, backend, rules, credentials -> engine.

:func:`prepare` validates everything before a single packet is sent (scope files, ports,
shard, credential files, rule files, ZMap CSV); :func:`run_survey` then runs the engine with
the scope-enforcing :class:`~._net.RealBackend`.
"""

from __future__ import annotations

import resource
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from iotscope.fingerprint import default_rules, identify, load_default_rules, merge_identities
from iotscope.knowledge import cves_for, load_credentials_file, load_default_credentials
from iotscope.records import Finding, Identity, Survey
from iotscope.survey._limits import Limits
from iotscope.survey._login import CredentialLike, LoginPolicy
from iotscope.survey._net import RealBackend, Timeouts
from iotscope.survey._run import (
    SOURCE_ORDER,
    SurveyEngine,
    SurveyOptions,
    Target,
    new_survey_id,
    scope_targets,
)
from iotscope.survey._scope import Scope
from iotscope.survey._targets import (
    DEFAULT_PORTS,
    Ports,
    Shard,
    parse_ports,
    parse_shard,
    read_zmap_csv,
)

__all__ = ["Prepared", "SurveyConfig", "prepare", "raise_nofile", "run_survey"]


@dataclass(frozen=True)
class SurveyConfig:
    """Everything ``iotscope survey run`` accepts."""

    scope: Path
    exclude: Path | None = None
    ports: str = DEFAULT_PORTS
    credentials: Path | None = None
    login: bool = True
    concurrency: int = 1000
    per_subnet: int = 256
    rate: float | None = None
    shard: str | None = None
    zmap_csv: Path | None = None
    timeouts: Timeouts = field(default_factory=Timeouts)
    policy: LoginPolicy = field(default_factory=LoginPolicy)
    survey_id: str | None = None
    rules: tuple[Path, ...] = ()


@dataclass
class Prepared:
    config: SurveyConfig
    scope: Scope
    ports: Ports
    shard: Shard
    targets: Callable[[], Iterator[Target]]
    total: int  # targets before sharding
    credentials: Sequence[CredentialLike]
    counts: dict[str, int]
    survey: Survey


def _credentials(path: Path | None) -> tuple[CredentialLike, ...]:
    entries: tuple[CredentialLike, ...] = tuple(load_default_credentials())
    if path is not None:
        extra = load_credentials_file(path)
        known = {e.id for e in entries}
        entries += tuple(e for e in extra if e.id not in known)
    return entries


def prepare(config: SurveyConfig, now: datetime | None = None) -> Prepared:
    """Validate the configuration and build the target list; sends nothing."""
    scope = Scope.from_files(config.scope, config.exclude)
    ports, shard = parse_ports(config.ports), parse_shard(config.shard)
    counts: dict[str, int] = {}
    if config.zmap_csv is not None:
        zmap = read_zmap_csv(config.zmap_csv, scope)
        counts.update(zmap_rows=zmap.rows, zmap_out_of_scope=zmap.out_of_scope,
                      zmap_bad_rows=zmap.bad_rows, zmap_not_success=zmap.not_success)  # fmt: skip
        hosts = zmap.hosts

        def targets() -> Iterator[Target]:
            for ip, open_ports in hosts.items():
                yield Target(ip, tuple(sorted(open_ports)) if open_ports else None)

        total = len(hosts)
    else:

        def targets() -> Iterator[Target]:
            return scope_targets(scope, Shard(0, 1))

        total = scope.size()
    started = now or datetime.now(UTC)
    survey = Survey(
        id=config.survey_id or new_survey_id(started), started=started, scope=scope.networks,
        exclude=scope.exclude, ports=ports.labels(),
        shard=str(shard) if shard.count > 1 else None, counts=counts,
    )  # fmt: skip
    creds = _credentials(config.credentials) if config.login else ()
    return Prepared(config, scope, ports, shard, targets, total, creds, counts, survey)


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


async def run_survey(prepared: Prepared, on_findings: Callable[[list[Finding]], None]) -> Survey:
    """Run a prepared survey with real, scope-checked sockets; the finished record."""
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
    survey = await engine.run(prepared.targets(), on_findings, prepared.survey)
    counts = dict(survey.counts)
    counts.update(sockets_opened=backend.sockets_opened,
                  peak_in_flight=limits.peak_in_flight)  # fmt: skip
    return survey.model_copy(update={"counts": counts})
