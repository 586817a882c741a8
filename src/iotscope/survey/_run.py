"""The survey engine: targets -> discovery -> probes -> identification -> login -> findings.

One coroutine per host in flight (``concurrency // 4`` hosts; every socket is also held
under the backend's limits): a connect per requested port (or ZMap's open ports), one probe
connection per open service, SSDP over UDP 1900, then the host's identity merged from every
service's banners in :data:`SOURCE_ORDER`, then (unless disabled) the login check, one
service after another. Each host's findings go to ``on_findings`` as soon as it is done, so
a run of any size keeps only counts in memory.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from iotscope.fingerprint import merge_identities
from iotscope.records import Finding, Identity, Login, Survey
from iotscope.survey._login import CredentialLike, LoginPolicy, check_login, host_budget
from iotscope.survey._net import Backend, Timeouts
from iotscope.survey._probe import ServiceResult, probe_service, probe_ssdp
from iotscope.survey._scope import IPAddress, Scope
from iotscope.survey._targets import Ports, Shard

__all__ = ["SOURCE_ORDER", "SurveyEngine", "SurveyOptions", "Target", "new_survey_id"]

# Most device-specific first: a certificate subject or page title names the model, a bare
# HTTP Server header or SSH version usually names only the software inside.
SOURCE_ORDER = (
    "x509_subject", "http_title", "http_realm", "ssdp", "rtsp", "telnet", "http_body", "http",
    "ssh",
)  # fmt: skip

Identifier = Callable[[str, str], Identity | None]
Merger = Callable[[Iterable[Identity]], Identity | None]
CveLookup = Callable[[Identity], tuple[str, ...]]


@dataclass(frozen=True)
class Target:
    """One host to survey; ``open_ports`` are known open TCP ports (ZMap) or None."""

    ip: IPAddress
    open_ports: tuple[int, ...] | None = None


@dataclass(frozen=True)
class SurveyOptions:
    ports: Ports
    login: bool = True
    concurrency: int = 1000
    shard: Shard = field(default_factory=lambda: Shard(0, 1))
    timeouts: Timeouts = field(default_factory=Timeouts)
    policy: LoginPolicy = field(default_factory=LoginPolicy)
    survey_id: str | None = None


def new_survey_id(now: datetime) -> str:
    return f"survey-{now.strftime('%Y%m%dT%H%M%SZ')}-{uuid.uuid4().hex[:8]}"


def scope_targets(scope: Scope, shard: Shard) -> Iterator[Target]:
    """Every in-scope address this shard owns."""
    return (Target(ip) for ip in scope.addresses() if shard.owns(ip))


class SurveyEngine:
    """Runs one survey over targets with an injected backend, identifier and credentials."""

    def __init__(
        self,
        backend: Backend,
        options: SurveyOptions,
        identify: Identifier,
        credentials: Sequence[CredentialLike] = (),
        merge: Merger = merge_identities,
        cves: CveLookup | None = None,
    ) -> None:
        self.backend = backend
        self.options = options
        self.identify = identify
        self.credentials = credentials
        self.merge = merge
        self.cves = cves
        self.counts: Counter[str] = Counter()

    # -- one host ---------------------------------------------------------------------------
    async def _open_ports(self, target: Target) -> list[int]:
        if target.open_ports is not None:
            return sorted(target.open_ports)
        tcp = self.options.ports.tcp
        states = await asyncio.gather(*(self.backend.is_open(target.ip, p) for p in tcp))
        return [p for p, is_open in zip(tcp, states, strict=True) if is_open]

    async def _probe_all(self, target: Target) -> list[ServiceResult]:
        open_ports = await self._open_ports(target)
        t = self.options.timeouts
        jobs = [probe_service(self.backend, target.ip, port, t) for port in open_ports]
        results: list[ServiceResult] = list(await asyncio.gather(*jobs))
        if 1900 in self.options.ports.udp:
            ssdp = await probe_ssdp(self.backend, target.ip, t)
            if ssdp is not None:
                results.append(ssdp)
        return results

    def _identity(self, results: list[ServiceResult]) -> Identity | None:
        found: list[tuple[int, Identity]] = []
        for result in results:
            for source, text in result.texts:
                try:
                    identity = self.identify(source, text)
                except Exception:
                    self.counts["identify_errors"] += 1
                    continue
                if identity is not None and not identity.is_empty():
                    rank = SOURCE_ORDER.index(source) if source in SOURCE_ORDER else 99
                    found.append((rank, identity))
        found.sort(key=lambda pair: pair[0])
        return self.merge(identity for _, identity in found)

    async def _logins(self, results: list[ServiceResult], identity: Identity | None) -> list[Login]:
        logins = []
        budget = host_budget(self.options.policy, results)  # shared by the checked services
        for result in results:
            if not self.options.login:
                logins.append(Login(protocol=result.service, outcome="not_tried",
                                    detail="--no-login"))  # fmt: skip
            elif result.error and not result.banner:
                logins.append(Login(protocol=result.service, outcome="not_tried",
                                    detail="probe failed"))  # fmt: skip
            else:
                logins.append(await check_login(self.backend, result, self.credentials,
                                                identity, self.options.policy,
                                                self.options.timeouts, budget))  # fmt: skip
        return logins

    def _finding(
        self, result: ServiceResult, identity: Identity | None, login: Login, cves: tuple[str, ...]
    ) -> Finding:
        details = dict(result.details)
        if result.error:
            details["error"] = result.error
        return Finding(
            ip=result.ip, port=result.port, transport=result.transport,
            service=result.service, time=datetime.now(UTC), banner=result.banner,
            identity=identity, login=login, details=details, cves=cves,
            survey_id=self.options.survey_id,
        )  # fmt: skip

    async def survey_host(self, target: Target) -> list[Finding]:
        """Every finding of one host (empty when nothing answered)."""
        results = await self._probe_all(target)
        if not results:
            return []
        identity = self._identity(results)
        cves = self.cves(identity) if (self.cves and identity) else ()
        logins = await self._logins(results, identity)
        findings = [
            self._finding(r, identity, lg, cves) for r, lg in zip(results, logins, strict=True)
        ]
        self._count(findings)
        return findings

    def _count(self, findings: list[Finding]) -> None:
        self.counts["hosts_up"] += 1
        self.counts["hosts_identified"] += findings[0].identity is not None
        self.counts["hosts_weak"] += any(
            f.login.outcome in ("accepted", "no_auth") for f in findings
        )
        for f in findings:
            self.counts["services"] += 1
            self.counts[f"service:{f.service}"] += 1
            self.counts[f"login:{f.login.outcome}"] += 1
            self.counts["probe_errors"] += "error" in f.details

    # -- the run ----------------------------------------------------------------------------
    async def _worker(
        self, targets: Iterator[Target], on_findings: Callable[[list[Finding]], None]
    ) -> None:
        for target in targets:
            if not self.options.shard.owns(target.ip):
                continue
            self.counts["hosts"] += 1
            findings = await self.survey_host(target)
            on_findings(findings)

    async def run(
        self,
        targets: Iterable[Target],
        on_findings: Callable[[list[Finding]], None],
        survey: Survey,
    ) -> Survey:
        """Survey every target (this shard's share), then the finished survey record."""
        shared = iter(targets)
        workers = max(1, self.options.concurrency // 4)
        await asyncio.gather(*(self._worker(shared, on_findings) for _ in range(workers)))
        counts = {**survey.counts, **dict(self.counts)}
        return survey.model_copy(update={"finished": datetime.now(UTC), "counts": counts})
