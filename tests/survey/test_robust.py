"""No lab world ends a survey: several seeds, sizes and hostile mixes, logins on.

Each world is surveyed with real sockets over its whole /24 (live and dead addresses),
in the seed's random order; the run must finish, visit every address once, and report
every benign device that serves something. A crash inside one host's check would show as
an ``error`` finding and in ``host_errors``; the run itself must never raise.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from iotscope.lab import build_world, start_lab
from iotscope.records import Finding
from iotscope.survey import LoginPolicy, SurveyConfig, Timeouts, prepare, run_survey

pytestmark = [pytest.mark.network, pytest.mark.slow]
# slack for a loaded 2-core CI, as in test_lab (1 s connects lost hosts under load once)
QUICK = Timeouts(connect=2.0, read=1.5, probe=4.0, login=8.0)


@pytest.mark.parametrize(
    ("devices", "seed", "mix"),
    [
        (12, 3, "benign only"),
        (60, 8686, "default mix (every hostile kind)"),
        (120, 42, "default mix"),
        (250, 7, "hostile-heavy: every hostile device, 10 benign"),
    ],
)
async def test_no_world_ends_the_survey(
    devices: int, seed: int, mix: str, lab_network: str, tmp_path: Path
) -> None:
    world = build_world(devices, seed, lab_network)
    chosen = list(world.devices)
    if mix.startswith("hostile-heavy"):
        hostile = [d for d in world.devices if d.hostile]
        chosen = hostile + [d for d in world.devices if not d.hostile][:10]
        assert len({d.hostile for d in hostile}) == 5
    scope = tmp_path / "scope.txt"
    scope.write_text(f"{lab_network}\n")
    config = SurveyConfig(scope=scope, rate=None, concurrency=400, per_subnet=400, seed=seed,
                          ports="22,23,80,443,1883,2323,8080", timeouts=QUICK,
                          policy=LoginPolicy(delay=0.0, lockout_backoff=0.2))  # fmt: skip
    found: list[Finding] = []
    async with await start_lab(world, devices=chosen):
        survey = await run_survey(prepare(config), found.extend)
    assert survey.finished is not None
    assert survey.counts["hosts"] == survey.counts["scope_size"] == 256
    serving = {d.ip for d in chosen if not d.hostile and any(
        s.spec.port in (22, 23, 80, 443, 1883, 2323, 8080) and s.spec.transport == "tcp"
        for s in d.services)}  # fmt: skip
    assert serving <= {str(f.ip) for f in found}, mix
    errors = [f for f in found if f.service == "error"]
    assert survey.counts.get("host_errors", 0) == len(errors)
    assert not errors, [f.details for f in errors]  # and none of our own crashes either
