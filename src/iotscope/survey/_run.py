"""The survey engine: targets -> discovery -> probes -> identification -> login -> findings.

One coroutine per host in flight (``concurrency // 4`` hosts; every socket is also held
under the backend's limits): a connect per requested port (or ZMap's open ports), one probe
connection per open service, SSDP over UDP 1900, then the host's identity merged from every
service's banners in :data:`SOURCE_ORDER`, then (unless disabled) the login check, one
service after another. Each host's findings go to ``on_findings`` as soon as it is done, so
a run of any size keeps only counts in memory; ``on_done(target, findings)`` (optional,
may be a coroutine function) follows, for the run's progress record.

One host never ends the run: an exception escaping one service's login check becomes that
service's ``error`` login, one escaping the rest of a host's check becomes an ``error``
finding for the host (service ``error``, port 0), both counted (``host_errors``).
"""

from __future__ import annotations

import asyncio
import inspect
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from iotscope.fingerprint import merge_identities
from iotscope.records import Finding, Identity, Login, Survey
from iotscope.survey._login import CredentialLike, LoginPolicy, check_login, host_budget
from iotscope.survey._net import Backend, Timeouts
from iotscope.survey._order import Permutation
from iotscope.survey._pacing import HostBudget
from iotscope.survey._probe import ServiceResult, probe_service, probe_ssdp
from iotscope.survey._scope import IPAddress, Scope
from iotscope.survey._targets import Ports, Shard

__all__ = [
    "SOURCE_ORDER",
    "SurveyEngine",
    "SurveyOptions",
    "Target",
    "host_counts",
    "new_survey_id",
    "ordered_targets",
]

# Most device-specific first: a certificate subject or page title names the model, a bare
# HTTP Server header or SSH version usually names only the software inside.
SOURCE_ORDER = (
    "x509_subject", "http_title", "http_realm", "ssdp", "rtsp", "telnet", "http_body", "http",
    "ssh",
)  # fmt: skip

Identifier = Callable[[str, str], Identity | None]
T = TypeVar("T")
FindingsSink = Callable[[list[Finding]], Awaitable[None] | None]
DoneSink = Callable[["Target", list[Finding]], Awaitable[None] | None]
Merger = Callable[[Iterable[Identity]], Identity | None]
CveLookup = Callable[[Identity], tuple[str, ...]]


@dataclass(frozen=True)
class Target:
    """One host to survey; ``open_ports`` are known open TCP ports (ZMap) or None;
    ``position`` is its place in the run's visiting order (for resuming), or None."""

    ip: IPAddress
    open_ports: tuple[int, ...] | None = None
    position: int | None = None


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
    """Every in-scope address this shard owns, in ascending order."""
    return (Target(ip) for ip in scope.addresses() if shard.owns(ip))


def ordered_targets(
    size: int, seed: int, at: Callable[[int], Target], skip: Callable[[int], bool] | None = None
) -> Iterator[Target]:
    """The targets ``at(index)`` for index ``0..size-1`` in the seed's pseudo-random order,
    each with its position, leaving out the positions ``skip`` names (done before a resume).
    O(1) memory: nothing is listed in advance."""
    permutation = Permutation(size, seed)
    for position, index in permutation.iter_from(0):
        if skip is None or not skip(position):
            target = at(index)
            yield Target(target.ip, target.open_ports, position)


def host_counts(findings: Sequence[Finding]) -> Counter[str]:
    """The counts one finished host adds to a survey's record (``hosts`` included)."""
    counts: Counter[str] = Counter(hosts=1)
    if not findings:
        return counts
    counts["hosts_up"] += 1
    counts["hosts_identified"] += findings[0].identity is not None
    counts["hosts_weak"] += any(f.login.outcome in ("accepted", "no_auth") for f in findings)
    counts["host_errors"] += any(f.service == "error" for f in findings)
    for f in findings:
        counts["services"] += 1
        counts[f"service:{f.service}"] += 1
        counts[f"login:{f.login.outcome}"] += 1
        counts["probe_errors"] += "error" in f.details
    return +counts


def _crash_text(exc: BaseException) -> str:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]  # a TaskGroup's wrapper: name the error inside
    return f"crash: {type(exc).__name__}: {exc}"[:300]


async def _all(jobs: Iterable[Coroutine[Any, Any, T]]) -> list[T]:
    """Run ``jobs`` together; if one raises, the others are cancelled (no orphan sockets)."""
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(job) for job in jobs]
    return [task.result() for task in tasks]


async def _maybe_await(value: Awaitable[None] | None) -> None:
    if inspect.isawaitable(value):
        await value


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
        states = await _all(self.backend.is_open(target.ip, p) for p in tcp)
        return [p for p, is_open in zip(tcp, states, strict=True) if is_open]

    async def _probe_all(self, target: Target) -> list[ServiceResult]:
        open_ports = await self._open_ports(target)
        t = self.options.timeouts
        jobs = [probe_service(self.backend, target.ip, port, t) for port in open_ports]
        results: list[ServiceResult] = await _all(jobs)
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
                logins.append(await self._login(result, identity, budget))
        return logins

    async def _login(
        self, result: ServiceResult, identity: Identity | None, budget: HostBudget
    ) -> Login:
        try:
            return await check_login(self.backend, result, self.credentials, identity,
                                     self.options.policy, self.options.timeouts,
                                     budget)  # fmt: skip
        except Exception as exc:  # one service's crash is that service's error, not the run's
            self.counts["login_crashes"] += 1
            return Login(protocol=result.service, outcome="error", detail=_crash_text(exc))

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
        return [self._finding(r, identity, lg, cves) for r, lg in zip(results, logins, strict=True)]

    def _error_finding(self, target: Target, exc: BaseException) -> Finding:
        return Finding(
            ip=target.ip, port=0, service="error", time=datetime.now(UTC),
            login=Login(protocol="none", outcome="error", detail=_crash_text(exc)),
            details={"error": _crash_text(exc)}, survey_id=self.options.survey_id,
        )  # fmt: skip

    async def check_host(self, target: Target) -> list[Finding]:
        """:meth:`survey_host`, with any exception turned into an ``error`` finding."""
        try:
            return await self.survey_host(target)
        except Exception as exc:
            return [self._error_finding(target, exc)]

    # -- the run ----------------------------------------------------------------------------
    async def _worker(self, targets: Iterator[Target], on_findings: FindingsSink,
                      on_done: DoneSink | None) -> None:  # fmt: skip
        for target in targets:
            if not self.options.shard.owns(target.ip):
                continue
            findings = await self.check_host(target)
            self.counts.update(host_counts(findings))
            await _maybe_await(on_findings(findings))
            if on_done is not None:
                await _maybe_await(on_done(target, findings))

    async def run(
        self,
        targets: Iterable[Target],
        on_findings: FindingsSink,
        survey: Survey,
        on_done: DoneSink | None = None,
    ) -> Survey:
        """Survey every target (this shard's share), then the finished survey record
        (its counts: ``survey.counts`` plus this run's)."""
        shared = iter(targets)
        workers = max(1, self.options.concurrency // 4)
        jobs = (self._worker(shared, on_findings, on_done) for _ in range(workers))
        await asyncio.gather(*jobs)
        counts = Counter(survey.counts)
        counts.update(self.counts)
        return survey.model_copy(update={"finished": datetime.now(UTC), "counts": dict(counts)})
