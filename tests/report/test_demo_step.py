"""The demo's report step on a lab world: registry and lease logs from the manifest, reports
written and mailed to the local mailbox, weak logins tied to subscribers by their ISP."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from iotscope.lab._world import build_world
from iotscope.records import Finding, Login, Sighting, Survey
from iotscope.store import open_store

pytest.importorskip("aiosmtpd", reason="aiosmtpd not installed")


@pytest.mark.network
def test_report_step(tmp_path: Path) -> None:
    from iotscope.demo._report import report_step

    world = build_world(40, seed=3, network=ipaddress.IPv4Network("127.93.0.0/16"))
    manifest = world.manifest
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    t = datetime(2026, 11, 4, 5, tzinfo=UTC)
    store.save_survey(Survey(id="s", started=t, scope=(manifest.network,)))
    weak = [d for d in manifest.devices if d.isp and not d.hostile][:10]
    store.save_findings([
        Finding(survey_id="s", ip=d.ip, port=23, service="telnet", time=t + timedelta(minutes=i),
                login=Login(protocol="telnet", outcome="accepted", username="root"))
        for i, d in enumerate(weak)
    ])  # fmt: skip
    demo = report_step(store, manifest, tmp_path / "work")
    assert demo.day.isoformat() == "2026-11-04"
    isps = {d.isp for d in weak}
    assert {f.isp for f in demo.files} == isps
    assert sum(f.rows for f in demo.files) == len(weak)
    assert len(demo.mails) == len(isps)
    assert len(list((tmp_path / "work" / "report-mail").iterdir())) == len(isps)
    assert sum(found for found, _ in demo.resolved.values()) == len(weak)  # every one resolved
    store.engine.dispose()


@pytest.mark.network
def test_report_step_reports_the_telescope_days_too(tmp_path: Path) -> None:
    """The lab's darknet is dated in lab time (2026-11-01..02), days before the survey: its
    infected devices are reported on their own days, not dropped for the survey's day."""
    from iotscope.demo._report import report_step

    world = build_world(40, seed=3, network=ipaddress.IPv4Network("127.93.0.0/16"))
    manifest = world.manifest
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    t = datetime(2026, 11, 4, 5, tzinfo=UTC)
    store.save_survey(Survey(id="s", started=t, scope=(manifest.network,)))
    weak = [d for d in manifest.devices if d.isp and not d.hostile][:3]
    store.save_findings([Finding(survey_id="s", ip=d.ip, port=23, service="telnet", time=t,
                                 login=Login(protocol="telnet", outcome="accepted"))
                         for d in weak])  # fmt: skip
    bot = weak[0]
    lab_day = datetime(2026, 11, 1, 22, tzinfo=UTC)
    store.save_sightings([Sighting(src=bot.ip, first_seen=lab_day, last_seen=lab_day
                                   + timedelta(hours=3), packets=50, targets=50,
                                   ports={23: 50}, mirai_fingerprint=1.0,
                                   classification="mirai", sensor="lab")])  # fmt: skip
    demo = report_step(store, manifest, tmp_path / "work")
    assert [d.isoformat() for d in demo.days] == ["2026-11-01", "2026-11-02", "2026-11-04"]
    infected = [f for f in demo.files if f.report_type == "event4_honeypot_darknet"]
    assert {(f.isp, f.period) for f in infected} == {(bot.isp, "2026-11-01"),
                                                     (bot.isp, "2026-11-02")}  # fmt: skip
    assert sum(f.rows for f in demo.files if f.report_type == "scan_telnet") == len(weak)
    assert sum(found for found, _ in demo.resolved.values()) == len(weak)
    store.engine.dispose()
