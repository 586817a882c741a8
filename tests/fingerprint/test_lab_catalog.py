"""No lab profile lost: every profile of the shipped catalog, surveyed live, is still named.

The world rules (``*_world.xml``) and nmap-service-probes come after the lab catalog's rules;
this runs a real survey (no logins) over a lab holding every profile and checks that no
device is given a wrong vendor and that the devices are identified exactly (vendor, product,
version) as the manifest says. Before the world rules a run of 2 devices per profile
identified 102 of 103 benign devices exactly (EMQX, an MQTT broker, names itself nowhere
the survey looks); after them, the same 102.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from iotscope.lab import Catalog, build_world, load_catalog, start_lab
from iotscope.records import Finding
from iotscope.survey import SurveyConfig, Timeouts, prepare, run_survey

pytestmark = [pytest.mark.network, pytest.mark.slow]
QUICK = Timeouts(connect=1.0, read=0.6, probe=3.0, login=20.0)


def _fold(*values: str | None) -> tuple[str | None, ...]:
    return tuple(v.casefold() if v else None for v in values)


async def test_every_lab_profile_keeps_its_identity(lab_network: str, tmp_path: Path) -> None:
    shipped = load_catalog()
    even = Catalog(profiles=tuple(p.model_copy(update={"weight": 1.0}) for p in shipped.profiles))
    world = build_world(4 * len(even.profiles), 21, lab_network, even)
    scope = tmp_path / "scope.txt"
    scope.write_text("\n".join(str(d.ip) for d in world.manifest.devices) + "\n")
    found: list[Finding] = []
    async with await start_lab(world):
        await run_survey(prepare(SurveyConfig(scope=scope, login=False, timeouts=QUICK)),
                         found.extend)  # fmt: skip
    by_ip = {str(d.ip): d for d in world.manifest.devices}
    identity = {str(f.ip): f.identity for f in found}
    benign = [d for d in world.manifest.devices if not d.hostile and d.services]
    assert len({d.profile for d in benign}) >= 0.9 * len(shipped.profiles)
    for ip, ident in identity.items():
        if ident is not None and ident.vendor:
            assert ident.vendor.casefold() == by_ip[ip].vendor.casefold(), (ip, ident)
    exact = [
        d
        for d in benign
        if (i := identity.get(str(d.ip))) is not None
        and _fold(i.vendor, i.product, i.version) == _fold(d.vendor, d.product, d.version)
    ]
    assert len(exact) >= 0.95 * len(benign), sorted({d.profile for d in benign} - {
        d.profile for d in exact})  # fmt: skip
