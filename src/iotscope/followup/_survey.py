"""The real re-check backend: the survey's own discovery, identification and login check,
run again against the subscribers' current addresses.

Same scope-checked sockets, same credential list and same logout-at-once rule as the survey
(ARCHITECTURE.md, Safety): the scope is exactly the addresses being re-checked (/32 each),
so a re-check can reach nothing else. Used against ``lab up`` devices in tests and the demo;
month-scale runs use the simulated backend instead.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from datetime import datetime

from iotscope.followup._model import Observation, Subject
from iotscope.records import Finding
from iotscope.survey import (
    DEFAULT_PORTS,
    LoginPolicy,
    SurveyConfig,
    Timeouts,
    prepare,
    run_survey,
)

WEAK_OUTCOMES = ("accepted", "no_auth")
# The list's most common pairs come first (the survey orders them by weight): a device still
# on its default is found within them; a remediated one should not cost a whole list's budget.
RECHECK_POLICY = LoginPolicy(max_attempts=60, budget=45.0)


def _run(config: SurveyConfig) -> list[Finding]:
    found: list[Finding] = []

    def go() -> None:
        asyncio.run(run_survey(prepare(config), found.extend))

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        go()
        return found
    worker = threading.Thread(target=go, name="followup-survey")  # a loop runs here already
    worker.start()
    worker.join()
    return found


def _observation(address: str, subject: Subject, found: list[Finding]) -> Observation | None:
    if not found:
        return None
    ident = next((f.identity for f in found if f.identity is not None), None)
    identity = {} if ident is None else {"vendor": ident.vendor, "product": ident.product,
                                          "model": ident.model}  # fmt: skip
    same_port = [f for f in found if f.port == subject.port]
    if subject.kind == "vulnerable":
        exposed = any(f.cves for f in same_port)
    else:
        exposed = any(f.login.outcome in WEAK_OUTCOMES for f in same_port)
    details = {"backend": "survey", "port_open": bool(same_port),
               "login": same_port[0].login.outcome if same_port else None,
               "credential": same_port[0].login.credential if same_port else None}  # fmt: skip
    return Observation(address, identity, exposed, details)


class SurveyRechecker:
    """A :class:`~iotscope.followup._model.Rechecker` that re-surveys for real."""

    name = "survey"

    def __init__(
        self,
        ports: str = DEFAULT_PORTS,
        timeouts: Timeouts | None = None,
        concurrency: int = 256,
        policy: LoginPolicy | None = None,
    ) -> None:
        self.ports = ports
        self.timeouts = timeouts or Timeouts()
        self.concurrency = concurrency
        self.policy = policy or RECHECK_POLICY

    def recheck(
        self, targets: Sequence[tuple[Subject, str]], when: datetime
    ) -> list[Observation | None]:
        if not targets:
            return []
        addresses = sorted({a for _, a in targets})
        known = set(self.ports.split(","))
        extra = sorted({str(x.port) for x, _ in targets} - known, key=int)
        ports = ",".join([self.ports, *extra])
        config = SurveyConfig(networks=tuple(f"{a}/32" for a in addresses), ports=ports,
                              rate=None, concurrency=self.concurrency, per_subnet=256,
                              timeouts=self.timeouts, policy=self.policy, seed=1)  # fmt: skip
        by_address: dict[str, list[Finding]] = {}
        for f in _run(config):
            by_address.setdefault(str(f.ip), []).append(f)
        return [_observation(a, x, by_address.get(a, [])) for x, a in targets]
